//! Batch writes under way on their own tasks, so that the database works
//! while the import reads and prepares the next batch.

use std::collections::VecDeque;

use crate::AppError;
use store::{Store, StoreError};

/// Batch writes under way on their own tasks, so that the database works
/// while this task reads and prepares the next batch. SQLite writes one at
/// a time anyway, so one write is under way; PostgreSQL writes batches side
/// by side on separate connections (each its own server process), so
/// [`Store::write_streams`] are. Results come back in the order the writes
/// were started.
pub(crate) struct WriteBehind<T> {
    streams: usize,
    tasks: VecDeque<tokio::task::JoinHandle<Result<T, StoreError>>>,
}

impl<T: Send + 'static> WriteBehind<T> {
    pub(crate) fn new(store: &Store) -> Self {
        WriteBehind {
            streams: store.write_streams(),
            tasks: VecDeque::new(),
        }
    }

    /// Waits for room for one more write: the oldest write's result once
    /// as many as there are streams are under way, else nothing.
    pub(crate) async fn ready(&mut self) -> Result<Option<T>, AppError> {
        if self.tasks.len() < self.streams {
            return Ok(None);
        }
        self.next().await
    }

    /// Starts a write; call [`WriteBehind::ready`] first.
    pub(crate) fn start(
        &mut self,
        write: impl std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
    ) {
        debug_assert!(self.tasks.len() < self.streams, "ready() comes first");
        self.tasks.push_back(tokio::spawn(write));
    }

    /// The oldest write's result, if any write is under way. If it failed,
    /// the writes started after it are waited for (each commits or rolls
    /// back on its own) before the error is returned, so none is still
    /// running when the caller reports.
    pub(crate) async fn next(&mut self) -> Result<Option<T>, AppError> {
        let Some(task) = self.tasks.pop_front() else {
            return Ok(None);
        };
        let failure = match task.await {
            Ok(Ok(done)) => return Ok(Some(done)),
            Ok(Err(e)) => AppError::from(e),
            Err(e) => AppError::Internal(format!("a batch write died: {e}")),
        };
        for rest in self.tasks.drain(..) {
            let _ = rest.await;
        }
        Err(failure)
    }
}
