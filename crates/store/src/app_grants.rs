//! The diary apps' grants (esia-link as their OpenID Provider, #28) and the
//! back-channel logout deliveries owed to them. The provider's records are
//! opaque JSON here: this layer keys, swaps and revokes them, the app layer
//! knows what they mean.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

use super::sqlite_reads::FixedRead;
use super::sqlite_writes::Written;
use super::{now_ms, uuid_col, NewAuditEntry, Store, StoreError};

/// A grant as first written, when an authorization code is redeemed.
#[derive(Debug, Clone)]
pub struct NewAppGrant<'a> {
    pub id: Uuid,
    pub client_id: &'a str,
    pub account_id: Uuid,
    pub session_id: &'a str,
    /// Outlives the person's browser session (`offline_access`).
    pub offline: bool,
    pub generation: u32,
    pub expires_at: DateTime<Utc>,
    /// The provider's family record, as JSON.
    pub record: &'a str,
}

/// A stored grant: its record and whether it was revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAppGrant {
    pub record: String,
    pub revoked: bool,
}

/// Which grants a revocation ends.
#[derive(Debug, Clone, Copy)]
pub enum GrantsOf<'a> {
    /// One grant (a replayed code, a reused refresh token, an app's own
    /// revocation request).
    Grant(Uuid),
    /// The grants made in one browser session, except those the person
    /// asked to keep past it (`offline_access`): a plain logout.
    Session(&'a str),
    /// Every grant of the account: "log out everywhere", an unlink, a
    /// password change, a locked account.
    Account(Uuid),
}

/// An app to tell that a session ended: who, which session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOfApp {
    pub client_id: String,
    pub account_id: Uuid,
    pub session_id: String,
}

/// A back-channel logout delivery claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutDelivery {
    pub id: Uuid,
    pub session: SessionOfApp,
    /// Attempts before this one.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
}

fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl Store {
    /// One statement. On a SQLite file it runs on the calling thread
    /// unless another connection is writing (`sqlite_writes`): every app
    /// sign-in writes one.
    pub async fn insert_app_grant(&self, grant: &NewAppGrant<'_>) -> Result<(), StoreError> {
        const INSERT: &str =
            "INSERT INTO app_grants (id, client_id, account_id, session_id, offline,
                                 generation, created_at, expires_at, revoked_at, record)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9)";
        let id = grant.id.to_string();
        let account_id = grant.account_id.to_string();
        let offline = i64::from(grant.offline);
        let generation = i64::from(grant.generation);
        let created_at = now_ms();
        let expires_at = grant.expires_at.timestamp_millis();
        if let Some(writes) = self.fast_writes() {
            let params: [&dyn rusqlite::ToSql; 9] = [
                &id,
                &grant.client_id,
                &account_id,
                &grant.session_id,
                &offline,
                &generation,
                &created_at,
                &expires_at,
                &grant.record,
            ];
            match writes.execute(INSERT, &params)? {
                Written::Done { checkpoint_due, .. } => {
                    self.count_statement();
                    if checkpoint_due {
                        self.checkpoint_in_background();
                    }
                    return Ok(());
                }
                Written::Busy => {}
            }
        }
        sqlx::query(INSERT)
            .bind(id)
            .bind(grant.client_id.to_string())
            .bind(account_id)
            .bind(grant.session_id.to_string())
            .bind(offline)
            .bind(generation)
            .bind(created_at)
            .bind(expires_at)
            .bind(grant.record.to_string())
            .execute(&mut *self.conn().await?)
            .await?;
        Ok(())
    }

    /// On a SQLite file it runs on the calling thread (`sqlite_reads`):
    /// every app's userinfo call reads it.
    pub async fn app_grant(&self, id: Uuid) -> Result<Option<StoredAppGrant>, StoreError> {
        static GRANT: FixedRead =
            FixedRead::new(|| "SELECT record, revoked_at FROM app_grants WHERE id = $1".into());
        let rows = self
            .read_rows(&GRANT, &[&id.to_string()], |row| {
                Ok(StoredAppGrant {
                    record: row.required_text("record")?,
                    revoked: row.int("revoked_at")?.is_some(),
                })
            })
            .await?;
        Ok(rows.into_iter().next())
    }

    /// Writes a rotated grant if nobody rotated it since `generation` was
    /// read and it was not revoked meanwhile; `false` when another
    /// request won (of two concurrent refreshes, one).
    pub async fn rotate_app_grant(
        &self,
        id: Uuid,
        generation: u32,
        next_generation: u32,
        record: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE app_grants SET generation = $1, record = $2
             WHERE id = $3 AND generation = $4 AND revoked_at IS NULL",
        )
        .bind(i64::from(next_generation))
        .bind(record.to_string())
        .bind(id.to_string())
        .bind(i64::from(generation))
        .execute(&mut *self.conn().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Revokes the grants `which` names that are still live, with one
    /// audit row saying who and why, and returns the apps and sessions
    /// they belonged to (each once), for the back-channel logout.
    pub async fn revoke_app_grants(
        &self,
        which: GrantsOf<'_>,
        actor: &str,
        reason: &str,
    ) -> Result<Vec<SessionOfApp>, StoreError> {
        let (filter, key, target_kind) = match which {
            GrantsOf::Grant(id) => ("id = $2", id.to_string(), "app_grant"),
            GrantsOf::Session(sid) => (
                "session_id = $2 AND offline = 0",
                sid.to_string(),
                "session",
            ),
            GrantsOf::Account(id) => ("account_id = $2", id.to_string(), "account"),
        };
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(&format!(
            "UPDATE app_grants SET revoked_at = $1
             WHERE {filter} AND revoked_at IS NULL
             RETURNING client_id, account_id, session_id"
        ))
        .bind(now_ms())
        .bind(key.clone())
        .fetch_all(self.in_tx(&mut tx))
        .await?;
        let mut ended = Vec::new();
        for row in &rows {
            let session = SessionOfApp {
                client_id: row.try_get("client_id")?,
                account_id: uuid_col(row, "account_id")?,
                session_id: row.try_get("session_id")?,
            };
            if !ended.contains(&session) {
                ended.push(session);
            }
        }
        if !rows.is_empty() {
            let clients: Vec<&str> = ended.iter().map(|s| s.client_id.as_str()).collect();
            self.insert_audit(
                &mut tx,
                &NewAuditEntry {
                    actor: actor.to_string(),
                    action: "app_grants_revoked".into(),
                    target_kind: target_kind.into(),
                    target_id: key,
                    reason: Some(reason.to_string()),
                    details: json!({ "grants": rows.len(), "clients": clients }),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(ended)
    }

    /// The apps and sessions of the live grants `which` names, each once
    /// (for a session, its offline grants too: they outlive it, but the
    /// app must still hear that the session ended).
    pub async fn app_sessions(&self, which: GrantsOf<'_>) -> Result<Vec<SessionOfApp>, StoreError> {
        let (filter, key) = match which {
            GrantsOf::Grant(id) => ("id = $1", id.to_string()),
            GrantsOf::Session(sid) => ("session_id = $1", sid.to_string()),
            GrantsOf::Account(id) => ("account_id = $1", id.to_string()),
        };
        let rows = sqlx::query(&format!(
            "SELECT DISTINCT client_id, account_id, session_id FROM app_grants
             WHERE {filter} AND revoked_at IS NULL ORDER BY client_id, session_id"
        ))
        .bind(key)
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SessionOfApp {
                    client_id: row.try_get("client_id")?,
                    account_id: uuid_col(row, "account_id")?,
                    session_id: row.try_get("session_id")?,
                })
            })
            .collect()
    }

    /// Owes each app a back-channel logout for its session; the deliveries
    /// are due at once.
    pub async fn queue_logout_deliveries(
        &self,
        sessions: &[SessionOfApp],
    ) -> Result<(), StoreError> {
        if sessions.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        for session in sessions {
            sqlx::query(
                "INSERT INTO app_logout_deliveries
                     (id, client_id, account_id, session_id, attempts, next_at, claimed_until, created_at)
                 VALUES ($1, $2, $3, $4, 0, $5, 0, $5)",
            )
            .bind(Uuid::new_v4().to_string())
            .bind(session.client_id.clone())
            .bind(session.account_id.to_string())
            .bind(session.session_id.clone())
            .bind(now)
            .execute(self.in_tx(&mut tx))
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Claims up to `limit` due deliveries for `hold` (no other instance
    /// sends them meanwhile; if this one dies they are due again after it).
    pub async fn claim_logout_deliveries(
        &self,
        limit: u32,
        hold: std::time::Duration,
    ) -> Result<Vec<LogoutDelivery>, StoreError> {
        let now = now_ms();
        let until = now.saturating_add(i64::try_from(hold.as_millis()).unwrap_or(i64::MAX));
        let rows = sqlx::query(
            "UPDATE app_logout_deliveries SET claimed_until = $1
             WHERE id IN (SELECT id FROM app_logout_deliveries
                          WHERE next_at <= $2 AND claimed_until <= $2
                          ORDER BY next_at LIMIT $3)
               AND claimed_until <= $2
             RETURNING id, client_id, account_id, session_id, attempts, created_at",
        )
        .bind(until)
        .bind(now)
        .bind(i64::from(limit))
        // A background round, not a request's statement: not counted in
        // `statements_run` (tests hold requests to their round trips).
        .fetch_all(&mut *self.acquire().await?)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(LogoutDelivery {
                    id: uuid_col(row, "id")?,
                    session: SessionOfApp {
                        client_id: row.try_get("client_id")?,
                        account_id: uuid_col(row, "account_id")?,
                        session_id: row.try_get("session_id")?,
                    },
                    attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(0),
                    created_at: from_ms(row.try_get("created_at")?),
                })
            })
            .collect()
    }

    /// The app answered: the delivery is done.
    pub async fn logout_delivered(&self, id: Uuid) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM app_logout_deliveries WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *self.conn().await?)
            .await?;
        Ok(())
    }

    /// The app did not answer: try again at `next_at`.
    pub async fn logout_delivery_failed(
        &self,
        id: Uuid,
        next_at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE app_logout_deliveries
             SET attempts = attempts + 1, next_at = $1, claimed_until = 0, last_error = $2
             WHERE id = $3",
        )
        .bind(next_at.timestamp_millis())
        .bind(error.chars().take(200).collect::<String>())
        .bind(id.to_string())
        .execute(&mut *self.conn().await?)
        .await?;
        Ok(())
    }

    /// Gives a delivery up after its last attempt, with an audit row (the
    /// app kept the session; its operators must hear of it).
    pub async fn logout_delivery_abandoned(
        &self,
        delivery: &LogoutDelivery,
        error: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM app_logout_deliveries WHERE id = $1")
            .bind(delivery.id.to_string())
            .execute(self.in_tx(&mut tx))
            .await?;
        self.insert_audit(
            &mut tx,
            &NewAuditEntry {
                actor: "system".into(),
                action: "app_logout_undelivered".into(),
                target_kind: "account".into(),
                target_id: delivery.session.account_id.to_string(),
                reason: Some(error.chars().take(200).collect()),
                details: json!({
                    "client": delivery.session.client_id,
                    "attempts": delivery.attempts + 1,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deliveries still owed (tests, `/metrics`).
    pub async fn logout_deliveries_owed(&self) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM app_logout_deliveries")
            .fetch_one(&mut *self.conn().await?)
            .await?;
        Ok(u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0))
    }

    /// Drops grants that ended more than a day ago (expired or revoked).
    pub async fn purge_app_grants(&self) -> Result<u64, StoreError> {
        let cutoff = now_ms() - 24 * 3600 * 1000;
        let done = sqlx::query(
            "DELETE FROM app_grants WHERE expires_at < $1 OR (revoked_at IS NOT NULL AND revoked_at < $1)",
        )
        .bind(cutoff)
        .execute(&mut *self.conn().await?)
        .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
#[path = "app_grants_tests.rs"]
mod tests;
