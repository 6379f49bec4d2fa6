//! The marks of a roster check (`domain::roster::file_check`) — the first
//! row of each key, SNILS and login of the file read so far, and the
//! children not judged yet — kept on disk rather than in memory, in a
//! scratch SQLite database of the check's own.
//!
//! The scratch database is a temporary file SQLite deletes when the check
//! drops it (the file has no name from the start, so a process that stops
//! mid-check leaves nothing either). Its page cache is fixed, so a check
//! of any size holds the same memory; the rest of the marks sit in the
//! operating system's file cache. It is independent of the service's own
//! database, SQLite or PostgreSQL: a check writes nothing there and takes
//! no lock from the service's writers. Without a journal or syncs (nothing
//! in it outlives the check), a run of 2,000 rows is a few milliseconds of
//! work, done on a blocking thread.

use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;
use domain::roster::{Mark, MarkKind, Reference};

/// The scratch database's page cache, in KiB: what a check holds of its
/// marks in memory, whatever the size of the file.
const CACHE_KIB: i64 = 2048;

/// Fingerprints are 64-bit hashes; SQLite keeps signed integers.
fn stored(fingerprint: u64) -> i64 {
    i64::from_ne_bytes(fingerprint.to_ne_bytes())
}

fn number(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn scratch_error(error: impl std::fmt::Display) -> StoreError {
    StoreError::Scratch(error.to_string())
}

/// A child still to be judged, with whether the first row with its key is
/// a pupil (`None`: no row has the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingChild {
    /// Its place among the check's children, to read on after it.
    pub seq: u64,
    pub reference: Reference,
    pub first_is_pupil: Option<bool>,
}

/// One check's marks; the scratch database goes when this is dropped.
pub struct CheckMarks {
    connection: Arc<Mutex<Connection>>,
}

impl CheckMarks {
    /// A new, empty scratch database.
    pub fn open() -> Result<CheckMarks, StoreError> {
        // An empty name: a private temporary database on disk, deleted on
        // close.
        let connection = Connection::open("").map_err(scratch_error)?;
        connection
            .execute_batch(&format!(
                "PRAGMA cache_size = -{CACHE_KIB};
                 PRAGMA temp_store = FILE;
                 PRAGMA journal_mode = OFF;
                 PRAGMA synchronous = OFF;
                 PRAGMA locking_mode = EXCLUSIVE;
                 CREATE TABLE marks (
                     kind        INTEGER NOT NULL,
                     fingerprint INTEGER NOT NULL,
                     first_row   INTEGER NOT NULL,
                     pupil       INTEGER NOT NULL,
                     PRIMARY KEY (kind, fingerprint)
                 ) WITHOUT ROWID;
                 CREATE TABLE children (
                     seq         INTEGER PRIMARY KEY,
                     row_number  INTEGER NOT NULL,
                     child       TEXT NOT NULL,
                     fingerprint INTEGER NOT NULL
                 );"
            ))
            .map_err(scratch_error)?;
        Ok(CheckMarks {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// Runs `work` on the connection on a blocking thread.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let mut connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut connection)
        })
        .await
        .map_err(scratch_error)?
        .map_err(scratch_error)
    }

    /// The marks kept so far among `wanted`.
    pub async fn marks(&self, wanted: Vec<(MarkKind, u64)>) -> Result<Vec<Mark>, StoreError> {
        self.run(move |connection| {
            let mut select = connection.prepare_cached(
                "SELECT first_row, pupil FROM marks WHERE kind = ?1 AND fingerprint = ?2",
            )?;
            let mut marks = Vec::new();
            for (kind, fingerprint) in wanted {
                let found = select
                    .query_row(params![kind.code(), stored(fingerprint)], |row| {
                        Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
                    })
                    .optional()?;
                if let Some((first_row, pupil)) = found {
                    marks.push(Mark {
                        kind,
                        fingerprint,
                        first_row: u64::try_from(first_row).unwrap_or_default(),
                        pupil: pupil != 0,
                    });
                }
            }
            Ok(marks)
        })
        .await
    }

    /// Keeps a run's new marks and the children it could not judge, the
    /// first of them numbered `first_seq` (the check's children so far).
    pub async fn add(
        &self,
        marks: Vec<Mark>,
        references: Vec<Reference>,
        first_seq: u64,
    ) -> Result<(), StoreError> {
        if marks.is_empty() && references.is_empty() {
            return Ok(());
        }
        self.run(move |connection| {
            let tx = connection.transaction()?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO marks (kind, fingerprint, first_row, pupil)
                     VALUES (?1, ?2, ?3, ?4)",
                )?;
                for mark in &marks {
                    insert.execute(params![
                        mark.kind.code(),
                        stored(mark.fingerprint),
                        number(mark.first_row),
                        i64::from(mark.pupil)
                    ])?;
                }
                let mut insert = tx.prepare_cached(
                    "INSERT INTO children (seq, row_number, child, fingerprint)
                     VALUES (?1, ?2, ?3, ?4)",
                )?;
                for (seq, reference) in (first_seq..).zip(&references) {
                    insert.execute(params![
                        number(seq),
                        number(reference.row),
                        reference.child,
                        stored(reference.fingerprint())
                    ])?;
                }
            }
            tx.commit()
        })
        .await
    }

    /// The children after `after` (a seq; `None` from the first) whose key
    /// no row has or whose key's first row is not a pupil, in file order,
    /// at most `limit`.
    pub async fn unresolved(
        &self,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<PendingChild>, StoreError> {
        self.run(move |connection| {
            let mut select = connection.prepare_cached(
                "SELECT c.seq, c.row_number, c.child, m.pupil
                 FROM children c
                 LEFT JOIN marks m ON m.kind = ?1 AND m.fingerprint = c.fingerprint
                 WHERE c.seq > ?2 AND (m.pupil IS NULL OR m.pupil = 0)
                 ORDER BY c.seq LIMIT ?3",
            )?;
            let rows = select.query_map(
                params![
                    MarkKind::Key.code(),
                    after.map_or(-1, number),
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ],
                |row| {
                    Ok(PendingChild {
                        seq: u64::try_from(row.get::<_, i64>(0)?).unwrap_or_default(),
                        reference: Reference {
                            row: u64::try_from(row.get::<_, i64>(1)?).unwrap_or_default(),
                            child: row.get(2)?,
                        },
                        first_is_pupil: row.get::<_, Option<i64>>(3)?.map(|p| p != 0),
                    })
                },
            )?;
            rows.collect()
        })
        .await
    }
}

#[cfg(test)]
#[path = "checks_tests.rs"]
mod tests;
