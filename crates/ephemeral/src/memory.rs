//! The in-process store: mutex-guarded maps with deadlines, one per kind of
//! entry (login transactions, sessions, rate-limit counters, the rest), each
//! with its own share of `max_entries`, so that a flood of one kind cannot
//! evict another: bogus callbacks never reset a rate limit or break a login
//! in progress. Each map keeps an expiry index, so dropping expired entries
//! and evicting is O(log n), never a scan under the lock.
//!
//! When a map is full: expired entries go first; then login transactions
//! are *refused* ([`EphemeralError::Full`], a live login is never evicted);
//! other kinds evict the entry closest to expiry.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Bytes, EphemeralError, EphemeralStore};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Login,
    Session,
    Rate,
    Other,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Login, Kind::Session, Kind::Rate, Kind::Other];

    fn of(key: &str) -> Kind {
        match key.split(':').next() {
            Some("login") => Kind::Login,
            Some("session") => Kind::Session,
            Some("rate") => Kind::Rate,
            _ => Kind::Other,
        }
    }

    /// Share of `max_entries`, in percent.
    fn share(self) -> usize {
        match self {
            Kind::Login => 20,
            Kind::Session => 40,
            Kind::Rate => 20,
            Kind::Other => 20,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

struct Entry {
    /// Shared with whoever took it by [`EphemeralStore::get_shared`].
    value: Bytes,
    deadline: Instant,
    seq: u64,
}

/// One kind's entries and their expiry index `(deadline, seq) → key`.
#[derive(Default)]
struct Part {
    map: HashMap<String, Entry>,
    expiry: BTreeMap<(Instant, u64), String>,
}

impl Part {
    fn remove(&mut self, key: &str) -> Option<Entry> {
        let entry = self.map.remove(key)?;
        self.expiry.remove(&(entry.deadline, entry.seq));
        Some(entry)
    }

    fn live(&self, key: &str, now: Instant) -> Option<&Entry> {
        self.map.get(key).filter(|e| e.deadline > now)
    }

    /// Drops expired entries, oldest first: O(log n) each.
    fn drop_expired(&mut self, now: Instant) {
        while let Some((&(deadline, seq), _)) = self.expiry.first_key_value() {
            if deadline > now {
                break;
            }
            if let Some(key) = self.expiry.remove(&(deadline, seq)) {
                self.map.remove(&key);
            }
        }
    }

    fn evict_soonest(&mut self) {
        if let Some((_, key)) = self.expiry.pop_first() {
            self.map.remove(&key);
        }
    }
}

struct Inner {
    parts: [Part; 4],
    seq: u64,
}

/// The lock is never held across an await.
pub struct MemoryStore {
    inner: Mutex<Inner>,
    quotas: [usize; 4],
}

impl MemoryStore {
    pub fn new(max_entries: usize) -> MemoryStore {
        let max_entries = max_entries.max(Kind::ALL.len());
        MemoryStore {
            inner: Mutex::new(Inner {
                parts: Default::default(),
                seq: 0,
            }),
            quotas: Kind::ALL.map(|kind| (max_entries * kind.share() / 100).max(1)),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner, Instant) -> T) -> T {
        let mut guard = match self.inner.lock() {
            Ok(guard) => guard,
            // A panic while holding the lock leaves consistent maps: keep going.
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard, Instant::now())
    }

    fn insert(
        &self,
        inner: &mut Inner,
        now: Instant,
        key: &str,
        value: Bytes,
        ttl: Duration,
    ) -> Result<(), EphemeralError> {
        let kind = Kind::of(key);
        inner.seq += 1;
        let seq = inner.seq;
        let quota = self.quotas[kind.index()];
        let part = &mut inner.parts[kind.index()];
        let replacing = part.remove(key).is_some();
        if !replacing && part.map.len() >= quota {
            part.drop_expired(now);
            if part.map.len() >= quota {
                if kind == Kind::Login {
                    return Err(EphemeralError::Full("login transactions"));
                }
                part.evict_soonest();
            }
        }
        let deadline = now + ttl;
        part.expiry.insert((deadline, seq), key.to_string());
        part.map.insert(
            key.to_string(),
            Entry {
                value,
                deadline,
                seq,
            },
        );
        Ok(())
    }

    fn part<'a>(inner: &'a mut Inner, key: &str) -> &'a mut Part {
        &mut inner.parts[Kind::of(key).index()]
    }
}

#[async_trait::async_trait]
impl EphemeralStore for MemoryStore {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), EphemeralError> {
        self.with(|inner, now| self.insert(inner, now, key, Bytes::copy_from_slice(value), ttl))
    }

    async fn put_shared(
        &self,
        key: &str,
        value: Bytes,
        ttl: Duration,
    ) -> Result<(), EphemeralError> {
        self.with(|inner, now| self.insert(inner, now, key, value, ttl))
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, EphemeralError> {
        self.with(|inner, now| {
            if Self::part(inner, key).live(key, now).is_some() {
                return Ok(false);
            }
            self.insert(inner, now, key, Bytes::copy_from_slice(value), ttl)?;
            Ok(true)
        })
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError> {
        Ok(self.with(|inner, now| {
            Self::part(inner, key)
                .live(key, now)
                .map(|e| e.value.to_vec())
        }))
    }

    async fn get_shared(&self, key: &str) -> Result<Option<Bytes>, EphemeralError> {
        Ok(self.with(|inner, now| {
            Self::part(inner, key)
                .live(key, now)
                .map(|e| e.value.clone())
        }))
    }

    async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError> {
        Ok(self.with(|inner, now| {
            Self::part(inner, key)
                .remove(key)
                .filter(|e| e.deadline > now)
                .map(|e| Vec::from(e.value))
        }))
    }

    async fn delete(&self, key: &str) -> Result<(), EphemeralError> {
        self.with(|inner, _| Self::part(inner, key).remove(key));
        Ok(())
    }

    async fn expire(&self, key: &str, ttl: Duration) -> Result<bool, EphemeralError> {
        Ok(self.with(|inner, now| {
            let part = Self::part(inner, key);
            match part.remove(key) {
                Some(mut entry) if entry.deadline > now => {
                    entry.deadline = now + ttl;
                    part.expiry
                        .insert((entry.deadline, entry.seq), key.to_string());
                    part.map.insert(key.to_string(), entry);
                    true
                }
                _ => false,
            }
        }))
    }

    async fn incr(&self, key: &str, window: Duration) -> Result<u64, EphemeralError> {
        self.with(|inner, now| {
            let current = Self::part(inner, key)
                .live(key, now)
                .map(|e| (e.value.clone(), e.deadline));
            let (count, deadline) = match current {
                Some((bytes, deadline)) => {
                    let text = String::from_utf8(bytes.to_vec())
                        .map_err(|_| EphemeralError::Corrupt(format!("counter {key}")))?;
                    let n: u64 = text
                        .parse()
                        .map_err(|_| EphemeralError::Corrupt(format!("counter {key}")))?;
                    (n.saturating_add(1), deadline)
                }
                None => (1, now + window),
            };
            let ttl = deadline.saturating_duration_since(now);
            self.insert(inner, now, key, Bytes::from(count.to_string()), ttl)?;
            Ok(count)
        })
    }

    fn backend_name(&self) -> &'static str {
        "memory"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn a_flood_of_one_kind_does_not_evict_another() {
        let store = MemoryStore::new(100); // 20 logins, 40 sessions, 20 counters, 20 other
        store.put("login:live", b"tx", MINUTE).await.expect("login");
        assert_eq!(store.incr("rate:client", MINUTE).await.expect("incr"), 1);
        for i in 0..1000 {
            store
                .put(&format!("outcome:{i}"), b"x", MINUTE)
                .await
                .expect("others evict each other");
        }
        assert!(store.get("login:live").await.expect("get").is_some());
        assert_eq!(store.incr("rate:client", MINUTE).await.expect("incr"), 2);
        assert!(store.get("outcome:999").await.expect("get").is_some());
        assert!(store.get("outcome:0").await.expect("get").is_none());
    }

    #[tokio::test]
    async fn a_full_login_quota_refuses_instead_of_evicting() {
        let store = MemoryStore::new(100);
        for i in 0..20 {
            store
                .put(&format!("login:{i}"), b"tx", MINUTE)
                .await
                .expect("within quota");
        }
        let refused = store.put("login:one-more", b"tx", MINUTE).await;
        assert!(
            matches!(refused, Err(EphemeralError::Full(_))),
            "{refused:?}"
        );
        assert!(
            store.get("login:0").await.expect("get").is_some(),
            "nobody evicted"
        );
        // Replacing an existing key is not growth.
        store.put("login:3", b"tx2", MINUTE).await.expect("replace");
        // Expired ones make room.
        store
            .put("login:0", b"tx", Duration::ZERO)
            .await
            .expect("replace");
        store
            .put("login:new", b"tx", MINUTE)
            .await
            .expect("room after expiry");
    }

    #[tokio::test]
    async fn expiry_index_follows_expire_take_and_delete() {
        let store = MemoryStore::new(40);
        store.put("session:a", b"1", MINUTE).await.expect("put");
        assert!(store
            .expire("session:a", Duration::ZERO)
            .await
            .expect("expire"));
        assert!(store.get("session:a").await.expect("get").is_none());
        store.put("session:b", b"2", MINUTE).await.expect("put");
        assert_eq!(
            store.take("session:b").await.expect("take"),
            Some(b"2".to_vec())
        );
        assert_eq!(store.take("session:b").await.expect("take"), None);
        store.put("session:c", b"3", MINUTE).await.expect("put");
        store.delete("session:c").await.expect("delete");
        let inner = store.inner.lock().expect("lock");
        let part = &inner.parts[Kind::Session.index()];
        assert_eq!(part.map.len(), part.expiry.len(), "index and map agree");
    }

    #[tokio::test]
    async fn a_value_handed_over_is_kept_and_handed_out_without_a_copy() {
        let store = MemoryStore::new(40);
        let upload = Bytes::from(vec![7u8; 4096]);
        store
            .put_shared("school-upload:x", upload.clone(), MINUTE)
            .await
            .expect("put");
        let shared = store
            .get_shared("school-upload:x")
            .await
            .expect("get")
            .expect("kept");
        assert_eq!(shared.as_ptr(), upload.as_ptr(), "the same bytes");
        assert_eq!(
            store.get("school-upload:x").await.expect("get"),
            Some(vec![7u8; 4096]),
            "and as a copy for the other callers"
        );
        store
            .put("school-upload:y", b"small", MINUTE)
            .await
            .expect("put");
        assert_eq!(
            store.get_shared("school-upload:y").await.expect("get"),
            Some(Bytes::from_static(b"small"))
        );
    }
}
