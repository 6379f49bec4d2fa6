//! id_token verification shared by both profiles.
//!
//! Signature checks use `openidconnect`'s JWK implementation; everything
//! around them is explicit here because ESIA's tokens are not quite standard
//! (`amr` is a string, subject data sits under `urn:esia:sbj`): an allow-list
//! of algorithms that discovery cannot widen and that never contains `none`,
//! exact `iss`, `aud` containing our client_id, `exp`/`iat` with a small
//! leeway, the nonce where the profile uses one, and a JWKS cache that
//! refetches once (rate-limited) when a token names an unknown `kid`, so key
//! rotation at the IdP never needs a restart here.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{CoreJsonWebKey, CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use openidconnect::JsonWebKey;
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use super::TokenProblem;

/// Clock skew tolerated on `exp`, `iat` and `nbf`.
pub const LEEWAY_SECS: i64 = 60;
/// Tokens naming unknown keys trigger at most one JWKS refetch per this interval.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(1);

/// What a verified id_token must satisfy.
pub struct Expectations<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: Option<&'a str>,
    pub now: i64,
}

/// A JWKS fetched from `url` and kept until a token needs a key it lacks.
pub struct JwksCache {
    url: String,
    allowed_algs: Vec<CoreJwsSigningAlgorithm>,
    http: reqwest::Client,
    state: Mutex<CacheState>,
}

struct CacheState {
    keys: Option<Arc<CoreJsonWebKeySet>>,
    /// When a token with an unknown key last forced a refetch.
    refetched_at: Option<Instant>,
}

impl JwksCache {
    /// `allowed_algs` are JWS names (`RS256`, `ES256`, ...); `none` and
    /// unknown names are dropped here, so no configuration can enable them.
    pub fn new(url: String, allowed_algs: &[String], http: reqwest::Client) -> JwksCache {
        let allowed_algs = allowed_algs
            .iter()
            .filter(|name| !name.eq_ignore_ascii_case("none"))
            .filter_map(|name| serde_json::from_value(Value::String(name.clone())).ok())
            .filter(|alg| *alg != CoreJwsSigningAlgorithm::None)
            .collect();
        JwksCache {
            url,
            allowed_algs,
            http,
            state: Mutex::new(CacheState {
                keys: None,
                refetched_at: None,
            }),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Verifies signature and claims; returns the claims object.
    pub async fn verify(
        &self,
        token: &str,
        expect: &Expectations<'_>,
    ) -> Result<Map<String, Value>, TokenProblem> {
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
        let alg: CoreJwsSigningAlgorithm =
            serde_json::from_value(Value::String(alg_name.to_string()))
                .map_err(|_| TokenProblem::AlgorithmNotAllowed(alg_name.to_string()))?;
        if alg == CoreJwsSigningAlgorithm::None || !self.allowed_algs.contains(&alg) {
            return Err(TokenProblem::AlgorithmNotAllowed(alg_name.to_string()));
        }
        let kid = header
            .get("kid")
            .and_then(Value::as_str)
            .map(str::to_string);
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64.trim_end_matches('='))
            .map_err(|_| TokenProblem::Malformed("signature is not base64url".into()))?;
        let message = format!("{header_b64}.{payload_b64}");

        let keys = self.keys(false).await?;
        let verified =
            match verify_with(&keys, kid.as_deref(), &alg, message.as_bytes(), &signature) {
                KeyCheck::Valid => true,
                KeyCheck::BadSignature => false,
                KeyCheck::NoKey => {
                    let refreshed = self.keys(true).await?;
                    match verify_with(
                        &refreshed,
                        kid.as_deref(),
                        &alg,
                        message.as_bytes(),
                        &signature,
                    ) {
                        KeyCheck::Valid => true,
                        KeyCheck::BadSignature => false,
                        KeyCheck::NoKey => {
                            return Err(TokenProblem::UnknownKey(kid.unwrap_or_default()));
                        }
                    }
                }
            };
        if !verified {
            return Err(TokenProblem::BadSignature);
        }

        let claims: Map<String, Value> = decode_json(payload_b64)?;
        check_claims(&claims, expect)?;
        Ok(claims)
    }

    /// The cached set; a fresh one when there is none yet, or when `refresh`
    /// is asked and no forced refetch happened within [`REFETCH_INTERVAL`].
    async fn keys(&self, refresh: bool) -> Result<Arc<CoreJsonWebKeySet>, TokenProblem> {
        let mut state = self.state.lock().await;
        let recently = state
            .refetched_at
            .is_some_and(|at| at.elapsed() < REFETCH_INTERVAL);
        if let Some(keys) = &state.keys {
            if !refresh || recently {
                return Ok(keys.clone());
            }
            state.refetched_at = Some(Instant::now());
        }
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
        let body = response
            .bytes()
            .await
            .map_err(|e| TokenProblem::JwksUnavailable(super::describe_reqwest(&e)))?;
        let set: CoreJsonWebKeySet = serde_json::from_slice(&body)
            .map_err(|e| TokenProblem::JwksUnavailable(format!("not a JWKS: {e}")))?;
        let set = Arc::new(set);
        state.keys = Some(set.clone());
        Ok(set)
    }
}

enum KeyCheck {
    Valid,
    BadSignature,
    NoKey,
}

fn verify_with(
    keys: &CoreJsonWebKeySet,
    kid: Option<&str>,
    alg: &CoreJwsSigningAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> KeyCheck {
    let candidates: Vec<&CoreJsonWebKey> = keys
        .keys()
        .iter()
        .filter(|key| match (kid, key.key_id()) {
            (Some(wanted), Some(id)) => id.as_str() == wanted,
            (Some(_), None) => false,
            (None, _) => true,
        })
        .collect();
    if candidates.is_empty() {
        return KeyCheck::NoKey;
    }
    if candidates
        .iter()
        .any(|key| key.verify_signature(alg, message, signature).is_ok())
    {
        KeyCheck::Valid
    } else {
        KeyCheck::BadSignature
    }
}

fn decode_json(part: &str) -> Result<Map<String, Value>, TokenProblem> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| TokenProblem::Malformed("a part is not base64url".into()))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| TokenProblem::Malformed("a part is not a JSON object".into()))
}

fn check_claims(
    claims: &Map<String, Value>,
    expect: &Expectations<'_>,
) -> Result<(), TokenProblem> {
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    if iss != expect.issuer {
        return Err(TokenProblem::WrongIssuer(iss.to_string()));
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
    if claims
        .get("sub")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(TokenProblem::Malformed("no sub".into()));
    }
    if let Some(expected) = expect.nonce {
        let nonce = claims.get("nonce").and_then(Value::as_str);
        if nonce != Some(expected) {
            return Err(TokenProblem::NonceMismatch);
        }
    }
    Ok(())
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
        assert!(check_claims(&claims(good.clone()), &expect).is_ok());

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
        for (c, why) in cases {
            assert!(check_claims(&claims(c), &expect).is_err(), "{why}");
        }
        let listed = json!({"iss":"https://idp","aud":["x","me"],"sub":"42","iat":now,"exp":now+30,"nonce":"n1"});
        assert!(
            check_claims(&claims(listed), &expect).is_ok(),
            "aud as list containing us"
        );
    }

    #[test]
    fn none_is_never_allowed_even_if_configured() {
        let cache = JwksCache::new(
            "http://127.0.0.1:9/jwks".into(),
            &["none".into(), "RS256".into(), "bogus".into()],
            reqwest::Client::new(),
        );
        assert_eq!(
            cache.allowed_algs,
            vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]
        );
    }
}
