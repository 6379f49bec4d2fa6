//! Building and running the application. Tests, the demo and `serve` all go
//! through [`Application::build`], which binds the listener and returns the
//! address, so they share one startup path.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::net::TcpListener;

use crate::config::{Config, EphemeralBackend};
use crate::domain::code::CodeHasher;
use crate::ephemeral::typed::RateLimiter;
use crate::ephemeral::{MemoryStore, RedisStore, SharedEphemeral};
use crate::federation::Providers;
use crate::login::session::Sessions;
use crate::store::{Region, Store};

/// Everything a request handler may use; shared by all requests.
pub struct AppContext {
    pub config: Config,
    pub store: Store,
    pub ephemeral: SharedEphemeral,
    pub providers: Providers,
    pub sessions: Sessions,
    pub rate: RateLimiter,
    pub codes: CodeHasher,
}

pub type AppState = Arc<AppContext>;

impl AppContext {
    /// Keyed hash for looking records up by SNILS or subject without storing
    /// them in clear next to the attempt.
    pub fn lookup_hash(&self, kind: &str, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(
            self.config.security.hmac_key.expose().as_bytes(),
        )
        .unwrap_or_else(|_| unreachable_hmac());
        mac.update(kind.as_bytes());
        mac.update(b":");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// `{public_url}/auth/callback/{provider}`: the exact redirect URI.
    pub fn redirect_uri(&self, provider: &str) -> String {
        format!(
            "{}/auth/callback/{provider}",
            self.config.server.public_url.trim_end_matches('/')
        )
    }
}

// HMAC accepts keys of any length; this cannot happen.
fn unreachable_hmac() -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(b"0").expect("HMAC takes any key length")
}

pub struct Application {
    listener: TcpListener,
    address: SocketAddr,
    state: AppState,
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
        let address = listener.local_addr()?;
        let state = Arc::new(build_context(config).await?);
        Ok(Application {
            listener,
            address,
            state,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let app = crate::web::router(self.state.clone());
        axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await?;
        Ok(())
    }
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

pub async fn build_context(config: Config) -> anyhow::Result<AppContext> {
    let store = Store::connect(
        config.database.url.expose(),
        config.database.max_connections,
    )
    .await
    .map_err(|e| anyhow::anyhow!("database: {e}"))?;
    store
        .migrate()
        .await
        .map_err(|e| anyhow::anyhow!("database migrations: {e}"))?;
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
    let ephemeral: SharedEphemeral = match config.ephemeral.backend {
        EphemeralBackend::Memory => Arc::new(MemoryStore::new(config.ephemeral.memory_max_entries)),
        EphemeralBackend::Redis => {
            let url = config
                .ephemeral
                .redis_url
                .as_ref()
                .map(|u| u.expose().to_string())
                .unwrap_or_default();
            Arc::new(
                RedisStore::connect(&url, &config.ephemeral.key_prefix)
                    .await
                    .map_err(|e| anyhow::anyhow!("redis: {e}"))?,
            )
        }
    };
    let providers = Providers::from_config(&config)?;
    let sessions = Sessions::new(
        ephemeral.clone(),
        Duration::from_secs(config.server.session_idle_minutes * 60),
        Duration::from_secs(config.server.session_absolute_hours * 3600),
    );
    let codes = CodeHasher::new(config.security.hmac_key.expose().as_bytes());
    Ok(AppContext {
        rate: RateLimiter::new(ephemeral.clone()),
        config,
        store,
        ephemeral,
        providers,
        sessions,
        codes,
    })
}

/// `esia-link serve`.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    tracing::info!(address = %app.address(), "esia-link listening");
    app.run_until_stopped().await
}

/// `esia-link migrate`.
pub async fn migrate_only(config: Config) -> anyhow::Result<()> {
    let store = Store::connect(config.database.url.expose(), 1)
        .await
        .map_err(|e| anyhow::anyhow!("database: {e}"))?;
    store
        .migrate()
        .await
        .map_err(|e| anyhow::anyhow!("database migrations: {e}"))?;
    println!("migrations applied ({:?})", store.backend());
    Ok(())
}
