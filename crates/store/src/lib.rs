//! Durable data: regions, schools, accounts, federated links, activation
//! codes, link attempts and the append-only audit log, in SQLite (embedded
//! default) or PostgreSQL (production) through one set of queries.
//!
//! One `sqlx::AnyPool` serves both backends, so every column uses shapes
//! both understand: UUIDs as text, times as unix milliseconds, flags as 0/1.
//! One statement, the returning-login lookup, reads a SQLite file through
//! connections of its own instead (`sqlite_reads`); its rows decode through
//! the same [`Columns`] as the pool's.

mod accounts;
mod activation;
mod app_grants;
mod attempts;
mod circuit;
mod family;
mod kids;
mod links;
mod migrations;
mod operator;
mod recovery;
mod roster;
mod sqlite_kept;
mod sqlite_reads;
mod sqlite_writes;
#[cfg(test)]
mod test_db;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, Row, Transaction};
use uuid::Uuid;

pub use accounts::AccountOverview;
pub use accounts::{Account, NewAccount, NewSchool, Region, School};
pub use activation::{Activation, ActivationConflict, EmailTokenUse};
pub use app_grants::{GrantsOf, LogoutDelivery, NewAppGrant, SessionOfApp, StoredAppGrant};
pub use attempts::{AuditEntry, AuditFilter, LinkAttempt, NewAttempt, NewAuditEntry, OutcomeCount};
pub use circuit::PROBE_EVERY;
pub use family::*;
pub use kids::{KidLink, ESIA_KIDS_REASON};
pub use links::{FederatedLink, LoginCandidate, NewLink};
pub use recovery::PasswordReset;
pub use roster::{
    ActivationRecord, BatchWritten, CheckMarks, ChildOf, ClassSummary, CodeRecord, CodeScope,
    CodeTarget, MemberState, PendingChild, SchoolPerson, SnilsHolder,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkConflict {
    /// The (provider, subject) pair is already linked.
    IdentityTaken,
    /// The account already has a link with this provider.
    AccountTaken,
}

impl std::fmt::Display for LinkConflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LinkConflict::IdentityTaken => "this identity is linked already",
            LinkConflict::AccountTaken => "this account has a link with the provider already",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("already linked: {0}")]
    AlreadyLinked(LinkConflict),
    #[error("not found")]
    NotFound,
    #[error("this login is taken")]
    DuplicateLogin,
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// The database is known to be down (the circuit is open): nothing was
    /// sent, and a background probe closes the circuit once it answers.
    #[error("database unavailable (known to be down; probed every {} ms)", PROBE_EVERY.as_millis())]
    Unavailable,
    /// From the login path's own SQLite reads (`sqlite_reads`).
    #[error("database error: {0}")]
    Read(#[source] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("unsupported database URL {0:?}: use sqlite:// or postgres://")]
    UnsupportedUrl(String),
    /// A roster check's scratch database (a temporary file of its own).
    #[error("roster check scratch database: {0}")]
    Scratch(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            other => StoreError::Database(other),
        }
    }
}

impl StoreError {
    /// The database could not be reached (down, unreachable, or every
    /// connection busy past the acquire timeout): a temporary failure, worth
    /// trying again later, as opposed to a statement the database refused.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable => true,
            StoreError::Database(error) => matches!(
                error,
                sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::Protocol(_)
            ),
            _ => false,
        }
    }
}

/// Which unique constraint a database error violated, if any.
pub(crate) fn unique_violation(error: &sqlx::Error) -> Option<String> {
    let sqlx::Error::Database(db) = error else {
        return None;
    };
    let code = db.code().map(|c| c.to_string()).unwrap_or_default();
    let unique = matches!(db.kind(), sqlx::error::ErrorKind::UniqueViolation)
        || code == "23505"
        || code == "2067"
        || code == "1555";
    unique.then(|| format!("{} {}", db.constraint().unwrap_or_default(), db.message()))
}

/// Bulk write transactions side by side on PostgreSQL: past two, on a
/// 2-core machine, they only wait for each other's locks and cores.
const POSTGRES_WRITE_STREAMS: usize = 2;

/// The one wait of a request for a connection: the pool's acquire timeout.
/// Past it the request fails with a temporary error, and on PostgreSQL the
/// circuit opens, so that nothing else waits for a database that is down
/// (the request's own error path included). Half a second keeps a page
/// under one second even when its one wait runs out.
pub const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

/// How long a probe of a database known to be down may take.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// Placeholders numbered in the order they are written: `$1, $2, ...` on
/// PostgreSQL, anonymous `?` on SQLite. SQLite looks each `$n` up by name
/// with a scan of all of them, O(parameters²) per statement; anonymous ones
/// bind by position, so one statement can carry a whole batch. Values are
/// bound in the same order as the placeholders were taken.
struct Params {
    numbered: bool,
    taken: usize,
}

impl Params {
    fn new(backend: Backend) -> Params {
        Params {
            numbered: backend == Backend::Postgres,
            taken: 0,
        }
    }

    fn one(&mut self) -> String {
        self.taken += 1;
        if self.numbered {
            format!("${}", self.taken)
        } else {
            "?".to_string()
        }
    }

    /// `p, p, ...` for `n` values.
    fn list(&mut self, n: usize) -> String {
        (0..n).map(|_| self.one()).collect::<Vec<_>>().join(", ")
    }

    /// `(p, p), (p, p), ...` for `rows` rows of `width` values.
    fn rows(&mut self, rows: usize, width: usize) -> String {
        (0..rows)
            .map(|_| format!("({})", self.list(width)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Data statements (SELECT/INSERT/UPDATE/DELETE) run through this store;
    /// tests read it to keep the login path's round trips in check.
    statements: Arc<AtomicU64>,
    /// The login path's reads on a SQLite file, without the pool.
    reads: Option<Arc<sqlite_reads::SqliteReads>>,
    /// One-statement writes on the calling thread, on the same file.
    writes: Option<Arc<sqlite_writes::SqliteWrites>>,
    /// The login journal's connection, kept between its batches.
    journal_connection: Arc<tokio::sync::Mutex<Option<PoolConnection<Any>>>>,
    /// Open while the database is known to be down (see `circuit`).
    circuit: Arc<circuit::Circuit>,
}

impl Store {
    /// Connects to `sqlite://path?mode=rwc` (creating the directory) or
    /// `postgres://...`.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        Store::connect_with(url, max_connections, None).await
    }

    /// As [`Store::connect`]; on SQLite, `cache_mib` sets each connection's
    /// page cache (SQLite's default is 2 MiB). Bulk tools (roster import)
    /// use a larger one: a big import writes all over seven indexes. Such
    /// connections also keep statement journals in memory and checkpoint
    /// the write-ahead log less often; durability is unchanged.
    pub async fn connect_with(
        url: &str,
        max_connections: u32,
        cache_mib: Option<u32>,
    ) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(
                url.split('@').next_back().unwrap_or_default().to_string(),
            ));
        };
        if backend == Backend::Sqlite {
            ensure_sqlite_dir(url);
        }
        // No ping before each acquire: a broken connection fails its query and
        // is replaced; the ping would double every statement's round trips.
        let mut options = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .test_before_acquire(false)
            // Fail fast while the database is down or the pool is exhausted:
            // a temporary-error page in a second beats a hung request.
            .acquire_timeout(ACQUIRE_TIMEOUT);
        if backend == Backend::Sqlite {
            options = options.after_connect(move |conn, _| {
                Box::pin(async move {
                    if let Some(mib) = cache_mib {
                        let kib = i64::from(mib) * 1024;
                        conn.execute(format!("PRAGMA cache_size = -{kib}").as_str())
                            .await?;
                        // Checkpoint every 160 MiB of log instead of 4: a bulk
                        // write changes the same index pages batch after
                        // batch, and each checkpoint copies a page once.
                        conn.execute("PRAGMA wal_autocheckpoint = 40000").await?;
                    }
                    // A multi-row statement inside a transaction (a roster
                    // batch, the login journal) keeps the pages it changes in
                    // a statement journal, to undo just that statement: in
                    // memory rather than in a temporary file, as nothing
                    // durable is in it.
                    conn.execute("PRAGMA temp_store = MEMORY").await?;
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    // No memory map: after any other connection's write,
                    // SQLite unmaps a reader's whole map when its next
                    // transaction starts, and the unmap interrupts every
                    // core running the process to flush its TLB. With a
                    // diary app's grant written on every sign-in, that was
                    // 15 % of an app sign-in's CPU (`bench apps`: 0.61 →
                    // 0.52 ms; `bench login` unchanged). The pages come from
                    // the OS's cache by read() instead.
                    conn.execute("PRAGMA mmap_size = 0").await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(url).await?;
        // Not for bulk tools: they read in their own transactions.
        let reads = match (backend, cache_mib) {
            (Backend::Sqlite, None) => sqlite_reads::SqliteReads::for_url(url).map(Arc::new),
            _ => None,
        };
        let writes = reads
            .as_ref()
            .map(|reads| Arc::new(sqlite_writes::SqliteWrites::for_path(reads.path())));
        Ok(Store {
            pool,
            backend,
            statements: Arc::new(AtomicU64::new(0)),
            reads,
            writes,
            journal_connection: Arc::default(),
            circuit: Arc::default(),
        })
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = migrations::migrator(self.backend)
            .await
            .map_err(StoreError::Migrate)?;
        migrator.run(&self.pool).await.map_err(StoreError::Migrate)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How many bulk write transactions (roster batches, code batches) are
    /// worth running side by side. SQLite takes one writer at a time. Each
    /// PostgreSQL connection is a server process of its own: one batch
    /// keeps one process busy while the others' cores idle, so batches go
    /// side by side, as many as the pool allows with a connection to spare
    /// for the reads between them.
    pub fn write_streams(&self) -> usize {
        match self.backend {
            Backend::Sqlite => 1,
            Backend::Postgres => {
                let spare = (self.pool.options().get_max_connections() as usize).saturating_sub(1);
                spare.clamp(1, POSTGRES_WRITE_STREAMS)
            }
        }
    }

    /// Answers when the database does; fails at once while it is known to
    /// be down.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&mut *self.acquire().await?)
            .await?;
        Ok(())
    }

    /// Whether the database is known to be down (the circuit is open).
    pub fn database_down(&self) -> bool {
        self.circuit.is_open()
    }

    /// How often the database was found down since the process started.
    pub fn database_outages(&self) -> u64 {
        self.circuit.trips()
    }

    /// A connection from the pool, through the circuit: an error at once
    /// while the database is known to be down; otherwise the pool's one
    /// bounded wait, and a failed wait on PostgreSQL opens the circuit.
    /// SQLite has no server to be down: a timeout there is a busy pool.
    async fn acquire(&self) -> Result<PoolConnection<Any>, StoreError> {
        if self.circuit.is_open() {
            return Err(StoreError::Unavailable);
        }
        match self.pool.acquire().await {
            Ok(connection) => Ok(connection),
            Err(error) => {
                let shutting_down = matches!(error, sqlx::Error::PoolClosed);
                if self.backend == Backend::Postgres && !shutting_down {
                    let pool = self.pool.clone();
                    self.circuit.trip(move || probe_once(pool.clone()));
                }
                Err(StoreError::Database(error))
            }
        }
    }

    /// How many data statements this store has run so far.
    pub fn statements_run(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// The login path's SQLite reads, if this store has them, counting the
    /// statement about to run.
    /// The calling thread's writes on a SQLite file. A write done there
    /// is counted with [`Store::count_statement`]; one that was busy goes
    /// to the pool, which counts it.
    fn fast_writes(&self) -> Option<&sqlite_writes::SqliteWrites> {
        self.writes.as_deref()
    }

    fn count_statement(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }

    /// Copies the log into the database on a pool connection, in the
    /// background, without waiting for readers (`sqlite_writes` never
    /// checkpoints on the calling thread).
    fn checkpoint_in_background(&self) {
        let pool = self.pool.clone();
        tokio::spawn(async move {
            if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                tracing::warn!(%error, "the log's checkpoint failed; the next one copies it");
            }
        });
    }

    fn fast_reads(&self) -> Option<&sqlite_reads::SqliteReads> {
        let reads = self.reads.as_deref()?;
        self.statements.fetch_add(1, Ordering::Relaxed);
        Some(reads)
    }

    /// A connection for one statement (through the circuit), counting the
    /// statement about to run on it.
    async fn conn(&self) -> Result<PoolConnection<Any>, StoreError> {
        self.statements.fetch_add(1, Ordering::Relaxed);
        self.acquire().await
    }

    /// The transaction's connection, counting the statement about to run.
    fn in_tx<'t>(&self, tx: &'t mut Transaction<'_, Any>) -> &'t mut AnyConnection {
        self.statements.fetch_add(1, Ordering::Relaxed);
        tx
    }

    /// A transaction that will write. On SQLite it takes the write lock at
    /// `BEGIN IMMEDIATE`: a deferred transaction that reads first and then
    /// writes fails at once with "database is locked" (SQLITE_BUSY_SNAPSHOT,
    /// which the busy timeout cannot wait out) if another connection wrote
    /// in between; an immediate one waits its turn instead.
    async fn begin_write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        let connection = self.acquire().await?;
        // What `Pool::begin_with` does, on a connection taken through the
        // circuit.
        let statement = match self.backend {
            Backend::Sqlite => Some("BEGIN IMMEDIATE".into()),
            Backend::Postgres => None,
        };
        Ok(Transaction::begin(connection, statement).await?)
    }

    /// As [`Store::begin_write`], on a connection the caller keeps.
    async fn begin_write_on<'c>(
        &self,
        connection: &'c mut AnyConnection,
    ) -> Result<Transaction<'c, Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => connection.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => connection.begin().await,
        }
    }

    /// Raw access for tests and tools; application code uses the methods.
    #[doc(hidden)]
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// One probe of a database known to be down: a connection of its own (the
/// pool's may all be broken), one round trip. When it answers, the pool's
/// idle connections go: they were opened before the outage and may be
/// dead, and handed out untested they would fail the first requests after
/// it.
async fn probe_once(pool: AnyPool) -> bool {
    let options = pool.connect_options();
    let answer = tokio::time::timeout(PROBE_TIMEOUT, async {
        let mut connection = sqlx::ConnectOptions::connect(options.as_ref()).await?;
        connection.ping().await?;
        connection.close().await
    })
    .await;
    match answer {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::debug!(%error, "database probe failed");
            return false;
        }
        Err(_) => return false,
    }
    for _ in 0..pool.num_idle() {
        match pool.try_acquire() {
            Some(mut connection) => connection.close_on_drop(),
            None => break,
        }
    }
    true
}

fn ensure_sqlite_dir(url: &str) {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path.starts_with(":memory:") {
        return;
    }
    if let Some(dir) = Path::new(path).parent() {
        if !dir.as_os_str().is_empty() {
            // A failure shows up as a clear connect error right after.
            let _ = std::fs::create_dir_all(dir);
        }
    }
}

pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

pub(crate) fn to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// A result row read by column name: sqlx's `AnyRow`, or a row of the
/// login path's own SQLite reads. Values have the shapes both backends
/// share (see the module doc): text, integers, NULL.
pub(crate) trait Columns {
    fn text(&self, column: &str) -> Result<Option<String>, StoreError>;
    fn int(&self, column: &str) -> Result<Option<i64>, StoreError>;

    fn required_text(&self, column: &str) -> Result<String, StoreError> {
        self.text(column)?
            .ok_or_else(|| StoreError::Corrupt(format!("{column} is NULL")))
    }

    fn required_int(&self, column: &str) -> Result<i64, StoreError> {
        self.int(column)?
            .ok_or_else(|| StoreError::Corrupt(format!("{column} is NULL")))
    }
}

impl Columns for AnyRow {
    fn text(&self, column: &str) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.try_get(column)?)
    }
}

pub(crate) fn uuid_col(row: &(impl Columns + ?Sized), column: &str) -> Result<Uuid, StoreError> {
    let text = row.required_text(column)?;
    Uuid::parse_str(&text).map_err(|_| StoreError::Corrupt(format!("{column} is not a UUID")))
}

pub(crate) fn opt_uuid_col(
    row: &(impl Columns + ?Sized),
    column: &str,
) -> Result<Option<Uuid>, StoreError> {
    row.text(column)?
        .map(|t| {
            Uuid::parse_str(&t).map_err(|_| StoreError::Corrupt(format!("{column} is not a UUID")))
        })
        .transpose()
}

pub(crate) fn opt_date_col(
    row: &(impl Columns + ?Sized),
    column: &str,
) -> Result<Option<NaiveDate>, StoreError> {
    row.text(column)?
        .map(|t| {
            NaiveDate::parse_from_str(&t, "%Y-%m-%d")
                .map_err(|_| StoreError::Corrupt(format!("{column} is not a date")))
        })
        .transpose()
}

pub(crate) fn flag_col(row: &(impl Columns + ?Sized), column: &str) -> Result<bool, StoreError> {
    Ok(row.required_int(column)? != 0)
}

pub(crate) fn json_col(
    row: &(impl Columns + ?Sized),
    column: &str,
) -> Result<serde_json::Value, StoreError> {
    let text = row.required_text(column)?;
    serde_json::from_str(&text).map_err(|_| StoreError::Corrupt(format!("{column} is not JSON")))
}
