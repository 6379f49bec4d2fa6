//! Backing stores failing under a running service: answers stay fast and
//! clear while Redis is down, and logins recover without a restart.

use std::time::{Duration, Instant};

use esia_link::app::login::refusals::SAMPLE_WINDOW;
use esia_link::demo::browser::{element_text, Consent, ScriptedBrowser};
use reqwest::StatusCode;

use crate::helpers::{redis_url, retry_link, spawn_app_with, AppOptions, TcpCut, TestApp};

fn redis_server(port: u16) -> std::process::Child {
    std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server starts (apt-get install redis-server)")
}

async fn wait_for_redis(port: u16) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("redis-server on port {port} did not come up");
}

#[tokio::test]
#[ignore = "starts and stops its own redis-server (on PATH)"]
async fn while_redis_is_down_pages_answer_within_a_second_and_logins_recover() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut redis = redis_server(port);
    wait_for_redis(port).await;
    let app = spawn_app_with(AppOptions {
        redis_url: Some(format!("redis://127.0.0.1:{port}")),
        ..AppOptions::default()
    })
    .await;
    let (_, run) = app.login("esia", "ivanova", Consent::Allow).await;
    assert_eq!(run.landed_at(), Some("/account"), "works while Redis is up");
    let links = app.link_count().await;

    redis.kill().expect("stop redis");
    let _ = redis.wait();
    let browser = ScriptedBrowser::new();
    for attempt in 0..5 {
        let started = Instant::now();
        let hop = browser
            .get(&format!("{}/auth/start/esia", app.base))
            .await
            .expect("answer");
        let took = started.elapsed();
        assert_eq!(
            hop.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "attempt {attempt}"
        );
        assert!(
            hop.body.contains("id=\"reference\""),
            "a reference code: {}",
            hop.body
        );
        assert!(
            took < Duration::from_secs(1),
            "attempt {attempt} took {took:?}"
        );
    }
    let ready = browser
        .get(&format!("{}/readyz", app.base))
        .await
        .expect("readyz");
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.body.contains("\"redis\":\"down\""), "{}", ready.body);
    assert!(ready.body.contains("\"database\":\"ok\""), "{}", ready.body);
    assert_eq!(app.link_count().await, links, "nothing half-written");

    let mut redis = redis_server(port);
    wait_for_redis(port).await;
    // The circuit re-probes after a second; the connection manager reconnects.
    let mut recovered = false;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let (_, run) = app.login("esia", "fedorov", Consent::Allow).await;
        if run.landed_at() == Some("/account") {
            recovered = true;
            break;
        }
    }
    assert!(
        recovered,
        "a login completes once Redis is back, same process"
    );
    let ready = browser
        .get(&format!("{}/readyz", app.base))
        .await
        .expect("readyz");
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    redis.kill().expect("stop redis");
    let _ = redis.wait();
}

/// The app on the shared Redis, reached through a proxy the test cuts.
async fn app_behind_redis_proxy() -> Option<(TestApp, TcpCut)> {
    let Some(url) = redis_url() else {
        eprintln!("skipped: ESIA_LINK_TEST_REDIS_URL is not set");
        return None;
    };
    let proxy = TcpCut::to_url(&url).await;
    let app = spawn_app_with(AppOptions {
        redis_port: Some(proxy.port),
        ..AppOptions::default()
    })
    .await;
    Some((app, proxy))
}

#[tokio::test]
async fn a_callback_that_meets_redis_down_finishes_with_try_again_once_it_is_back() {
    let Some((app, proxy)) = app_behind_redis_proxy().await else {
        return;
    };
    let browser = ScriptedBrowser::new();
    let callback = app.callback_url(&browser, "ivanova").await;
    proxy.cut().await;
    let started = Instant::now();
    let answer = browser.get(&callback).await.expect("callback");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.body
    );
    assert!(answer.body.contains("id=\"reference\""), "{}", answer.body);
    assert_eq!(
        app.idp.token_calls(),
        0,
        "no code sent while the login cannot be read"
    );
    proxy.restore().await;
    let retry = format!("{}{}", app.base, retry_link(&answer.body));
    // Redis's circuit re-probes after a second; until then, the same page.
    let mut landed = None;
    for _ in 0..20 {
        let again = browser.get(&retry).await.expect("try again");
        if again.status != StatusCode::SERVICE_UNAVAILABLE {
            landed = again.location;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        landed.as_deref(),
        Some("/account"),
        "the kept login finishes"
    );
    assert_eq!(app.idp.token_calls(), 1, "the code was redeemed once");
    assert_eq!(app.link_count().await, 1);
}

/// The value of a counter or gauge line (`name{labels} value`) in the
/// `/metrics` text; 0 when the series does not exist yet.
async fn metric(app: &TestApp, series: &str) -> f64 {
    let text = reqwest::get(format!("{}/metrics", app.base))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn a_tight_retry_loop_while_redis_is_down_adds_one_attempt_row_per_window() {
    let Some((app, proxy)) = app_behind_redis_proxy().await else {
        return;
    };
    // The bound: one row per provider and refusal code per sample window
    // (10 s). Every refusal here is `internal.ephemeral` at `esia`, and the
    // loop lasts less than one window: one row, however many requests.
    const LOOP: Duration = Duration::from_secs(2);
    assert!(LOOP < SAMPLE_WINDOW);
    const BOUND: i64 = 1;
    let rows = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM link_attempts")
            .fetch_one(app.store.pool())
            .await
            .expect("count")
    };
    let unrecorded = "esia_link_refusals_unrecorded_total{code=\"internal.ephemeral\"}";
    let counted_before = metric(&app, unrecorded).await;
    let before = rows().await;
    proxy.cut().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut requests = 0;
    let mut references = std::collections::BTreeSet::new();
    let started = Instant::now();
    while started.elapsed() < LOOP {
        let response = client
            .get(app.start_url("esia"))
            .send()
            .await
            .expect("start");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let page = response.text().await.expect("page");
        references.insert(element_text(&page, "reference").expect("a reference"));
        requests += 1;
    }
    let added = rows().await - before;
    assert!(requests >= 100, "a tight loop: {requests} requests");
    assert!(added <= BOUND, "{requests} refusals added {added} rows");
    // Each page's reference finds the row that stands for its window.
    for reference in &references {
        let found = app
            .store
            .find_attempt_by_reference(reference)
            .await
            .expect("query");
        assert!(found.is_some(), "{reference} has a row");
    }
    let counted = metric(&app, unrecorded).await - counted_before;
    assert!(
        counted >= (requests - 1) as f64,
        "the unrecorded ones are counted: {counted} of {requests}"
    );
    proxy.restore().await;
}
