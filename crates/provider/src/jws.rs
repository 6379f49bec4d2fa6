//! Compact JWS as this provider needs it: signing our own tokens whose
//! header carries a `typ` (RFC 9068 `at+jwt`, `logout+jwt`), and checking
//! signatures with ring for our own tokens and for clients' assertions.
//! Only RS256 and ES256 exist here; `none` and HMAC are refused by
//! construction, so an attacker cannot pick the algorithm.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::errors::Description;

/// The two JWS algorithms of this provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlg {
    #[serde(rename = "RS256")]
    Rs256,
    #[serde(rename = "ES256")]
    Es256,
}

impl SigningAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::Rs256 => "RS256",
            SigningAlg::Es256 => "ES256",
        }
    }

    pub fn parse(name: &str) -> Option<SigningAlg> {
        match name {
            "RS256" => Some(SigningAlg::Rs256),
            "ES256" => Some(SigningAlg::Es256),
            _ => None,
        }
    }

    pub fn to_core(self) -> openidconnect::core::CoreJwsSigningAlgorithm {
        use openidconnect::core::CoreJwsSigningAlgorithm as Core;
        match self {
            SigningAlg::Rs256 => Core::RsaSsaPkcs1V15Sha256,
            SigningAlg::Es256 => Core::EcdsaP256Sha256,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
}

/// `typ` values compare case-insensitively and with or without the
/// `application/` prefix (RFC 7515 §4.1.9).
pub fn typ_matches(actual: Option<&str>, expected: &str) -> bool {
    let Some(actual) = actual else { return false };
    let actual = actual.to_ascii_lowercase();
    let actual = actual.strip_prefix("application/").unwrap_or(&actual);
    actual == expected.to_ascii_lowercase()
}

/// A public key that can check RS256 or ES256 signatures.
#[derive(Debug, Clone)]
pub enum VerifyingKey {
    Rs256(RsaPublicKeyComponents<Vec<u8>>),
    /// The uncompressed P-256 point `04 ‖ x ‖ y`.
    Es256(Vec<u8>),
}

impl VerifyingKey {
    pub fn alg(&self) -> SigningAlg {
        match self {
            VerifyingKey::Rs256(_) => SigningAlg::Rs256,
            VerifyingKey::Es256(_) => SigningAlg::Es256,
        }
    }

    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            VerifyingKey::Rs256(components) => components
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, signature)
                .is_ok(),
            VerifyingKey::Es256(point) => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
                    .is_ok()
            }
        }
    }

    /// The public JWK members, without `kid`/`use`/`alg`.
    pub fn jwk_members(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut map = serde_json::Map::new();
        match self {
            VerifyingKey::Rs256(c) => {
                map.insert("kty".into(), "RSA".into());
                map.insert("n".into(), b64(strip_zeros(&c.n)).into());
                map.insert("e".into(), b64(strip_zeros(&c.e)).into());
            }
            VerifyingKey::Es256(point) => {
                map.insert("kty".into(), "EC".into());
                map.insert("crv".into(), "P-256".into());
                let x = point.get(1..33).unwrap_or_default();
                let y = point.get(33..65).unwrap_or_default();
                map.insert("x".into(), b64(x).into());
                map.insert("y".into(), b64(y).into());
            }
        }
        map
    }

    /// RFC 7638 thumbprint: SHA-256 of the required members in
    /// lexicographic order, base64url. Used as our `kid`, so a key's id
    /// follows from the key and cannot be mislabelled in configuration.
    pub fn thumbprint(&self) -> String {
        let members = self.jwk_members();
        let get = |name: &str| members.get(name).and_then(|v| v.as_str()).unwrap_or("");
        let canonical = match self {
            VerifyingKey::Rs256(_) => {
                format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, get("e"), get("n"))
            }
            VerifyingKey::Es256(_) => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                get("x"),
                get("y")
            ),
        };
        b64(&Sha256::digest(canonical.as_bytes()))
    }
}

/// A client's published key, from one JWK of its JWKS: `(kid, key)`.
/// Keys for encryption or for other algorithms are refused, so a JWKS
/// cannot smuggle in a key this provider would misuse.
pub fn key_from_jwk(jwk: &serde_json::Value) -> Result<(Option<String>, VerifyingKey), String> {
    let field = |name: &str| jwk.get(name).and_then(|v| v.as_str());
    let bytes = |name: &str| -> Result<Vec<u8>, String> {
        let text = field(name).ok_or_else(|| format!("JWK has no {name}"))?;
        URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| format!("JWK member {name} is not base64url"))
    };
    if let Some(usage) = field("use") {
        if usage != "sig" {
            return Err(format!("JWK use is {usage}, not sig"));
        }
    }
    let kid = field("kid").map(str::to_string);
    let key = match field("kty") {
        Some("RSA") => {
            let n = bytes("n")?;
            if strip_zeros(&n).len() < 256 {
                return Err("RSA key is shorter than 2048 bits".into());
            }
            VerifyingKey::Rs256(RsaPublicKeyComponents { n, e: bytes("e")? })
        }
        Some("EC") => {
            if field("crv") != Some("P-256") {
                return Err("EC key is not on P-256".into());
            }
            let (x, y) = (bytes("x")?, bytes("y")?);
            if x.len() != 32 || y.len() != 32 {
                return Err("EC key coordinates are not 32 bytes".into());
            }
            let mut point = Vec::with_capacity(65);
            point.push(4);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            VerifyingKey::Es256(point)
        }
        other => {
            return Err(format!(
                "JWK kty {} is not RSA or EC",
                other.unwrap_or("(none)")
            ))
        }
    };
    if let Some(alg) = field("alg") {
        if SigningAlg::parse(alg) != Some(key.alg()) {
            return Err(format!("JWK alg {alg} does not fit its key type"));
        }
    }
    Ok((kid, key))
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Signs `header.payload` and returns the compact serialisation.
pub fn encode<C: Serialize>(
    header: &Header,
    claims: &C,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, Description>,
) -> Result<String, Description> {
    let header = serde_json::to_vec(header).map_err(|_| Description::from("header"))?;
    let payload = serde_json::to_vec(claims).map_err(|_| Description::from("claims"))?;
    let mut token = String::with_capacity((header.len() + payload.len()) * 4 / 3 + 360);
    URL_SAFE_NO_PAD.encode_string(&header, &mut token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
    let signature = sign(token.as_bytes())?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
    Ok(token)
}

/// A compact JWS split and decoded, signature not yet checked.
#[derive(Debug)]
pub struct Compact<'a> {
    pub header: Header,
    pub alg: SigningAlg,
    signing_input: &'a str,
    payload: &'a str,
    signature: Vec<u8>,
}

/// Tokens above this size are refused before any decoding: ours are a
/// few kilobytes at most, and a client assertion is smaller still.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

impl<'a> Compact<'a> {
    pub fn parse(token: &'a str) -> Result<Compact<'a>, Description> {
        if token.len() > MAX_TOKEN_LEN {
            return Err("token too long".into());
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("not a compact JWS".into());
        };
        let header_json = URL_SAFE_NO_PAD
            .decode(header_b64)
            .map_err(|_| Description::from("header is not base64url"))?;
        let header: Header =
            serde_json::from_slice(&header_json).map_err(|_| Description::from("bad header"))?;
        let alg = SigningAlg::parse(&header.alg)
            .ok_or_else(|| Description::from("alg must be RS256 or ES256"))?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| Description::from("signature is not base64url"))?;
        let signing_input = token
            .get(..header_b64.len() + 1 + payload.len())
            .ok_or_else(|| Description::from("not a compact JWS"))?;
        Ok(Compact {
            header,
            alg,
            signing_input,
            payload,
            signature,
        })
    }

    /// Whether `key` (of this token's algorithm) signed it.
    pub fn verified_by(&self, key: &VerifyingKey) -> bool {
        key.alg() == self.alg && key.verify(self.signing_input.as_bytes(), &self.signature)
    }

    /// The payload, to be read only after a signature check.
    pub fn claims<T: DeserializeOwned>(&self) -> Result<T, Description> {
        let json = URL_SAFE_NO_PAD
            .decode(self.payload)
            .map_err(|_| Description::from("payload is not base64url"))?;
        serde_json::from_slice(&json).map_err(|_| Description::from("claims are malformed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typ_comparison() {
        let cases = [
            (Some("at+jwt"), "at+jwt", true),
            (Some("AT+JWT"), "at+jwt", true),
            (Some("application/at+jwt"), "at+jwt", true),
            (Some("JWT"), "at+jwt", false),
            (None, "at+jwt", false),
        ];
        for (actual, expected, matches) in cases {
            assert_eq!(typ_matches(actual, expected), matches, "{actual:?}");
        }
    }

    #[test]
    fn malformed_tokens_are_refused_before_any_key_is_tried() {
        let none_header = b64(br#"{"alg":"none"}"#);
        let hs_header = b64(br#"{"alg":"HS256"}"#);
        let ok_header = b64(br#"{"alg":"RS256"}"#);
        let cases = [
            "a.b".to_string(),
            "a.b.c.d".to_string(),
            format!("{none_header}.e30."),
            format!("{hs_header}.e30.AAAA"),
            format!("{ok_header}.e30.!!!"),
            "x".repeat(MAX_TOKEN_LEN + 1),
        ];
        for token in cases {
            assert!(Compact::parse(&token).is_err(), "{token:.40}");
        }
        assert!(Compact::parse(&format!("{ok_header}.e30.AAAA")).is_ok());
    }
}
