//! Connections to one SQLite file kept between calls on the calling thread
//! (`sqlite_reads`, `sqlite_writes`): a call takes an idle connection or
//! opens one, and gives it back unless its answer says the connection is
//! not to be trusted again.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OpenFlags};

use super::StoreError;

pub(super) struct KeptConnections {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// Idle connections kept at most: a busier moment opens more and
    /// closes them afterwards.
    keep: usize,
    /// Sets a newly opened connection up (timeouts, pragmas).
    setup: fn(&Connection) -> Result<(), rusqlite::Error>,
}

impl KeptConnections {
    pub(super) fn new(
        path: &Path,
        keep: usize,
        setup: fn(&Connection) -> Result<(), rusqlite::Error>,
    ) -> KeptConnections {
        KeptConnections {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            keep,
            setup,
        }
    }

    /// The database file.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `call` on a kept connection; the connection goes back to the
    /// idle ones when `keep` says so of the answer.
    pub(super) fn run<T>(
        &self,
        call: impl FnOnce(&Connection) -> Result<T, StoreError>,
        keep: impl FnOnce(&Result<T, StoreError>) -> bool,
    ) -> Result<T, StoreError> {
        let idle = self.idle().pop();
        let connection = match idle {
            Some(connection) => connection,
            None => self.open()?,
        };
        let answer = call(&connection);
        if keep(&answer) {
            let mut idle = self.idle();
            if idle.len() < self.keep {
                idle.push(connection);
            }
        }
        answer
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Connection>> {
        // A panic while the lock was held cannot leave the list half-changed.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn open(&self) -> Result<Connection, StoreError> {
        let connection = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        (self.setup)(&connection)?;
        Ok(connection)
    }
}
