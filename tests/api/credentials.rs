//! Diary login and password (backoff and lockout, accounts not yet active)
//! and fallback linking after `snils_missing` / `no_account`: linked only
//! when the names match, then the next State Services login goes straight in.

use esia_link::demo::browser::{Consent, ScriptedBrowser};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;

use crate::helpers::{demo_account, spawn_app, TestApp};

pub(crate) const PASSWORD: &str = "синий-кит-2024-лето";

/// Gives the demo account `login` a password and makes it active, as the
/// activation wizard would have.
pub(crate) async fn with_password(app: &TestApp, login: &str) {
    let hash = esia_link::app::account::password::hash(SecretString::from(PASSWORD))
        .await
        .expect("hash");
    sqlx::query(
        "UPDATE accounts SET password_hash = $1, status = 'active', email = 'x@mail.ru', email_verified = 1 WHERE login = $2",
    )
    .bind(hash)
    .bind(login)
    .execute(app.store.pool())
    .await
    .expect("set password");
}

/// Posts a login and password to `path` (the password login or a link form):
/// (status, where to, page).
pub(crate) async fn post(
    app: &TestApp,
    browser: &ScriptedBrowser,
    path: &str,
    login: &str,
    password: &str,
) -> (StatusCode, Option<String>, String) {
    let url = format!("{}{path}", app.base);
    let response = browser
        .send(
            browser
                .request(Method::POST, &url)
                .form(&[("login", login), ("password", password)]),
        )
        .await
        .expect("request");
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (status, location, response.text().await.expect("body"))
}

#[tokio::test]
async fn password_login_with_backoff_lockout_and_no_hint_about_existence() {
    let app = spawn_app().await;
    with_password(&app, "ivanova.mp").await;
    let browser = ScriptedBrowser::new();

    let (status, location, _) =
        post(&app, &browser, "/login/password", "Ivanova.MP", PASSWORD).await;
    assert_eq!(
        (status, location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/account"))
    );
    let account = browser
        .get(&format!("{}/account", app.base))
        .await
        .expect("account");
    assert!(
        account.body.contains("Иванова Мария Петровна"),
        "{}",
        account.body
    );

    // Unknown login and wrong password read the same.
    let (s1, _, unknown) = post(
        &app,
        &browser,
        "/login/password",
        "nobody.here",
        "whatever-123",
    )
    .await;
    let (s2, _, wrong) = post(
        &app,
        &browser,
        "/login/password",
        "fedorov.pi",
        "whatever-123",
    )
    .await;
    assert_eq!(
        (s1, s2),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    assert!(
        unknown.contains("Неверный логин или пароль")
            && wrong.contains("Неверный логин или пароль")
    );

    // Five free failures, then backoff: even the right password waits.
    for _ in 0..4 {
        let (status, _, _) = post(
            &app,
            &browser,
            "/login/password",
            "ivanova.mp",
            "wrong-password-1",
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _, _) = post(
        &app,
        &browser,
        "/login/password",
        "ivanova.mp",
        "wrong-password-1",
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the fifth failure is still counted as such"
    );
    let (status, _, page) = post(&app, &browser, "/login/password", "ivanova.mp", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{page}");
    assert!(page.contains("(МСК)"), "says when to retry: {page}");
    // Another login is not affected.
    with_password(&app, "fedorov.pi").await;
    let (status, _, _) = post(&app, &browser, "/login/password", "fedorov.pi", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_lockout_names_the_time_zone_and_points_to_support() {
    let app = spawn_app().await;
    with_password(&app, "ivanova.mp").await;
    // Ten failures just now (what reaching the lock takes, without the
    // backoff's waits in between).
    let key = format!("pwfail:{}", app.state.lookup_hash("login", "ivanova.mp"));
    esia_link::ephemeral::typed::put_json(
        app.state.ephemeral().as_ref(),
        &key,
        &serde_json::json!({ "count": 10, "last": chrono::Utc::now() }),
        std::time::Duration::from_secs(3600),
    )
    .await
    .expect("seed failures");
    let browser = ScriptedBrowser::new();
    let (status, _, page) = post(&app, &browser, "/login/password", "ivanova.mp", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.contains("временно заблокирован"), "{page}");
    assert!(page.contains("(МСК)"), "the zone is named: {page}");
    // Whose account a login is stays untold, so the service's support
    // contacts: none in the default configuration, hence general words.
    assert!(page.contains("id=\"support-generic\""), "{page}");
}

#[tokio::test]
async fn an_account_not_activated_or_with_an_unconfirmed_email_is_told_what_to_do() {
    let app = spawn_app().await;
    let browser = ScriptedBrowser::new();
    let (status, _, page) = post(
        &app,
        &browser,
        "/login/password",
        "fedorov.pi",
        "anything-at-all",
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "no password set: just wrong"
    );
    assert!(page.contains("Неверный логин или пароль"), "{page}");

    with_password(&app, "fedorov.pi").await;
    sqlx::query(
        "UPDATE accounts SET status = 'pending', email_verified = 0 WHERE login = 'fedorov.pi'",
    )
    .execute(app.store.pool())
    .await
    .expect("pending");
    let (status, _, page) = post(&app, &browser, "/login/password", "fedorov.pi", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("подтвердить почту"), "{page}");
    let mail = esia_link::notify::FileOutbox::read(&app.outbox_dir);
    assert_eq!(mail.len(), 1, "a new confirmation link was sent");
}

#[tokio::test]
async fn snils_missing_links_by_password_and_the_next_login_goes_straight_in() {
    let app = spawn_app().await;
    with_password(&app, "popova.ev").await;
    with_password(&app, "novikova.sa").await;
    let (browser, run) = app.login("esia", "popova", Consent::Allow).await;
    assert_eq!(run.outcome.as_deref(), Some("snils_missing"));
    let page = run.outcome_page.as_ref().expect("outcome page");
    assert!(
        page.body.contains("id=\"link-by-password\""),
        "{}",
        page.body
    );

    app.fallback_form_names(&browser, "/link", "Попова Елена Викторовна")
        .await;

    // A child's account: the names differ, nothing is linked.
    let links = app.link_count().await;
    let (status, _, refused) = post(&app, &browser, "/link", "novikova.sa", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        refused.contains("ФИО в учётной записи дневника не совпадает"),
        "{refused}"
    );
    assert_eq!(app.link_count().await, links);

    let (status, location, _) = post(&app, &browser, "/link", "popova.ev", PASSWORD).await;
    assert_eq!(
        (status, location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/account"))
    );
    assert_eq!(app.link_count().await, links + 1);
    let account = demo_account(&app, "popova.ev").await;
    let method: String =
        sqlx::query_scalar("SELECT method FROM federated_links WHERE account_id = $1")
            .bind(account.id.to_string())
            .fetch_one(app.store.pool())
            .await
            .expect("link");
    assert_eq!(method, "credentials");
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE target_id = $1 AND action = 'link.refused'",
    )
    .bind(demo_account(&app, "novikova.sa").await.id.to_string())
    .fetch_one(app.store.pool())
    .await
    .expect("audit");
    assert_eq!(audited, 1, "the refused attempt is audited");

    let (_, again) = app.login("esia", "popova", Consent::Allow).await;
    assert_eq!(again.landed_at(), Some("/account"), "{:?}", again.outcome);
}

#[tokio::test]
async fn no_account_offers_linking_and_region_disabled_offers_the_password_login() {
    let app = spawn_app().await;
    let (_, run) = app.login("esia", "lebedev", Consent::Allow).await;
    assert_eq!(run.outcome.as_deref(), Some("no_account"));
    let body = run.outcome_page.expect("page").body;
    assert!(body.contains("id=\"link-by-password\""), "{body}");
    assert!(body.contains("id=\"link-by-code\""), "{body}");
    // No account, so no region: support in general words.
    assert!(body.contains("id=\"support-generic\""), "{body}");
    let (_, run) = app.login("esia", "orlov", Consent::Allow).await;
    assert_eq!(run.outcome.as_deref(), Some("region_disabled"));
    let body = run.outcome_page.expect("page").body;
    assert!(body.contains("id=\"password-login\""), "{body}");
    assert!(!body.contains("никто"), "{body}");
    // The region's own support contacts (config/default.toml).
    assert!(
        body.contains("href=\"https://help50.dnevnik.example\""),
        "{body}"
    );
    // Without a pending identity, /link explains instead of failing.
    let stranger = ScriptedBrowser::new();
    let hop = stranger
        .get(&format!("{}/link", app.base))
        .await
        .expect("page");
    assert_eq!(hop.status, 410);
}
