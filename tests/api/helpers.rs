//! Shared test harness: the real app on port 0 with a fresh database, the
//! mock IdP on port 0, and scripted browsers that keep cookies and never
//! follow redirects. PostgreSQL / Redis are used when
//! `ESIA_LINK_TEST_DATABASE_URL` / `ESIA_LINK_TEST_REDIS_URL` are set.

use std::sync::Once;

use esia_link::config::{Config, EphemeralBackend, Secret};
use esia_link::ops::browser::{Consent, LoginRun, ScriptedBrowser};
use esia_link::ops::demo::{demo_clients, demo_config};
use esia_link::ops::roster::{seed, DEMO_ROSTER};
use esia_link::startup::{AppState, Application};
use tokio::net::TcpListener;

pub fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A fresh, empty database URL: a new PostgreSQL database when
/// `ESIA_LINK_TEST_DATABASE_URL` is set, else a new SQLite file.
pub async fn fresh_database_url() -> String {
    let name = format!("esia_link_test_{}", uuid::Uuid::new_v4().simple());
    match std::env::var("ESIA_LINK_TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            use sqlx::Connection;
            let mut admin = sqlx::PgConnection::connect(&admin_url)
                .await
                .expect("connect to ESIA_LINK_TEST_DATABASE_URL");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .expect("create a fresh test database");
            let mut url = url::Url::parse(&admin_url).expect("database URL");
            url.set_path(&format!("/{name}"));
            url.to_string()
        }
        _ => {
            let dir = std::env::temp_dir().join("esia-link-tests");
            std::fs::create_dir_all(&dir).expect("temp dir");
            format!(
                "sqlite://{}?mode=rwc",
                dir.join(format!("{name}.db")).display()
            )
        }
    }
}

pub fn redis_url() -> Option<String> {
    std::env::var("ESIA_LINK_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

pub struct TestApp {
    pub base: String,
    pub idp: mock_idp::MockIdp,
    pub state: AppState,
}

impl TestApp {
    pub fn start_url(&self, provider: &str) -> String {
        format!("{}/auth/start/{provider}", self.base)
    }

    /// A complete login through `provider` as mock person `login`.
    pub async fn login(
        &self,
        provider: &str,
        login: &str,
        consent: Consent,
    ) -> (ScriptedBrowser, LoginRun) {
        let browser = ScriptedBrowser::new();
        let run = browser
            .login(
                &self.base,
                &self.start_url(provider),
                login,
                "demo",
                consent,
            )
            .await
            .expect("the flow runs");
        (browser, run)
    }

    /// Drives a login in `browser` up to the IdP's redirect and returns the
    /// callback URL without calling it.
    pub async fn callback_url(&self, browser: &ScriptedBrowser, login: &str) -> String {
        let (_, callback) = browser
            .reach_callback(
                &self.base,
                &self.start_url("esia"),
                login,
                "demo",
                Consent::Allow,
            )
            .await
            .expect("flow");
        callback.expect("the IdP redirected to the callback")
    }

    /// Federated links in the database, by direct count.
    pub async fn link_count(&self) -> i64 {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM federated_links")
            .fetch_one(self.state.store.pool())
            .await
            .expect("count links")
    }
}

/// Options for [`spawn_app_with`].
#[derive(Default)]
pub struct AppOptions {
    pub http_timeout_secs: Option<u64>,
    pub client_ip_header: Option<String>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    install_crypto();
    let idp = mock_idp::spawn(mock_idp::MockIdpConfig::default())
        .await
        .expect("mock IdP starts");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let database_url = fresh_database_url().await;
    let defaults =
        Config::load_with_env(None, Vec::<(String, String)>::new()).expect("default config");
    let mut config = demo_config(defaults, &base, &idp.base_url(), &database_url);
    config.server.listen = listener.local_addr().expect("addr");
    config.log.filter = "warn".into();
    if let Some(redis) = redis_url() {
        config.ephemeral.backend = EphemeralBackend::Redis;
        config.ephemeral.redis_url = Some(Secret::new(redis));
        config.ephemeral.key_prefix = format!("esia-link-test:{}:", uuid::Uuid::new_v4().simple());
    }
    if let Some(timeout) = options.http_timeout_secs {
        for provider in &mut config.providers {
            provider.http_timeout_secs = timeout;
        }
    }
    config.server.client_ip_header = options.client_ip_header;
    idp.set_clients(demo_clients(&config));
    let app = Application::build_with_listener(config, listener)
        .await
        .expect("app builds");
    let state = app.state();
    seed(&state.store, DEMO_ROSTER, "test")
        .await
        .expect("roster seeds");
    tokio::spawn(app.run_until_stopped());
    TestApp { base, idp, state }
}
