//! id_token verification shared by both profiles.
//!
//! Explicit rather than a generic JWT library's, because ESIA's tokens are
//! not quite standard (`sub` is a JSON number, no `kid`, subject data under
//! `urn:esia:sbj`): an allow-list of algorithms that discovery cannot widen
//! and that never contains `none`, exact `iss`, `aud` containing our
//! client_id, `exp`/`iat` with a small leeway, the nonce where the profile
//! uses one. Signatures are checked (`ring`; GOST by `esia_proto::gost`)
//! against keys parsed once per load (not per token), from a JWKS or from
//! PEM certificates. A token naming an unknown `kid`, or a kid-less token no
//! key verifies, triggers one reload: single-flight (one in flight per
//! provider, others wait for its result) and at most one per
//! [`MIN_REFETCH_INTERVAL`], with verifications never waiting on a load they
//! do not need.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};
use tokio::sync::Mutex;

pub use super::keys::JwsAlg;
use super::keys::VerifyingKey;
use super::TokenProblem;

/// Clock skew tolerated on `exp`, `iat` and `nbf`.
pub const LEEWAY_SECS: i64 = 60;
/// Forced reloads (unknown `kid`) happen at most this often per provider.
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_millis(100);
/// A key set larger than this is refused.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Where a provider's signing keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    Jwks(String),
    /// PEM files (each may hold several certificates) and inline PEM: all
    /// certificates listed at once, so that a rotation is a config change.
    Certificates {
        files: Vec<PathBuf>,
        inline: Option<String>,
    },
}

impl KeySource {
    fn describe(&self) -> String {
        match self {
            KeySource::Jwks(url) => url.clone(),
            KeySource::Certificates { files, inline } => {
                let mut parts: Vec<String> =
                    files.iter().map(|f| f.display().to_string()).collect();
                if inline.is_some() {
                    parts.push("(inline)".into());
                }
                parts.join(", ")
            }
        }
    }
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

/// A provider's keys, loaded on first use (or at startup for certificates)
/// and kept until a token needs a key they lack.
pub struct KeyCache {
    source: KeySource,
    allowed_algs: Vec<JwsAlg>,
    http: reqwest::Client,
    current: RwLock<Option<Arc<KeySet>>>,
    /// Held only while loading: one load in flight.
    fetching: Mutex<()>,
}

impl KeyCache {
    pub fn new(source: KeySource, allowed_algs: &[JwsAlg], http: reqwest::Client) -> KeyCache {
        KeyCache {
            source,
            allowed_algs: allowed_algs.to_vec(),
            http,
            current: RwLock::new(None),
            fetching: Mutex::new(()),
        }
    }

    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// Reads certificate keys now (startup): a missing or broken file, or a
    /// bundle without a key for any allowed algorithm, is an error.
    pub fn preload(&self) -> Result<usize, String> {
        let KeySource::Certificates { files, inline } = &self.source else {
            return Ok(0);
        };
        let keys = read_certificates(files, inline.as_deref())?;
        let usable = keys
            .iter()
            .filter(|k| self.allowed_algs.iter().any(|alg| k.suits(*alg)))
            .count();
        if usable == 0 {
            return Err(format!(
                "no certificate in {} carries a key for the allowed algorithms ({})",
                self.source.describe(),
                self.allowed_algs
                    .iter()
                    .map(|a| a.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let now = chrono::Utc::now().timestamp();
        for key in keys.iter().filter(|k| !k.valid_at(now)) {
            tracing::warn!(certificate = %key.label, "a configured certificate is outside its validity dates");
        }
        let count = keys.len();
        self.install(keys, 1);
        Ok(count)
    }

    /// The keys in use now (for `esia-link keys` and the ops console).
    pub fn loaded(&self) -> Vec<VerifyingKey> {
        self.cached()
            .map(|set| set.keys.clone())
            .unwrap_or_default()
    }

    /// Loads the keys again now (SIGHUP after a certificate rotation).
    pub async fn reload(&self) -> Result<usize, TokenProblem> {
        let _in_flight = self.fetching.lock().await;
        let keys = self.fetch().await?;
        let count = keys.len();
        let generation = self.cached().map_or(1, |c| c.generation + 1);
        self.install(keys, generation);
        Ok(count)
    }

    fn install(&self, keys: Vec<VerifyingKey>, generation: u64) -> Arc<KeySet> {
        let set = Arc::new(KeySet {
            keys,
            generation,
            fetched_at: Instant::now(),
        });
        if let Ok(mut slot) = self.current.write() {
            *slot = Some(set.clone());
        }
        set
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
        let now = expect.now;
        match check_signature(&keys, alg, kid, now, message.as_bytes(), &signature) {
            KeyCheck::Valid => {}
            KeyCheck::BadSignature => return Err(TokenProblem::BadSignature),
            KeyCheck::NoKey => {
                // The IdP may have rotated its keys: look once more.
                let refreshed = self.refresh(keys.generation).await?;
                match check_signature(&refreshed, alg, kid, now, message.as_bytes(), &signature) {
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
        Ok(self.install(keys, current.map_or(1, |c| c.generation + 1)))
    }

    async fn fetch(&self) -> Result<Vec<VerifyingKey>, TokenProblem> {
        let url = match &self.source {
            KeySource::Jwks(url) => url,
            KeySource::Certificates { files, inline } => {
                return read_certificates(files, inline.as_deref())
                    .map_err(TokenProblem::JwksUnavailable);
            }
        };
        let response = self
            .http
            .get(url)
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

fn read_certificates(files: &[PathBuf], inline: Option<&str>) -> Result<Vec<VerifyingKey>, String> {
    let mut keys = Vec::new();
    for file in files {
        let pem = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        keys.extend(VerifyingKey::from_pem_certificates(
            &pem,
            &file.display().to_string(),
        )?);
    }
    if let Some(pem) = inline {
        keys.extend(VerifyingKey::from_pem_certificates(pem, "inline")?);
    }
    Ok(keys)
}

fn check_signature(
    keys: &KeySet,
    alg: JwsAlg,
    kid: Option<&str>,
    now: i64,
    message: &[u8],
    signature: &[u8],
) -> KeyCheck {
    let mut candidates = keys
        .keys
        .iter()
        .filter(|key| key.fits(alg, kid, now))
        .peekable();
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
}
