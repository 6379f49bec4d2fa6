//! Link attempts (what operators search) and the append-only audit log.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Any, AnyConnection, Row, Transaction};
use uuid::Uuid;

use super::{json_col, now_ms, opt_uuid_col, to_time, uuid_col, Params, Store, StoreError};

/// The smallest pool that lends the login journal a connection to keep.
const KEEP_JOURNAL_CONNECTION_FROM: u32 = 3;

#[derive(Debug, Clone)]
pub struct NewAttempt {
    /// When the attempt happened (a journaled one is written later).
    pub at: DateTime<Utc>,
    pub reference_code: String,
    pub provider: String,
    pub subject_masked: Option<String>,
    /// Keyed hash of provider:subject, for lookups without the subject.
    pub subject_hash: Option<String>,
    pub account_id: Option<Uuid>,
    pub outcome: String,
    pub region_code: Option<i64>,
    pub tier: Option<String>,
    pub idp_error: Option<String>,
    /// Masked details: per-part comparison codes, masked SNILS.
    pub details: serde_json::Value,
    pub snils_hash: Option<String>,
}

#[derive(Debug, Clone)]
pub struct LinkAttempt {
    pub id: Uuid,
    pub reference_code: String,
    pub created_at: DateTime<Utc>,
    pub provider: String,
    pub subject_masked: Option<String>,
    pub subject_hash: Option<String>,
    pub account_id: Option<Uuid>,
    pub outcome: String,
    pub region_code: Option<i64>,
    pub tier: Option<String>,
    pub idp_error: Option<String>,
    pub details: serde_json::Value,
    pub snils_hash: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    pub actor: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub reason: Option<String>,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub reason: Option<String>,
    pub details: serde_json::Value,
}

const ATTEMPT_COLUMNS: &str = "id, reference_code, created_at, provider, subject_masked, subject_hash, account_id, outcome, region_code, tier, idp_error, details_json, snils_hash";

static INSERT_ATTEMPT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO link_attempts ({ATTEMPT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    )
});

fn insert_attempt(attempt: &NewAttempt) -> sqlx::query::Query<'static, Any, AnyArguments<'static>> {
    bind_attempt(sqlx::query(INSERT_ATTEMPT.as_str()), attempt)
}

/// Binds one attempt's 13 columns, in [`ATTEMPT_COLUMNS`] order.
fn bind_attempt<'q>(
    query: sqlx::query::Query<'q, Any, AnyArguments<'q>>,
    attempt: &NewAttempt,
) -> sqlx::query::Query<'q, Any, AnyArguments<'q>> {
    // Time-ordered ids: each insert goes to the right edge of the id index
    // instead of a random page of it.
    query
        .bind(Uuid::now_v7().to_string())
        .bind(attempt.reference_code.clone())
        .bind(attempt.at.timestamp_millis())
        .bind(attempt.provider.clone())
        .bind(attempt.subject_masked.clone())
        .bind(attempt.subject_hash.clone())
        .bind(attempt.account_id.map(|a| a.to_string()))
        .bind(attempt.outcome.clone())
        .bind(attempt.region_code)
        .bind(attempt.tier.clone())
        .bind(attempt.idp_error.clone())
        .bind(attempt.details.to_string())
        .bind(attempt.snils_hash.clone())
}

fn audit_from(row: &AnyRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        id: row.try_get("id")?,
        at: to_time(row.try_get("at")?),
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        target_kind: row.try_get("target_kind")?,
        target_id: row.try_get("target_id")?,
        reason: row.try_get("reason")?,
        details: json_col(row, "details_json")?,
    })
}

fn attempt_from(row: &AnyRow) -> Result<LinkAttempt, StoreError> {
    Ok(LinkAttempt {
        id: uuid_col(row, "id")?,
        reference_code: row.try_get("reference_code")?,
        created_at: to_time(row.try_get("created_at")?),
        provider: row.try_get("provider")?,
        subject_masked: row.try_get("subject_masked")?,
        subject_hash: row.try_get("subject_hash")?,
        account_id: opt_uuid_col(row, "account_id")?,
        outcome: row.try_get("outcome")?,
        region_code: row.try_get("region_code")?,
        tier: row.try_get("tier")?,
        idp_error: row.try_get("idp_error")?,
        details: json_col(row, "details_json")?,
        snils_hash: row.try_get("snils_hash")?,
    })
}

impl Store {
    /// Appends an audit row inside the caller's transaction, so that the change
    /// and its record commit together.
    pub(crate) async fn insert_audit(
        &self,
        tx: &mut Transaction<'static, Any>,
        entry: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        sqlx::query(
        "INSERT INTO audit_log (at, actor, action, target_kind, target_id, reason, details_json)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(now_ms())
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.target_kind)
    .bind(&entry.target_id)
    .bind(entry.reason.clone())
    .bind(entry.details.to_string())
    .execute(self.in_tx(tx))
    .await?;
        Ok(())
    }
}

impl Store {
    pub async fn record_attempt(&self, attempt: &NewAttempt) -> Result<(), StoreError> {
        insert_attempt(attempt)
            .execute(&mut *self.conn().await?)
            .await?;
        Ok(())
    }

    /// Successful logins' records in one transaction: their attempts (one
    /// multi-row insert per 100) and the links' last-login times (one
    /// update, at the batch's latest time: the batch spans milliseconds).
    ///
    /// Always on the same connection, kept between batches: the pool hands
    /// its idle connections out in turn, and on SQLite each came back with
    /// a page cache that other connections' commits had made stale, so
    /// every batch read the pages it changes again (about 8 % of the
    /// service's CPU in `bench login`). A connection that failed goes back
    /// to the pool, which tests it, and the next batch takes another. A pool
    /// of fewer than [`KEEP_JOURNAL_CONNECTION_FROM`] connections keeps none
    /// aside: the requests need them more.
    pub async fn write_login_journal(
        &self,
        attempts: &[NewAttempt],
        touches: &[(Uuid, DateTime<Utc>)],
    ) -> Result<(), StoreError> {
        if self.database_down() {
            return Err(StoreError::Unavailable);
        }
        let mut kept = self.journal_connection.lock().await;
        let mut connection = match kept.take() {
            Some(connection) => connection,
            None => self.acquire().await?,
        };
        let result = self
            .write_journal_in(&mut connection, attempts, touches)
            .await;
        if result.is_ok()
            && self.pool.options().get_max_connections() >= KEEP_JOURNAL_CONNECTION_FROM
        {
            *kept = Some(connection);
        }
        result
    }

    async fn write_journal_in(
        &self,
        connection: &mut AnyConnection,
        attempts: &[NewAttempt],
        touches: &[(Uuid, DateTime<Utc>)],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write_on(connection).await?;
        // Anonymous placeholders on SQLite: see `Params`.
        for chunk in attempts.chunks(100) {
            let sql = format!(
                "INSERT INTO link_attempts ({ATTEMPT_COLUMNS}) VALUES {}",
                Params::new(self.backend).rows(chunk.len(), 13)
            );
            let mut query = sqlx::query(&sql);
            for attempt in chunk {
                query = bind_attempt(query, attempt);
            }
            query.execute(self.in_tx(&mut tx)).await?;
        }
        if let Some(latest) = touches.iter().map(|(_, at)| *at).max() {
            for chunk in touches.chunks(500) {
                // Only forward: a batch held through an outage may be
                // written after a later one.
                let mut params = Params::new(self.backend);
                let sql = format!(
                    "UPDATE federated_links SET last_login_at = {} WHERE id IN ({}) AND (last_login_at IS NULL OR last_login_at < {})",
                    params.one(),
                    params.list(chunk.len()),
                    params.one()
                );
                let mut query = sqlx::query(&sql).bind(latest.timestamp_millis());
                for (link_id, _) in chunk {
                    query = query.bind(link_id.to_string());
                }
                query = query.bind(latest.timestamp_millis());
                query.execute(self.in_tx(&mut tx)).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn find_attempt_by_reference(
        &self,
        reference: &str,
    ) -> Result<Option<LinkAttempt>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {ATTEMPT_COLUMNS} FROM link_attempts WHERE reference_code = $1"
        ))
        .bind(reference)
        .fetch_optional(&mut *self.conn().await?)
        .await?;
        row.as_ref().map(attempt_from).transpose()
    }

    async fn attempts_where(
        &self,
        column: &str,
        value: String,
        limit: i64,
    ) -> Result<Vec<LinkAttempt>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ATTEMPT_COLUMNS} FROM link_attempts WHERE {column} = $1 ORDER BY created_at DESC LIMIT $2"
        ))
        .bind(value)
        .bind(limit)
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter().map(attempt_from).collect()
    }

    pub async fn attempts_for_account(
        &self,
        account_id: Uuid,
        limit: i64,
    ) -> Result<Vec<LinkAttempt>, StoreError> {
        self.attempts_where("account_id", account_id.to_string(), limit)
            .await
    }

    pub async fn attempts_by_subject_hash(
        &self,
        subject_hash: &str,
        limit: i64,
    ) -> Result<Vec<LinkAttempt>, StoreError> {
        self.attempts_where("subject_hash", subject_hash.to_string(), limit)
            .await
    }

    pub async fn attempts_by_snils_hash(
        &self,
        snils_hash: &str,
        limit: i64,
    ) -> Result<Vec<LinkAttempt>, StoreError> {
        self.attempts_where("snils_hash", snils_hash.to_string(), limit)
            .await
    }

    pub async fn append_audit(&self, entry: &NewAuditEntry) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        self.insert_audit(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn audit_for_target(
        &self,
        target_kind: &str,
        target_id: &str,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, target_kind, target_id, reason, details_json FROM audit_log
             WHERE target_kind = $1 AND target_id = $2 ORDER BY id",
        )
        .bind(target_kind)
        .bind(target_id)
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter().map(audit_from).collect()
    }
}

/// One row of the outcomes report: how many attempts had this outcome in
/// this region (and, for failures, this error code) since a time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutcomeCount {
    pub outcome: String,
    pub region_code: Option<i64>,
    pub error_code: Option<String>,
    pub count: i64,
}

impl Store {
    /// Attempts since `since`, counted by outcome, region and error code.
    pub async fn outcome_counts(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<OutcomeCount>, StoreError> {
        let rows = sqlx::query(
            "SELECT outcome, region_code, idp_error, COUNT(*) AS n FROM link_attempts
             WHERE created_at >= $1
             GROUP BY outcome, region_code, idp_error
             ORDER BY n DESC, outcome, region_code",
        )
        .bind(since.timestamp_millis())
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(OutcomeCount {
                    outcome: row.try_get("outcome")?,
                    region_code: row.try_get("region_code")?,
                    error_code: row.try_get("idp_error")?,
                    count: row.try_get("n")?,
                })
            })
            .collect()
    }
}

/// Filters of the audit-log viewer; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target_id: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// Rows strictly before this time.
    pub until: Option<DateTime<Utc>>,
    /// Rows older than this row id: the next page of a newest-first list.
    pub before_id: Option<i64>,
    /// Only rows about accounts of this school (a school administrator's view).
    pub school_id: Option<Uuid>,
    pub limit: i64,
}

/// Attempts that began in one hour with one outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourCount {
    /// Hours since the Unix epoch (UTC).
    pub hour: i64,
    pub outcome: String,
    pub count: i64,
}

impl Store {
    /// Audit rows matching `filter`, newest first.
    pub async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, target_kind, target_id, reason, details_json FROM audit_log
             WHERE ($1 = '' OR actor = $1) AND ($2 = '' OR action = $2)
               AND ($3 = '' OR target_id = $3) AND at >= $4 AND at < $5 AND id < $6
               AND ($7 = '' OR (target_kind = 'account'
                                AND target_id IN (SELECT id FROM accounts WHERE school_id = $7)))
             ORDER BY id DESC LIMIT $8",
        )
        .bind(filter.actor.clone().unwrap_or_default())
        .bind(filter.action.clone().unwrap_or_default())
        .bind(filter.target_id.clone().unwrap_or_default())
        .bind(filter.since.map(|t| t.timestamp_millis()).unwrap_or(0))
        .bind(filter.until.map(|t| t.timestamp_millis()).unwrap_or(i64::MAX))
        .bind(filter.before_id.unwrap_or(i64::MAX))
        .bind(filter.school_id.map(|s| s.to_string()).unwrap_or_default())
        .bind(filter.limit.max(1))
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter().map(audit_from).collect()
    }

    /// Attempts since `since` (optionally of one region), counted by hour
    /// and outcome; hours without attempts are absent. Oldest first.
    pub async fn attempts_per_hour(
        &self,
        since: DateTime<Utc>,
        region: Option<i64>,
    ) -> Result<Vec<HourCount>, StoreError> {
        // Integer division: the same hour buckets in SQLite and PostgreSQL.
        let rows = sqlx::query(
            "SELECT created_at / 3600000 AS hour, outcome, COUNT(*) AS n FROM link_attempts
             WHERE created_at >= $1 AND ($2 = 0 OR region_code = $2)
             GROUP BY created_at / 3600000, outcome
             ORDER BY hour, outcome",
        )
        .bind(since.timestamp_millis())
        .bind(region.unwrap_or(0))
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(HourCount {
                    hour: row.try_get("hour")?,
                    outcome: row.try_get("outcome")?,
                    count: row.try_get("n")?,
                })
            })
            .collect()
    }

    /// Accounts sharing a SNILS (a school data error): SNILS digits and the
    /// accounts carrying it.
    pub async fn shared_snils(&self) -> Result<Vec<(String, Vec<Uuid>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT snils, id FROM accounts WHERE snils IN
               (SELECT snils FROM accounts WHERE snils IS NOT NULL GROUP BY snils HAVING COUNT(*) > 1)
             ORDER BY snils, id",
        )
        .fetch_all(&mut *self.conn().await?)
        .await?;
        let mut groups: Vec<(String, Vec<Uuid>)> = Vec::new();
        for row in &rows {
            let snils: String = row.try_get("snils")?;
            let id = uuid_col(row, "id")?;
            match groups.last_mut() {
                Some((last, ids)) if *last == snils => ids.push(id),
                _ => groups.push((snils, vec![id])),
            }
        }
        Ok(groups)
    }

    /// Accounts that another identity of the same provider tried to claim
    /// (`linked_elsewhere` attempts), with how many distinct identities.
    pub async fn contested_accounts(&self) -> Result<Vec<(Uuid, String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT account_id, provider, COUNT(DISTINCT subject_hash) AS n FROM link_attempts
             WHERE outcome = 'linked_elsewhere' AND account_id IS NOT NULL
             GROUP BY account_id, provider ORDER BY n DESC, account_id",
        )
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    uuid_col(row, "account_id")?,
                    row.try_get("provider")?,
                    row.try_get("n")?,
                ))
            })
            .collect()
    }
}
