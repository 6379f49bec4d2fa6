//! Building and running the application. Tests, the demo and `serve` all go
//! through [`Application::build`], which binds the listener and returns the
//! address, so they share one startup path. Startup builds the
//! [`App`](app::App) context and the router; it defines neither.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

use app::clock::{Clock, SystemClock};
use app::App;
use config::{Config, EphemeralBackend, SignerConfig};
use ephemeral::{MemoryStore, RedisStore, RedisTarget, SentinelTarget, SharedEphemeral};
use federation::signer::Signer;
use federation::Providers;
use store::{Region, Store};
use web::AppState;

pub struct Application {
    listener: TcpListener,
    address: SocketAddr,
    state: AppState,
    store: Store,
}

impl Application {
    /// Connects storage, applies migrations, syncs regions, binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(config.server.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.server.listen))?;
        Self::build_with_listener(config, listener).await
    }

    /// As [`Application::build`], on a listener the caller bound (tests bind
    /// first to learn the port, then register the redirect URI at the IdP).
    pub async fn build_with_listener(
        config: Config,
        listener: TcpListener,
    ) -> anyhow::Result<Application> {
        Self::build_on_clock(config, listener, Arc::new(SystemClock)).await
    }

    /// As [`Application::build_with_listener`], reading time from `clock`
    /// (tests and the demo move it; production is on the system's).
    pub async fn build_on_clock(
        config: Config,
        listener: TcpListener,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Application> {
        let address = listener.local_addr()?;
        let (app, store) = build_app_on(config, clock).await?;
        Ok(Application {
            listener,
            address,
            state: Arc::new(app),
            store,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// The database, for the demo's seeding and the tests' checks; the
    /// handlers reach it only through the use cases of `state`.
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_with_routes(axum::Router::new()).await
    }

    /// As [`Application::run_until_stopped`], serving `extra` routes as
    /// well (the demo's own pages; `serve` adds none).
    pub async fn run_with_routes(self, extra: axum::Router<AppState>) -> anyhow::Result<()> {
        #[cfg(unix)]
        tokio::spawn(reload_keys_on_sighup(self.state.clone()));
        let upkeep = tokio::spawn(app::telemetry::run_upkeep(Duration::from_secs(5)));
        let certificates = tokio::spawn(watch_certificates(self.state.clone()));
        let logouts = tokio::spawn(deliver_logouts(self.state.clone()));
        let app = web::router_with(self.state.clone(), extra);
        // Accepted on a worker thread: awaited here, the accept loop would
        // run on the thread that called `block_on` and hand every new
        // connection across threads to a worker.
        let server = axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .into_future();
        let served = tokio::spawn(server).await;
        upkeep.abort();
        certificates.abort();
        logouts.abort();
        served??;
        self.state.flush().await;
        Ok(())
    }
}

/// `kill -HUP`: re-read the providers' certificates (an ESIA rotation is a
/// config change plus a signal, no restart).
#[cfg(unix)]
async fn reload_keys_on_sighup(app: AppState) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        return;
    };
    while hangups.recv().await.is_some() {
        for (provider, result) in app.reload_keys().await {
            match result {
                Ok(count) => tracing::info!(provider, keys = count, "signing keys reloaded"),
                Err(error) => tracing::error!(
                    provider,
                    error,
                    "signing keys not reloaded; the previous keys stay in use"
                ),
            }
        }
    }
}

/// The back-channel logouts owed to the diary's apps: sent as soon as this
/// instance queues some, and otherwise looked for every minute (every ten
/// seconds while some wait for a retry) — what another instance queued, or
/// left behind when it stopped. Hourly, ended grants are purged.
async fn deliver_logouts(app: AppState) {
    if !app.apps().enabled() {
        return;
    }
    let mut purged = tokio::time::Instant::now();
    loop {
        let wait = match app.apps().deliver_logouts().await {
            Ok(round) if round.retrying > 0 => Duration::from_secs(10),
            Ok(_) => Duration::from_secs(60),
            Err(error) => {
                tracing::warn!(%error, "back-channel logouts not sent this time");
                Duration::from_secs(10)
            }
        };
        let apps = app.apps();
        tokio::select! {
            () = apps.logouts_queued() => {}
            () = tokio::time::sleep(wait) => {}
        }
        if purged.elapsed() > Duration::from_secs(3600) {
            purged = tokio::time::Instant::now();
            if let Err(error) = app.apps().purge_ended_grants().await {
                tracing::warn!(%error, "ended grants not purged");
            }
        }
    }
}

/// Hourly, the certificate expiry gauges are set again (so they count down,
/// and the recorder keeps only those of configured certificates); once a
/// day the warnings are logged again, so an instance that runs for months
/// still says so. Startup and SIGHUP report on their own.
async fn watch_certificates(app: AppState) {
    let mut hours = tokio::time::interval(Duration::from_secs(3600));
    hours.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    hours.tick().await;
    for hour in 1u64.. {
        hours.tick().await;
        app.report_certificates(hour % 24 == 0);
    }
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

/// Providers first (a bad provider stops startup before anything is
/// touched), then the database, then the ephemeral store.
pub async fn build_app(config: Config) -> anyhow::Result<(App, Store)> {
    build_app_on(config, Arc::new(SystemClock)).await
}

/// As [`build_app`], on the given clock.
pub async fn build_app_on(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<(App, Store)> {
    app::telemetry::install();
    let providers = Providers::from_config(&config)?;
    let store = migrated_store(&config, config.database.max_connections).await?;
    save_regions(&config, &store).await?;
    let redis = shared_store(&config).await?;
    let ephemeral: SharedEphemeral = match &redis {
        Some(redis) => redis.clone(),
        None => Arc::new(MemoryStore::new(config.ephemeral.memory_max_entries)),
    };
    let outbox = config
        .notify
        .build()
        .map_err(|e| anyhow::anyhow!("notify: {e}"))?;
    let apps = apps_provider(&config, clock.now())?;
    let mut app = App::new(config, store.clone(), ephemeral, providers, outbox, clock);
    if let Some(apps) = apps {
        app.serve_apps(apps);
    }
    if let Some(redis) = &redis {
        app.listen_to_peers(redis);
    }
    Ok((app, store))
}

/// esia-link as the diary apps' OpenID Provider, when `[apps]` is set. Key
/// and JWKS files are read relative to the working directory.
fn apps_provider(
    config: &Config,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Option<provider::Provider>> {
    let Some(apps) = config.apps_provider() else {
        return Ok(None);
    };
    provider::Provider::from_config(&apps, std::path::Path::new("."), now)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("[apps]: {e}"))
}

/// The configured Redis store, when the instances share one.
async fn shared_store(config: &Config) -> anyhow::Result<Option<Arc<RedisStore>>> {
    if config.ephemeral.backend != EphemeralBackend::Redis {
        return Ok(None);
    }
    let redis = RedisStore::connect_to(&redis_target(config), &config.ephemeral.key_prefix)
        .await
        .map_err(|e| anyhow::anyhow!("redis: {e}"))?;
    Ok(Some(Arc::new(redis)))
}

/// One Redis (`ephemeral.redis_url`) or the primary behind Sentinel
/// (`[ephemeral.sentinel]`).
fn redis_target(config: &Config) -> RedisTarget {
    let expose = |secret: &Option<config::Secret>| secret.as_ref().map(|s| s.expose().to_string());
    match &config.ephemeral.sentinel {
        Some(sentinel) => RedisTarget::Sentinel(SentinelTarget {
            sentinels: sentinel.sentinels.clone(),
            master_name: sentinel.master_name.clone(),
            username: sentinel.username.clone(),
            password: expose(&sentinel.password),
            db: sentinel.db,
            sentinel_username: sentinel.sentinel_username.clone(),
            sentinel_password: expose(&sentinel.sentinel_password),
        }),
        None => RedisTarget::Url(expose(&config.ephemeral.redis_url).unwrap_or_default()),
    }
}

/// Connects to the configured database and applies the migrations.
async fn migrated_store(config: &Config, max_connections: u32) -> anyhow::Result<Store> {
    migrated_store_with(config, max_connections, None).await
}

async fn migrated_store_with(
    config: &Config,
    max_connections: u32,
    cache_mib: Option<u32>,
) -> anyhow::Result<Store> {
    let store = Store::connect_with(config.database.url.expose(), max_connections, cache_mib)
        .await
        .map_err(|e| anyhow::anyhow!("database: {e}"))?;
    store
        .migrate()
        .await
        .map_err(|e| anyhow::anyhow!("database migrations: {e}"))?;
    Ok(store)
}

/// The configured regions, written to the database (schools refer to them).
async fn save_regions(config: &Config, store: &Store) -> anyhow::Result<()> {
    for region in &config.regions {
        store
            .upsert_region(&Region {
                code: i64::from(region.code),
                name_ru: region.name_ru.clone(),
                name_en: region.name_en.clone(),
                esia_enabled: region.esia_enabled,
            })
            .await
            .map_err(|e| anyhow::anyhow!("saving region {}: {e}", region.code))?;
    }
    Ok(())
}

/// The context for command-line tools (`diagnose`): the database and the
/// configuration, no providers and no shared ephemeral store.
pub async fn build_tool_app(config: Config) -> anyhow::Result<(App, Store)> {
    // Tools import rosters and issue codes in bulk: a 32 MiB page cache per
    // connection (SQLite) instead of the default 2 MiB, and connections for
    // two batch writes side by side plus a read (PostgreSQL; SQLite opens
    // the third only if ever needed at once).
    let store = migrated_store_with(&config, 3, Some(32)).await?;
    save_regions(&config, &store).await?;
    let ephemeral: SharedEphemeral = Arc::new(MemoryStore::new(1000));
    let outbox = config
        .notify
        .build()
        .map_err(|e| anyhow::anyhow!("notify: {e}"))?;
    // A tool's changes (a roster import) reach the running instances'
    // access caches through the shared store, when there is one.
    let redis = match shared_store(&config).await {
        Ok(redis) => redis,
        Err(error) => {
            tracing::warn!(
                %error,
                "running instances will see this tool's changes once their access cache entries expire"
            );
            None
        }
    };
    let mut app = App::new(
        config,
        store.clone(),
        ephemeral,
        Providers::default(),
        outbox,
        Arc::new(SystemClock),
    );
    if let Some(redis) = redis {
        app.tell_peers_through(redis);
    }
    Ok((app, store))
}

/// SHA-256 (hex) of the values published with the demo. Only their hashes
/// are in the binary, so that `serve` can recognise them without carrying
/// them.
const DEMO_HMAC_KEY_SHA256: &str =
    "cb088d9da655c555e47539344349b0b1ffc238bd078a4869c3392e8e595607ff";
const DEMO_OIDC_SECRET_SHA256: &str =
    "6247a79d1734ec92179cc9156fbdc5321bdc30386d0a0a8edba7fd082a74ef52";
const DEMO_CLIENT_PUBLIC_KEY_SHA256: &str =
    "46624f05a62979fe77d1015dabdda501901a2ab70e8e54288b5969078b699158";

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What makes a configuration unfit for production: the published demo
/// secrets, or cookies without `Secure` on a non-loopback address. Empty
/// when the configuration is fit.
pub fn production_problems(config: &Config) -> Vec<String> {
    let mut problems = Vec::new();
    if sha256_hex(config.security.hmac_key.expose().as_bytes()) == DEMO_HMAC_KEY_SHA256 {
        problems.push(
            "security.hmac_key is the published demo key; set your own (ESIA_LINK__SECURITY__HMAC_KEY)"
                .to_string(),
        );
    }
    for provider in &config.providers {
        if provider
            .client_secret
            .as_ref()
            .is_some_and(|s| sha256_hex(s.expose().as_bytes()) == DEMO_OIDC_SECRET_SHA256)
        {
            problems.push(format!(
                "provider {}: client_secret is the published demo secret",
                provider.id
            ));
        }
        let uses_demo_key = match &provider.signer {
            Some(signer @ (SignerConfig::RsaKeyFile { .. } | SignerConfig::RsaKeyPem { .. })) => {
                Signer::from_config(signer)
                    .ok()
                    .and_then(|s| s.public_key_der())
                    .is_some_and(|der| sha256_hex(&der) == DEMO_CLIENT_PUBLIC_KEY_SHA256)
            }
            _ => false,
        };
        if uses_demo_key {
            problems.push(format!(
                "provider {}: signer uses the published demo client key (mock-idp/demo/client-key.pem)",
                provider.id
            ));
        }
    }
    if let Ok(Some(apps)) = apps_provider(config, chrono::Utc::now()) {
        problems.extend(
            apps.production_problems()
                .into_iter()
                .map(|problem| format!("[apps] {problem}")),
        );
    }
    if !config.server.secure_cookies && !is_loopback_url(&config.server.public_url) {
        problems.push(format!(
            "server.secure_cookies = false on the non-loopback public_url {}",
            config.server.public_url
        ));
    }
    problems
}

fn is_loopback_url(url: &str) -> bool {
    match url::Url::parse(url)
        .ok()
        .and_then(|u| u.host().map(|h| h.to_owned()))
    {
        Some(url::Host::Domain(domain)) => domain == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `esia-link serve`: refuses the demo's published secrets and insecure
/// cookies unless `insecure_demo` says this is not production.
pub async fn serve(config: Config, insecure_demo: bool) -> anyhow::Result<()> {
    let problems = production_problems(&config);
    if !problems.is_empty() {
        if !insecure_demo {
            anyhow::bail!(
                "refusing to serve with an unsafe configuration:\n  - {}\n(pass --insecure-demo to run anyway on a test machine)",
                problems.join("\n  - ")
            );
        }
        for problem in &problems {
            tracing::warn!(problem = %problem, "insecure configuration accepted (--insecure-demo)");
        }
    }
    let app = Application::build(config).await?;
    tracing::info!(address = %app.address(), "esia-link listening");
    app.run_until_stopped().await
}

/// `esia-link migrate`.
pub async fn migrate_only(config: Config) -> anyhow::Result<()> {
    let store = migrated_store(&config, 1).await?;
    println!("migrations applied ({:?})", store.backend());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls() {
        for (url, loopback) in [
            ("http://127.0.0.1:8080", true),
            ("http://localhost:8080", true),
            ("http://[::1]:8080", true),
            ("https://diary.example", false),
            ("http://10.0.0.5", false),
        ] {
            assert_eq!(is_loopback_url(url), loopback, "{url}");
        }
    }

    /// The hashes above are of the demo's values (the demo overlay and the
    /// published client key), so `serve` recognises them.
    #[cfg(feature = "demo")]
    #[test]
    fn demo_fingerprints_match_the_demo_values() {
        let config = crate::demo::demo_base_config().expect("demo config");
        let problems = production_problems(&config);
        assert!(
            problems.iter().any(|p| p.contains("hmac_key")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("client_secret")),
            "{problems:?}"
        );
        // The diary apps' provider: the published demo keys and subject key.
        assert!(
            problems
                .iter()
                .any(|p| p.contains("[apps]") && p.contains("demo key")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("subject_key")),
            "{problems:?}"
        );
        let signer = Signer::rsa_from_pem(crate::demo::DEMO_CLIENT_KEY).expect("demo key");
        assert_eq!(
            signer
                .public_key_der()
                .map(|der| sha256_hex(&der))
                .as_deref(),
            Some(DEMO_CLIENT_PUBLIC_KEY_SHA256)
        );
    }
}
