//! The login flow over real HTTP: every link outcome, the state checks,
//! hostile or broken IdP answers, open redirects and racing callbacks.

use esia_link::demo::browser::{element_text, Consent, ScriptedBrowser};
use reqwest::{Method, StatusCode};

use crate::helpers::{retry_link, spawn_app, spawn_app_with, AppOptions, TestApp};

async fn attempt_outcome(app: &TestApp, reference: &str) -> (String, Option<String>) {
    let attempt = app
        .store
        .find_attempt_by_reference(reference)
        .await
        .expect("query attempts")
        .unwrap_or_else(|| panic!("attempt {reference} recorded"));
    (attempt.outcome, attempt.idp_error)
}

#[tokio::test]
async fn every_link_outcome_over_http() {
    let app = spawn_app().await;
    // (mock login, expected outcome); order matters for logged_in and linked_elsewhere.
    let table = [
        ("ivanova", "linked"),
        ("ivanova", "logged_in"),
        ("fedorov", "linked"),
        ("smirnov", "linked"),
        ("volkova", "linked"),
        ("novikova", "linked"),
        ("egorova", "linked"),
        ("testov", "linked"),
        ("morozov", "linked"),
        ("morozov2", "linked_elsewhere"),
        ("kuznetsova", "name_mismatch"),
        ("sokolov", "name_mismatch"),
        ("popova", "snils_missing"),
        ("lebedev", "no_account"),
        ("pavlov", "ambiguous"),
        ("volkov", "tier_too_low"),
        ("orlov", "region_disabled"),
    ];
    let mut expected_links = 0;
    for (login, expected) in table {
        let links_before = app.link_count().await;
        let (browser, run) = app.login("esia", login, Consent::Allow).await;
        let callback = run
            .callback
            .as_ref()
            .unwrap_or_else(|| panic!("{login}: reached the callback"));
        assert_eq!(callback.status, StatusCode::SEE_OTHER, "{login}");
        if expected == "linked" || expected == "logged_in" {
            assert_eq!(
                run.landed_at(),
                Some("/account"),
                "{login} lands in the diary"
            );
            let me: serde_json::Value = browser
                .send(browser.request(Method::GET, &format!("{}/api/v1/me", app.base)))
                .await
                .expect("me")
                .json()
                .await
                .expect("json");
            assert_eq!(
                me["linked_identities"][0]["provider"], "esia",
                "{login}: {me}"
            );
            if expected == "linked" {
                expected_links += 1;
            }
        } else {
            assert_eq!(run.outcome.as_deref(), Some(expected), "{login}");
            let reference = run.reference.clone().expect("reference code shown");
            assert_eq!(reference.len(), 9, "short code like 7KQ2-M9XD: {reference}");
            let (outcome, _) = attempt_outcome(&app, &reference).await;
            assert_eq!(
                outcome, expected,
                "{login}: attempt recorded with the outcome"
            );
            assert_eq!(
                app.link_count().await,
                links_before,
                "{login}: nothing linked"
            );
            let me = browser
                .send(browser.request(Method::GET, &format!("{}/api/v1/me", app.base)))
                .await
                .expect("me");
            assert_eq!(me.status(), StatusCode::UNAUTHORIZED, "{login}: no session");
        }
        assert_eq!(app.link_count().await, expected_links, "after {login}");
    }
}

#[tokio::test]
async fn the_outcome_page_says_what_and_who_in_both_languages() {
    let app = spawn_app().await;
    let (_, run) = app.login("esia", "sokolov", Consent::Allow).await;
    let page = run.outcome_page.expect("outcome page").body;
    assert!(page.contains("Данные не совпадают"), "{page}");
    assert!(
        page.contains("фамилия: отличается"),
        "names the part: {page}"
    );
    assert!(
        page.contains("Сокалов"),
        "standard tier: the school's value is shown"
    );
    assert!(page.contains("только школа"), "says the school must fix it");

    let browser = ScriptedBrowser::new();
    let start = format!("{}?lang=en", app.start_url("esia"));
    let run = browser
        .login(&app.base, &start, "kuznetsova", "demo", Consent::Allow)
        .await
        .expect("flow");
    let page = run.outcome_page.expect("outcome page").body;
    assert!(page.contains("The data does not match"), "{page}");
    assert!(
        page.contains("patronymic: missing in the State Services profile"),
        "{page}"
    );
    assert!(page.contains("lang=\"en\""));

    let (_, run) = app.login("esia", "popova", Consent::Allow).await;
    let page = run.outcome_page.expect("outcome page").body;
    assert!(page.contains("нет СНИЛС"), "{page}");
    assert!(
        page.contains("логину и паролю дневника"),
        "offers the credential route: {page}"
    );
}

#[tokio::test]
async fn a_replayed_callback_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let browser = ScriptedBrowser::new();
    let callback = app.callback_url(&browser, "ivanova").await;
    let first = browser.callback(&callback).await.expect("first");
    assert_eq!(first.landed_at(), Some("/account"));
    let replay = browser.callback(&callback).await.expect("replay");
    assert_eq!(replay.outcome.as_deref(), Some("rejected"));
    let reference = replay.reference.expect("reference");
    assert_eq!(
        attempt_outcome(&app, &reference).await,
        ("rejected".to_string(), Some("state.unknown".to_string()))
    );
    assert_eq!(app.link_count().await, 1);
}

#[tokio::test]
async fn a_callback_in_another_browser_is_refused() {
    let app = spawn_app().await;
    let victim = ScriptedBrowser::new();
    let callback = app.callback_url(&victim, "ivanova").await;
    let attacker = ScriptedBrowser::new();
    let run = attacker.callback(&callback).await.expect("attacker");
    assert_eq!(run.outcome.as_deref(), Some("rejected"));
    let (_, code) = attempt_outcome(&app, &run.reference.expect("reference")).await;
    assert_eq!(code.as_deref(), Some("state.other_browser"));
    assert_eq!(app.link_count().await, 0);
    // The rightful browser can still finish: the attacker did not burn the state.
    let run = victim.callback(&callback).await.expect("victim");
    assert_eq!(run.landed_at(), Some("/account"));
}

#[tokio::test]
async fn missing_or_unknown_state_is_refused_before_anything_else() {
    let app = spawn_app().await;
    let browser = ScriptedBrowser::new();
    for (query, code) in [
        ("code=abc", "state.missing"),
        (
            "code=abc&state=8c1d1f43-5f0e-4a57-9c4e-7d3b1c0b2a11",
            "state.unknown",
        ),
    ] {
        let run = browser
            .callback(&format!("{}/auth/callback/esia?{query}", app.base))
            .await
            .expect("callback");
        let callback = run.callback.as_ref().expect("answer");
        assert_eq!(callback.status, StatusCode::SEE_OTHER);
        assert_eq!(
            callback.location.as_deref(),
            Some("/auth/outcome?lang=ru"),
            "clean URL"
        );
        let (outcome, recorded) = attempt_outcome(&app, &run.reference.expect("reference")).await;
        assert_eq!(
            (outcome.as_str(), recorded.as_deref()),
            ("rejected", Some(code))
        );
    }
}

#[tokio::test]
async fn the_callback_answers_with_no_referrer_and_a_clean_redirect() {
    let app = spawn_app().await;
    let browser = ScriptedBrowser::new();
    let callback = app.callback_url(&browser, "ivanova").await;
    let response = browser
        .send(browser.request(Method::GET, &callback))
        .await
        .expect("callback");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
    let cookies: Vec<_> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap_or("").to_string())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("el_session="))
        .expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    assert_eq!(response.headers()["location"], "/account");
}

#[tokio::test]
async fn declining_at_the_idp_is_an_idp_error_with_the_esia_code() {
    let app = spawn_app().await;
    let (_, run) = app.login("esia", "ivanova", Consent::Deny).await;
    assert_eq!(run.outcome.as_deref(), Some("idp_error"));
    let page = run.outcome_page.as_ref().expect("page").body.clone();
    assert!(page.contains("Отказать"), "explains the refusal: {page}");
    let (_, code) = attempt_outcome(&app, &run.reference.expect("reference")).await;
    assert_eq!(code.as_deref(), Some("ESIA-007004"));
    assert_eq!(app.link_count().await, 0);
}

#[tokio::test]
async fn hostile_or_broken_tokens_are_refused_and_nothing_is_linked() {
    let app = spawn_app().await;
    let cases = [
        // ESIA tokens name no kid: a key that is not configured is simply
        // a signature no configured certificate verifies.
        (mock_idp::Fault::UnknownKey, "token.bad_signature"),
        (mock_idp::Fault::WrongIssuer, "token.wrong_issuer"),
        (mock_idp::Fault::WrongAudience, "token.wrong_audience"),
        (mock_idp::Fault::ExpiredToken, "token.expired"),
        (mock_idp::Fault::AlgNone, "token.alg_not_allowed"),
        (mock_idp::Fault::MalformedJson, "idp.bad_response"),
        (mock_idp::Fault::Http500, "idp.http_500"),
        (mock_idp::Fault::Overload, "ESIA-007008"),
    ];
    for (fault, expected) in cases {
        app.idp.set_fault(fault.clone());
        let (_, run) = app.login("esia", "ivanova", Consent::Allow).await;
        app.idp.clear_faults();
        assert_eq!(run.outcome.as_deref(), Some("idp_error"), "{fault:?}");
        let (_, code) = attempt_outcome(&app, &run.reference.expect("reference")).await;
        assert_eq!(code.as_deref(), Some(expected), "{fault:?}");
        assert_eq!(app.link_count().await, 0, "{fault:?}");
    }
    // The same person logs in fine once the IdP behaves.
    let (_, run) = app.login("esia", "ivanova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"));
}

#[tokio::test]
async fn a_tampered_signature_is_refused() {
    let app = spawn_app().await;
    app.idp.set_fault(mock_idp::Fault::BadSignature);
    let (_, run) = app.login("esia", "ivanova", Consent::Allow).await;
    let (_, code) = attempt_outcome(&app, &run.reference.expect("reference")).await;
    assert_eq!(code.as_deref(), Some("token.bad_signature"));
    assert_eq!(app.link_count().await, 0);
}

#[tokio::test]
async fn oidc_profile_checks_nonce_and_userinfo_subject() {
    let app = spawn_app().await;
    let (_, run) = app.login("oidc", "ivanova", Consent::Allow).await;
    assert_eq!(
        run.landed_at(),
        Some("/account"),
        "plain OIDC login links: {:?}",
        run.outcome
    );

    for (fault, expected) in [
        (mock_idp::Fault::WrongNonce, "token.nonce_mismatch"),
        (
            mock_idp::Fault::UserinfoSubMismatch,
            "userinfo.sub_mismatch",
        ),
    ] {
        app.idp.set_fault(fault.clone());
        let (_, run) = app.login("oidc", "fedorov", Consent::Allow).await;
        app.idp.clear_faults();
        let (_, code) = attempt_outcome(&app, &run.reference.expect("reference")).await;
        assert_eq!(code.as_deref(), Some(expected), "{fault:?}");
    }
    assert_eq!(app.link_count().await, 1);
}

#[tokio::test]
async fn oidc_key_rotation_between_two_logins_needs_no_restart() {
    let app = spawn_app().await;
    let (_, run) = app.login("oidc", "ivanova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"));
    app.idp.rotate_key(mock_idp::Alg::Rs256, false);
    let (_, run) = app.login("oidc", "ivanova", Consent::Allow).await;
    assert_eq!(
        run.landed_at(),
        Some("/account"),
        "new kid fetched: {:?}",
        run.outcome
    );
    // A second rotation right after: refetches are single-flight and at
    // most one per 100 ms, not one a second.
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    app.idp.rotate_key(mock_idp::Alg::Es256, true);
    let (_, run) = app.login("oidc", "fedorov", Consent::Allow).await;
    assert_eq!(
        run.landed_at(),
        Some("/account"),
        "ES256 key: {:?}",
        run.outcome
    );
}

/// ESIA hands out its certificate instead of a JWKS: a rotation is a new
/// certificate in the configured file. Tokens signed by a key that is not
/// (yet) configured are refused; once the file lists it, the next login
/// works without a restart (the unknown key makes the file be read again;
/// SIGHUP does the same).
#[tokio::test]
async fn esia_certificate_rotation_is_a_file_change() {
    let app = spawn_app().await;
    let (_, run) = app.login("esia", "ivanova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"));

    app.idp.rotate_esia_key(mock_idp::EsiaAlg::Rs256, true);
    let (_, run) = app.login("esia", "ivanova", Consent::Allow).await;
    assert_eq!(
        run.outcome.as_deref(),
        Some("idp_error"),
        "new key not configured yet"
    );
    let (_, code) = attempt_outcome(&app, &run.reference.expect("reference")).await;
    assert_eq!(code.as_deref(), Some("token.bad_signature"));

    app.publish_esia_certificates();
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let (_, run) = app.login("esia", "ivanova", Consent::Allow).await;
    assert_eq!(
        run.landed_at(),
        Some("/account"),
        "new certificate read: {:?}",
        run.outcome
    );
    let reloaded = app.state.reload_keys().await;
    assert!(
        reloaded
            .iter()
            .any(|(id, result)| id == "esia" && result.as_ref().is_ok_and(|n| *n == 2)),
        "both certificates listed: {reloaded:?}"
    );
}

/// Real ESIA's shape: GOST-signed id_token without kid, numeric OIDs, the
/// client signature made by an external command (the demo's stand-in for
/// CryptoPro) and checked by the mock in ESIA's raw form.
#[tokio::test]
async fn esia_in_gost_mode_logs_in_with_an_external_signer() {
    let app = spawn_app_with(AppOptions {
        gost: true,
        ..AppOptions::default()
    })
    .await;
    for person in ["ivanova", "fedorov"] {
        let (_, run) = app.login("esia", person, Consent::Allow).await;
        assert_eq!(
            run.landed_at(),
            Some("/account"),
            "{person}: {:?}",
            run.outcome
        );
    }
    let (_, run) = app.login("esia", "ivanova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "returning GOST login");
    // The link decision does not care how the token was signed.
    let (_, run) = app.login("esia", "kuznetsova", Consent::Allow).await;
    assert_eq!(run.outcome.as_deref(), Some("name_mismatch"));
}

#[tokio::test]
async fn esia_specific_refusals_keep_their_codes() {
    let app = spawn_app().await;
    for (fault, expected) in [
        (mock_idp::Fault::OidMismatch, "token.oid_mismatch"),
        (mock_idp::Fault::UnknownEsiaCode, "ESIA-007099"),
    ] {
        app.idp.set_fault(fault.clone());
        let (_, run) = app.login("esia", "ivanova", Consent::Allow).await;
        app.idp.clear_faults();
        assert_eq!(run.outcome.as_deref(), Some("idp_error"), "{fault:?}");
        let (_, code) = attempt_outcome(&app, &run.reference.expect("reference")).await;
        assert_eq!(code.as_deref(), Some(expected), "{fault:?}");
        assert_eq!(app.link_count().await, 0, "{fault:?}");
    }
}

#[tokio::test]
async fn an_idp_that_is_slow_or_down_gets_a_clear_page() {
    let app = spawn_app_with(AppOptions {
        http_timeout_secs: Some(1),
        ..AppOptions::default()
    })
    .await;
    let browser = ScriptedBrowser::new();
    let callback = app.callback_url(&browser, "ivanova").await;
    // The IdP goes slow between its consent page and our code exchange.
    app.idp.set_latency(std::time::Duration::from_millis(1500));
    let answer = browser.get(&callback).await.expect("callback");
    app.idp.set_latency(std::time::Duration::ZERO);
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{}", answer.body);
    assert!(answer.body.contains("не отвечает"), "{}", answer.body);
    let reference = element_text(&answer.body, "reference").expect("a reference");
    let (outcome, code) = attempt_outcome(&app, &reference).await;
    assert_eq!(outcome, "idp_error");
    assert_eq!(code.as_deref(), Some("idp.unreachable"));
    assert_eq!(app.link_count().await, 0);

    // A timeout leaves the login usable: "try again" finishes it now that
    // the IdP answers (the timed-out exchange never reached its handler).
    let again = browser
        .get(&format!("{}{}", app.base, retry_link(&answer.body)))
        .await
        .expect("try again");
    assert_eq!(
        again.location.as_deref(),
        Some("/account"),
        "{}",
        again.body
    );
    assert_eq!(app.link_count().await, 1);
    assert_eq!(app.idp.token_calls(), 1, "the code was redeemed once");

    // A stopped IdP: the start itself cannot sign in anywhere for oidc (discovery).
    app.idp.shutdown();
    let response = ScriptedBrowser::new()
        .get(&app.start_url("oidc"))
        .await
        .expect("start");
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        response.body.contains("id=\"reference\""),
        "reference code shown"
    );
}

#[tokio::test]
async fn return_targets_cannot_leave_the_site() {
    let app = spawn_app().await;
    let browser = ScriptedBrowser::new();
    for evil in [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "%2F%2Fevil.example",
    ] {
        let url = format!(
            "{}?return_to={}",
            app.start_url("esia"),
            url::form_urlencoded::byte_serialize(evil.as_bytes()).collect::<String>()
        );
        let hop = browser.get(&url).await.expect("start");
        assert_eq!(hop.status, StatusCode::BAD_REQUEST, "{evil}");
        assert!(hop.location.is_none(), "{evil}: no redirect anywhere");
    }
    let start = format!(
        "{}?return_to=%2Faccount%3Ftab%3Dkids",
        app.start_url("esia")
    );
    let run = browser
        .login(&app.base, &start, "ivanova", "demo", Consent::Allow)
        .await
        .expect("flow");
    assert_eq!(run.landed_at(), Some("/account?tab=kids"));
}

#[tokio::test]
async fn racing_callbacks_produce_exactly_one_link() {
    let app = spawn_app().await;
    let first = ScriptedBrowser::new();
    let second = ScriptedBrowser::new();
    let a = app.callback_url(&first, "ivanova").await;
    let b = app.callback_url(&second, "ivanova").await;
    let (run_a, run_b) = tokio::join!(first.callback(&a), second.callback(&b));
    let (run_a, run_b) = (run_a.expect("a"), run_b.expect("b"));
    assert_eq!(run_a.landed_at(), Some("/account"));
    assert_eq!(run_b.landed_at(), Some("/account"));
    assert_eq!(app.link_count().await, 1, "one link, whoever won");
}

#[tokio::test]
async fn sessions_end_on_logout_and_forms_need_the_csrf_token() {
    let app = spawn_app().await;
    let (browser, run) = app.login("esia", "novikova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"));
    let page = browser
        .get(&format!("{}/account", app.base))
        .await
        .expect("account");
    assert!(
        page.body.contains("Новикова Ольга Игоревна"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Школа № 1"), "school shown");

    let forged = browser
        .post_form(
            &format!("{}/logout", app.base),
            &[("csrf".into(), "forged".into())],
        )
        .await
        .expect("forged logout");
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let form = esia_link::demo::browser::parse_form(&page.body).expect("logout form");
    let done = browser
        .post_form(&format!("{}/logout", app.base), &form.fields)
        .await
        .expect("logout");
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let me = browser
        .send(browser.request(Method::GET, &format!("{}/api/v1/me", app.base)))
        .await
        .expect("me");
    assert_eq!(
        me.status(),
        StatusCode::UNAUTHORIZED,
        "session ended server-side"
    );
}

#[tokio::test]
async fn the_region_page_shows_the_button_only_where_enabled() {
    let app = spawn_app().await;
    let browser = ScriptedBrowser::new();
    let enabled = browser
        .get(&format!("{}/?region=29", app.base))
        .await
        .expect("29");
    assert!(
        enabled.body.contains("id=\"login-esia\""),
        "{}",
        enabled.body
    );
    assert!(enabled.body.contains("Войти через Госуслуги"));
    let disabled = browser
        .get(&format!("{}/?region=50", app.base))
        .await
        .expect("50");
    assert!(!disabled.body.contains("id=\"login-esia\""));
    assert!(disabled.body.contains("не подключён"));
    let english = browser
        .get(&format!("{}/?region=29&lang=en", app.base))
        .await
        .expect("en");
    assert!(english.body.contains("Log in via State Services"));
}

#[tokio::test]
async fn login_starts_are_rate_limited_per_client_address() {
    let app = spawn_app_with(AppOptions {
        client_ip_header: Some("x-forwarded-for".into()),
        ..AppOptions::default()
    })
    .await;
    let client = ScriptedBrowser::new();
    let start = |address: &'static str| {
        client.send(
            client
                .request(Method::GET, &app.start_url("esia"))
                .header("x-forwarded-for", format!("198.51.100.7, {address}")),
        )
    };
    for _ in 0..30 {
        assert_eq!(
            start("203.0.113.5").await.expect("start").status(),
            StatusCode::SEE_OTHER
        );
    }
    let limited = start("203.0.113.5").await.expect("start");
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let page = limited.text().await.expect("page");
    assert!(page.contains("Слишком много попыток"), "{page}");
    assert!(page.contains("id=\"reference\""));
    assert_eq!(
        start("203.0.113.6").await.expect("start").status(),
        StatusCode::SEE_OTHER,
        "another client is not affected"
    );
}

/// The callback's database work is a budget. On the request path a first
/// link runs the joined lookup, the link and its audit row (3 statements);
/// a returning login only the lookup (1). Their attempt rows and the
/// last-login time are written behind in batches (the journal), so the
/// counts below include them only when the writer happened to run in
/// between: at most 4 and 3. The account page runs the account with its
/// school and region, and its links (2).
#[tokio::test]
async fn the_callback_and_the_account_page_keep_their_statement_budget() {
    let app = spawn_app().await;
    let store = app.store.clone();
    let attempts = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM link_attempts")
            .fetch_one(app.store.pool())
            .await
            .expect("count attempts")
    };

    let browser = ScriptedBrowser::new();
    let callback = app.callback_url(&browser, "ivanova").await;
    let before = store.statements_run();
    let run = browser.callback(&callback).await.expect("first login");
    assert_eq!(run.landed_at(), Some("/account"));
    let first_link = store.statements_run() - before;
    assert!(first_link <= 4, "first link ran {first_link} statements");
    app.state.flush().await;
    assert_eq!(attempts().await, 1, "the journal wrote the attempt");

    let browser = ScriptedBrowser::new();
    let callback = app.callback_url(&browser, "ivanova").await;
    let before = store.statements_run();
    let run = browser.callback(&callback).await.expect("second login");
    assert_eq!(run.landed_at(), Some("/account"));
    let returning = store.statements_run() - before;
    assert!(returning <= 3, "returning login ran {returning} statements");
    app.state.flush().await;
    assert_eq!(attempts().await, 2, "the journal wrote the attempt");
    let last_login: Option<i64> = sqlx::query_scalar("SELECT last_login_at FROM federated_links")
        .fetch_one(store.pool())
        .await
        .expect("link");
    assert!(last_login.is_some(), "last-login time written");

    let before = store.statements_run();
    let page = browser
        .get(&format!("{}/account", app.base))
        .await
        .expect("account");
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Иванова"), "{}", page.body);
    let account = store.statements_run() - before;
    // The home after login: the account and its links (2), the family
    // (viewer, school links, invitations received and sent, notices due,
    // pupils: 6) and the operator role (1).
    assert!(account <= 9, "account page ran {account} statements");
}

#[tokio::test]
async fn unknown_paths_and_providers_get_a_real_page_and_store_nothing() {
    let app = spawn_app().await;
    let browser = ScriptedBrowser::new();
    for (path, status) in [
        ("/no/such/page", StatusCode::NOT_FOUND),
        ("/auth/start/nosuch", StatusCode::NOT_FOUND),
        (
            "/auth/callback/nosuch?state=x&code=y",
            StatusCode::NOT_FOUND,
        ),
        // Last: it leaves an English language cookie behind.
        ("/no/such/page?lang=en", StatusCode::NOT_FOUND),
    ] {
        let before = app.store.statements_run();
        let hop = browser
            .get(&format!("{}{path}", app.base))
            .await
            .expect("request");
        assert_eq!(hop.status, status, "{path}");
        assert!(
            hop.body.contains("<html"),
            "{path}: a page, not an empty body"
        );
        let english = path.contains("lang=en");
        assert!(
            hop.body.contains(if english {
                "not found"
            } else {
                "не найден"
            }) || hop.body.contains(if english {
                "Unknown login method"
            } else {
                "Неизвестный способ входа"
            }),
            "{path}: {}",
            hop.body
        );
        assert_eq!(
            app.store.statements_run(),
            before,
            "{path}: nothing written or read"
        );
    }
}

#[tokio::test]
async fn malformed_callback_queries_get_the_outcome_page_with_a_reference() {
    let app = spawn_app().await;
    let browser = ScriptedBrowser::new();
    for query in [
        "state=a&state=b",
        "code=%FF%FE&state=%",
        "state[]=1&code[]=2",
        "",
    ] {
        let hop = browser
            .get(&format!("{}/auth/callback/esia?{query}", app.base))
            .await
            .expect("callback");
        assert_eq!(hop.status, StatusCode::SEE_OTHER, "{query}: {}", hop.body);
        assert_eq!(
            hop.location.as_deref(),
            Some("/auth/outcome?lang=ru"),
            "{query}"
        );
        let page = browser
            .get(&format!("{}/auth/outcome", app.base))
            .await
            .expect("outcome page");
        assert!(page.body.contains("id=\"reference\""), "{query}");
        assert!(page.body.contains("data-outcome=\"rejected\""), "{query}");
    }
}

#[tokio::test]
async fn a_new_login_in_the_same_browser_ends_the_previous_session() {
    let app = spawn_app().await;
    let browser = ScriptedBrowser::new();
    let start = app.start_url("esia");
    let run = browser
        .login(&app.base, &start, "ivanova", "demo", Consent::Allow)
        .await
        .expect("first login");
    assert_eq!(run.landed_at(), Some("/account"));
    let first = browser
        .cookie(&app.base, "el_session")
        .expect("session cookie");
    let run = browser
        .login(&app.base, &start, "fedorov", "demo", Consent::Allow)
        .await
        .expect("second login");
    assert_eq!(run.landed_at(), Some("/account"));
    let second = browser
        .cookie(&app.base, "el_session")
        .expect("session cookie");
    assert_ne!(first, second);
    let me = |cookie: String| {
        let url = format!("{}/api/v1/me", app.base);
        async move {
            reqwest::Client::new()
                .get(url)
                .header("cookie", format!("el_session={cookie}"))
                .send()
                .await
                .expect("me")
                .status()
        }
    };
    assert_eq!(
        me(first).await,
        StatusCode::UNAUTHORIZED,
        "old session ended"
    );
    assert_eq!(me(second).await, StatusCode::OK, "new session works");
}

#[tokio::test]
async fn logout_of_an_esia_session_ends_the_esia_session_too() {
    let app = spawn_app().await;
    for (provider, expected) in [
        (
            "esia",
            format!(
                "{}/idp/ext/Logout?client_id=ESIA-LINK-DEMO&redirect_url={}",
                app.idp.base_url(),
                url::form_urlencoded::byte_serialize(
                    format!("{}/?logged_out=1", app.base).as_bytes()
                )
                .collect::<String>()
            ),
        ),
        ("oidc", "/?logged_out=1".to_string()),
    ] {
        let (browser, run) = app.login(provider, "novikova", Consent::Allow).await;
        assert_eq!(run.landed_at(), Some("/account"), "{provider}");
        let page = browser
            .get(&format!("{}/account", app.base))
            .await
            .expect("account");
        let form = esia_link::demo::browser::parse_form(&page.body).expect("logout form");
        let done = browser
            .post_form(&format!("{}/logout", app.base), &form.fields)
            .await
            .expect("logout");
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{provider}");
        assert_eq!(
            done.location.as_deref(),
            Some(expected.as_str()),
            "{provider}"
        );
        let home = browser
            .get(&format!("{}/?logged_out=1", app.base))
            .await
            .expect("home");
        assert!(home.body.contains("Вы вышли из дневника"), "{}", home.body);
    }
}

/// A flood of bogus callbacks (unknown state) from one address is answered
/// cheaply after the per-address limit: the attempt table grows by at most
/// the limit, and a login started before the flood still completes.
#[tokio::test]
async fn a_flood_of_bogus_callbacks_stays_cheap_and_breaks_no_login() {
    let app = spawn_app().await;
    let limit = app.state.config().security.bogus_callbacks_per_minute as i64;
    let victim = ScriptedBrowser::new();
    let pending = app.callback_url(&victim, "ivanova").await;

    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM link_attempts")
            .fetch_one(app.store.pool())
            .await
            .expect("count")
    };
    let before = count().await;
    let attacker = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut throttled = 0;
    for i in 0..400 {
        let response = attacker
            .get(format!(
                "{}/auth/callback/esia?state=bogus-{i}&code=x",
                app.base
            ))
            .send()
            .await
            .expect("callback");
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            throttled += 1;
            let page = response.text().await.expect("page");
            assert!(
                page.contains("id=\"reference\"") || page.contains("<html"),
                "a page"
            );
        }
    }
    let grown = count().await - before;
    assert!(grown <= limit, "attempts grew by {grown}, limit {limit}");
    assert!(throttled >= 400 - limit as usize, "throttled {throttled}");

    let run = victim.callback(&pending).await.expect("victim's callback");
    assert_eq!(
        run.landed_at(),
        Some("/account"),
        "the login started before the flood completes: {:?}",
        run.outcome
    );
}

#[tokio::test]
async fn log_out_everywhere_ends_the_sessions_of_every_browser() {
    let app = spawn_app().await;
    let (phone, run) = app.login("esia", "ivanova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"));
    let (laptop, run) = app.login("esia", "ivanova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"));
    let (other_person, run) = app.login("esia", "fedorov", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"));
    async fn me(browser: &ScriptedBrowser, url: &str) -> StatusCode {
        let answer = browser.send(browser.request(Method::GET, url)).await;
        answer.expect("me").status()
    }
    let url = format!("{}/api/v1/me", app.base);
    assert_eq!(me(&phone, &url).await, StatusCode::OK);

    let page = laptop
        .get(&format!("{}/account", app.base))
        .await
        .expect("account");
    assert!(
        page.body.contains("id=\"logout-everywhere\""),
        "the button is offered"
    );
    let form = esia_link::demo::browser::parse_form(&page.body).expect("form");
    let forged = laptop
        .post_form(
            &format!("{}/logout/everywhere", app.base),
            &[("csrf".into(), "forged".into())],
        )
        .await
        .expect("forged");
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(
        me(&phone, &url).await,
        StatusCode::OK,
        "a forged form ends nothing"
    );

    let done = laptop
        .post_form(&format!("{}/logout/everywhere", app.base), &form.fields)
        .await
        .expect("log out everywhere");
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(me(&laptop, &url).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        me(&phone, &url).await,
        StatusCode::UNAUTHORIZED,
        "the other browser too"
    );
    assert_eq!(
        me(&other_person, &url).await,
        StatusCode::OK,
        "other people are not affected"
    );

    let (_, run) = app.login("esia", "ivanova", Consent::Allow).await;
    assert_eq!(
        run.landed_at(),
        Some("/account"),
        "a new login works afterwards"
    );
}

#[tokio::test]
async fn the_first_link_is_announced_once() {
    let app = spawn_app().await;
    let (browser, run) = app.login("esia", "ivanova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"));
    let account = format!("{}/account", app.base);
    let first = browser.get(&account).await.expect("account");
    assert!(
        first
            .body
            .contains("теперь связана с учётной записью дневника Иванова Мария Петровна"),
        "{}",
        first.body
    );
    assert!(first.body.contains("«Госуслуги»"), "names the provider");
    let again = browser.get(&account).await.expect("account");
    assert!(!again.body.contains("linked-notice"), "once only");

    let (browser, _) = app.login("esia", "ivanova", Consent::Allow).await;
    let returning = browser.get(&account).await.expect("account");
    assert!(
        !returning.body.contains("linked-notice"),
        "not for a returning login"
    );
}
