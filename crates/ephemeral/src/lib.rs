//! Short-lived state behind one trait: login transactions, sessions,
//! rate-limit counters, one-time tokens. In-process for one node, Redis when
//! several instances share the work.

mod memory;
mod redis_primary;
mod redis_store;
pub mod sessions;
pub mod typed;

use std::sync::Arc;
use std::time::Duration;

pub use bytes::Bytes;

pub use memory::MemoryStore;
pub use redis_primary::{RedisTarget, SentinelTarget};
pub use redis_store::{Heard, RedisStore};

#[derive(Debug, thiserror::Error)]
pub enum EphemeralError {
    #[error("ephemeral store unavailable: {0}")]
    Unavailable(String),
    #[error("corrupt value: {0}")]
    Corrupt(String),
    /// The in-process store's quota for this kind of entry is used up.
    #[error("the in-process store is full ({0})")]
    Full(&'static str),
}

#[async_trait::async_trait]
pub trait EphemeralStore: Send + Sync + 'static {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), EphemeralError>;
    /// Stores only if the key is absent; `true` when stored.
    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, EphemeralError>;
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError>;
    /// As [`EphemeralStore::put`], for a large value handed over: the
    /// in-process store keeps these very bytes rather than a copy.
    async fn put_shared(
        &self,
        key: &str,
        value: Bytes,
        ttl: Duration,
    ) -> Result<(), EphemeralError> {
        self.put(key, &value, ttl).await
    }
    /// As [`EphemeralStore::get`]; the in-process store hands out the bytes
    /// it keeps, shared, rather than a copy of them.
    async fn get_shared(&self, key: &str) -> Result<Option<Bytes>, EphemeralError> {
        Ok(self.get(key).await?.map(Bytes::from))
    }
    /// Gets and deletes atomically: of two concurrent takes, one wins.
    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError>;
    async fn delete(&self, key: &str) -> Result<(), EphemeralError>;
    /// Sets a new time to live; `false` when the key is absent.
    async fn expire(&self, key: &str, ttl: Duration) -> Result<bool, EphemeralError>;
    /// Increments a counter that lives `window` from its first increment.
    async fn incr(&self, key: &str, window: Duration) -> Result<u64, EphemeralError>;
    fn backend_name(&self) -> &'static str;

    /// Whether other processes share this store: then what one instance
    /// caches must hear the others' invalidations ([`EphemeralStore::publish`]).
    fn is_shared(&self) -> bool {
        false
    }

    /// Sends `message` to every instance listening on `channel`. A store
    /// no other process shares has nobody else to tell.
    async fn publish(&self, _channel: &str, _message: &str) -> Result<(), EphemeralError> {
        Ok(())
    }

    /// Answers when the store works (readiness checks).
    async fn ping(&self) -> Result<(), EphemeralError> {
        self.get("ping:readiness").await.map(|_| ())
    }
}

pub type SharedEphemeral = Arc<dyn EphemeralStore>;
