//! The hot paths' reads on SQLite, run on the calling thread: the
//! returning-login lookup, and what an app sign-in reads (the person's
//! claims, a grant's liveness).
//!
//! sqlx runs every SQLite statement on a thread of the connection's own
//! and, when the connection goes back to the pool, checks it with a second
//! round trip there: four thread hand-offs and a spawned task for a read
//! that SQLite answers in some 20 µs. Measured with `bench login` (OIDC),
//! the returning-login lookup through the pool cost about 0.15 ms of the
//! service's CPU per login, a fifth of all of it.
//!
//! Here the statement runs where it is called, on a connection kept for
//! these reads. In WAL mode a reader never waits for the writer (the pool's
//! connections write), and pages come through the memory map, so the call
//! takes microseconds like any other in-memory work on the async threads.
//! The connections only read (`query_only`), and a statement's rows are all
//! read before its connection is handed on, so no read transaction stays
//! open to hold back the log's checkpoints. PostgreSQL and in-memory SQLite
//! databases use the pool.

use std::str::FromStr;
use std::sync::{LazyLock, OnceLock};
use std::time::Duration;

use rusqlite::Connection;
use sqlx::sqlite::SqliteConnectOptions;

use super::sqlite_kept::KeptConnections;
use super::{Columns, Store, StoreError};

/// Idle connections kept at most: one a thread that reads at the same
/// time; a busier moment opens more and closes them afterwards.
const IDLE: usize = 8;

/// How long a read waits if the log is being recovered or reset (the only
/// times a WAL reader waits).
const BUSY_WAIT: Duration = Duration::from_millis(250);

pub(super) struct SqliteReads {
    connections: KeptConnections,
}

impl SqliteReads {
    /// For the database file of `url`; `None` for an in-memory database,
    /// which only the pool's own connection can see.
    pub(super) fn for_url(url: &str) -> Option<SqliteReads> {
        if url.contains(":memory:") || url.contains("mode=memory") {
            return None;
        }
        let options = SqliteConnectOptions::from_str(url).ok()?;
        Some(SqliteReads {
            connections: KeptConnections::new(options.get_filename(), IDLE, set_up),
        })
    }

    /// The database file.
    pub(super) fn path(&self) -> &std::path::Path {
        self.connections.path()
    }

    /// Runs `read` on an idle connection, or a new one if none is idle. A
    /// connection whose statement failed in SQLite is closed, not kept.
    pub(super) fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.connections
            .run(read, |answer| !matches!(answer, Err(StoreError::Read(_))))
    }
}

fn set_up(connection: &Connection) -> Result<(), rusqlite::Error> {
    connection.busy_timeout(BUSY_WAIT)?;
    connection.pragma_update(None, "query_only", true)?;
    // Without a memory map, as the pool's connections (see `Store::connect`).
    connection.pragma_update(None, "mmap_size", 0)
}

/// A read whose statement never changes: its text built once, its column
/// names learned on its first run here. Its parameters are all text (ids).
pub(crate) struct FixedRead {
    sql: LazyLock<String>,
    names: OnceLock<Vec<String>>,
}

impl FixedRead {
    pub(crate) const fn new(sql: fn() -> String) -> FixedRead {
        FixedRead {
            sql: LazyLock::new(sql),
            names: OnceLock::new(),
        }
    }
}

impl Store {
    /// The rows of `read`, each made into a `T` by `row`: on a SQLite file
    /// on the calling thread, otherwise through the pool. One statement
    /// either way.
    pub(crate) async fn read_rows<T>(
        &self,
        read: &'static FixedRead,
        params: &[&str],
        row: impl Fn(&dyn Columns) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        if let Some(reads) = self.fast_reads() {
            return reads.read(|connection| {
                let mut statement = connection.prepare_cached(&read.sql)?;
                let names = read.names.get_or_init(|| {
                    statement
                        .column_names()
                        .into_iter()
                        .map(str::to_string)
                        .collect()
                });
                bind_numbered(&mut statement, params)?;
                let mut rows = statement.raw_query();
                let mut found = Vec::new();
                while let Some(found_row) = rows.next()? {
                    found.push(row(&NamedRow {
                        row: found_row,
                        names,
                    })?);
                }
                Ok(found)
            });
        }
        let mut query = sqlx::query(&read.sql);
        for param in params {
            query = query.bind(param.to_string());
        }
        let rows = query.fetch_all(&mut *self.conn().await?).await?;
        rows.iter().map(|found| row(found)).collect()
    }
}

/// Binds `$1`, `$2`… to `params` by their numbers, as sqlx does: SQLite
/// numbers parameters named `$n` in the order they first appear.
fn bind_numbered(
    statement: &mut rusqlite::Statement<'_>,
    params: &[&str],
) -> Result<(), StoreError> {
    for index in 1..=statement.parameter_count() {
        let number = statement
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|number| number.parse::<usize>().ok())
            .unwrap_or(index);
        let value = number
            .checked_sub(1)
            .and_then(|at| params.get(at))
            .ok_or(rusqlite::Error::InvalidParameterCount(params.len(), number))?;
        statement.raw_bind_parameter(index, value)?;
    }
    Ok(())
}

/// A row with its statement's column names, read by name on the Rust side:
/// rusqlite's own lookup by name asks SQLite for each column's name, so
/// reading a row of twenty columns by name took some four hundred calls.
pub(crate) struct NamedRow<'a, 's> {
    pub row: &'a rusqlite::Row<'s>,
    /// From `Statement::column_names`, taken before the query.
    pub names: &'a [String],
}

impl NamedRow<'_, '_> {
    fn index(&self, column: &str) -> Result<usize, StoreError> {
        self.names
            .iter()
            .position(|name| name == column)
            .ok_or_else(|| StoreError::Read(rusqlite::Error::InvalidColumnName(column.into())))
    }
}

impl Columns for NamedRow<'_, '_> {
    fn text(&self, column: &str) -> Result<Option<String>, StoreError> {
        Ok(self.row.get(self.index(column)?)?)
    }

    fn int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.row.get(self.index(column)?)?)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::Read(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_get_reads_and_memory_databases_do_not() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "sqlite://data/esia-link.db?mode=rwc",
                Some("data/esia-link.db"),
            ),
            (
                "sqlite:///var/lib/esia-link/db.sqlite",
                Some("/var/lib/esia-link/db.sqlite"),
            ),
            ("sqlite::memory:", None),
            ("sqlite://shared.db?mode=memory", None),
        ];
        for (url, path) in cases {
            let reads = SqliteReads::for_url(url);
            assert_eq!(
                reads
                    .as_ref()
                    .map(|r| r.path().to_string_lossy().into_owned()),
                path.map(str::to_string),
                "{url}"
            );
        }
    }

    #[test]
    fn a_read_sees_what_was_committed_and_cannot_write() {
        let dir = std::env::temp_dir().join(format!("esia-link-reads-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("db.sqlite");
        let writer = Connection::open(&file).expect("open");
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a');",
            )
            .expect("setup");
        let reads = SqliteReads::for_url(&format!("sqlite://{}", file.display())).expect("reads");
        let count = |reads: &SqliteReads| {
            reads.read(|c| Ok(c.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))?))
        };
        assert_eq!(count(&reads).expect("read"), 1);
        writer
            .execute("INSERT INTO t VALUES ('b')", [])
            .expect("insert");
        // The same (kept) connection sees the new row.
        assert_eq!(count(&reads).expect("read"), 2);
        let write = reads.read(|c| Ok(c.execute("INSERT INTO t VALUES ('c')", [])?));
        assert!(matches!(write, Err(StoreError::Read(_))), "{write:?}");
        assert_eq!(count(&reads).expect("read after a refused write"), 2);
        drop(reads);
        drop(writer);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_named_row_reads_each_column_by_its_name() {
        let connection = Connection::open_in_memory().expect("open");
        let mut statement = connection
            .prepare("SELECT 'x' AS text, 7 AS number, NULL AS missing")
            .expect("prepare");
        let names: Vec<String> = statement
            .column_names()
            .into_iter()
            .map(str::to_string)
            .collect();
        let mut rows = statement.query([]).expect("query");
        let row = rows.next().expect("step").expect("a row");
        let named = NamedRow { row, names: &names };
        assert_eq!(named.text("text").expect("text"), Some("x".into()));
        assert_eq!(named.int("number").expect("number"), Some(7));
        assert_eq!(named.text("missing").expect("NULL"), None);
        assert!(named.required_text("missing").is_err(), "NULL is not text");
        let unknown = named.text("nowhere");
        assert!(
            matches!(
                unknown,
                Err(StoreError::Read(rusqlite::Error::InvalidColumnName(ref c))) if c == "nowhere"
            ),
            "{unknown:?}"
        );
    }
}
