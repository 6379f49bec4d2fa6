//! Authorization codes: what the caller stores for one, and the pure
//! decision when a client redeems it.
//!
//! Storage contract (the caller's): store [`CodeRecord`] under
//! [`CodeRecord::code_hash`] until `expires_at`; at redemption, look it up
//! and mark it redeemed in one atomic step that says whether it already
//! was ([`CodeUse`]); keep the redeemed mark until `expires_at` so a replay
//! is recognised (and its tokens revoked) rather than answered "unknown".

use chrono::{DateTime, Duration, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::auth_context::SignIn;
use crate::authorize::{is_pkce_string, AuthorizationRequest};
use crate::errors::{Error, Result};
use crate::jws::b64;
use crate::scope::Scopes;
use crate::tokens::Grant;

/// Codes live a minute: long enough for an app to call the token endpoint,
/// short enough that a leaked code is useless soon after.
pub const CODE_LIFETIME_SECS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRecord {
    /// SHA-256 of the code, base64url: the storage key. The code itself is
    /// never stored, so reading the store yields no usable code.
    pub code_hash: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub redirect_uri_given: bool,
    pub code_challenge: Option<String>,
    pub scopes: Scopes,
    pub nonce: Option<String>,
    pub sign_in: SignIn,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The token family this code's redemption starts; a replay revokes it.
    pub family_id: Uuid,
}

/// The code to put in the redirect, and the record to store.
#[derive(Debug, Clone)]
pub struct IssuedCode {
    pub code: String,
    pub record: CodeRecord,
}

/// The storage's answer when the record was taken for redemption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeUse {
    FirstUse,
    AlreadyRedeemed,
}

/// The token request's code-grant parameters, from an authenticated client.
#[derive(Debug, Clone, Copy)]
pub struct CodeExchange<'a> {
    pub client_id: &'a str,
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
}

/// A refused redemption: the error for the client and, for a replay, the
/// family whose tokens the caller must revoke (RFC 6749 §4.1.2) and audit.
#[derive(Debug)]
pub struct CodeRefusal {
    pub error: Error,
    pub revoke_family: Option<Uuid>,
}

impl From<Error> for CodeRefusal {
    fn from(error: Error) -> Self {
        CodeRefusal {
            error,
            revoke_family: None,
        }
    }
}

pub fn code_hash(code: &str) -> String {
    b64(&Sha256::digest(code.as_bytes()))
}

/// 256 random bits, base64url (43 characters).
pub(crate) fn random_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::Internal("the system random generator failed".into()))?;
    Ok(b64(&bytes))
}

/// A code for a request the person has just been signed in for.
pub fn issue_code(
    request: &AuthorizationRequest,
    sign_in: SignIn,
    now: DateTime<Utc>,
) -> Result<IssuedCode> {
    let code = random_token()?;
    let record = CodeRecord {
        code_hash: code_hash(&code),
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        redirect_uri_given: request.redirect_uri_given,
        code_challenge: request.code_challenge.clone(),
        scopes: request.scopes,
        nonce: request.nonce.clone(),
        sign_in,
        issued_at: now,
        expires_at: now + Duration::seconds(CODE_LIFETIME_SECS),
        family_id: Uuid::new_v4(),
    };
    Ok(IssuedCode { code, record })
}

/// Decides a redemption. Every refusal is `invalid_grant` (RFC 6749 §5.2),
/// with a description that does not tell an attacker which binding failed
/// beyond what the legitimate client needs to fix its request.
pub fn redeem(
    record: &CodeRecord,
    state: CodeUse,
    exchange: &CodeExchange<'_>,
    now: DateTime<Utc>,
) -> std::result::Result<Grant, CodeRefusal> {
    if state == CodeUse::AlreadyRedeemed {
        return Err(CodeRefusal {
            error: Error::invalid_grant("the code was already used"),
            revoke_family: Some(record.family_id),
        });
    }
    if now > record.expires_at {
        return Err(Error::invalid_grant("the code has expired").into());
    }
    if exchange.client_id != record.client_id {
        return Err(Error::invalid_grant("the code was issued to another client").into());
    }
    match exchange.redirect_uri {
        Some(uri) if uri == record.redirect_uri => {}
        None if !record.redirect_uri_given => {}
        _ => {
            return Err(
                Error::invalid_grant("redirect_uri differs from the authorization request").into(),
            )
        }
    }
    match (&record.code_challenge, exchange.code_verifier) {
        (Some(challenge), Some(verifier)) => {
            if !is_pkce_string(verifier) {
                return Err(Error::invalid_grant("code_verifier is malformed").into());
            }
            let computed = b64(&Sha256::digest(verifier.as_bytes()));
            if !bool::from(computed.as_bytes().ct_eq(challenge.as_bytes())) {
                return Err(Error::invalid_grant("code_verifier does not match").into());
            }
        }
        (Some(_), None) => return Err(Error::invalid_grant("code_verifier is required").into()),
        // OAuth 2.1 §4.1.3: a verifier for a code issued without a challenge
        // means someone is trying to downgrade PKCE.
        (None, Some(_)) => {
            return Err(Error::invalid_grant("no code_challenge was sent for this code").into())
        }
        (None, None) => {}
    }
    Ok(Grant {
        client_id: record.client_id.clone(),
        scopes: record.scopes,
        sign_in: record.sign_in.clone(),
        nonce: record.nonce.clone(),
        family_id: record.family_id,
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::auth_context::{Acr, Amr};
    use crate::authorize::parse_authorization_request;
    use crate::testutil::test_clients;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn issued(query: &str) -> (IssuedCode, DateTime<Utc>) {
        let request = parse_authorization_request(query, &test_clients()).unwrap();
        let now = Utc.with_ymd_and_hms(2025, 9, 1, 8, 0, 0).unwrap();
        let sign_in = SignIn {
            account_id: "acc-1".into(),
            session_id: "sess-1".into(),
            auth_time: now,
            acr: Acr::EsiaStandard,
            amr: vec![Amr::Fed],
        };
        (issue_code(&request, sign_in, now).unwrap(), now)
    }

    const MOBILE: &str = "response_type=code&client_id=mobile&redirect_uri=http%3A%2F%2F127.0.0.1%3A4000%2Fcb\
        &scope=openid&nonce=n1&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";
    const WEB: &str = "response_type=code&client_id=web&scope=openid";

    #[test]
    fn redemption_checks() {
        let (mobile, t0) = issued(MOBILE);
        let (web, _) = issued(WEB);
        let uri = Some("http://127.0.0.1:4000/cb");
        let wrong_verifier = VERIFIER.replace('d', "e");
        let ex = |client_id, redirect_uri, code_verifier| CodeExchange {
            client_id,
            redirect_uri,
            code_verifier,
        };
        let s = |n: i64| t0 + Duration::seconds(n);
        // (record, use, exchange, time, outcome: None = granted, Some(description part))
        let cases: Vec<(
            &CodeRecord,
            CodeUse,
            CodeExchange,
            DateTime<Utc>,
            Option<&str>,
        )> = vec![
            (
                &mobile.record,
                CodeUse::FirstUse,
                ex("mobile", uri, Some(VERIFIER)),
                s(1),
                None,
            ),
            (
                &mobile.record,
                CodeUse::FirstUse,
                ex("mobile", uri, Some(VERIFIER)),
                s(60),
                None,
            ),
            (
                &mobile.record,
                CodeUse::FirstUse,
                ex("mobile", uri, Some(VERIFIER)),
                s(61),
                Some("expired"),
            ),
            (
                &mobile.record,
                CodeUse::AlreadyRedeemed,
                ex("mobile", uri, Some(VERIFIER)),
                s(2),
                Some("already used"),
            ),
            (
                &mobile.record,
                CodeUse::FirstUse,
                ex("web", uri, Some(VERIFIER)),
                s(1),
                Some("another client"),
            ),
            (
                &mobile.record,
                CodeUse::FirstUse,
                ex("mobile", Some("http://127.0.0.1:4001/cb"), Some(VERIFIER)),
                s(1),
                Some("redirect_uri"),
            ),
            (
                &mobile.record,
                CodeUse::FirstUse,
                ex("mobile", None, Some(VERIFIER)),
                s(1),
                Some("redirect_uri"),
            ),
            (
                &mobile.record,
                CodeUse::FirstUse,
                ex("mobile", uri, None),
                s(1),
                Some("required"),
            ),
            (
                &mobile.record,
                CodeUse::FirstUse,
                ex("mobile", uri, Some(&wrong_verifier)),
                s(1),
                Some("does not match"),
            ),
            (
                &mobile.record,
                CodeUse::FirstUse,
                ex("mobile", uri, Some(CHALLENGE)),
                s(1),
                Some("does not match"),
            ),
            (
                &mobile.record,
                CodeUse::FirstUse,
                ex("mobile", uri, Some("short")),
                s(1),
                Some("malformed"),
            ),
            // the web client sent no redirect_uri and no challenge
            (
                &web.record,
                CodeUse::FirstUse,
                ex("web", None, None),
                s(1),
                None,
            ),
            (
                &web.record,
                CodeUse::FirstUse,
                ex(
                    "web",
                    Some("https://diary.example/callback?from=esia-link"),
                    None,
                ),
                s(1),
                None,
            ),
            (
                &web.record,
                CodeUse::FirstUse,
                ex("web", Some("https://diary.example/callback"), None),
                s(1),
                Some("redirect_uri"),
            ),
            (
                &web.record,
                CodeUse::FirstUse,
                ex("web", None, Some(VERIFIER)),
                s(1),
                Some("no code_challenge"),
            ),
        ];
        for (i, (record, state, exchange, now, outcome)) in cases.into_iter().enumerate() {
            match (redeem(record, state, &exchange, now), outcome) {
                (Ok(grant), None) => {
                    assert_eq!(grant.family_id, record.family_id);
                    assert_eq!(grant.client_id, record.client_id);
                }
                (Err(refusal), Some(part)) => {
                    assert_eq!(refusal.error.code(), "invalid_grant", "case {i}");
                    let description = refusal.error.description().unwrap();
                    assert!(description.contains(part), "case {i}: {description}");
                    let expect_revoke = state == CodeUse::AlreadyRedeemed;
                    assert_eq!(refusal.revoke_family.is_some(), expect_revoke, "case {i}");
                }
                (other, _) => panic!("case {i}: {other:?}"),
            }
        }
    }

    #[test]
    fn replay_names_the_family_to_revoke() {
        let (mobile, t0) = issued(MOBILE);
        let exchange = CodeExchange {
            client_id: "mobile",
            redirect_uri: Some("http://127.0.0.1:4000/cb"),
            code_verifier: Some(VERIFIER),
        };
        let grant = redeem(&mobile.record, CodeUse::FirstUse, &exchange, t0).unwrap();
        let replay = redeem(&mobile.record, CodeUse::AlreadyRedeemed, &exchange, t0).unwrap_err();
        assert_eq!(replay.revoke_family, Some(grant.family_id));
    }

    #[test]
    fn the_code_is_random_and_only_its_hash_is_stored() {
        let (a, t0) = issued(MOBILE);
        let (b, _) = issued(MOBILE);
        assert_ne!(a.code, b.code);
        assert_eq!(a.code.len(), 43);
        assert_eq!(a.record.code_hash, code_hash(&a.code));
        assert_eq!(a.record.expires_at, t0 + Duration::seconds(60));
        let stored = serde_json::to_string(&a.record).unwrap();
        assert!(!stored.contains(&a.code));
        let back: CodeRecord = serde_json::from_str(&stored).unwrap();
        assert_eq!(back, a.record);
    }
}
