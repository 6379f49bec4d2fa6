//! PostgreSQL going away under a running service: every page answers
//! within a second, and the service recovers by itself. The app reaches the
//! shared server through a [`TcpCut`] proxy that the test cuts and
//! restores, so the server (and the tests running beside this one) never
//! notice. Runs when `ESIA_LINK_TEST_DATABASE_URL` is set.

use std::time::{Duration, Instant};

use esia_link::demo::browser::{Consent, Hop, ScriptedBrowser};
use reqwest::StatusCode;

use crate::helpers::{database_url, retry_link, spawn_app_with, AppOptions, TcpCut, TestApp};

/// A page must answer within this while a backing store is down.
const PAGE_BUDGET: Duration = Duration::from_secs(1);
/// Once the circuit is open, a page that needs the database fails at once,
/// without the pool's acquire timeout (500 ms) that a wait would take.
const FAIL_FAST: Duration = Duration::from_millis(400);

async fn timed(browser: &ScriptedBrowser, url: &str) -> (Hop, Duration) {
    let started = Instant::now();
    let hop = browser.get(url).await.expect("an answer");
    (hop, started.elapsed())
}

/// The app on a fresh PostgreSQL database reached through a proxy.
async fn app_behind_proxy() -> Option<(TestApp, TcpCut)> {
    let Some(url) = database_url() else {
        eprintln!("skipped: ESIA_LINK_TEST_DATABASE_URL is not set");
        return None;
    };
    let proxy = TcpCut::to_url(&url).await;
    let app = spawn_app_with(AppOptions {
        database_port: Some(proxy.port),
        ..AppOptions::default()
    })
    .await;
    Some((app, proxy))
}

/// `logged_in` attempt rows, read directly (not through the proxy).
async fn logged_in_rows(app: &TestApp) -> i64 {
    use sqlx::Connection;
    let mut direct = sqlx::PgConnection::connect(app.database_url())
        .await
        .expect("direct connection");
    sqlx::query_scalar("SELECT COUNT(*) FROM link_attempts WHERE outcome = 'logged_in'")
        .fetch_one(&mut direct)
        .await
        .expect("count")
}

async fn wait_until_ready(app: &TestApp) {
    let browser = ScriptedBrowser::new();
    for _ in 0..50 {
        let ready = browser
            .get(&format!("{}/readyz", app.base))
            .await
            .expect("readyz");
        if ready.status == StatusCode::OK {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not ready within 5 s of the database coming back");
}

#[tokio::test]
async fn while_postgres_is_down_every_page_answers_within_a_second() {
    let Some((app, proxy)) = app_behind_proxy().await else {
        return;
    };
    let (person, run) = app.login("esia", "ivanova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "works while it is up");
    let pending = ScriptedBrowser::new();
    let callback = app.callback_url(&pending, "fedorov").await;
    let anonymous = ScriptedBrowser::new();
    // A returning login just before the outage: its record is journaled
    // (written ~200 ms later, when the database is gone already).
    let (_, run) = app.login("esia", "ivanova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"));

    proxy.cut().await;
    let tokens = app.idp.token_calls();
    // The first page that needs the database waits for the pool at most
    // once, and its error path (which records the failure) does not wait
    // again. (Connections the pool opened before the outage fail at once.)
    let (first, took) = timed(&pending, &callback).await;
    assert_eq!(
        first.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        first.body
    );
    assert!(took < PAGE_BUDGET, "the first callback took {took:?}");
    assert!(
        first.body.contains("id=\"reference\""),
        "a reference code: {}",
        first.body
    );
    let me = format!("{}/api/v1/me", app.base);
    // Once the pool's old connections are used up, a wait for a new one
    // fails and opens the circuit (a pool holds 8 at most).
    for attempt in 0..10 {
        if app.store.database_down() {
            break;
        }
        let (answer, took) = timed(&person, &me).await;
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            answer.body
        );
        assert!(
            took < PAGE_BUDGET,
            "attempt {attempt}: /api/v1/me took {took:?}"
        );
    }
    assert!(app.store.database_down(), "the circuit is open");

    let ready = format!("{}/readyz", app.base);
    for round in 0..3 {
        let (home, took) = timed(&anonymous, &format!("{}/", app.base)).await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(took < PAGE_BUDGET, "round {round}: / took {took:?}");

        let (start, took) = timed(&anonymous, &app.start_url("esia")).await;
        assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.body);
        assert!(
            took < PAGE_BUDGET,
            "round {round}: /auth/start took {took:?}"
        );

        let (answer, took) = timed(&person, &me).await;
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            answer.body
        );
        assert!(took < FAIL_FAST, "round {round}: /api/v1/me took {took:?}");

        let (answer, took) = timed(&anonymous, &ready).await;
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            answer.body.contains("\"database\":\"down\""),
            "{}",
            answer.body
        );
        assert!(took < FAIL_FAST, "round {round}: /readyz took {took:?}");
    }
    // The gauge is the process's: another test's app may set it between
    // this app's setting and rendering it, so look twice.
    let mut shown = String::new();
    for _ in 0..3 {
        shown = anonymous
            .get(&format!("{}/metrics", app.base))
            .await
            .expect("metrics")
            .body;
        if shown.contains("esia_link_database_circuit_open 1") {
            break;
        }
    }
    assert!(
        shown.contains("esia_link_database_circuit_open 1"),
        "{shown}"
    );

    // Read past the proxy: the journaled record is held, not written.
    assert_eq!(logged_in_rows(&app).await, 0, "held in memory");

    proxy.restore().await;
    wait_until_ready(&app).await;
    assert!(!app.store.database_down(), "the probe closed it");
    // ... and written once the database is back (retried every second).
    for _ in 0..50 {
        if logged_in_rows(&app).await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(logged_in_rows(&app).await, 1, "the held record was written");
    let (answer, _) = timed(&person, &me).await;
    assert_eq!(answer.status, StatusCode::OK, "the session still works");

    // "Try again" on the page the outage left finishes the login, on the
    // IdP's answer kept from the first try: the code went to the IdP once.
    let retry = format!("{}{}", app.base, retry_link(&first.body));
    let (answer, _) = timed(&pending, &retry).await;
    assert_eq!(
        answer.location.as_deref(),
        Some("/account"),
        "{}",
        answer.body
    );
    assert_eq!(app.idp.token_calls() - tokens, 1, "one code exchange");
    let audited_links = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log WHERE action = 'link.created'")
            .fetch_one(app.store.pool())
            .await
            .expect("count")
    };
    assert_eq!(app.link_count().await, 2, "ivanova's and fedorov's");
    // Pressed once more: the login is used up, and nothing is linked twice.
    let (again, _) = timed(&pending, &retry).await;
    assert_ne!(
        again.location.as_deref(),
        Some("/account"),
        "{}",
        again.body
    );
    assert_eq!(app.link_count().await, 2);
    assert_eq!(audited_links().await, 2, "each link audited once");
    let (_, run) = app.login("esia", "smirnov", Consent::Allow).await;
    assert!(
        run.landed_at() == Some("/account"),
        "a new login goes through after the outage: {:?}",
        run.callback
    );
}

#[tokio::test]
async fn readyz_answers_within_a_second_when_the_database_just_went_away() {
    let Some((app, proxy)) = app_behind_proxy().await else {
        return;
    };
    let browser = ScriptedBrowser::new();
    let ready = format!("{}/readyz", app.base);
    let (answer, _) = timed(&browser, &ready).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    proxy.cut().await;
    // Nothing has opened the circuit yet: readyz itself meets the outage.
    let (answer, took) = timed(&browser, &ready).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        answer.body.contains("\"database\":\"down\""),
        "{}",
        answer.body
    );
    assert!(took < PAGE_BUDGET, "readyz took {took:?}");
    proxy.restore().await;
    wait_until_ready(&app).await;
}
