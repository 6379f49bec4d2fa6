//! Shared test harness: the real app on port 0 with a fresh database, the
//! mock IdP on port 0, and scripted browsers that keep cookies and never
//! follow redirects. PostgreSQL / Redis are used when
//! `ESIA_LINK_TEST_DATABASE_URL` / `ESIA_LINK_TEST_REDIS_URL` are set.

use std::sync::Once;

use esia_link::config::{EphemeralBackend, Secret};
use esia_link::demo::browser::{Consent, LoginRun, ScriptedBrowser};
use esia_link::demo::{
    demo_base_config, demo_clients, demo_config, use_gost, write_esia_certificates,
};
use esia_link::ops::roster::{seed, DEMO_ROSTER};
use esia_link::startup::Application;
use esia_link::store::Store;
use esia_link::web::AppState;
use tokio::net::TcpListener;

pub fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A fresh, empty database, dropped (PostgreSQL) or deleted (SQLite) when
/// the guard goes: tests leave nothing behind on the shared server.
pub struct TestDb {
    pub url: String,
    postgres: Option<(String, String)>,
    sqlite_file: Option<std::path::PathBuf>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.postgres.take() {
            // Drop runs outside async: a short-lived runtime on its own thread.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                runtime.block_on(async {
                    use sqlx::Connection;
                    let mut admin = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                    // FORCE ends the app's pooled connections still open.
                    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await
                        .ok()
                })
            })
            .join();
        }
        if let Some(file) = self.sqlite_file.take() {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
    }
}

/// A fresh, empty database: a new PostgreSQL database when
/// `ESIA_LINK_TEST_DATABASE_URL` is set, else a new SQLite file.
pub async fn fresh_database() -> TestDb {
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
            TestDb {
                url: url.to_string(),
                postgres: Some((admin_url, name)),
                sqlite_file: None,
            }
        }
        _ => {
            let dir = std::env::temp_dir().join("esia-link-tests");
            std::fs::create_dir_all(&dir).expect("temp dir");
            let file = dir.join(format!("{name}.db"));
            TestDb {
                url: format!("sqlite://{}?mode=rwc", file.display()),
                postgres: None,
                sqlite_file: Some(file),
            }
        }
    }
}

/// A migrated store on a fresh database; the database goes with it.
pub struct TestStore {
    pub store: Store,
    _db: TestDb,
}

impl std::ops::Deref for TestStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

pub async fn fresh_store() -> TestStore {
    let db = fresh_database().await;
    let store = Store::connect(&db.url, 8).await.expect("connect");
    store.migrate().await.expect("migrate");
    TestStore { store, _db: db }
}

/// Deletes every Redis key under a test's prefix when dropped.
pub struct RedisCleanup {
    url: String,
    prefix: String,
}

impl RedisCleanup {
    pub fn new(url: &str, prefix: &str) -> RedisCleanup {
        RedisCleanup {
            url: url.to_string(),
            prefix: prefix.to_string(),
        }
    }
}

impl Drop for RedisCleanup {
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(self.url.as_str()) else {
            return;
        };
        let Ok(mut connection) = client.get_connection() else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query(&mut connection)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut connection);
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
    /// The database behind `state`, for checks the pages cannot show.
    pub store: esia_link::store::Store,
    /// The file the ESIA provider reads the mock's certificates from.
    pub esia_certificates: std::path::PathBuf,
    /// Where the app's e-mail and SMS go (`FileOutbox::read` reads them).
    pub outbox_dir: std::path::PathBuf,
    /// The app's clock: the system's until a test moves it forward.
    pub clock: std::sync::Arc<esia_link::app::clock::SettableClock>,
    _db: TestDb,
    _redis: Option<RedisCleanup>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.esia_certificates);
        let _ = std::fs::remove_dir_all(&self.outbox_dir);
    }
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

    /// The database this app uses (for running the CLI against it).
    pub fn database_url(&self) -> &str {
        &self._db.url
    }

    /// Hands the relying party the mock's current ESIA certificates (what an
    /// operator does with the certificate ESIA sends before a rotation).
    pub fn publish_esia_certificates(&self) {
        write_esia_certificates(&self.idp, &self.esia_certificates).expect("write certificates");
    }

    /// Opens a fallback form (`/link`, `/link/code`) in `browser` and checks
    /// that it names the person State Services vouched for.
    pub async fn fallback_form_names(&self, browser: &ScriptedBrowser, path: &str, name: &str) {
        let form = browser
            .get(&format!("{}{path}", self.base))
            .await
            .expect("the form");
        assert!(form.body.contains(name), "{}", form.body);
    }

    /// Federated links in the database, by direct count.
    pub async fn link_count(&self) -> i64 {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM federated_links")
            .fetch_one(self.store.pool())
            .await
            .expect("count links")
    }
}

/// Options for [`spawn_app_with`].
#[derive(Default)]
pub struct AppOptions {
    pub http_timeout_secs: Option<u64>,
    pub client_ip_header: Option<String>,
    /// GOST-signed ESIA tokens and the client signature by the external
    /// command `esia-link demo-gost-sign`.
    pub gost: bool,
    /// A Redis of the test's own instead of `ESIA_LINK_TEST_REDIS_URL`.
    pub redis_url: Option<String>,
    /// A region (by code) whose clock is another zone (IANA name).
    pub region_time_zone: Option<(u16, &'static str)>,
    /// Last changes to the configuration, after every other option.
    pub configure: Option<Configure>,
    /// `[uploads] max_file_bytes` other than the default.
    pub max_upload_bytes: Option<u64>,
    /// The app reaches its database through this local port (a test's
    /// [`TcpCut`] in front of the server) instead of the URL's own.
    pub database_port: Option<u16>,
    /// The app reaches `ESIA_LINK_TEST_REDIS_URL` through this local port
    /// (a test's [`TcpCut`]); the test's cleanup goes there directly.
    pub redis_port: Option<u16>,
    /// What `esia-link demo` adds to the roster: the family journey
    /// (src/demo/journeys.rs) and the `/demo` page with its clock.
    pub demo: bool,
}

/// A last change to the test app's configuration.
pub type Configure = Box<dyn FnOnce(&mut esia_link::config::Config) + Send>;

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    install_crypto();
    let idp = mock_idp::spawn(mock_idp::MockIdpConfig {
        esia_alg: if options.gost {
            mock_idp::EsiaAlg::Gost3410_2012_256
        } else {
            mock_idp::EsiaAlg::Rs256
        },
        ..mock_idp::MockIdpConfig::default()
    })
    .await
    .expect("mock IdP starts");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let db = fresh_database().await;
    let defaults = demo_base_config().expect("demo config");
    let esia_certificates = std::env::temp_dir().join(format!(
        "esia-link-test-{}.pem",
        uuid::Uuid::new_v4().simple()
    ));
    write_esia_certificates(&idp, &esia_certificates).expect("certificates");
    let database_url = match options.database_port {
        Some(port) => {
            let mut url = url::Url::parse(&db.url).expect("database URL");
            url.set_host(Some("127.0.0.1")).expect("host");
            url.set_port(Some(port)).expect("port");
            url.to_string()
        }
        None => db.url.clone(),
    };
    let mut config = demo_config(
        defaults,
        &base,
        &idp.base_url(),
        &database_url,
        &esia_certificates,
    );
    if options.gost {
        use_gost(
            &mut config,
            std::path::Path::new(env!("CARGO_BIN_EXE_esia-link")),
        );
    }
    config.server.listen = listener.local_addr().expect("addr");
    config.log.filter = "warn".into();
    let outbox_dir = std::env::temp_dir().join(format!(
        "esia-link-outbox-{}",
        uuid::Uuid::new_v4().simple()
    ));
    config.notify.dir = outbox_dir.clone();
    let mut redis_cleanup = None;
    if let Some(redis) = options.redis_url.clone().or_else(redis_url) {
        let prefix = format!("esia-link-test:{}:", uuid::Uuid::new_v4().simple());
        redis_cleanup = Some(RedisCleanup::new(&redis, &prefix));
        config.ephemeral.backend = EphemeralBackend::Redis;
        let redis = match options.redis_port {
            Some(port) => {
                let mut url = url::Url::parse(&redis).expect("Redis URL");
                url.set_host(Some("127.0.0.1")).expect("host");
                url.set_port(Some(port)).expect("port");
                url.to_string()
            }
            None => redis,
        };
        config.ephemeral.redis_url = Some(Secret::new(redis));
        config.ephemeral.key_prefix = prefix;
    }
    if let Some(timeout) = options.http_timeout_secs {
        for provider in &mut config.providers {
            provider.http_timeout_secs = timeout;
        }
    }
    config.server.client_ip_header = options.client_ip_header;
    if let Some((code, zone)) = options.region_time_zone {
        let region = config
            .regions
            .iter_mut()
            .find(|r| r.code == code)
            .expect("a demo region");
        region.time_zone = Some(zone.to_string());
    }
    if let Some(limit) = options.max_upload_bytes {
        config.uploads.max_file_bytes = limit;
    }
    if let Some(configure) = options.configure {
        configure(&mut config);
    }
    idp.set_clients(demo_clients(&config));
    let clock = std::sync::Arc::new(esia_link::app::clock::SettableClock::default());
    let app = Application::build_on_clock(config, listener, clock.clone())
        .await
        .expect("app builds");
    let state = app.state();
    let store = app.store();
    seed(&state, &store, DEMO_ROSTER, "test")
        .await
        .expect("roster seeds");
    if options.demo {
        use esia_link::demo::{journeys, page};
        journeys::seed_journeys(&state, &store, &clock)
            .await
            .expect("the demo's journeys seed");
        let guide = journeys::guide(&state, &store).await.expect("guide");
        tokio::spawn(app.run_with_routes(page::router(clock.clone(), store.clone(), guide)));
    } else {
        tokio::spawn(app.run_until_stopped());
    }
    TestApp {
        base,
        idp,
        state,
        store,
        esia_certificates,
        outbox_dir,
        clock,
        _db: db,
        _redis: redis_cleanup,
    }
}

pub fn database_url() -> Option<String> {
    std::env::var("ESIA_LINK_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A TCP proxy on a local port in front of a shared server (PostgreSQL,
/// Redis) that a test can cut and restore: cut, the port refuses
/// connections and the open ones are closed, as when the server stops;
/// the server itself, which other tests use at the same time, is never
/// touched.
pub struct TcpCut {
    pub port: u16,
    target: String,
    tasks: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl TcpCut {
    /// A proxy to `target` (`host:port`).
    pub async fn start(target: &str) -> TcpCut {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let cut = TcpCut {
            port: listener.local_addr().expect("addr").port(),
            target: target.to_string(),
            tasks: Default::default(),
        };
        cut.serve(listener);
        cut
    }

    /// A proxy to the host and port of `url` (a database or Redis URL).
    pub async fn to_url(url: &str) -> TcpCut {
        let url = url::Url::parse(url).expect("URL");
        let host = url.host_str().expect("host").to_string();
        let port = url.port_or_known_default().unwrap_or(5432);
        TcpCut::start(&format!("{host}:{port}")).await
    }

    fn serve(&self, listener: TcpListener) {
        let tasks = self.tasks.clone();
        let target = self.target.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(pipe.abort_handle());
            }
        });
        self.tasks.lock().unwrap().push(accept.abort_handle());
    }

    /// Refuses new connections and closes the open ones.
    pub async fn cut(&self) {
        let tasks: Vec<_> = self.tasks.lock().unwrap().drain(..).collect();
        for task in &tasks {
            task.abort();
        }
        // Aborted tasks drop their sockets when next polled.
        while tasks.iter().any(|task| !task.is_finished()) {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// Listens again on the same port.
    pub async fn restore(&self) {
        for _ in 0..100 {
            if let Ok(listener) = TcpListener::bind(("127.0.0.1", self.port)).await {
                self.serve(listener);
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("port {} could not be bound again", self.port);
    }
}

impl Drop for TcpCut {
    fn drop(&mut self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

/// Where the temporary-error page's "try again" leads (a path with query).
pub fn retry_link(html: &str) -> String {
    let at = html
        .find("id=\"retry\"")
        .unwrap_or_else(|| panic!("a try-again link in: {html}"));
    let href = &html[at..];
    let start = href.find("href=\"").expect("href") + "href=\"".len();
    let end = href[start..].find('"').expect("closing quote");
    href[start..start + end]
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// The demo roster's account with diary login `login`.
pub async fn demo_account(app: &TestApp, login: &str) -> esia_link::store::Account {
    app.store
        .find_account_by_login(login)
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("{login} is in the demo roster"))
}

/// Makes the demo account `login` an administrator of its own school (the
/// `school_admin` operator role); returns the school.
pub async fn make_school_admin(app: &TestApp, login: &str) -> uuid::Uuid {
    let account = demo_account(app, login).await;
    let school = account.school_id.expect("a roster account has a school");
    app.store
        .grant_school_admin(account.id, school, "test", "the school's administrator")
        .await
        .expect("grant");
    school
}

/// The fields of the first POST form in `html` whose action is `action`,
/// with `values` set (replacing fields of the same name).
pub fn fill_form(html: &str, action: &str, values: &[(&str, &str)]) -> Vec<(String, String)> {
    let at = html
        .find(&format!("action=\"{action}\""))
        .and_then(|at| html[..at].rfind("<form"))
        .unwrap_or_else(|| panic!("a form posting to {action} in: {html}"));
    let form = esia_link::demo::browser::parse_form(&html[at..]).expect("form");
    let mut fields = form.fields;
    for (name, value) in values {
        fields.retain(|(k, _)| k != name);
        fields.push((name.to_string(), value.to_string()));
    }
    fields
}

/// The session's CSRF token, read from the account page's logout form.
pub async fn csrf_token(app: &TestApp, browser: &ScriptedBrowser) -> String {
    let page = browser
        .get(&format!("{}/account", app.base))
        .await
        .expect("account page");
    fill_form(&page.body, "/logout", &[])
        .into_iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v)
        .expect("a CSRF token on the account page")
}

/// Imports a CSV roster into `school` through the use case and expects
/// every row to be good; the report, for what the test checks next.
pub async fn import_csv(
    app: &TestApp,
    school: uuid::Uuid,
    csv: &str,
) -> esia_link::app::school::roster::ImportReport {
    let source = esia_link::app::school::roster::BytesSource {
        bytes: csv.as_bytes().to_vec(),
        format: esia_link::app::school::roster::RosterFormat::Csv,
    };
    let report = app
        .state
        .school()
        .import_roster(school, &source, &Default::default(), "test", &|_| {})
        .await
        .expect("import");
    assert!(report.ok(), "{report:?}");
    report
}

/// Audit rows of `action` about `target` (an id as the log writes it).
pub async fn audit_count(app: &TestApp, action: &str, target: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND target_id = $2")
        .bind(action)
        .bind(target)
        .fetch_one(app.store.pool())
        .await
        .expect("audit")
}
