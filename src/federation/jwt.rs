//! id_token verification shared by both profiles.
//!
//! Explicit rather than a generic JWT library's, because ESIA's tokens are
//! not quite standard (`sub` is a JSON number, no `kid`, subject data under
//! `urn:esia:sbj`): an allow-list of algorithms that discovery cannot widen
//! and that never contains `none`, exact `iss`, `aud` containing our
//! client_id, `exp`/`iat` with a small leeway, the nonce where the profile
//! uses one. Signatures are checked with `ring` against keys parsed once per
//! JWKS fetch (not per token). A token naming an unknown `kid`, or a kid-less
//! token no key verifies, triggers one refetch: single-flight (one fetch in
//! flight per provider, others wait for its result) and at most one per
//! [`MIN_REFETCH_INTERVAL`], with verifications never waiting on a fetch
//! they do not need.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use super::TokenProblem;

/// Clock skew tolerated on `exp`, `iat` and `nbf`.
pub const LEEWAY_SECS: i64 = 60;
/// Forced refetches (unknown `kid`) happen at most this often per provider.
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_millis(100);
/// A key set larger than this is refused.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;

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
}

impl JwsAlg {
    pub const SUPPORTED: [&'static str; 9] = [
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
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
        }
    }

    fn ring(self) -> &'static dyn VerificationAlgorithm {
        match self {
            JwsAlg::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            JwsAlg::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            JwsAlg::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
            JwsAlg::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
            JwsAlg::Ps384 => &signature::RSA_PSS_2048_8192_SHA384,
            JwsAlg::Ps512 => &signature::RSA_PSS_2048_8192_SHA512,
            JwsAlg::Es256 => &signature::ECDSA_P256_SHA256_FIXED,
            JwsAlg::Es384 => &signature::ECDSA_P384_SHA384_FIXED,
            JwsAlg::EdDsa => &signature::ED25519,
        }
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
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyType {
    Rsa,
    P256,
    P384,
    Ed25519,
}

/// One verification key, parsed: the bytes `ring` takes (DER RSAPublicKey,
/// an uncompressed EC point, or the raw Ed25519 key).
#[derive(Debug, Clone)]
struct VerifyingKey {
    kid: Option<String>,
    /// The JWK's own `alg`, when it names one.
    alg: Option<String>,
    key_type: KeyType,
    public: Vec<u8>,
}

impl VerifyingKey {
    fn from_jwk(jwk: &Map<String, Value>) -> Option<VerifyingKey> {
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
        Some(VerifyingKey {
            kid: text("kid").map(str::to_string),
            alg: text("alg").map(str::to_string),
            key_type,
            public,
        })
    }

    fn fits(&self, alg: JwsAlg, kid: Option<&str>) -> bool {
        let kid_ok = match (kid, &self.kid) {
            (Some(wanted), Some(id)) => id == wanted,
            (Some(_), None) => false,
            (None, _) => true,
        };
        kid_ok
            && self.key_type == alg.key_type()
            && self.alg.as_deref().is_none_or(|a| a == alg.name())
    }

    fn verifies(&self, alg: JwsAlg, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(alg.ring(), &self.public)
            .verify(message, signature)
            .is_ok()
    }
}

/// DER `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn integer(bytes: &[u8]) -> Vec<u8> {
        let trimmed: &[u8] = {
            let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
            &bytes[start..]
        };
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

/// What a verified id_token must satisfy.
pub struct Expectations<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: Option<&'a str>,
    pub now: i64,
}

/// A verified token: its claims and its subject as a decimal string (ESIA
/// sends the OID as a JSON number).
#[derive(Debug)]
pub struct VerifiedToken {
    pub claims: Map<String, Value>,
    pub subject: String,
}

struct KeySet {
    keys: Vec<VerifyingKey>,
    generation: u64,
    fetched_at: Instant,
}

/// A JWKS fetched from `url` and kept until a token needs a key it lacks.
pub struct JwksCache {
    url: String,
    allowed_algs: Vec<JwsAlg>,
    http: reqwest::Client,
    current: RwLock<Option<Arc<KeySet>>>,
    /// Held only while fetching: one fetch in flight.
    fetching: Mutex<()>,
}

impl JwksCache {
    pub fn new(url: String, allowed_algs: &[JwsAlg], http: reqwest::Client) -> JwksCache {
        JwksCache {
            url,
            allowed_algs: allowed_algs.to_vec(),
            http,
            current: RwLock::new(None),
            fetching: Mutex::new(()),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Verifies signature and claims.
    pub async fn verify(
        &self,
        token: &str,
        expect: &Expectations<'_>,
    ) -> Result<VerifiedToken, TokenProblem> {
        let parts: Vec<&str> = token.split('.').collect();
        let [header_b64, payload_b64, signature_b64] = parts.as_slice() else {
            return Err(TokenProblem::Malformed(
                "not three dot-separated parts".into(),
            ));
        };
        let header: Map<String, Value> = decode_json(header_b64)?;
        let alg_name = header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or_else(|| TokenProblem::Malformed("header has no alg".into()))?;
        let alg = JwsAlg::parse(alg_name)
            .filter(|alg| self.allowed_algs.contains(alg))
            .ok_or_else(|| {
                TokenProblem::AlgorithmNotAllowed(alg_name.chars().take(32).collect())
            })?;
        if header.contains_key("crit") {
            return Err(TokenProblem::Malformed(
                "header has critical extensions".into(),
            ));
        }
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) => Some(kid.as_str()),
            Some(_) => return Err(TokenProblem::Malformed("kid is not a string".into())),
        };
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| TokenProblem::Malformed("signature is not base64url".into()))?;
        let message = format!("{header_b64}.{payload_b64}");

        let keys = self.keys().await?;
        match check_signature(&keys, alg, kid, message.as_bytes(), &signature) {
            KeyCheck::Valid => {}
            KeyCheck::BadSignature => return Err(TokenProblem::BadSignature),
            KeyCheck::NoKey => {
                // The IdP may have rotated its keys: look once more.
                let refreshed = self.refresh(keys.generation).await?;
                match check_signature(&refreshed, alg, kid, message.as_bytes(), &signature) {
                    KeyCheck::Valid => {}
                    KeyCheck::BadSignature => return Err(TokenProblem::BadSignature),
                    KeyCheck::NoKey => {
                        return Err(match kid {
                            Some(kid) => TokenProblem::UnknownKey(kid.chars().take(64).collect()),
                            None => TokenProblem::BadSignature,
                        })
                    }
                }
            }
        }

        let claims: Map<String, Value> = decode_json(payload_b64)?;
        let subject = check_claims(&claims, expect)?;
        Ok(VerifiedToken { claims, subject })
    }

    /// The cached set, fetched on first use.
    async fn keys(&self) -> Result<Arc<KeySet>, TokenProblem> {
        if let Some(keys) = self.cached() {
            return Ok(keys);
        }
        self.refresh(0).await
    }

    fn cached(&self) -> Option<Arc<KeySet>> {
        self.current.read().ok().and_then(|slot| slot.clone())
    }

    /// A set newer than generation `seen`: someone else's fresh fetch, or
    /// our own (at most one per [`MIN_REFETCH_INTERVAL`]).
    async fn refresh(&self, seen: u64) -> Result<Arc<KeySet>, TokenProblem> {
        let _in_flight = self.fetching.lock().await;
        let current = self.cached();
        if let Some(current) = &current {
            if current.generation != seen || current.fetched_at.elapsed() < MIN_REFETCH_INTERVAL {
                return Ok(current.clone());
            }
        }
        let keys = self.fetch().await?;
        let set = Arc::new(KeySet {
            keys,
            generation: current.map_or(1, |c| c.generation + 1),
            fetched_at: Instant::now(),
        });
        if let Ok(mut slot) = self.current.write() {
            *slot = Some(set.clone());
        }
        Ok(set)
    }

    async fn fetch(&self) -> Result<Vec<VerifyingKey>, TokenProblem> {
        let response = self
            .http
            .get(&self.url)
            .send()
            .await
            .map_err(|e| TokenProblem::JwksUnavailable(super::describe_reqwest(&e)))?;
        if !response.status().is_success() {
            return Err(TokenProblem::JwksUnavailable(format!(
                "HTTP {}",
                response.status()
            )));
        }
        let body = super::read_limited(response, MAX_JWKS_BYTES)
            .await
            .map_err(|e| TokenProblem::JwksUnavailable(e.to_string()))?;
        let set: Map<String, Value> = serde_json::from_slice(&body)
            .map_err(|e| TokenProblem::JwksUnavailable(format!("not a JWKS: {e}")))?;
        let keys = set
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| TokenProblem::JwksUnavailable("no keys array".into()))?;
        Ok(keys
            .iter()
            .filter_map(Value::as_object)
            .filter_map(VerifyingKey::from_jwk)
            .collect())
    }
}

enum KeyCheck {
    Valid,
    BadSignature,
    NoKey,
}

fn check_signature(
    keys: &KeySet,
    alg: JwsAlg,
    kid: Option<&str>,
    message: &[u8],
    signature: &[u8],
) -> KeyCheck {
    let mut candidates = keys.keys.iter().filter(|key| key.fits(alg, kid)).peekable();
    if candidates.peek().is_none() {
        return KeyCheck::NoKey;
    }
    if candidates.any(|key| key.verifies(alg, message, signature)) {
        KeyCheck::Valid
    } else if kid.is_none() {
        // A kid-less token that none of the current keys verifies may be
        // signed by a key published since: same as an unknown kid.
        KeyCheck::NoKey
    } else {
        KeyCheck::BadSignature
    }
}

fn decode_json(part: &str) -> Result<Map<String, Value>, TokenProblem> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenProblem::Malformed("a part is not base64url".into()))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| TokenProblem::Malformed("a part is not a JSON object".into()))
}

/// A subject as text: a non-empty string, or a non-negative integer (ESIA).
pub fn subject_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() && s.len() <= 255 => Some(s.clone()),
        Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        _ => None,
    }
}

/// Checks the claims; returns the subject.
fn check_claims(
    claims: &Map<String, Value>,
    expect: &Expectations<'_>,
) -> Result<String, TokenProblem> {
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    if iss != expect.issuer {
        return Err(TokenProblem::WrongIssuer(iss.chars().take(128).collect()));
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == expect.client_id,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(expect.client_id)),
        _ => false,
    };
    if !audience_ok {
        return Err(TokenProblem::WrongAudience);
    }
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    let exp = number("exp").ok_or_else(|| TokenProblem::Malformed("no exp".into()))?;
    if exp + LEEWAY_SECS < expect.now {
        return Err(TokenProblem::Expired);
    }
    let iat = number("iat").ok_or_else(|| TokenProblem::Malformed("no iat".into()))?;
    if iat - LEEWAY_SECS > expect.now {
        return Err(TokenProblem::IssuedInFuture);
    }
    if let Some(nbf) = number("nbf") {
        if nbf - LEEWAY_SECS > expect.now {
            return Err(TokenProblem::IssuedInFuture);
        }
    }
    let subject = subject_text(claims.get("sub"))
        .ok_or_else(|| TokenProblem::Malformed("no usable sub".into()))?;
    if let Some(expected) = expect.nonce {
        let nonce = claims.get("nonce").and_then(Value::as_str);
        if nonce != Some(expected) {
            return Err(TokenProblem::NonceMismatch);
        }
    }
    Ok(subject)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("object")
    }

    #[test]
    fn claim_checks_table() {
        let now = 1_800_000_000;
        let good = json!({"iss":"https://idp","aud":"me","sub":"42","iat":now,"exp":now+3600,"nonce":"n1"});
        let expect = Expectations {
            issuer: "https://idp",
            client_id: "me",
            nonce: Some("n1"),
            now,
        };
        assert_eq!(
            check_claims(&claims(good.clone()), &expect).as_deref(),
            Ok("42")
        );

        let mut cases: Vec<(Value, &str)> = Vec::new();
        let mut with = |key: &str, value: Value, why: &'static str| {
            let mut c = good.clone();
            c[key] = value;
            cases.push((c, why));
        };
        with("iss", json!("https://idp/"), "wrong issuer");
        with("aud", json!("someone-else"), "wrong audience");
        with("aud", json!(["a", "b"]), "audience list without us");
        with("exp", json!(now - 120), "expired");
        with("iat", json!(now + 600), "issued in the future");
        with("nonce", json!("other"), "nonce mismatch");
        with("sub", json!(""), "empty subject");
        with("sub", json!(-5), "negative subject");
        with("sub", json!({"a": 1}), "subject object");
        for (c, why) in cases {
            assert!(check_claims(&claims(c), &expect).is_err(), "{why}");
        }
        let listed = json!({"iss":"https://idp","aud":["x","me"],"sub":"42","iat":now,"exp":now+30,"nonce":"n1"});
        assert!(
            check_claims(&claims(listed), &expect).is_ok(),
            "aud as list containing us"
        );
        let numeric = json!({"iss":"https://idp","aud":"me","sub":1000299353,"iat":now,"exp":now+30,"nonce":"n1"});
        assert_eq!(
            check_claims(&claims(numeric), &expect).as_deref(),
            Ok("1000299353"),
            "ESIA's numeric OID becomes its decimal string"
        );
    }

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
        // ring parses what we build: a 2048-bit modulus with the high bit set
        // needs the leading zero, exponent 65537.
        let n = [0xC0u8; 256];
        let der = rsa_public_key_der(&n, &[1, 0, 1]);
        assert_eq!(&der[..4], &[0x30, 0x82, 0x01, 0x0A]);
        assert_eq!(&der[4..8], &[0x02, 0x82, 0x01, 0x01]);
        assert_eq!(der[8], 0);
        assert_eq!(&der[der.len() - 5..], &[0x02, 0x03, 1, 0, 1]);
    }
}
