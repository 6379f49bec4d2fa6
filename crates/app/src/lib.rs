//! The application layer: the use cases (start and complete a login, load
//! the account behind a session, log out) over the layers below. It owns the
//! context the use cases need; startup builds it, web handlers call it.
//!
//! Handlers never reach the store or the ephemeral store themselves: what
//! they need is a method here, returning a typed result or an [`AppError`].
//!
//! The use cases are grouped by area, each a folder with a handle on the
//! context, so that "where is X" is answered by the layout:
//!
//! | handle | folder | what |
//! | --- | --- | --- |
//! | [`App::login`] | `login/` | start and complete a State Services login, the outcome, password login, linking by password or code, a parent's children from ESIA |
//! | [`App::account`] | `account/` | the session and the person behind it, logout, the activation wizard, recovery, passwords |
//! | [`App::family`] | `family/` | children, trusted persons, invitations, notifications, who may see whose diary |
//! | [`App::school`] | `school/` | schools, their tokens, rosters, activation codes |
//! | [`App::console`] | `console/` | support: diagnosis, the audit log, operators' corrections and actions |
//! | [`App::apps`] | `apps/` | esia-link as the OpenID Provider of the diary's apps: codes, tokens, userinfo, logout |
//!
//! Types several areas share (the session, the operator's role, …) live in
//! [`shared`], so that no area imports another one in a circle.

pub mod access_cache;
pub mod account;
pub mod apps;
pub mod clock;
pub mod console;
mod error;
pub mod family;
pub mod login;
pub mod school;
pub mod shared;
pub mod telemetry;

use config::Config;
use domain::code::CodeHasher;
use ephemeral::sessions::Sessions;
use ephemeral::typed::RateLimiter;
use ephemeral::SharedEphemeral;
use federation::Providers;
use store::Store;

pub use error::AppError;

/// The providers' names, for buttons and pages.
#[derive(Debug, Clone)]
pub struct ProviderInfo {
    pub id: String,
    pub display_name_ru: String,
    pub display_name_en: String,
}

/// Everything the use cases share; one per process, behind an `Arc`.
pub struct App {
    config: Config,
    store: Store,
    ephemeral: SharedEphemeral,
    providers: Providers,
    sessions: Sessions,
    rate: RateLimiter,
    codes: CodeHasher,
    journal: login::journal::Journal,
    /// Which temporary refusals get an attempt row (one per window).
    refusals: login::refusals::RefusalSampler,
    outbox: std::sync::Arc<dyn notify::Outbox>,
    /// Where every use case reads `now` (see [`clock`]).
    clock: std::sync::Arc<dyn clock::Clock>,
    /// The last answer of [`App::idp_reachability`] and when it was taken.
    idp_probe: tokio::sync::Mutex<Option<(std::time::Instant, IdpReachability)>>,
    /// What access checks read, until something about the pupil changes.
    access_cache: std::sync::Arc<access_cache::AccessCache>,
    /// Where this instance tells the others that cached facts changed:
    /// the shared ephemeral store (tools connect to it for this alone).
    peers: Option<SharedEphemeral>,
    /// The task that hears the others (aborted with the app).
    listener: Option<tokio::task::JoinHandle<()>>,
    /// esia-link as the diary apps' OpenID Provider, when `[apps]` is set.
    apps: Option<std::sync::Arc<::provider::Provider>>,
    /// Back-channel logouts were queued here: the sender need not wait for
    /// its next round.
    logouts_queued: tokio::sync::Notify,
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(listener) = self.listener.take() {
            listener.abort();
        }
    }
}

/// Declares an area's handle: a borrowed view of the context whose methods
/// are that area's use cases (`app.family().invite_trusted(...)`).
macro_rules! area {
    ($(#[$doc:meta])* $handle:ident, $method:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub struct $handle<'a>(&'a App);

        impl App {
            $(#[$doc])*
            pub fn $method(&self) -> $handle<'_> {
                $handle(self)
            }
        }

        impl std::ops::Deref for $handle<'_> {
            type Target = App;
            fn deref(&self) -> &App {
                self.0
            }
        }
    };
}

area!(
    /// Logging in: State Services, the diary password, linking.
    Logins, login
);
area!(
    /// The person's own account: session, activation, recovery.
    Accounts, account
);
area!(
    /// Families: children, trusted persons, invitations, access.
    Families, family
);
area!(
    /// Schools: rosters, codes, school tokens.
    Schools, school
);
area!(
    /// The support console: diagnosis, audit, operator actions.
    Console, console
);
area!(
    /// The diary's apps: esia-link as their OpenID Provider.
    Apps, apps
);

/// The pub/sub channel (under the key prefix) of access-cache invalidations.
pub const ACCESS_CHANNEL: &str = "access-invalidate";

/// Per provider id: reachable, or why not.
pub type IdpReachability = Vec<(String, Result<(), String>)>;

/// `/readyz` asks the IdPs at most this often (load balancers poll often).
const IDP_PROBE_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// How long `/readyz` waits for each of its checks (they run side by side),
/// so that it answers within a second whatever is down: a load balancer
/// that times out on the probe itself learns nothing.
pub const READY_BUDGET: std::time::Duration = std::time::Duration::from_millis(800);

impl App {
    /// Must run inside a Tokio runtime (it starts the journal's writer).
    pub fn new(
        config: Config,
        store: Store,
        ephemeral: SharedEphemeral,
        providers: Providers,
        outbox: std::sync::Arc<dyn notify::Outbox>,
        clock: std::sync::Arc<dyn clock::Clock>,
    ) -> App {
        let sessions = Sessions::new(
            ephemeral.clone(),
            std::time::Duration::from_secs(config.server.session_idle_minutes * 60),
            std::time::Duration::from_secs(config.server.session_absolute_hours * 3600),
        );
        let codes = CodeHasher::new(config.security.hmac_key.expose().as_bytes());
        let shared = ephemeral.is_shared();
        // A shared store's instance serves from the cache only once it
        // hears the others (see `listen_to_peers`).
        let access_cache = std::sync::Arc::new(access_cache::AccessCache::new(
            std::time::Duration::from_secs(config.access.cache_seconds),
            config.access.cache_entries,
            !shared,
        ));
        App {
            access_cache,
            peers: shared.then(|| ephemeral.clone()),
            listener: None,
            apps: None,
            logouts_queued: tokio::sync::Notify::new(),
            journal: login::journal::Journal::start(store.clone()),
            refusals: login::refusals::RefusalSampler::default(),
            rate: RateLimiter::new(ephemeral.clone()),
            config,
            store,
            ephemeral,
            providers,
            sessions,
            codes,
            outbox,
            clock,
            idp_probe: tokio::sync::Mutex::new(None),
        }
    }

    /// Serves the diary's apps as their OpenID Provider (startup builds
    /// it from `[apps]` and `[[clients]]`).
    pub fn serve_apps(&mut self, provider: ::provider::Provider) {
        self.apps = Some(std::sync::Arc::new(provider));
    }

    /// Ends every session of the account, on every instance, and the
    /// grants the diary's apps got in them (the apps are told by
    /// back-channel logout): "log out everywhere", a password change, an
    /// unlink, an activation reset.
    pub(crate) async fn end_all_sessions(
        &self,
        account_id: uuid::Uuid,
        actor: &str,
        reason: &str,
    ) -> Result<(), AppError> {
        self.sessions.end_all(account_id).await?;
        self.apps()
            .account_sessions_ended(account_id, actor, reason)
            .await
    }

    /// Hears the other instances' invalidations through `redis` for as
    /// long as the app lives (startup calls it for a shared store).
    pub fn listen_to_peers(&mut self, redis: &ephemeral::RedisStore) {
        let cache = self.access_cache.clone();
        self.listener = Some(redis.listen(ACCESS_CHANNEL, move |heard| cache.heard(heard)));
    }

    /// Tells the other instances, through `peers`, that cached facts
    /// changed (a tool on its own in-process store, e.g. a roster import).
    pub fn tell_peers_through(&mut self, peers: SharedEphemeral) {
        self.peers = Some(peers);
    }

    /// Facts an access check reads changed: drops them here and tells the
    /// other instances. Called by every use case that changes links,
    /// invitations or rosters, after its transaction committed.
    pub async fn access_changed(&self, what: &[access_cache::Invalidation]) {
        for &what in what {
            self.access_cache.invalidate(what);
        }
        if let Some(peers) = &self.peers {
            let message = access_cache::Invalidation::message(what);
            if let Err(error) = peers.publish(ACCESS_CHANNEL, &message).await {
                // Their subscriptions notice Redis being down and stop
                // serving from the cache; an entry lives `cache_seconds` at most.
                tracing::warn!(%error, "could not tell the other instances about an access change");
            }
        }
    }

    pub fn access_cache(&self) -> &access_cache::AccessCache {
        &self.access_cache
    }

    /// Where e-mail and SMS go (SMTP, or the file outbox tests read).
    pub fn outbox(&self) -> &dyn notify::Outbox {
        self.outbox.as_ref()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// `now` for every use case: the clock the context was built with.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// The database, for the use cases of this crate only: web and the
    /// tools hold an `App` and must not reach past it (the binary keeps its
    /// own handle on the store it built, for its tools and the tests).
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// For tools and tests that inspect the ephemeral store.
    pub fn ephemeral(&self) -> &SharedEphemeral {
        &self.ephemeral
    }

    pub fn codes(&self) -> &CodeHasher {
        &self.codes
    }

    /// The configured providers, in id order.
    pub fn providers(&self) -> Vec<ProviderInfo> {
        self.providers
            .all()
            .map(|p| ProviderInfo {
                id: p.id().to_string(),
                display_name_ru: p.settings().display_name_ru.clone(),
                display_name_en: p.settings().display_name_en.clone(),
            })
            .collect()
    }

    /// A provider's configured name in `lang` (its id if unknown).
    pub fn provider_display_name(&self, id: &str, lang: i18n::Lang) -> String {
        self.providers()
            .into_iter()
            .find(|p| p.id == id)
            .map(|p| {
                lang.pick(&p.display_name_ru, &p.display_name_en)
                    .to_string()
            })
            .unwrap_or_else(|| id.to_string())
    }

    /// Reloads every provider's signing keys (SIGHUP after an ESIA
    /// certificate rotation); reports per provider.
    pub async fn reload_keys(&self) -> Vec<(String, Result<usize, String>)> {
        let mut results = Vec::new();
        for provider in self.providers.all() {
            let result = provider.reload_keys().await.map_err(|e| e.to_string());
            results.push((provider.id().to_string(), result));
        }
        results
    }

    /// Refreshes the certificate expiry gauges of every provider; `log`
    /// also warns about each certificate near or past its end.
    pub fn report_certificates(&self, log: bool) {
        self.providers
            .report_certificates(chrono::Utc::now().timestamp(), log);
    }

    /// Waits until successful logins' records are written (shutdown, tests).
    pub async fn flush(&self) {
        self.journal.flush().await;
    }

    /// Liveness including the database (within [`READY_BUDGET`]).
    pub async fn health(&self) -> Result<(), AppError> {
        within_budget(self.store.ping())
            .await
            .map_err(AppError::Internal)
    }

    /// Readiness: whether each backing store answers, by name, side by side
    /// and each within [`READY_BUDGET`]. A database known to be down (its
    /// circuit open) is reported at once.
    pub async fn readiness(&self) -> Vec<(&'static str, Result<(), String>)> {
        let (database, ephemeral) = tokio::join!(
            within_budget(self.store.ping()),
            within_budget(self.ephemeral.ping())
        );
        vec![
            ("database", database),
            (self.ephemeral.backend_name(), ephemeral),
        ]
    }

    /// Whether each IdP answers HTTP at all (its discovery document, or
    /// ESIA's authorization endpoint), at most once per 30 s. Any HTTP
    /// status counts as reachable; a refused connection or no answer
    /// within [`READY_BUDGET`] does not. The providers are asked side by
    /// side.
    pub async fn idp_reachability(&self) -> IdpReachability {
        let mut cached = self.idp_probe.lock().await;
        if let Some((at, answer)) = cached.as_ref() {
            if at.elapsed() < IDP_PROBE_TTL {
                return answer.clone();
            }
        }
        let client = federation::http_client(READY_BUDGET);
        let mut probes = tokio::task::JoinSet::new();
        for (index, provider) in self.providers.all().enumerate() {
            let settings = provider.settings();
            let url = match &settings.profile {
                federation::settings::Profile::Esia(esia) => esia.authorize_url.to_string(),
                _ => format!(
                    "{}/.well-known/openid-configuration",
                    settings.issuer.trim_end_matches('/')
                ),
            };
            let id = settings.id.clone();
            let client = client.clone();
            probes.spawn(async move {
                let result = match client {
                    Ok(client) => client
                        .get(&url)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                };
                (index, id, result)
            });
        }
        let mut answer: Vec<_> = probes.join_all().await.into_iter().collect();
        answer.sort_by_key(|(index, _, _)| *index);
        let answer: IdpReachability = answer
            .into_iter()
            .map(|(_, id, result)| (id, result))
            .collect();
        *cached = Some((std::time::Instant::now(), answer.clone()));
        answer
    }

    /// Sets the gauges that describe the service's own state (the database
    /// circuit, the journal's held records) just before `/metrics` is rendered,
    /// so they are current at every scrape.
    pub fn report_state(&self) {
        telemetry::database_circuit(self.store.database_down(), self.store.database_outages());
        self.journal.report();
    }

    /// Keyed hash for looking records up by SNILS or subject without storing
    /// them in clear next to the attempt.
    pub fn lookup_hash(&self, kind: &str, value: &str) -> String {
        // Keyed once (in `codes`), not per call.
        self.codes
            .hash_parts(&[kind.as_bytes(), b":", value.as_bytes()])
    }

    /// `{public_url}/auth/callback/{provider}`: the exact redirect URI.
    pub fn redirect_uri(&self, provider: &str) -> String {
        format!(
            "{}/auth/callback/{provider}",
            self.config.server.public_url.trim_end_matches('/')
        )
    }
}

/// A readiness check's answer, or "no answer" once [`READY_BUDGET`] is up.
async fn within_budget<E: std::fmt::Display>(
    check: impl std::future::Future<Output = Result<(), E>>,
) -> Result<(), String> {
    match tokio::time::timeout(READY_BUDGET, check).await {
        Ok(answer) => answer.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no answer within {} ms", READY_BUDGET.as_millis())),
    }
}
