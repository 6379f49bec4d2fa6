//! The demo in a real browser: headless Chromium clicks «Войти через
//! Госуслуги», logs in at the mock IdP, allows the data and lands on the
//! account page; then a parent with a mistyped surname gets a reference
//! code, and an operator looks it up at /ops and sees the remedy. It needs Debian's chromium and chromium-driver, so it is
//! ignored by default; `.ci/run` installs them and runs it with `--ignored`.

use std::process::Stdio;
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::spawn_app;

fn chromedriver() -> Option<&'static str> {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver (apt-get install chromium chromium-driver)"]
async fn demo_login_in_headless_chromium() {
    let driver =
        chromedriver().expect("chromedriver installed (apt-get install chromium chromium-driver)");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut chromedriver = tokio::process::Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let app = spawn_app().await;

    let profile = std::env::temp_dir().join(format!("esia-link-chromium-{}", uuid::Uuid::new_v4()));
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    let mut client = None;
    for _ in 0..50 {
        match ClientBuilder::rustls()
            .expect("rustls connector")
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let client = client.expect("a WebDriver session with Chromium");

    // Click «Войти через Госуслуги», log in at the mock as `person`, allow.
    let log_in = |person: &'static str| {
        let client = client.clone();
        let base = app.base.clone();
        async move {
            client.goto(&format!("{base}/?region=29")).await?;
            client
                .find(Locator::Id("login-esia"))
                .await?
                .click()
                .await?;
            client
                .wait()
                .for_element(Locator::Css("input[name=login]"))
                .await?
                .send_keys(person)
                .await?;
            client
                .find(Locator::Css("input[name=password]"))
                .await?
                .send_keys("demo")
                .await?;
            client
                .find(Locator::Css("form [type=submit]"))
                .await?
                .click()
                .await?;
            client
                .wait()
                .for_element(Locator::Css("button[value=allow]"))
                .await?
                .click()
                .await?;
            Ok::<_, fantoccini::error::CmdError>(())
        }
    };
    let result = async {
        log_in("ivanova").await?;
        let name = client
            .wait()
            .for_element(Locator::Id("full-name"))
            .await?
            .text()
            .await?;
        let url = client.current_url().await?;

        // A parent whose surname the school mistyped sees a reference code;
        // the operator types it into /ops and sees what to do.
        log_in("sokolov").await?;
        let reference = client
            .wait()
            .for_element(Locator::Id("reference"))
            .await?
            .text()
            .await?;
        log_in("operator").await?;
        client.wait().for_element(Locator::Id("full-name")).await?;
        client.goto(&format!("{}/ops", app.base)).await?;
        client
            .wait()
            .for_element(Locator::Id("q"))
            .await?
            .send_keys(&reference)
            .await?;
        client.find(Locator::Id("lookup")).await?.click().await?;
        let remedy = client
            .wait()
            .for_element(Locator::Css(".looked-up .remedy"))
            .await?
            .text()
            .await?;
        Ok::<_, fantoccini::error::CmdError>((name, url, reference, remedy))
    }
    .await;
    let _ = client.close().await;
    let _ = chromedriver.kill().await;
    let _ = std::fs::remove_dir_all(&profile);

    let (name, url, reference, remedy) = result.expect("the browser flow completes");
    assert_eq!(name, "Иванова Мария Петровна");
    assert_eq!(url.path(), "/account");
    assert_eq!(
        reference.len(),
        9,
        "a reference code was shown: {reference}"
    );
    // Headless Chromium asks for English (Accept-Language: en-US).
    assert!(
        remedy.contains("The school must correct the surname in the diary")
            || remedy.contains("Школа должна исправить фамилию в дневнике"),
        "the operator sees the remedy: {remedy}"
    );
}
