//! Verification keys of an IdP, parsed once: from a JWKS (the OIDC profile)
//! or from PEM certificates (the ESIA profile: ESIA publishes no JWKS; the
//! relying party is handed ESIA's signing certificate, and a new one before
//! each rotation).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use esia_proto::gost;
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use serde_json::{Map, Value};
use x509_cert::der::{Decode, Encode};
use x509_cert::Certificate;

use super::certificates::CertificateInfo;

/// JWS algorithms this build can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwsAlg {
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
    Es256,
    Es384,
    EdDsa,
    /// GOST R 34.10-2012 256-bit with Streebog-256: ESIA's own algorithm.
    Gost256,
}

impl JwsAlg {
    pub const SUPPORTED: [&'static str; 10] = [
        "RS256",
        "RS384",
        "RS512",
        "PS256",
        "PS384",
        "PS512",
        "ES256",
        "ES384",
        "EdDSA",
        "GOST3410_2012_256",
    ];

    /// The JWS name; `none`, HMAC and unknown names are `None`.
    pub fn parse(name: &str) -> Option<JwsAlg> {
        Some(match name {
            "RS256" => JwsAlg::Rs256,
            "RS384" => JwsAlg::Rs384,
            "RS512" => JwsAlg::Rs512,
            "PS256" => JwsAlg::Ps256,
            "PS384" => JwsAlg::Ps384,
            "PS512" => JwsAlg::Ps512,
            "ES256" => JwsAlg::Es256,
            "ES384" => JwsAlg::Es384,
            "EdDSA" => JwsAlg::EdDsa,
            "GOST3410_2012_256" => JwsAlg::Gost256,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            JwsAlg::Rs256 => "RS256",
            JwsAlg::Rs384 => "RS384",
            JwsAlg::Rs512 => "RS512",
            JwsAlg::Ps256 => "PS256",
            JwsAlg::Ps384 => "PS384",
            JwsAlg::Ps512 => "PS512",
            JwsAlg::Es256 => "ES256",
            JwsAlg::Es384 => "ES384",
            JwsAlg::EdDsa => "EdDSA",
            JwsAlg::Gost256 => "GOST3410_2012_256",
        }
    }

    fn ring(self) -> Option<&'static dyn VerificationAlgorithm> {
        Some(match self {
            JwsAlg::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            JwsAlg::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            JwsAlg::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
            JwsAlg::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
            JwsAlg::Ps384 => &signature::RSA_PSS_2048_8192_SHA384,
            JwsAlg::Ps512 => &signature::RSA_PSS_2048_8192_SHA512,
            JwsAlg::Es256 => &signature::ECDSA_P256_SHA256_FIXED,
            JwsAlg::Es384 => &signature::ECDSA_P384_SHA384_FIXED,
            JwsAlg::EdDsa => &signature::ED25519,
            JwsAlg::Gost256 => return None,
        })
    }

    fn key_type(self) -> KeyType {
        match self {
            JwsAlg::Rs256
            | JwsAlg::Rs384
            | JwsAlg::Rs512
            | JwsAlg::Ps256
            | JwsAlg::Ps384
            | JwsAlg::Ps512 => KeyType::Rsa,
            JwsAlg::Es256 => KeyType::P256,
            JwsAlg::Es384 => KeyType::P384,
            JwsAlg::EdDsa => KeyType::Ed25519,
            JwsAlg::Gost256 => KeyType::Gost256,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Rsa,
    P256,
    P384,
    Ed25519,
    Gost256,
}

/// One verification key: the bytes the verifier takes (DER `RSAPublicKey`,
/// an uncompressed EC point, the raw Ed25519 key, or GOST's 64-byte X||Y
/// little-endian), with what selects it.
#[derive(Debug, Clone)]
pub struct VerifyingKey {
    pub kid: Option<String>,
    /// The JWK's own `alg`, when it names one.
    pub alg: Option<String>,
    pub key_type: KeyType,
    public: Vec<u8>,
    /// Certificate validity (unix seconds), when the key came from one.
    pub not_before: Option<i64>,
    pub not_after: Option<i64>,
    /// Where the key came from, for logs and `esia-link keys`.
    pub label: String,
    /// Subject, serial and dates, when the key came from a certificate.
    pub certificate: Option<CertificateInfo>,
}

impl VerifyingKey {
    pub fn from_jwk(jwk: &Map<String, Value>) -> Option<VerifyingKey> {
        let text = |name: &str| jwk.get(name).and_then(Value::as_str);
        if text("use").is_some_and(|u| u != "sig") {
            return None;
        }
        let bytes = |name: &str| text(name).and_then(|v| URL_SAFE_NO_PAD.decode(v).ok());
        let (key_type, public) = match (text("kty")?, text("crv")) {
            ("RSA", _) => (KeyType::Rsa, rsa_public_key_der(&bytes("n")?, &bytes("e")?)),
            ("EC", Some(curve @ ("P-256" | "P-384"))) => {
                let (x, y) = (bytes("x")?, bytes("y")?);
                let mut point = Vec::with_capacity(1 + x.len() + y.len());
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                let key_type = if curve == "P-256" {
                    KeyType::P256
                } else {
                    KeyType::P384
                };
                (key_type, point)
            }
            ("OKP", Some("Ed25519")) => (KeyType::Ed25519, bytes("x")?),
            _ => return None,
        };
        let kid = text("kid").map(str::to_string);
        Some(VerifyingKey {
            label: format!("JWK {}", kid.as_deref().unwrap_or("(no kid)")),
            kid,
            alg: text("alg").map(str::to_string),
            key_type,
            public,
            not_before: None,
            not_after: None,
            certificate: None,
        })
    }

    /// Keys of every certificate in a PEM bundle (read as leniently as RFC
    /// 7468 allows, see [`super::pem`]). `origin` names the file (or
    /// "inline") in errors and labels.
    pub fn from_pem_certificates(pem: &str, origin: &str) -> Result<Vec<VerifyingKey>, String> {
        let ders = super::pem::certificate_ders(pem)
            .map_err(|e| format!("{origin}: not a PEM certificate bundle: {e}"))?;
        if ders.is_empty() {
            return Err(format!("{origin}: no certificate in it"));
        }
        ders.iter()
            .enumerate()
            .map(|(index, der)| {
                Certificate::from_der(der)
                    .map_err(|e| format!("not an X.509 certificate: {e}"))
                    .and_then(|certificate| key_of_certificate(&certificate))
                    .map_err(|e| format!("{origin}: certificate {}: {e}", index + 1))
                    .map(|mut key| {
                        key.label = format!("{origin} #{}", index + 1);
                        key
                    })
            })
            .collect()
    }

    /// Whether this key may check a token signed with `alg` naming `kid`,
    /// at unix time `now`.
    pub fn fits(&self, alg: JwsAlg, kid: Option<&str>, now: i64) -> bool {
        let kid_ok = match (kid, &self.kid) {
            (Some(wanted), Some(id)) => id == wanted,
            (Some(_), None) => false,
            (None, _) => true,
        };
        kid_ok && self.suits(alg) && self.valid_at(now)
    }

    /// Whether the key's type (and own `alg`, if any) matches `alg`.
    pub fn suits(&self, alg: JwsAlg) -> bool {
        self.key_type == alg.key_type() && self.alg.as_deref().is_none_or(|a| a == alg.name())
    }

    pub fn valid_at(&self, now: i64) -> bool {
        self.not_before.is_none_or(|t| t <= now) && self.not_after.is_none_or(|t| now <= t)
    }

    pub fn verifies(&self, alg: JwsAlg, message: &[u8], signature: &[u8]) -> bool {
        match alg.ring() {
            Some(algorithm) => UnparsedPublicKey::new(algorithm, &self.public)
                .verify(message, signature)
                .is_ok(),
            None => gost::PublicKey::from_le_bytes(gost::Curve::cryptopro_a(), &self.public)
                .and_then(|key| key.verify(message, signature))
                .is_ok(),
        }
    }
}

const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";
const ED25519: &str = "1.3.101.112";
/// GOST R 34.10-2012 with a 256-bit key.
const GOST_2012_256: &str = "1.2.643.7.1.1.1.1";
/// Curves with the CryptoPro-A parameters (A and XchA share them).
const GOST_CRYPTOPRO_A: [&str; 2] = ["1.2.643.2.2.35.1", "1.2.643.2.2.36.0"];

fn key_of_certificate(certificate: &Certificate) -> Result<VerifyingKey, String> {
    let tbs = certificate.tbs_certificate();
    let info = CertificateInfo::of(certificate);
    let spki = tbs.subject_public_key_info();
    let algorithm = spki.algorithm.oid.to_string();
    let bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or("the public key is not a whole number of bytes")?;
    let parameter_oids = || -> Vec<String> {
        let Some(any) = &spki.algorithm.parameters else {
            return Vec::new();
        };
        if let Ok(oid) = any.decode_as::<x509_cert::der::asn1::ObjectIdentifier>() {
            return vec![oid.to_string()];
        }
        any.to_der()
            .ok()
            .and_then(|der| Vec::<x509_cert::der::asn1::ObjectIdentifier>::from_der(&der).ok())
            .map(|oids| oids.iter().map(ToString::to_string).collect())
            .unwrap_or_default()
    };
    let (key_type, public) = match algorithm.as_str() {
        RSA_ENCRYPTION => (KeyType::Rsa, bits.to_vec()),
        EC_PUBLIC_KEY => match parameter_oids().first().map(String::as_str) {
            Some(P256) => (KeyType::P256, bits.to_vec()),
            Some(P384) => (KeyType::P384, bits.to_vec()),
            other => return Err(format!("unsupported EC curve {other:?}")),
        },
        ED25519 => (KeyType::Ed25519, bits.to_vec()),
        GOST_2012_256 => {
            let curve = parameter_oids();
            if !curve
                .first()
                .is_some_and(|c| GOST_CRYPTOPRO_A.contains(&c.as_str()))
            {
                return Err(format!(
                    "GOST key on unsupported parameters {curve:?} (supported: CryptoPro-A {GOST_CRYPTOPRO_A:?})"
                ));
            }
            // The BIT STRING holds an OCTET STRING of X||Y little-endian.
            let point = x509_cert::der::asn1::OctetString::from_der(bits)
                .map_err(|e| format!("GOST key is not an OCTET STRING: {e}"))?;
            let point = point.as_bytes().to_vec();
            gost::PublicKey::from_le_bytes(gost::Curve::cryptopro_a(), &point)
                .map_err(|e| e.to_string())?;
            (KeyType::Gost256, point)
        }
        other => return Err(format!("unsupported key algorithm {other}")),
    };
    Ok(VerifyingKey {
        kid: None,
        alg: None,
        key_type,
        public,
        not_before: Some(info.not_before),
        not_after: Some(info.not_after),
        label: String::new(),
        certificate: Some(info),
    })
}

/// DER `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
pub fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn integer(bytes: &[u8]) -> Vec<u8> {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        let trimmed = &bytes[start..];
        let mut content = Vec::with_capacity(trimmed.len() + 1);
        if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
            content.push(0);
        }
        content.extend_from_slice(trimmed);
        let mut out = vec![0x02];
        out.extend(der_length(content.len()));
        out.extend(content);
        out
    }
    let body: Vec<u8> = integer(n).into_iter().chain(integer(e)).collect();
    let mut out = vec![0x30];
    out.extend(der_length(body.len()));
    out.extend(body);
    out
}

fn der_length(len: usize) -> Vec<u8> {
    if len < 0x80 {
        return vec![len as u8];
    }
    let bytes: Vec<u8> = len
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    let mut out = vec![0x80 | bytes.len() as u8];
    out.extend(bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_hmac_and_unknown_algorithms_do_not_parse() {
        for name in ["none", "NONE", "HS256", "bogus", ""] {
            assert_eq!(JwsAlg::parse(name), None, "{name}");
        }
        for name in JwsAlg::SUPPORTED {
            assert_eq!(JwsAlg::parse(name).map(JwsAlg::name), Some(name));
        }
    }

    #[test]
    fn rsa_der_encoding_matches_ring_expectations() {
        // A 2048-bit modulus with the high bit set needs the leading zero.
        let n = [0xC0u8; 256];
        let der = rsa_public_key_der(&n, &[1, 0, 1]);
        assert_eq!(&der[..4], &[0x30, 0x82, 0x01, 0x0A]);
        assert_eq!(&der[4..8], &[0x02, 0x82, 0x01, 0x01]);
        assert_eq!(der[8], 0);
        assert_eq!(&der[der.len() - 5..], &[0x02, 0x03, 1, 0, 1]);
    }

    #[test]
    fn broken_certificate_bundles_are_refused_with_their_origin() {
        for (pem, expected) in [
            ("", "no certificate"),
            ("not a pem", "esia.pem"),
            (
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                "esia.pem",
            ),
        ] {
            let err = VerifyingKey::from_pem_certificates(pem, "esia.pem").expect_err(pem);
            assert!(err.contains(expected), "{pem:?}: {err}");
        }
    }

    #[test]
    fn validity_bounds_are_inclusive() {
        let key = VerifyingKey {
            kid: None,
            alg: None,
            key_type: KeyType::Rsa,
            public: Vec::new(),
            not_before: Some(100),
            not_after: Some(200),
            label: String::new(),
            certificate: None,
        };
        assert!(!key.valid_at(99) && key.valid_at(100) && key.valid_at(200) && !key.valid_at(201));
        assert!(!key.fits(JwsAlg::Rs256, None, 300), "expired certificate");
        assert!(key.fits(JwsAlg::Rs256, None, 150));
        assert!(!key.fits(JwsAlg::Es256, None, 150), "wrong key type");
        assert!(
            !key.fits(JwsAlg::Rs256, Some("k1"), 150),
            "kid wanted, none on key"
        );
    }
}
