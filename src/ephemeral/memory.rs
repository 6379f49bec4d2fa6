//! The in-process store: one mutex-guarded map with deadlines. Expired
//! entries are dropped on access and by a sweep every few thousand writes;
//! past `max_entries` the entry closest to expiry is evicted.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use std::sync::Mutex;

use super::{EphemeralError, EphemeralStore};

const SWEEP_EVERY: u64 = 4096;

struct Entry {
    value: Vec<u8>,
    deadline: Instant,
}

struct Inner {
    map: HashMap<String, Entry>,
    writes: u64,
}

/// The lock is never held across an await.
pub struct MemoryStore {
    inner: Mutex<Inner>,
    max_entries: usize,
}

impl MemoryStore {
    pub fn new(max_entries: usize) -> MemoryStore {
        MemoryStore {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                writes: 0,
            }),
            max_entries: max_entries.max(1),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner, Instant) -> T) -> T {
        let mut guard = match self.inner.lock() {
            Ok(guard) => guard,
            // A panic while holding the lock leaves a consistent map: keep going.
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard, Instant::now())
    }

    fn insert(&self, inner: &mut Inner, now: Instant, key: &str, value: Vec<u8>, ttl: Duration) {
        inner.writes += 1;
        if inner.writes % SWEEP_EVERY == 0 {
            inner.map.retain(|_, e| e.deadline > now);
        }
        if inner.map.len() >= self.max_entries && !inner.map.contains_key(key) {
            inner.map.retain(|_, e| e.deadline > now);
            if inner.map.len() >= self.max_entries {
                let victim = inner
                    .map
                    .iter()
                    .min_by_key(|(_, e)| e.deadline)
                    .map(|(k, _)| k.clone());
                if let Some(victim) = victim {
                    inner.map.remove(&victim);
                }
            }
        }
        inner.map.insert(
            key.to_string(),
            Entry {
                value,
                deadline: now + ttl,
            },
        );
    }
}

fn live<'a>(map: &'a HashMap<String, Entry>, key: &str, now: Instant) -> Option<&'a Entry> {
    map.get(key).filter(|e| e.deadline > now)
}

#[async_trait::async_trait]
impl EphemeralStore for MemoryStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), EphemeralError> {
        self.with(|inner, now| self.insert(inner, now, key, value.to_vec(), ttl));
        Ok(())
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, EphemeralError> {
        Ok(self.with(|inner, now| {
            if live(&inner.map, key, now).is_some() {
                return false;
            }
            self.insert(inner, now, key, value.to_vec(), ttl);
            true
        }))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError> {
        Ok(self.with(|inner, now| live(&inner.map, key, now).map(|e| e.value.clone())))
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError> {
        Ok(self.with(|inner, now| {
            inner
                .map
                .remove(key)
                .filter(|e| e.deadline > now)
                .map(|e| e.value)
        }))
    }

    async fn delete(&self, key: &str) -> Result<(), EphemeralError> {
        self.with(|inner, _| inner.map.remove(key));
        Ok(())
    }

    async fn expire(&self, key: &str, ttl: Duration) -> Result<bool, EphemeralError> {
        Ok(self.with(|inner, now| match inner.map.get_mut(key) {
            Some(entry) if entry.deadline > now => {
                entry.deadline = now + ttl;
                true
            }
            _ => false,
        }))
    }

    async fn incr(&self, key: &str, window: Duration) -> Result<u64, EphemeralError> {
        self.with(|inner, now| {
            let current = live(&inner.map, key, now).map(|e| (e.value.clone(), e.deadline));
            let (count, deadline) = match current {
                Some((bytes, deadline)) => {
                    let text = String::from_utf8(bytes)
                        .map_err(|_| EphemeralError::Corrupt(format!("counter {key}")))?;
                    let n: u64 = text
                        .parse()
                        .map_err(|_| EphemeralError::Corrupt(format!("counter {key}")))?;
                    (n.saturating_add(1), deadline)
                }
                None => (1, now + window),
            };
            let ttl = deadline.saturating_duration_since(now);
            self.insert(inner, now, key, count.to_string().into_bytes(), ttl);
            Ok(count)
        })
    }

    fn backend_name(&self) -> &'static str {
        "memory"
    }
}
