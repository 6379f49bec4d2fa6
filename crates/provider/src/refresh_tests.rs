use chrono::TimeZone;

use super::*;
use crate::auth_context::{Acr, Amr};

fn t(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 8, 0, 0).unwrap() + Duration::seconds(seconds)
}

fn grant(scopes: &str) -> Grant {
    Grant {
        client_id: "mobile".into(),
        scopes: Scopes::parse(scopes).unwrap(),
        sign_in: SignIn {
            account_id: "acc-1".into(),
            session_id: "sess-1".into(),
            auth_time: t(0),
            acr: Acr::Password,
            amr: vec![Amr::Pwd],
        },
        nonce: Some("n".into()),
        family_id: Uuid::new_v4(),
    }
}

fn rotated(r: Rotation) -> (String, RefreshFamily, Grant) {
    match r {
        Rotation::Rotated {
            token,
            family,
            grant,
        } => (token, family, grant),
        other => panic!("not rotated: {other:?}"),
    }
}

fn presented(token: &str) -> PresentedRefreshToken {
    PresentedRefreshToken::parse(token).unwrap()
}

const DAYS_30: Duration = Duration::days(30);

#[test]
fn rotation_then_reuse_revokes_the_family() {
    let (first, family) = start_family(&grant("openid offline_access"), DAYS_30, t(0)).unwrap();
    assert!(family.offline());
    let (second, family2, grant2) = rotated(rotate(
        &family,
        &presented(&first),
        "mobile",
        None,
        Duration::zero(),
        t(10),
    ));
    assert_ne!(first, second);
    assert_eq!(family2.generation, 1);
    assert_eq!(grant2.nonce, None, "a refreshed ID token carries no nonce");
    assert_eq!(grant2.family_id, family.id);
    // The current token works once more...
    let (_third, family3, _) = rotated(rotate(
        &family2,
        &presented(&second),
        "mobile",
        None,
        Duration::zero(),
        t(20),
    ));
    // ...and the first one, presented again, is reuse: revoke everything.
    for (stale, at) in [(&first, t(30)), (&second, t(30))] {
        match rotate(
            &family3,
            &presented(stale),
            "mobile",
            None,
            Duration::zero(),
            at,
        ) {
            Rotation::ReuseDetected { family_id, error } => {
                assert_eq!(family_id, family.id);
                assert_eq!(error.code(), "invalid_grant");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn refusals_that_leave_the_family_alone() {
    let (token, family) = start_family(&grant("openid profile"), DAYS_30, t(0)).unwrap();
    let mut revoked = family.clone();
    revoked.revoked = true;
    let other_family = start_family(&grant("openid"), DAYS_30, t(0)).unwrap().1;
    // (family, client, scope, time, description part)
    let cases: Vec<(
        &RefreshFamily,
        &str,
        Option<&str>,
        DateTime<Utc>,
        &str,
        &str,
    )> = vec![
        (
            &family,
            "web",
            None,
            t(1),
            "invalid_grant",
            "another client",
        ),
        (&revoked, "mobile", None, t(1), "invalid_grant", "revoked"),
        (
            &family,
            "mobile",
            None,
            t(0) + DAYS_30,
            "invalid_grant",
            "expired",
        ),
        (
            &other_family,
            "mobile",
            None,
            t(1),
            "invalid_grant",
            "unknown",
        ),
        (
            &family,
            "mobile",
            Some("openid diary"),
            t(1),
            "invalid_scope",
            "narrow",
        ),
        (
            &family,
            "mobile",
            Some("profile"),
            t(1),
            "invalid_scope",
            "openid",
        ),
        (
            &family,
            "mobile",
            Some("openid email"),
            t(1),
            "invalid_scope",
            "email",
        ),
    ];
    for (i, (fam, client, scope, at, code, part)) in cases.into_iter().enumerate() {
        match rotate(fam, &presented(&token), client, scope, Duration::zero(), at) {
            Rotation::Refused(error) => {
                assert_eq!(error.code(), code, "case {i}");
                assert!(
                    error.description().unwrap().contains(part),
                    "case {i}: {error}"
                );
            }
            other => panic!("case {i}: {other:?}"),
        }
    }
    let (_, _, narrowed) = rotated(rotate(
        &family,
        &presented(&token),
        "mobile",
        Some("openid"),
        Duration::zero(),
        t(1),
    ));
    assert_eq!(narrowed.scopes.to_string(), "openid");
}

#[test]
fn a_retry_within_the_grace_period_is_not_reuse() {
    let (first, family) = start_family(&grant("openid"), DAYS_30, t(0)).unwrap();
    let (_lost, family2, _) = rotated(rotate(
        &family,
        &presented(&first),
        "mobile",
        None,
        Duration::seconds(30),
        t(10),
    ));
    // The response was lost; the app retries with the first token.
    let (_, family3, _) = rotated(rotate(
        &family2,
        &presented(&first),
        "mobile",
        None,
        Duration::seconds(30),
        t(20),
    ));
    assert_eq!(family3.generation, 2);
    // Past the grace period the same retry is reuse.
    let late = rotate(
        &family2,
        &presented(&first),
        "mobile",
        None,
        Duration::seconds(30),
        t(41),
    );
    assert!(matches!(late, Rotation::ReuseDetected { .. }), "{late:?}");
    // With no grace (the default) it is reuse at once.
    for at in [t(10), t(11)] {
        let strict = rotate(
            &family2,
            &presented(&first),
            "mobile",
            None,
            Duration::zero(),
            at,
        );
        assert!(
            matches!(strict, Rotation::ReuseDetected { .. }),
            "{at}: {strict:?}"
        );
    }
}

#[test]
fn token_shape_and_storage() {
    let (token, family) = start_family(&grant("openid"), DAYS_30, t(0)).unwrap();
    assert_eq!(token.len(), 32 + 1 + 43);
    assert_eq!(family.expires_at, t(0) + DAYS_30);
    let stored = serde_json::to_string(&family).unwrap();
    assert!(
        !stored.contains(token.split_once('.').unwrap().1),
        "only the hash is stored"
    );
    for junk in [
        "",
        "abc",
        "x.y",
        &format!("{}.short", family.id.simple()),
        &token.replace('.', ""),
    ] {
        assert_eq!(PresentedRefreshToken::parse(junk), None, "{junk}");
    }
    assert_eq!(presented(&token).family_id, family.id);
}
