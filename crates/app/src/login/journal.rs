//! The records of *successful* logins — the attempt row and the link's
//! last-login time — written behind the response, in batches: a batch
//! gathers for at most [`WINDOW`] after its first entry, then goes in one
//! transaction of two statements (a multi-row insert and one update). On a
//! September morning that turns two writes per login into one transaction
//! per dozens of logins.
//!
//! Failures are not journaled: their attempt is written before the page
//! that shows its reference code, so an operator can always find it. A
//! graceful shutdown flushes the journal; a crash loses at most the batch in
//! flight (diagnostics of logins that succeeded, never a link or an
//! account). When the queue is full the entry is written directly.

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};
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
pub const WINDOW: std::time::Duration = std::time::Duration::from_millis(200);

enum Entry {
    Attempt(Box<NewAttempt>),
    Touch { link_id: Uuid, at: DateTime<Utc> },
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct Journal {
    sender: mpsc::Sender<Entry>,
    store: Store,
}

impl Journal {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Store) -> Journal {
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(write_behind(store.clone(), receiver));
        Journal { sender, store }
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

    /// Waits until everything queued so far is written.
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.sender.send(Entry::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

async fn write_behind(store: Store, mut receiver: mpsc::Receiver<Entry>) {
    while let Some(first) = receiver.recv().await {
        let mut attempts = Vec::new();
        let mut touches = Vec::new();
        let mut flushes = Vec::new();
        let deadline = tokio::time::Instant::now() + WINDOW;
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
            let mut result = store.write_login_journal(&attempts, &touches).await;
            if result.is_err() {
                // One retry: a busy database or a dropped connection.
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                result = store.write_login_journal(&attempts, &touches).await;
            }
            if let Err(error) = result {
                tracing::error!(
                    error = %error,
                    attempts = attempts.len(),
                    touches = touches.len(),
                    "successful-login records could not be written and are lost"
                );
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}
