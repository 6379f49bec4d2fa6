//! Issue 27, "the specs rule by rule", end to end with an IdP that bends
//! them: each case shows the outcome the README's "Spec rules" table gives
//! (accepted: the person lands in the diary; refused: `idp_error` or
//! `rejected` with the table's code, nothing linked, no person data read).

use chrono::{Duration as Days, Utc};
use esia_link::demo::browser::{Consent, ScriptedBrowser};
use esia_link::federation::keys::VerifyingKey;
use esia_link::i18n::Lang;
use esia_link::texts::remedy::Side;
use mock_idp::Fault;

use crate::helpers::{spawn_app, TestApp};

/// The recorded outcome and code of the attempt `reference` names.
async fn recorded(app: &TestApp, reference: &str) -> (String, Option<String>) {
    let attempt = app
        .store
        .find_attempt_by_reference(reference)
        .await
        .expect("query attempts")
        .unwrap_or_else(|| panic!("attempt {reference} recorded"));
    (attempt.outcome, attempt.idp_error)
}

/// Person-data requests so far: userinfo (OIDC) or `/rs/prns` (ESIA).
fn person_requests(app: &TestApp) -> u64 {
    app.idp.userinfo_calls() + app.idp.person_calls()
}

/// Logs in as ivanova through `provider` under `fault`: `Ok(())` when she
/// lands in the diary, else the recorded code (after checking that nothing
/// was linked and no person data read).
async fn login_under(app: &TestApp, provider: &str, fault: Fault) -> Result<(), String> {
    let (links, person_data) = (app.link_count().await, person_requests(app));
    app.idp.set_fault(fault.clone());
    let (_, run) = app.login(provider, "ivanova", Consent::Allow).await;
    app.idp.clear_faults();
    if run.landed_at() == Some("/account") {
        return Ok(());
    }
    let why = format!("{provider} {fault:?}");
    assert_eq!(run.outcome.as_deref(), Some("idp_error"), "{why}");
    let reference = run.reference.unwrap_or_else(|| panic!("{why}: reference"));
    let (_, code) = recorded(app, &reference).await;
    assert_eq!(app.link_count().await, links, "{why}: linked");
    assert_eq!(person_requests(app), person_data, "{why}: person data read");
    Err(code.unwrap_or_default())
}

#[tokio::test]
async fn an_idp_that_bends_the_specs_gets_the_outcome_the_table_says() {
    let app = spawn_app().await;
    for provider in ["esia", "oidc"] {
        // RFC 7519 §2: NumericDates may be fractional.
        assert_eq!(
            login_under(&app, provider, Fault::FractionalNumericDate).await,
            Ok(()),
            "{provider}"
        );
        // RFC 6749 §7.1: a token type we do not understand is not used.
        assert_eq!(
            login_under(&app, provider, Fault::MacTokenType).await,
            Err("token.not_bearer".into()),
            "{provider}"
        );
        // RFC 8725 §3.11: an access token is not an id_token.
        assert_eq!(
            login_under(&app, provider, Fault::WrongTyp).await,
            Err("token.wrong_typ".into()),
            "{provider}"
        );
        // RFC 7515 §4.1.11: an unknown critical extension refuses.
        assert_eq!(
            login_under(&app, provider, Fault::CritHeader).await,
            Err("token.malformed".into()),
            "{provider}"
        );
        // OIDC Core 3.1.3.3: the token response carries the id_token.
        assert_eq!(
            login_under(&app, provider, Fault::NoIdToken).await,
            Err("idp.bad_response".into()),
            "{provider}"
        );
    }
    // OIDC Core §2: `sub` is a string; ESIA's OID is an integer (what the
    // mock's ESIA tokens always carry, so the fault changes nothing there).
    assert_eq!(
        login_under(&app, "oidc", Fault::IntegerSub).await,
        Err("token.malformed".into())
    );
    assert_eq!(login_under(&app, "esia", Fault::IntegerSub).await, Ok(()));
    // ESIA sends no kid; one that names no certificate is tolerated.
    assert_eq!(
        login_under(&app, "esia", Fault::KidOnEsiaToken).await,
        Ok(())
    );
}

/// RFC 6749 §3.1: `?code=A&code=B&state=…` gets the refusal page, redeems
/// no code and leaves the login usable: the genuine callback still works.
#[tokio::test]
async fn a_repeated_callback_parameter_is_refused_and_consumes_nothing() {
    let app = spawn_app().await;
    let browser = ScriptedBrowser::new();
    let callback = app.callback_url(&browser, "ivanova").await;
    let state = url::Url::parse(&callback)
        .expect("callback URL")
        .query_pairs()
        .find(|(name, _)| name == "state")
        .map(|(_, value)| value.into_owned())
        .expect("state");
    let tokens = app.idp.token_calls();
    for repeated in [
        format!("{callback}&code=forged"),
        format!("{callback}&state={state}"),
    ] {
        let run = browser.callback(&repeated).await.expect("callback");
        assert_eq!(run.outcome.as_deref(), Some("rejected"), "{repeated}");
        let reference = run.reference.expect("reference on the page");
        assert_eq!(
            recorded(&app, &reference).await,
            (
                "rejected".to_string(),
                Some("flow.repeated_parameter".to_string())
            )
        );
    }
    assert_eq!(app.idp.token_calls(), tokens, "no code redeemed");
    assert_eq!(app.link_count().await, 0);
    let run = browser.callback(&callback).await.expect("genuine callback");
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
    assert_eq!(app.link_count().await, 1);
}

/// RFC 6749 §4.1.2: a success response carries `code`. A callback with our
/// state but neither `code` nor `error` is an IdP failure, not a login.
#[tokio::test]
async fn a_callback_without_code_or_error_is_refused() {
    let app = spawn_app().await;
    let browser = ScriptedBrowser::new();
    let callback = app.callback_url(&browser, "ivanova").await;
    let mut url = url::Url::parse(&callback).expect("callback URL");
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| name != "code")
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    url.query_pairs_mut().clear().extend_pairs(kept);
    let tokens = app.idp.token_calls();
    let run = browser.callback(url.as_str()).await.expect("callback");
    assert_eq!(run.outcome.as_deref(), Some("idp_error"));
    let reference = run.reference.expect("reference");
    assert_eq!(
        recorded(&app, &reference).await.1.as_deref(),
        Some("idp.bad_response")
    );
    assert_eq!(app.idp.token_calls(), tokens, "nothing to redeem");
    let (_, run) = app.login("esia", "ivanova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
}

/// The certificate the mock signs ESIA tokens with now (the first listed).
fn active_certificate(app: &TestApp) -> esia_link::federation::certificates::CertificateInfo {
    VerifyingKey::from_pem_certificates(&app.idp.esia_certificates_pem(), "mock")
        .expect("the mock's certificates")
        .remove(0)
        .certificate
        .expect("a certificate")
}

async fn metrics(app: &TestApp) -> String {
    reqwest::get(format!("{}/metrics", app.base))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body")
}

/// The value of `name` for the ESIA provider's certificate `serial`.
fn gauge(text: &str, name: &str, serial: &str) -> Option<f64> {
    let prefix = format!("{name}{{provider=\"esia\",certificate=\"{serial}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .and_then(|value| value.parse().ok())
}

/// `pem`'s certificates re-wrapped at 76 columns, CRLF, blank lines around.
fn at_76_columns(pem: &str) -> String {
    pem.split("-----END CERTIFICATE-----")
        .filter(|block| block.contains("BEGIN"))
        .map(|block| {
            let body: String = block
                .lines()
                .filter(|line| !line.starts_with("-----"))
                .collect();
            let lines: Vec<&str> = body
                .as_bytes()
                .chunks(76)
                .map(|chunk| std::str::from_utf8(chunk).unwrap_or_default())
                .collect();
            format!(
                "\r\n  -----BEGIN CERTIFICATE-----\r\n{}\r\n-----END CERTIFICATE-----\r\n",
                lines.join("\r\n")
            )
        })
        .collect()
}

#[tokio::test]
async fn esia_certificates_by_their_dates_their_pem_and_a_kid() {
    let app = spawn_app().await;
    let alg = app.idp.esia_alg();
    let first = active_certificate(&app);
    let text = metrics(&app).await;
    let days = gauge(&text, "esia_link_certificate_expiry_days", &first.serial);
    assert!(
        days.is_some_and(|d| (364.0..=365.0).contains(&d)),
        "{days:?} in {text}"
    );
    assert_eq!(
        gauge(&text, "esia_link_certificate_expiring", &first.serial),
        Some(0.0)
    );

    // ESIA signs with a certificate that has expired / is not valid yet:
    // each gets its own code, and the operator's remedy names it.
    for (issued, code) in [
        (Utc::now() - Days::days(400), "token.certificate_expired"),
        (
            Utc::now() + Days::days(10),
            "token.certificate_not_yet_valid",
        ),
    ] {
        app.idp.rotate_esia_key_issued_at(alg, false, issued);
        app.publish_esia_certificates();
        let certificate = active_certificate(&app);
        let (_, run) = app.login("esia", "ivanova", Consent::Allow).await;
        assert_eq!(run.outcome.as_deref(), Some("idp_error"), "{code}");
        let reference = run.reference.expect("reference");
        assert_eq!(recorded(&app, &reference).await.1.as_deref(), Some(code));
        let diagnosis = app
            .state
            .console()
            .diagnose(&reference, "test:operator", false, Lang::En)
            .await
            .expect("diagnosis");
        let remedy = &diagnosis
            .attempts
            .iter()
            .find(|a| a.looked_up)
            .expect("the attempt")
            .remedy;
        assert_eq!(remedy.side, Side::Integration, "{code}");
        let steps = remedy.steps.join("\n");
        for needle in [
            certificate.subject.as_str(),
            certificate.serial.as_str(),
            &esia_link::federation::certificates::utc_text(certificate.not_before),
            &esia_link::federation::certificates::utc_text(certificate.not_after),
        ] {
            assert!(steps.contains(needle), "{code}: {needle} in {steps}");
        }
        // SIGHUP: the gauge flags it.
        let reloaded = app.state.reload_keys().await;
        assert!(
            reloaded.iter().any(|(p, r)| p == "esia" && r.is_ok()),
            "{reloaded:?}"
        );
        assert_eq!(
            gauge(
                &metrics(&app).await,
                "esia_link_certificate_expiring",
                &certificate.serial
            ),
            Some(1.0),
            "{code}"
        );
    }
    assert_eq!(app.link_count().await, 0);

    // A fresh certificate in a 76-column CRLF file: read on the next
    // reload, and the login goes through.
    app.idp.rotate_esia_key(alg, false);
    std::fs::write(
        &app.esia_certificates,
        at_76_columns(&app.idp.esia_certificates_pem()),
    )
    .expect("write certificates");
    let reloaded = app.state.reload_keys().await;
    assert!(
        reloaded
            .iter()
            .any(|(p, r)| p == "esia" && r.as_ref().is_ok_and(|n| *n == 1)),
        "{reloaded:?}"
    );
    let (_, run) = app.login("esia", "ivanova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);

    // A kid that names none of the certificates: tried against them all.
    app.idp.set_fault(Fault::KidOnEsiaToken);
    let (_, run) = app.login("esia", "ivanova", Consent::Allow).await;
    app.idp.clear_faults();
    assert_eq!(run.landed_at(), Some("/account"), "{:?}", run.outcome);
}
