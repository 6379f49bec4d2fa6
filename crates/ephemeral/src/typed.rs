//! JSON values and rate limits on top of [`EphemeralStore`].

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{EphemeralError, EphemeralStore, SharedEphemeral};

pub async fn put_json<T: Serialize>(
    store: &dyn EphemeralStore,
    key: &str,
    value: &T,
    ttl: Duration,
) -> Result<(), EphemeralError> {
    let bytes = serde_json::to_vec(value).map_err(|e| EphemeralError::Corrupt(e.to_string()))?;
    store.put(key, &bytes, ttl).await
}

pub async fn get_json<T: DeserializeOwned>(
    store: &dyn EphemeralStore,
    key: &str,
) -> Result<Option<T>, EphemeralError> {
    decode(store.get(key).await?)
}

pub async fn take_json<T: DeserializeOwned>(
    store: &dyn EphemeralStore,
    key: &str,
) -> Result<Option<T>, EphemeralError> {
    decode(store.take(key).await?)
}

/// A counter made by [`EphemeralStore::incr`]; 0 when absent.
pub async fn get_counter(store: &dyn EphemeralStore, key: &str) -> Result<u64, EphemeralError> {
    Ok(store
        .get(key)
        .await?
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.parse().ok())
        .unwrap_or(0))
}

fn decode<T: DeserializeOwned>(bytes: Option<Vec<u8>>) -> Result<Option<T>, EphemeralError> {
    bytes
        .map(|b| serde_json::from_slice(&b).map_err(|e| EphemeralError::Corrupt(e.to_string())))
        .transpose()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    pub allowed: bool,
    pub count: u64,
    pub limit: u64,
}

/// Fixed-window counters: `limit` hits per `window` and bucket.
#[derive(Clone)]
pub struct RateLimiter {
    store: SharedEphemeral,
}

impl RateLimiter {
    pub fn new(store: SharedEphemeral) -> RateLimiter {
        RateLimiter { store }
    }

    pub async fn hit(
        &self,
        bucket: &str,
        limit: u64,
        window: Duration,
    ) -> Result<RateDecision, EphemeralError> {
        let count = self.store.incr(&format!("rate:{bucket}"), window).await?;
        Ok(RateDecision {
            allowed: count <= limit,
            count,
            limit,
        })
    }

    /// The bucket's count in its current window, without counting.
    pub async fn current(&self, bucket: &str) -> Result<u64, EphemeralError> {
        get_counter(self.store.as_ref(), &format!("rate:{bucket}")).await
    }
}
