//! A hostile IdP (issue 12, token and response checks): each refusal has a
//! reference code and its own error code, nothing is linked, and after a
//! refused token no person data is asked for.

use std::time::{Duration, Instant};

use esia_link::demo::browser::{element_text, Consent, ScriptedBrowser};
use mock_idp::Fault;
use reqwest::StatusCode;

use crate::helpers::{spawn_app, TestApp};

async fn attempt_code(app: &TestApp, reference: &str) -> Option<String> {
    app.store
        .find_attempt_by_reference(reference)
        .await
        .expect("query attempts")
        .unwrap_or_else(|| panic!("attempt {reference} recorded"))
        .idp_error
}

/// Person-data requests so far: userinfo (OIDC) or `/rs/prns` (ESIA).
fn person_requests(app: &TestApp) -> u64 {
    app.idp.userinfo_calls() + app.idp.person_calls()
}

/// Logs in as ivanova under `fault` and checks the refusal: `expected` as
/// the recorded code, a reference on the page, nothing (more) linked, no
/// person data read after the refusal.
async fn refused_under(app: &TestApp, provider: &str, fault: Fault, expected: &str) {
    let before = person_requests(app);
    let links = app.link_count().await;
    app.idp.set_fault(fault.clone());
    let started = Instant::now();
    let (_, run) = app.login(provider, "ivanova", Consent::Allow).await;
    app.idp.clear_faults();
    let why = format!("{provider} {fault:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "{why}: slow");
    assert_eq!(run.outcome.as_deref(), Some("idp_error"), "{why}");
    let reference = run.reference.unwrap_or_else(|| panic!("{why}: reference"));
    assert_eq!(
        attempt_code(app, &reference).await.as_deref(),
        Some(expected),
        "{why}"
    );
    assert_eq!(app.link_count().await, links, "{why}");
    if expected.starts_with("token.") || expected == "idp.state_not_echoed" {
        assert_eq!(person_requests(app), before, "{why}: person data read");
    }
}

#[tokio::test]
async fn token_claims_a_hostile_idp_bends_are_refused() {
    let app = spawn_app().await;
    for provider in ["esia", "oidc"] {
        for (fault, expected) in [
            (Fault::ExtraAudience, "token.untrusted_audience"),
            (Fault::WrongAzp, "token.wrong_azp"),
            (Fault::OldIat, "token.too_old"),
        ] {
            refused_under(&app, provider, fault, expected).await;
        }
    }
    refused_under(
        &app,
        "esia",
        Fault::TokenWithoutState,
        "idp.state_not_echoed",
    )
    .await;
    // The same person logs in once the IdP behaves.
    let (_, run) = app.login("oidc", "ivanova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
}

#[tokio::test]
async fn oversized_answers_are_refused_without_reading_them() {
    let app = spawn_app().await;
    for (provider, fault) in [
        ("esia", Fault::HugeToken),
        ("esia", Fault::HugePerson),
        ("oidc", Fault::HugeToken),
        ("oidc", Fault::HugeUserinfo),
    ] {
        refused_under(&app, provider, fault, "idp.bad_response").await;
    }
    assert_eq!(app.link_count().await, 0);
}

#[tokio::test]
async fn an_oversized_discovery_document_is_refused_at_the_start() {
    let app = spawn_app().await;
    app.idp.set_fault(Fault::HugeDiscovery);
    let started = Instant::now();
    let page = ScriptedBrowser::new()
        .get(&app.start_url("oidc"))
        .await
        .expect("start");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    let reference = element_text(&page.body, "reference").expect("reference shown");
    assert_eq!(
        attempt_code(&app, &reference).await.as_deref(),
        Some("idp.bad_response")
    );
    app.idp.clear_faults();
    let (_, run) = app.login("oidc", "fedorov", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
}

/// Issue 12 item 3 with the OIDC JWKS: rotations right after each other do
/// not fail a login; a kid-less token is fine with one key of its type and
/// refused (`token.kid_required`) with two.
#[tokio::test]
async fn key_rotations_and_kidless_tokens() {
    let app = spawn_app().await;
    let (_, run) = app.login("oidc", "ivanova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
    app.idp.set_fault(Fault::KidlessToken);
    let (_, run) = app.login("oidc", "ivanova", Consent::Allow).await;
    assert_eq!(
        run.landed_at(),
        Some("/account"),
        "one key: {:?}",
        run.outcome
    );
    app.idp.clear_faults();

    let started = Instant::now();
    for alg in [mock_idp::Alg::Es256, mock_idp::Alg::Rs256] {
        app.idp.rotate_key(alg, false);
        let (_, run) = app.login("oidc", "ivanova", Consent::Allow).await;
        assert_eq!(
            run.landed_at(),
            Some("/account"),
            "{alg:?}: {:?}",
            run.outcome
        );
    }
    assert!(started.elapsed() < Duration::from_secs(5));

    // A second RS256 key in the JWKS: a kid-less RS256 token is ambiguous.
    app.idp.rotate_key(mock_idp::Alg::Rs256, true);
    refused_under(&app, "oidc", Fault::KidlessToken, "token.kid_required").await;
}

/// RFC 9207 end to end: needs the callback's `iss` handed to
/// `Provider::check_iss_parameter` before the code is redeemed.
#[tokio::test]
async fn the_authorization_response_iss_is_checked_before_the_code_is_redeemed() {
    let app = spawn_app().await;
    // Before the first OIDC login, so that discovery advertises it.
    app.idp.set_iss_parameter(true);
    let (_, run) = app.login("oidc", "ivanova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
    for (fault, expected) in [
        (Fault::MissingIssParameter, "callback.iss_missing"),
        (Fault::WrongIssParameter, "callback.iss_mismatch"),
    ] {
        for provider in ["oidc", "esia"] {
            // ESIA advertises nothing: only a wrong iss is refused there.
            if provider == "esia" && fault == Fault::MissingIssParameter {
                continue;
            }
            let tokens = app.idp.token_calls();
            app.idp.set_fault(fault.clone());
            let (_, run) = app.login(provider, "fedorov", Consent::Allow).await;
            app.idp.clear_faults();
            let why = format!("{provider} {fault:?}");
            let reference = run.reference.unwrap_or_else(|| panic!("{why}: reference"));
            assert_eq!(
                attempt_code(&app, &reference).await.as_deref(),
                Some(expected),
                "{why}"
            );
            assert_eq!(app.idp.token_calls(), tokens, "{why}: code redeemed");
        }
    }
    assert_eq!(app.link_count().await, 1);
}
