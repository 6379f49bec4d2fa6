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
