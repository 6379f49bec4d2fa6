//! The records of *successful* logins — the attempt row and the link's
//! last-login time — written behind the response, in batches: a batch
//! gathers for at most [`WINDOW`] after its first entry, then goes in one
//! transaction of two statements (a multi-row insert and one update). On a
//! September morning that turns two writes per login into one transaction
//! per dozens of logins.
//!
//! Failures are not journaled: their attempt is written before the page
//! that shows its reference code, so an operator can always find it. A
//! graceful shutdown flushes the journal; a crash loses at most what is in
//! memory (diagnostics of logins that succeeded, never a link or an
//! account). When the queue is full the entry is written directly.
//!
//! A batch that cannot be written (the database down) is held in memory
//! and tried again every [`Retention::retry_every`], for at most
//! [`Retention::keep_for`] and [`Retention::keep_max`] entries in all;
//! what is older or beyond that is dropped and counted
//! (`esia_link_journal_dropped_total`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use uuid::Uuid;

use store::{NewAttempt, Store, StoreError};

/// Entries waiting at most; beyond it writes happen on the request path.
const QUEUE: usize = 10_000;
/// Entries written in one transaction at most.
const BATCH: usize = 500;
/// How long a batch gathers after its first entry. Each commit rewrites the
/// same few pages of `link_attempts`, its indexes and `federated_links`,
/// and empties every other connection's page cache; at 20 ms the commits
/// cost a login ~15 % more CPU than at 200 ms. An operator sees a
/// successful login's record at most this much later.
pub const WINDOW: Duration = Duration::from_millis(200);

/// How long, and how much, the journal holds what it could not write.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// A held batch is dropped this long after its first failed write.
    pub keep_for: Duration,
    /// Entries (attempts and touches) held at most; the oldest go first.
    pub keep_max: usize,
    /// How often held batches are tried again.
    pub retry_every: Duration,
}

impl Default for Retention {
    /// Ten minutes and 20 000 entries: an outage of a few minutes loses
    /// nothing, and a long one costs a few MiB at most.
    fn default() -> Retention {
        Retention {
            keep_for: Duration::from_secs(600),
            keep_max: 20_000,
            retry_every: Duration::from_secs(1),
        }
    }
}

enum Entry {
    Attempt(Box<NewAttempt>),
    Touch { link_id: Uuid, at: DateTime<Utc> },
    Flush(oneshot::Sender<()>),
}

/// What the writer holds and has dropped, for `/metrics` and tests.
#[derive(Debug, Default)]
struct Counts {
    held: AtomicUsize,
    dropped: AtomicU64,
}

#[derive(Clone)]
pub struct Journal {
    sender: mpsc::Sender<Entry>,
    store: Store,
    counts: Arc<Counts>,
}

impl Journal {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Store) -> Journal {
        Journal::start_with(store, Retention::default())
    }

    /// As [`Journal::start`], holding unwritten batches as `retention` says.
    pub fn start_with(store: Store, retention: Retention) -> Journal {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let counts = Arc::new(Counts::default());
        let writer = Writer {
            store: store.clone(),
            retention,
            held: VecDeque::new(),
            next_retry: Instant::now(),
            counts: counts.clone(),
        };
        tokio::spawn(writer.run(receiver));
        Journal {
            sender,
            store,
            counts,
        }
    }

    pub async fn attempt(&self, attempt: NewAttempt) -> Result<(), StoreError> {
        match self.sender.try_send(Entry::Attempt(Box::new(attempt))) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(Entry::Attempt(attempt)))
            | Err(mpsc::error::TrySendError::Closed(Entry::Attempt(attempt))) => {
                self.store.record_attempt(&attempt).await
            }
            Err(_) => Ok(()),
        }
    }

    pub async fn touch(&self, link_id: Uuid, at: DateTime<Utc>) -> Result<(), StoreError> {
        match self.sender.try_send(Entry::Touch { link_id, at }) {
            Ok(()) => Ok(()),
            Err(_) => self.store.touch_link_login(link_id, at).await,
        }
    }

    /// Waits until everything queued so far is written, or held for a
    /// retry if the database refuses it (held batches are tried once more).
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.sender.send(Entry::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }

    /// Entries held for a retry now.
    pub fn held(&self) -> usize {
        self.counts.held.load(Ordering::Relaxed)
    }

    /// Entries dropped unwritten since the start.
    pub fn dropped(&self) -> u64 {
        self.counts.dropped.load(Ordering::Relaxed)
    }

    /// Sets the journal's gauge (at each scrape).
    pub fn report(&self) {
        crate::telemetry::journal_held(self.held());
    }
}

/// A batch the database did not take, and since when.
struct Held {
    attempts: Vec<NewAttempt>,
    touches: Vec<(Uuid, DateTime<Utc>)>,
    since: Instant,
}

impl Held {
    fn len(&self) -> usize {
        self.attempts.len() + self.touches.len()
    }
}

struct Writer {
    store: Store,
    retention: Retention,
    held: VecDeque<Held>,
    /// When the held batches are tried next.
    next_retry: Instant,
    counts: Arc<Counts>,
}

impl Writer {
    async fn run(mut self, mut receiver: mpsc::Receiver<Entry>) {
        loop {
            // With batches held, wake up to retry them even when no login
            // comes in.
            let first = if self.held.is_empty() {
                receiver.recv().await
            } else {
                let wait = self.next_retry.saturating_duration_since(Instant::now());
                match tokio::time::timeout(wait, receiver.recv()).await {
                    Ok(entry) => entry,
                    Err(_) => {
                        self.retry_held().await;
                        continue;
                    }
                }
            };
            let Some(first) = first else {
                return;
            };
            let mut attempts = Vec::new();
            let mut touches = Vec::new();
            let mut flushes = Vec::new();
            let deadline = Instant::now() + WINDOW;
            let mut next = Some(first);
            while let Some(entry) = next.take() {
                let flush = matches!(entry, Entry::Flush(_));
                match entry {
                    Entry::Attempt(attempt) => attempts.push(*attempt),
                    Entry::Touch { link_id, at } => touches.push((link_id, at)),
                    Entry::Flush(done) => flushes.push(done),
                }
                // A flush is written at once; otherwise gather until the window
                // closes or the batch is full.
                if flush || attempts.len() + touches.len() >= BATCH {
                    break;
                }
                next = tokio::time::timeout_at(deadline, receiver.recv())
                    .await
                    .ok()
                    .flatten();
            }
            if !attempts.is_empty() || !touches.is_empty() {
                self.write_or_hold(Held {
                    attempts,
                    touches,
                    since: Instant::now(),
                })
                .await;
            }
            // A flush tries what is held too; otherwise held batches wait
            // for their turn.
            if !flushes.is_empty() || self.retry_due() {
                self.retry_held().await;
            }
            for done in flushes {
                let _ = done.send(());
            }
        }
    }

    async fn write_or_hold(&mut self, batch: Held) {
        if let Err(error) = self
            .store
            .write_login_journal(&batch.attempts, &batch.touches)
            .await
        {
            tracing::warn!(%error, entries = batch.len(), "successful-login records held for a retry");
            if self.held.is_empty() {
                self.next_retry = Instant::now() + self.retention.retry_every;
            }
            self.hold(batch);
        }
    }

    fn retry_due(&self) -> bool {
        !self.held.is_empty() && Instant::now() >= self.next_retry
    }

    /// Writes the held batches, oldest first; stops at the first that meets
    /// the database down (the others would too). A batch the database
    /// refuses for another reason stays held without holding up the rest
    /// (later batches never wait for held ones: the last-login update only
    /// moves forward, so their order does not matter). Drops what has been
    /// held too long.
    async fn retry_held(&mut self) {
        self.expire();
        let mut still = VecDeque::new();
        while let Some(batch) = self.held.pop_front() {
            match self
                .store
                .write_login_journal(&batch.attempts, &batch.touches)
                .await
            {
                Ok(()) => {
                    tracing::info!(
                        entries = batch.len(),
                        "held successful-login records written"
                    );
                }
                Err(error) => {
                    still.push_back(batch);
                    if error.is_unavailable() {
                        still.extend(self.held.drain(..));
                    }
                }
            }
        }
        self.held = still;
        self.next_retry = Instant::now() + self.retention.retry_every;
        self.count_held();
    }

    fn hold(&mut self, batch: Held) {
        self.held.push_back(batch);
        self.expire();
        let mut total: usize = self.held.iter().map(Held::len).sum();
        while total > self.retention.keep_max {
            let Some(oldest) = self.held.pop_front() else {
                break;
            };
            total -= oldest.len();
            self.drop_batch(oldest, "the journal holds too much");
        }
        self.count_held();
    }

    fn expire(&mut self) {
        while self
            .held
            .front()
            .is_some_and(|batch| batch.since.elapsed() >= self.retention.keep_for)
        {
            if let Some(batch) = self.held.pop_front() {
                self.drop_batch(batch, "held for too long");
            }
        }
    }

    fn drop_batch(&self, batch: Held, why: &'static str) {
        tracing::error!(
            attempts = batch.attempts.len(),
            touches = batch.touches.len(),
            why,
            "successful-login records could not be written and are dropped"
        );
        crate::telemetry::journal_dropped("attempt", batch.attempts.len());
        crate::telemetry::journal_dropped("touch", batch.touches.len());
        self.counts
            .dropped
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
    }

    fn count_held(&self) {
        let held = self.held.iter().map(Held::len).sum();
        self.counts.held.store(held, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A SQLite store whose `link_attempts` table can be moved away (the
    /// journal's writes then fail) and back.
    struct Scratch {
        store: Store,
        file: std::path::PathBuf,
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.file.display()));
            }
        }
    }

    impl Scratch {
        async fn new() -> Scratch {
            let file = std::env::temp_dir()
                .join(format!("esia-link-journal-{}.db", Uuid::new_v4().simple()));
            let store = Store::connect(&format!("sqlite://{}?mode=rwc", file.display()), 2)
                .await
                .expect("connect");
            store.migrate().await.expect("migrate");
            Scratch { store, file }
        }

        async fn sql(&self, statement: &str) {
            sqlx::query(statement)
                .execute(self.store.pool())
                .await
                .expect(statement);
        }

        async fn rows(&self) -> i64 {
            sqlx::query_scalar("SELECT COUNT(*) FROM link_attempts")
                .fetch_one(self.store.pool())
                .await
                .expect("count")
        }

        async fn break_table(&self) {
            self.sql("ALTER TABLE link_attempts RENAME TO link_attempts_away")
                .await;
        }

        async fn mend_table(&self) {
            self.sql("ALTER TABLE link_attempts_away RENAME TO link_attempts")
                .await;
        }
    }

    fn attempt(n: usize) -> NewAttempt {
        NewAttempt {
            at: Utc::now(),
            reference_code: format!("TEST-{n:04}"),
            provider: "esia".into(),
            subject_masked: None,
            subject_hash: None,
            account_id: None,
            outcome: "logged_in".into(),
            region_code: None,
            tier: None,
            idp_error: None,
            details: serde_json::json!({}),
            snils_hash: None,
        }
    }

    fn quick(keep_for: Duration, keep_max: usize) -> Retention {
        Retention {
            keep_for,
            keep_max,
            retry_every: Duration::from_millis(50),
        }
    }

    async fn until(within: Duration, what: impl AsyncFn() -> bool) {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if what().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("not reached within {within:?}");
    }

    #[tokio::test]
    async fn records_the_database_refused_are_written_once_it_takes_them_again() {
        let db = Scratch::new().await;
        let journal = Journal::start_with(db.store.clone(), quick(Duration::from_secs(60), 100));
        db.break_table().await;
        for n in 0..3 {
            journal.attempt(attempt(n)).await.expect("queued");
        }
        journal.flush().await;
        assert_eq!(journal.held(), 3, "held, not lost");
        db.mend_table().await;
        until(Duration::from_secs(5), async || db.rows().await == 3).await;
        assert_eq!(journal.held(), 0);
        assert_eq!(journal.dropped(), 0);
        // Later records follow the held ones as usual.
        journal.attempt(attempt(3)).await.expect("queued");
        journal.flush().await;
        assert_eq!(db.rows().await, 4);
    }

    #[tokio::test]
    async fn records_held_too_long_are_dropped_and_counted() {
        let db = Scratch::new().await;
        let journal = Journal::start_with(db.store.clone(), quick(Duration::from_millis(200), 100));
        db.break_table().await;
        for n in 0..3 {
            journal.attempt(attempt(n)).await.expect("queued");
        }
        journal.flush().await;
        assert_eq!(journal.held(), 3);
        until(Duration::from_secs(5), async || journal.dropped() == 3).await;
        assert_eq!(journal.held(), 0, "nothing held past keep_for");
        db.mend_table().await;
        journal.flush().await;
        assert_eq!(db.rows().await, 0, "dropped means not written later");
    }

    #[tokio::test]
    async fn a_batch_the_database_keeps_refusing_holds_up_nothing_else() {
        let db = Scratch::new().await;
        let journal = Journal::start_with(db.store.clone(), quick(Duration::from_millis(300), 100));
        // Its reference is taken: this batch can never be written.
        db.store.record_attempt(&attempt(0)).await.expect("row");
        journal.attempt(attempt(0)).await.expect("queued");
        journal.flush().await;
        assert_eq!(journal.held(), 1);
        journal.attempt(attempt(1)).await.expect("queued");
        journal.flush().await;
        assert_eq!(db.rows().await, 2, "the next batch is written");
        until(Duration::from_secs(5), async || journal.dropped() == 1).await;
        assert_eq!(journal.held(), 0);
    }

    #[tokio::test]
    async fn beyond_keep_max_the_oldest_records_are_dropped_first() {
        let db = Scratch::new().await;
        let journal = Journal::start_with(db.store.clone(), quick(Duration::from_secs(60), 4));
        db.break_table().await;
        for n in 0..3 {
            journal.attempt(attempt(n)).await.expect("queued");
        }
        journal.flush().await;
        for n in 3..6 {
            journal.attempt(attempt(n)).await.expect("queued");
        }
        journal.flush().await;
        assert_eq!(journal.dropped(), 3, "the first batch made room");
        assert_eq!(journal.held(), 3);
        db.mend_table().await;
        until(Duration::from_secs(5), async || db.rows().await == 3).await;
        let kept: Vec<String> =
            sqlx::query_scalar("SELECT reference_code FROM link_attempts ORDER BY reference_code")
                .fetch_all(db.store.pool())
                .await
                .expect("rows");
        assert_eq!(kept, ["TEST-0003", "TEST-0004", "TEST-0005"]);
    }
}
