//! Redis: shared by every instance. SET PX / SET NX PX, GETDEL for take-once,
//! INCR + PEXPIRE in one script for counters. The primary is one fixed
//! address or the one the sentinels name ([`RedisTarget`]).

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};

use super::redis_primary::{Primary, COMMAND_TIMEOUT};
use super::{EphemeralError, EphemeralStore, RedisTarget};

/// INCR, and give the counter its window when it is new (or lost its TTL),
/// in one atomic step.
const INCR_WITH_WINDOW: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
";

/// While Redis is known to be down, commands fail at once for this long;
/// then the next command probes it again (half-open circuit).
const CIRCUIT_OPEN: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct RedisStore {
    primary: Arc<Primary>,
    prefix: String,
    incr: Script,
}

fn unavailable(error: redis::RedisError) -> EphemeralError {
    EphemeralError::Unavailable(error.to_string())
}

fn millis(ttl: Duration) -> u64 {
    (ttl.as_millis() as u64).max(1)
}

/// A node that answers but is no longer the primary: a replica refusing a
/// write (`READONLY`), or one that lost its primary (`MASTERDOWN`).
fn is_demoted(error: &redis::RedisError) -> bool {
    matches!(error.code(), Some("READONLY" | "MASTERDOWN"))
        || error.to_string().contains("READONLY")
}

impl RedisStore {
    /// One Redis at `url`.
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisStore, EphemeralError> {
        Self::connect_to(&RedisTarget::Url(url.to_string()), prefix).await
    }

    /// The Redis `target` names: fixed, or the primary behind Sentinel
    /// (followed across failovers).
    pub async fn connect_to(
        target: &RedisTarget,
        prefix: &str,
    ) -> Result<RedisStore, EphemeralError> {
        let primary = Primary::connect(target).await.map_err(unavailable)?;
        Ok(RedisStore {
            primary: Arc::new(primary),
            prefix: prefix.to_string(),
            incr: Script::new(INCR_WITH_WINDOW),
        })
    }

    /// `host:port` of the Redis in use (behind Sentinel: the primary now).
    pub fn primary_address(&self) -> String {
        self.primary.current().address.clone()
    }

    /// Runs one command under the timeout and the circuit.
    async fn guarded<T, F, Fut>(&self, op: F) -> Result<T, EphemeralError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let now = chrono::Utc::now().timestamp_millis();
        if now < self.primary.down_until.load(Ordering::Relaxed) {
            return Err(EphemeralError::Unavailable(
                "Redis is down (re-probed every second)".into(),
            ));
        }
        let used = self.primary.current();
        // A failure of a primary already left behind (a command in flight
        // during a move) must not open the circuit on the new one.
        let trip = || {
            if self.primary.is_current(&used) {
                self.primary
                    .down_until
                    .store(now + CIRCUIT_OPEN.as_millis() as i64, Ordering::Relaxed);
                self.primary.suspect();
            }
        };
        match tokio::time::timeout(COMMAND_TIMEOUT, op(used.connection.clone())).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => {
                if error.is_io_error()
                    || error.is_connection_dropped()
                    || error.is_connection_refusal()
                    || error.is_timeout()
                {
                    trip();
                } else if is_demoted(&error) {
                    self.primary.suspect();
                }
                Err(unavailable(error))
            }
            Err(_) => {
                trip();
                Err(EphemeralError::Unavailable(format!(
                    "Redis did not answer within {} ms",
                    COMMAND_TIMEOUT.as_millis()
                )))
            }
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

#[async_trait::async_trait]
impl EphemeralStore for RedisStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), EphemeralError> {
        let mut command = redis::cmd("SET");
        command
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(millis(ttl));
        self.guarded(|mut c| async move { command.query_async::<()>(&mut c).await })
            .await
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, EphemeralError> {
        let mut command = redis::cmd("SET");
        command
            .arg(self.key(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl));
        let answer: Option<String> = self
            .guarded(|mut c| async move { command.query_async(&mut c).await })
            .await?;
        Ok(answer.is_some())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError> {
        let key = self.key(key);
        self.guarded(|mut c| async move { c.get(key).await }).await
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError> {
        let mut command = redis::cmd("GETDEL");
        command.arg(self.key(key));
        self.guarded(|mut c| async move { command.query_async(&mut c).await })
            .await
    }

    async fn delete(&self, key: &str) -> Result<(), EphemeralError> {
        let key = self.key(key);
        self.guarded(|mut c| async move { c.del::<_, ()>(key).await })
            .await
    }

    async fn expire(&self, key: &str, ttl: Duration) -> Result<bool, EphemeralError> {
        let mut command = redis::cmd("PEXPIRE");
        command.arg(self.key(key)).arg(millis(ttl));
        let set: i64 = self
            .guarded(|mut c| async move { command.query_async(&mut c).await })
            .await?;
        Ok(set == 1)
    }

    async fn incr(&self, key: &str, window: Duration) -> Result<u64, EphemeralError> {
        let mut invocation = self.incr.key(self.key(key));
        invocation.arg(millis(window));
        let n: i64 = self
            .guarded(|mut c| async move { invocation.invoke_async(&mut c).await })
            .await?;
        Ok(n.max(0) as u64)
    }

    fn backend_name(&self) -> &'static str {
        "redis"
    }

    fn is_shared(&self) -> bool {
        true
    }

    async fn publish(&self, channel: &str, message: &str) -> Result<(), EphemeralError> {
        let (channel, message) = (self.key(channel), message.to_string());
        self.guarded(|mut c| async move { c.publish::<_, _, ()>(channel, message).await })
            .await
    }
}

/// What a listener hears on its channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard<'a> {
    /// Subscribed (again): from now on every message arrives; what was
    /// published while unsubscribed is lost.
    Subscribed,
    /// The subscription is gone (or Redis unreachable); messages may be
    /// missed until the next `Subscribed`.
    Lost,
    Message(&'a str),
}

/// How often a listener checks its subscription by hearing its own ping.
const LISTEN_PING: Duration = Duration::from_secs(5);
/// A subscription that has not heard its own ping for this long is lost.
const LISTEN_DEAF: Duration = Duration::from_secs(12);
const PING: &str = "ping";

impl RedisStore {
    /// Listens on `channel` (under the key prefix) for as long as the
    /// process runs, resubscribing after every loss. The subscription is
    /// checked every few seconds by publishing a ping to it: a connection
    /// that silently died is noticed and reported as `Lost`.
    pub fn listen(
        &self,
        channel: &str,
        on: impl Fn(Heard<'_>) + Send + Sync + 'static,
    ) -> tokio::task::JoinHandle<()> {
        use futures_util::StreamExt;
        let (store, channel) = (self.clone(), self.key(channel));
        tokio::spawn(async move {
            loop {
                let client = store.primary.current().client.clone();
                let subscribed = async {
                    let mut pubsub = client.get_async_pubsub().await?;
                    pubsub.subscribe(&channel).await?;
                    redis::RedisResult::Ok(pubsub)
                };
                let pubsub = match tokio::time::timeout(COMMAND_TIMEOUT, subscribed).await {
                    Ok(Ok(pubsub)) => pubsub,
                    Ok(Err(error)) => {
                        tracing::warn!(%error, "cannot subscribe to the invalidation channel");
                        store.primary.suspect();
                        on(Heard::Lost);
                        tokio::time::sleep(CIRCUIT_OPEN).await;
                        continue;
                    }
                    Err(_) => {
                        tracing::warn!("subscribing to the invalidation channel timed out");
                        store.primary.suspect();
                        on(Heard::Lost);
                        tokio::time::sleep(CIRCUIT_OPEN).await;
                        continue;
                    }
                };
                on(Heard::Subscribed);
                let mut messages = pubsub.into_on_message();
                let mut ping = tokio::time::interval(LISTEN_PING);
                let mut heard_ping = tokio::time::Instant::now();
                loop {
                    tokio::select! {
                        message = messages.next() => {
                            let Some(message) = message else { break };
                            match message.get_payload::<String>() {
                                Ok(text) if text == PING => {
                                    heard_ping = tokio::time::Instant::now();
                                }
                                Ok(text) => on(Heard::Message(&text)),
                                // Unreadable: treat as "everything changed".
                                Err(_) => on(Heard::Message("*")),
                            }
                        }
                        _ = ping.tick() => {
                            if heard_ping.elapsed() > LISTEN_DEAF {
                                tracing::warn!("the invalidation channel went deaf; resubscribing");
                                break;
                            }
                            let (channel, mut connection) =
                                (channel.clone(), store.primary.current().connection.clone());
                            tokio::spawn(async move {
                                let _ = tokio::time::timeout(
                                    COMMAND_TIMEOUT,
                                    connection.publish::<_, _, ()>(channel, PING),
                                )
                                .await;
                            });
                        }
                    }
                }
                // Lost with its primary, perhaps: behind Sentinel the next
                // subscription goes to the one the sentinels name.
                store.primary.suspect();
                on(Heard::Lost);
                tokio::time::sleep(CIRCUIT_OPEN).await;
            }
        })
    }
}
