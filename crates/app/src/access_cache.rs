//! A short-lived cache of what access checks read from the database: per
//! pupil, the account's role and school; per viewer, every tie it has to
//! pupils (parent links, grants). The decision itself is taken anew on
//! every check from the cached facts and the current time, so invitations
//! that open or expire need no invalidation. Caching a viewer's ties as a
//! whole (not per pair) also answers "no" to a stranger without a read.
//!
//! Every change to those facts invalidates on this instance before the use
//! case answers, and is published to the other instances through Redis
//! (see `App::access_changed` and `RedisStore::listen`):
//! - `Pupil(p)`: p's record, and every cached viewer with a tie to p (a
//!   link answered, an invitation revoked: whoever held a tie is dropped);
//! - `Viewer(v)`: v's ties (v gained a tie it did not have: a confirmed
//!   link, an accepted invitation);
//! - `All`: a roster import, a reconnect.
//!
//! An instance that is not subscribed (Redis unreachable) serves nothing
//! from the cache, and flushes it when it subscribes again. A fill that
//! read the database before an invalidation of anything it read is
//! dropped: every shard has an epoch, bumped under its lock by each
//! invalidation there; the fill notes them before the read and compares
//! them under the same locks.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use uuid::Uuid;

use ephemeral::Heard;
use store::{AccessTarget, ViewerTies};

const SHARDS: usize = 64;

/// What an invalidation covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalidation {
    /// The pupil's record and every cached viewer with a tie to them.
    Pupil(Uuid),
    /// The viewer's ties.
    Viewer(Uuid),
    /// Everything.
    All,
}

impl Invalidation {
    /// One word of the message sent between instances.
    fn word(self) -> String {
        match self {
            Invalidation::Pupil(id) => format!("p:{id}"),
            Invalidation::Viewer(id) => format!("v:{id}"),
            Invalidation::All => "*".into(),
        }
    }

    /// `None` for a word this version does not understand.
    fn from_word(word: &str) -> Option<Invalidation> {
        match word.split_once(':') {
            Some(("p", id)) => Uuid::parse_str(id).ok().map(Invalidation::Pupil),
            Some(("v", id)) => Uuid::parse_str(id).ok().map(Invalidation::Viewer),
            _ if word == "*" => Some(Invalidation::All),
            _ => None,
        }
    }

    /// The message for a change that covers `what`.
    pub fn message(what: &[Invalidation]) -> String {
        what.iter().map(|w| w.word()).collect::<Vec<_>>().join(" ")
    }

    /// What a message covers; anything unreadable counts as everything.
    pub fn parse(message: &str) -> Vec<Invalidation> {
        let words: Option<Vec<_>> = message
            .split_whitespace()
            .map(Invalidation::from_word)
            .collect();
        match words {
            Some(words) if !words.is_empty() => words,
            _ => vec![Invalidation::All],
        }
    }
}

struct Stamped<T> {
    value: Arc<T>,
    stored: Instant,
}

#[derive(Default)]
struct PupilShard {
    epoch: u64,
    records: HashMap<Uuid, Stamped<AccessTarget>>,
    /// The cached viewers with a tie to each pupil (may name viewers no
    /// longer cached; never misses one that is).
    tied: HashMap<Uuid, Vec<Uuid>>,
}

#[derive(Default)]
struct ViewerShard {
    epoch: u64,
    ties: HashMap<Uuid, Stamped<ViewerTies>>,
}

pub struct AccessCache {
    ttl: Duration,
    per_shard: usize,
    /// Off while the instance may miss other instances' invalidations.
    live: AtomicBool,
    /// Bumped by `All`; the shards have their own.
    epoch: AtomicU64,
    hasher: std::collections::hash_map::RandomState,
    pupils: Vec<Mutex<PupilShard>>,
    viewers: Vec<Mutex<ViewerShard>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// The epochs, taken before reading the database; a fill whose shards
/// moved on since is dropped.
#[derive(Debug, Clone)]
pub struct FillTicket {
    all: u64,
    pupils: [u64; SHARDS],
    viewers: [u64; SHARDS],
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl AccessCache {
    /// `ttl` zero or `entries` zero: the cache is off. `live`: whether it
    /// may serve at once (the only instance) or only once subscribed.
    pub fn new(ttl: Duration, entries: usize, live: bool) -> AccessCache {
        let cache = AccessCache {
            ttl,
            per_shard: entries.div_ceil(SHARDS),
            live: AtomicBool::new(false),
            epoch: AtomicU64::new(0),
            hasher: Default::default(),
            pupils: (0..SHARDS).map(|_| Mutex::default()).collect(),
            viewers: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        };
        cache.live.store(live && cache.enabled(), Ordering::Release);
        cache
    }

    fn enabled(&self) -> bool {
        !self.ttl.is_zero() && self.per_shard > 0
    }

    fn index(&self, id: Uuid) -> usize {
        self.hasher.hash_one(id) as usize % SHARDS
    }

    fn fresh<T>(&self, stamped: &Stamped<T>) -> Option<Arc<T>> {
        (stamped.stored.elapsed() < self.ttl).then(|| stamped.value.clone())
    }

    /// The cached target record and viewer ties; both or nothing.
    pub fn get(&self, viewer: Uuid, target: Uuid) -> Option<(Arc<AccessTarget>, Arc<ViewerTies>)> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        let record = lock(&self.pupils[self.index(target)])
            .records
            .get(&target)
            .and_then(|s| self.fresh(s));
        let ties = record.as_ref().and_then(|_| {
            lock(&self.viewers[self.index(viewer)])
                .ties
                .get(&viewer)
                .and_then(|s| self.fresh(s))
        });
        let found = record.zip(ties);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Call before reading the database for a fill.
    pub fn ticket(&self) -> FillTicket {
        let all = self.epoch.load(Ordering::Acquire);
        FillTicket {
            all,
            pupils: std::array::from_fn(|i| lock(&self.pupils[i]).epoch),
            viewers: std::array::from_fn(|i| lock(&self.viewers[i]).epoch),
        }
    }

    /// Stores what was read, unless something was invalidated since the
    /// ticket was taken (the read may predate the change).
    pub fn fill(
        &self,
        ticket: FillTicket,
        viewer: Uuid,
        target: Uuid,
        record: Arc<AccessTarget>,
        ties: Arc<ViewerTies>,
    ) {
        if !self.live.load(Ordering::Acquire) {
            return;
        }
        let stale_all = || self.epoch.load(Ordering::Acquire) != ticket.all;
        let now = Instant::now();
        // The viewer is registered under its pupils before its ties are
        // stored, each step checking its shard's epoch under the shard's
        // lock: an invalidation of one of those pupils either came first
        // (the epoch moved: dropped) or will find the viewer registered
        // (and move the viewer's shard epoch, checked below).
        for pupil in ties.pupils() {
            let index = self.index(pupil);
            let mut shard = lock(&self.pupils[index]);
            if shard.epoch != ticket.pupils[index] || stale_all() {
                return;
            }
            let tied = shard.tied.entry(pupil).or_default();
            if !tied.contains(&viewer) {
                tied.push(viewer);
            }
        }
        let mut full = false;
        {
            let index = self.index(target);
            let mut shard = lock(&self.pupils[index]);
            if shard.epoch != ticket.pupils[index] || stale_all() {
                return;
            }
            full |= shard.records.len() >= self.per_shard;
            shard.records.insert(
                target,
                Stamped {
                    value: record,
                    stored: now,
                },
            );
        }
        {
            let index = self.index(viewer);
            let mut shard = lock(&self.viewers[index]);
            if shard.epoch != ticket.viewers[index] || stale_all() {
                return;
            }
            full |= shard.ties.len() >= self.per_shard;
            shard.ties.insert(
                viewer,
                Stamped {
                    value: ties,
                    stored: now,
                },
            );
        }
        if full {
            // Start over rather than track recency (and keep the ties
            // index whole: a viewer never outlives its registrations).
            self.invalidate(Invalidation::All);
        }
    }

    pub fn invalidate(&self, what: Invalidation) {
        let drop_viewer = |viewer: Uuid| {
            let mut shard = lock(&self.viewers[self.index(viewer)]);
            shard.epoch += 1;
            shard.ties.remove(&viewer);
        };
        match what {
            Invalidation::Pupil(pupil) => {
                let tied = {
                    let mut shard = lock(&self.pupils[self.index(pupil)]);
                    shard.epoch += 1;
                    shard.records.remove(&pupil);
                    shard.tied.remove(&pupil).unwrap_or_default()
                };
                for viewer in tied {
                    drop_viewer(viewer);
                }
            }
            Invalidation::Viewer(viewer) => drop_viewer(viewer),
            Invalidation::All => {
                self.epoch.fetch_add(1, Ordering::AcqRel);
                for shard in &self.viewers {
                    lock(shard).ties.clear();
                }
                for shard in &self.pupils {
                    let mut shard = lock(shard);
                    shard.records.clear();
                    shard.tied.clear();
                }
            }
        }
    }

    /// Whether this instance hears every invalidation (subscribed, or the
    /// only instance). Either way the cache starts empty.
    pub fn set_live(&self, live: bool) {
        self.live.store(live && self.enabled(), Ordering::Release);
        self.invalidate(Invalidation::All);
    }

    /// What the listener on the invalidation channel heard.
    pub fn heard(&self, heard: Heard<'_>) {
        match heard {
            Heard::Subscribed => self.set_live(true),
            Heard::Lost => self.set_live(false),
            Heard::Message(message) => {
                for what in Invalidation::parse(message) {
                    self.invalidate(what);
                }
            }
        }
    }

    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// (hits, misses) since start, for the benchmark.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::LinkTie;

    fn target(role: &str) -> Arc<AccessTarget> {
        Arc::new(AccessTarget {
            role: Some(role.into()),
            school: None,
        })
    }

    fn ties_to(pupils: &[Uuid]) -> Arc<ViewerTies> {
        Arc::new(ViewerTies {
            links: pupils
                .iter()
                .map(|&pupil| LinkTie {
                    pupil,
                    status: "confirmed".into(),
                    decided_at: None,
                })
                .collect(),
            grants: Vec::new(),
            blocked: false,
        })
    }

    /// Room enough that a few random ids never fill a shard (100 entries
    /// gave 2 per shard: two pupils in one shard emptied the whole cache,
    /// about one run in 64).
    const ROOMY: usize = 16 * SHARDS;

    fn cached(cache: &AccessCache, viewer: Uuid, pupil: Uuid) -> bool {
        cache.get(viewer, pupil).is_some()
    }

    fn ids<const N: usize>() -> [Uuid; N] {
        std::array::from_fn(|_| Uuid::new_v4())
    }

    #[test]
    fn a_pupil_change_drops_the_pupil_and_every_viewer_tied_to_them() {
        let cache = AccessCache::new(Duration::from_secs(60), ROOMY, true);
        let [parent, stranger, child, other] = ids();
        cache.fill(
            cache.ticket(),
            parent,
            child,
            target("pupil"),
            ties_to(&[child]),
        );
        cache.fill(
            cache.ticket(),
            stranger,
            other,
            target("pupil"),
            ties_to(&[]),
        );
        cache.fill(
            cache.ticket(),
            parent,
            other,
            target("pupil"),
            ties_to(&[child]),
        );
        assert!(cached(&cache, parent, child) && cached(&cache, parent, other));

        cache.invalidate(Invalidation::Pupil(child));
        assert!(!cached(&cache, parent, child));
        // The parent's ties went too: they were about the changed child.
        assert!(!cached(&cache, parent, other));
        assert!(cached(&cache, stranger, other), "untied entries stay");
    }

    #[test]
    fn a_viewer_change_drops_only_that_viewers_ties() {
        let cache = AccessCache::new(Duration::from_secs(60), ROOMY, true);
        let [one, two, pupil] = ids();
        cache.fill(cache.ticket(), one, pupil, target("pupil"), ties_to(&[]));
        cache.fill(cache.ticket(), two, pupil, target("pupil"), ties_to(&[]));
        cache.invalidate(Invalidation::Viewer(one));
        assert!(!cached(&cache, one, pupil));
        assert!(cached(&cache, two, pupil));
        cache.invalidate(Invalidation::All);
        assert!(!cached(&cache, two, pupil));
    }

    #[test]
    fn a_fill_read_before_an_invalidation_of_what_it_read_is_dropped() {
        let cache = AccessCache::new(Duration::from_secs(60), ROOMY, true);
        let [viewer, pupil, child] = ids();
        let cases: [(&str, Invalidation); 4] = [
            ("the target", Invalidation::Pupil(pupil)),
            ("a pupil of the ties", Invalidation::Pupil(child)),
            ("the viewer", Invalidation::Viewer(viewer)),
            ("everything", Invalidation::All),
        ];
        for (what, invalidation) in cases {
            let ticket = cache.ticket();
            cache.invalidate(invalidation);
            cache.fill(ticket, viewer, pupil, target("pupil"), ties_to(&[child]));
            assert!(!cached(&cache, viewer, pupil), "{what}");
        }
        // A change elsewhere does not stop a fill (unless it shares a shard).
        let ticket = cache.ticket();
        let elsewhere = (0..)
            .map(|_| Uuid::new_v4())
            .find(|id| {
                ![pupil, child]
                    .map(|p| cache.index(p))
                    .contains(&cache.index(*id))
            })
            .expect("an id in another shard");
        cache.invalidate(Invalidation::Pupil(elsewhere));
        cache.fill(ticket, viewer, pupil, target("pupil"), ties_to(&[child]));
        assert!(cached(&cache, viewer, pupil));
    }

    #[test]
    fn an_instance_that_may_miss_invalidations_serves_nothing_and_flushes_on_return() {
        let cache = AccessCache::new(Duration::from_secs(60), ROOMY, false);
        let [viewer, pupil] = ids();
        cache.fill(cache.ticket(), viewer, pupil, target("pupil"), ties_to(&[]));
        assert!(
            !cached(&cache, viewer, pupil),
            "not live before subscribing"
        );
        cache.heard(Heard::Subscribed);
        cache.fill(cache.ticket(), viewer, pupil, target("pupil"), ties_to(&[]));
        assert!(cached(&cache, viewer, pupil));
        cache.heard(Heard::Lost);
        assert!(!cached(&cache, viewer, pupil));
        cache.heard(Heard::Subscribed);
        assert!(!cached(&cache, viewer, pupil), "flushed on return");
    }

    #[test]
    fn entries_expire_and_a_zero_ttl_turns_the_cache_off() {
        // A nanosecond has always passed by the time `get` looks.
        let cache = AccessCache::new(Duration::from_nanos(1), ROOMY, true);
        let [viewer, pupil] = ids();
        cache.fill(cache.ticket(), viewer, pupil, target("pupil"), ties_to(&[]));
        assert!(!cached(&cache, viewer, pupil));

        let off = AccessCache::new(Duration::ZERO, ROOMY, true);
        assert!(!off.is_live());
        off.heard(Heard::Subscribed);
        off.fill(off.ticket(), viewer, pupil, target("pupil"), ties_to(&[]));
        assert!(!cached(&off, viewer, pupil));
    }

    #[test]
    fn a_full_cache_starts_over() {
        let cache = AccessCache::new(Duration::from_secs(60), SHARDS, true);
        let pupil = Uuid::new_v4();
        for _ in 0..40 {
            cache.fill(
                cache.ticket(),
                Uuid::new_v4(),
                pupil,
                target("pupil"),
                ties_to(&[]),
            );
        }
        let held: usize = cache.viewers.iter().map(|s| lock(s).ties.len()).sum();
        assert!(
            held <= 2 * SHARDS,
            "{held} viewers held with room for {SHARDS}"
        );
    }

    #[test]
    fn messages_round_trip_and_garbage_means_everything() {
        let [pupil, viewer] = ids();
        let change = [Invalidation::Pupil(pupil), Invalidation::Viewer(viewer)];
        assert_eq!(Invalidation::parse(&Invalidation::message(&change)), change);
        assert_eq!(Invalidation::parse("*"), [Invalidation::All]);
        for garbage in ["", "p:nope", "x:1 p:2", "hello"] {
            assert_eq!(
                Invalidation::parse(garbage),
                [Invalidation::All],
                "{garbage}"
            );
        }
    }
}
