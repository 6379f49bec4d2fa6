//! One-statement writes on the calling thread, on a SQLite file, when no
//! other connection is writing: the grant an app sign-in writes (#28).
//!
//! Through sqlx a statement is handed to its connection's own thread and
//! the answer handed back: two thread switches, which were most of the
//! fifth of an app sign-in's CPU its one INSERT cost (`bench apps`). Here
//! the statement runs where it is called, on a connection kept for it, and
//! never waits: the connection's busy timeout is zero, so while another
//! connection holds the write lock (a roster batch, the login journal) the
//! statement answers "busy" at once, and the caller goes through the pool,
//! which waits as before. A commit appends the changed pages to the log
//! (`synchronous = NORMAL`: no fsync). Copying the log back into the
//! database — a checkpoint, with an fsync — is left to the pool: these
//! connections never checkpoint, and every [`CHECKPOINT_EVERY`] commits
//! the caller is told to start a passive one there.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::{Connection, ErrorCode, ToSql};

use super::sqlite_kept::KeptConnections;
use super::StoreError;

/// Idle connections kept at most (one per thread writing at once).
const IDLE: usize = 4;

/// Commits here between two checkpoints started in the pool: about what
/// SQLite's own automatic checkpoint allows (1,000 pages of log) for the
/// few pages a grant's row and its two indexes change.
pub(super) const CHECKPOINT_EVERY: u64 = 250;

pub(super) struct SqliteWrites {
    connections: KeptConnections,
    commits: AtomicU64,
}

/// What a write on the calling thread did.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Written {
    /// Committed: the rows it changed, and whether a checkpoint is due.
    Done { rows: usize, checkpoint_due: bool },
    /// Another connection is writing: nothing was done; use the pool.
    Busy,
}

impl SqliteWrites {
    pub(super) fn for_path(path: &Path) -> SqliteWrites {
        SqliteWrites {
            connections: KeptConnections::new(path, IDLE, set_up),
            commits: AtomicU64::new(0),
        }
    }

    /// Runs one statement in a transaction of its own, unless another
    /// connection is writing. A connection whose statement failed
    /// otherwise is closed rather than reused.
    pub(super) fn execute(&self, sql: &str, params: &[&dyn ToSql]) -> Result<Written, StoreError> {
        self.connections.run(
            |connection| {
                let result = connection
                    .prepare_cached(sql)
                    .and_then(|mut statement| statement.execute(params));
                match result {
                    Ok(rows) => {
                        let commits = self.commits.fetch_add(1, Ordering::Relaxed) + 1;
                        Ok(Written::Done {
                            rows,
                            checkpoint_due: commits.is_multiple_of(CHECKPOINT_EVERY),
                        })
                    }
                    Err(rusqlite::Error::SqliteFailure(failure, _))
                        if matches!(
                            failure.code,
                            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked
                        ) =>
                    {
                        Ok(Written::Busy)
                    }
                    Err(other) => Err(StoreError::Read(other)),
                }
            },
            Result::is_ok,
        )
    }
}

fn set_up(connection: &Connection) -> Result<(), rusqlite::Error> {
    // Never wait for the lock: the caller falls back to the pool.
    connection.busy_timeout(std::time::Duration::ZERO)?;
    connection.execute_batch(
        "PRAGMA foreign_keys = ON;
         PRAGMA synchronous = NORMAL;
         PRAGMA wal_autocheckpoint = 0;
         PRAGMA mmap_size = 0;",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A WAL database with one table, in a directory removed on drop.
    struct Database {
        dir: PathBuf,
        path: PathBuf,
    }

    impl Drop for Database {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn database() -> Database {
        let dir = std::env::temp_dir().join(format!("esia-link-writes-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (v TEXT);")
            .unwrap();
        Database { dir, path }
    }

    /// A write commits at once; while another connection holds the write
    /// lock it answers `Busy` without waiting and without writing; after
    /// the lock is gone it writes again; every CHECKPOINT_EVERY-th commit
    /// says a checkpoint is due.
    #[test]
    fn writes_at_once_or_says_busy() {
        let db = database();
        let path = &db.path;
        let writes = SqliteWrites::for_path(path);
        let insert = "INSERT INTO t (v) VALUES ($1)";
        assert_eq!(
            writes.execute(insert, &[&"a"]).unwrap(),
            Written::Done {
                rows: 1,
                checkpoint_due: false
            }
        );
        let other = Connection::open(path).unwrap();
        other
            .execute_batch("BEGIN IMMEDIATE; INSERT INTO t (v) VALUES ('other');")
            .unwrap();
        let started = std::time::Instant::now();
        assert_eq!(writes.execute(insert, &[&"b"]).unwrap(), Written::Busy);
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
        other.execute_batch("COMMIT").unwrap();
        let mut due = 0;
        for _ in 1..CHECKPOINT_EVERY {
            if let Written::Done { checkpoint_due, .. } = writes.execute(insert, &[&"c"]).unwrap() {
                due += usize::from(checkpoint_due);
            }
        }
        assert_eq!(due, 1, "the 250th commit");
        let count: i64 = other
            .query_row("SELECT count(*) FROM t WHERE v <> 'b'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, i64::try_from(CHECKPOINT_EVERY).unwrap() + 1);
        let busy_rows: i64 = other
            .query_row("SELECT count(*) FROM t WHERE v = 'b'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(busy_rows, 0, "a busy answer wrote nothing");
    }

    /// A failing statement is an error, not a fallback.
    #[test]
    fn other_errors_are_errors() {
        let db = database();
        let writes = SqliteWrites::for_path(&db.path);
        assert!(writes
            .execute("INSERT INTO missing VALUES (1)", &[])
            .is_err());
    }
}
