//! Where the Redis primary is: one fixed address, or the one the sentinels
//! name now. Behind Sentinel, a command that finds the primary gone (no
//! connection, no answer) or demoted (`READONLY`) sends a search: the
//! sentinels are asked again until they name a primary that answers as
//! one, and the commands that follow go there.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::sentinel::{Sentinel, SentinelNodeConnectionInfo};
use redis::{Client, IntoConnectionInfo, RedisConnectionInfo, RedisError, RedisResult};

/// How the service reaches Redis.
#[derive(Clone)]
pub enum RedisTarget {
    /// One Redis at this URL.
    Url(String),
    /// The primary the sentinels name.
    Sentinel(SentinelTarget),
}

/// The sentinels, the name they monitor the primary under, and the
/// credentials for the sentinels and for the Redis nodes they name.
#[derive(Clone, Default)]
pub struct SentinelTarget {
    /// `redis://host:26379`, one per sentinel.
    pub sentinels: Vec<String>,
    pub master_name: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub db: i64,
    pub sentinel_username: Option<String>,
    pub sentinel_password: Option<String>,
}

impl std::fmt::Debug for RedisTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RedisTarget::Url(_) => f.write_str("RedisTarget::Url(********)"),
            RedisTarget::Sentinel(target) => f
                .debug_struct("RedisTarget::Sentinel")
                .field("sentinels", &target.sentinels)
                .field("master_name", &target.master_name)
                .field("db", &target.db)
                .finish_non_exhaustive(),
        }
    }
}

/// Every command answers within this, or counts as Redis being down.
pub(crate) const COMMAND_TIMEOUT: Duration = Duration::from_millis(800);
/// One round of asking the sentinels (and checking the primary they name).
const ASK_TIMEOUT: Duration = Duration::from_secs(2);
/// Between two rounds while no primary answers (the sentinels are still
/// electing one).
const ASK_AGAIN: Duration = Duration::from_millis(200);
/// A search gives up after this; the next failing command starts another.
const SEARCH_FOR: Duration = Duration::from_secs(60);

/// The primary in use: its address and a connection to it.
pub(crate) struct Current {
    pub(crate) client: Client,
    pub(crate) connection: ConnectionManager,
    pub(crate) address: String,
}

/// The sentinels and what to ask them.
struct Finder {
    sentinel: tokio::sync::Mutex<Sentinel>,
    master_name: String,
    node: SentinelNodeConnectionInfo,
}

pub(crate) struct Primary {
    current: RwLock<Arc<Current>>,
    finder: Option<Finder>,
    searching: AtomicBool,
    /// Unix milliseconds until which Redis counts as down (the store's
    /// circuit); a move to a new primary closes it at once.
    pub(crate) down_until: AtomicI64,
}

fn manager_config() -> ConnectionManagerConfig {
    // Short timeouts and one quick retry: a request must not wait for a
    // reconnect loop while Redis is down (it reconnects when it is back).
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(500)))
        .set_response_timeout(Some(COMMAND_TIMEOUT))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(200))
}

async fn connect(client: Client) -> RedisResult<Current> {
    let address = client.get_connection_info().addr().to_string();
    let connection = ConnectionManager::new_with_config(client.clone(), manager_config()).await?;
    Ok(Current {
        client,
        connection,
        address,
    })
}

fn with_credentials(
    info: RedisConnectionInfo,
    username: Option<&str>,
    password: Option<&str>,
) -> RedisConnectionInfo {
    let info = match username {
        Some(username) => info.set_username(username),
        None => info,
    };
    match password {
        Some(password) => info.set_password(password),
        None => info,
    }
}

fn timed_out(what: &str) -> RedisError {
    RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!(
            "{what} did not answer within {} ms",
            ASK_TIMEOUT.as_millis()
        ),
    ))
}

impl Finder {
    fn new(target: &SentinelTarget) -> RedisResult<Finder> {
        let sentinels = target
            .sentinels
            .iter()
            .map(|url| {
                let info = url.as_str().into_connection_info()?;
                let redis = with_credentials(
                    info.redis_settings().clone(),
                    target.sentinel_username.as_deref(),
                    target.sentinel_password.as_deref(),
                );
                Ok(info.set_redis_settings(redis))
            })
            .collect::<RedisResult<Vec<_>>>()?;
        let node =
            SentinelNodeConnectionInfo::default().set_redis_connection_info(with_credentials(
                RedisConnectionInfo::default().set_db(target.db),
                target.username.as_deref(),
                target.password.as_deref(),
            ));
        Ok(Finder {
            sentinel: tokio::sync::Mutex::new(Sentinel::build(sentinels)?),
            master_name: target.master_name.clone(),
            node,
        })
    }

    /// The primary the sentinels name, once it answered `ROLE` as primary.
    async fn ask(&self) -> RedisResult<Client> {
        let mut sentinel = self.sentinel.lock().await;
        tokio::time::timeout(
            ASK_TIMEOUT,
            sentinel.async_master_for(&self.master_name, Some(&self.node)),
        )
        .await
        .map_err(|_| timed_out("the sentinels"))?
    }
}

impl Primary {
    pub(crate) async fn connect(target: &RedisTarget) -> RedisResult<Primary> {
        let (client, finder) = match target {
            RedisTarget::Url(url) => (Client::open(url.as_str())?, None),
            RedisTarget::Sentinel(target) => {
                let finder = Finder::new(target)?;
                (finder.ask().await?, Some(finder))
            }
        };
        let current = connect(client).await?;
        if finder.is_some() {
            tracing::info!(primary = %current.address, "Redis primary found through the sentinels");
        }
        Ok(Primary {
            current: RwLock::new(Arc::new(current)),
            finder,
            searching: AtomicBool::new(false),
            down_until: AtomicI64::new(0),
        })
    }

    pub(crate) fn current(&self) -> Arc<Current> {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Whether `used` is still the primary in use (a failure on one that
    /// was already left behind says nothing about the new one).
    pub(crate) fn is_current(&self, used: &Arc<Current>) -> bool {
        Arc::ptr_eq(used, &self.current())
    }

    /// The primary failed a command in a way that says it may have moved:
    /// behind Sentinel, starts a search unless one runs already.
    pub(crate) fn suspect(self: &Arc<Self>) {
        if self.finder.is_none() || self.searching.swap(true, Ordering::AcqRel) {
            return;
        }
        let primary = self.clone();
        tokio::spawn(async move {
            primary.search().await;
            primary.searching.store(false, Ordering::Release);
        });
    }

    /// Asks the sentinels until they name a primary that answers: the same
    /// one (it was a passing failure) or a new one, which is then used.
    async fn search(&self) {
        let Some(finder) = &self.finder else { return };
        let started = tokio::time::Instant::now();
        let mut rounds = 0u32;
        while started.elapsed() < SEARCH_FOR {
            rounds += 1;
            match finder.ask().await {
                Ok(client) => {
                    let address = client.get_connection_info().addr().to_string();
                    let old = self.current();
                    if address == old.address {
                        return;
                    }
                    match tokio::time::timeout(ASK_TIMEOUT, connect(client)).await {
                        Ok(Ok(new)) => {
                            tracing::warn!(
                                from = %old.address,
                                to = %new.address,
                                after_ms = started.elapsed().as_millis() as u64,
                                "the Redis primary moved; following it"
                            );
                            match self.current.write() {
                                Ok(mut current) => *current = Arc::new(new),
                                Err(poisoned) => *poisoned.into_inner() = Arc::new(new),
                            }
                            self.down_until.store(0, Ordering::Relaxed);
                            return;
                        }
                        Ok(Err(error)) => {
                            tracing::debug!(%error, %address, "the new Redis primary refused a connection")
                        }
                        Err(_) => tracing::debug!(%address, "the new Redis primary did not answer"),
                    }
                }
                Err(error) => {
                    // Expected while the sentinels elect a new primary.
                    if rounds == 1 || rounds.is_multiple_of(25) {
                        tracing::warn!(%error, "asking the sentinels for the Redis primary");
                    }
                }
            }
            tokio::time::sleep(ASK_AGAIN).await;
        }
        tracing::error!(
            seconds = SEARCH_FOR.as_secs(),
            "the sentinels named no Redis primary that answers"
        );
    }
}
