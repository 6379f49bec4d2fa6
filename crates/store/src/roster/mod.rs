//! Roster writes in batches (one transaction and one audit row per batch),
//! the lookups roster validation needs, per-school API tokens and
//! activation codes.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

use super::{
    now_ms, opt_date_col, to_time, uuid_col, Backend, NewAuditEntry, Params, Store, StoreError,
};
use domain::roster::RosterPerson;

/// An existing account holding a SNILS the roster also has.
#[derive(Clone)]
pub struct SnilsHolder {
    pub snils: String,
    pub school_id: Option<Uuid>,
    pub roster_key: Option<String>,
    pub surname: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub birth_date: Option<NaiveDate>,
}

/// A person as their school sees them.
#[derive(Clone, serde::Serialize)]
pub struct SchoolPerson {
    pub id: Uuid,
    pub key: Option<String>,
    pub role: String,
    pub surname: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub snils: Option<String>,
    pub class_name: Option<String>,
    pub status: String,
    pub login: Option<String>,
}

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchWritten {
    pub created: u64,
    pub updated: u64,
    /// Rows that matched an account already saying the same.
    pub unchanged: u64,
}

/// A person a code can be issued to.
#[derive(Clone)]
pub struct CodeTarget {
    pub account_id: Uuid,
    pub roster_key: Option<String>,
    pub surname: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub class_name: Option<String>,
    pub role: String,
}

/// Which accounts of a school get codes.
#[derive(Debug, Clone, Default)]
pub struct CodeScope {
    pub class_name: Option<String>,
    pub account_id: Option<Uuid>,
}

/// A stored activation code, found by its hash.
#[derive(Debug, Clone)]
pub struct ActivationRecord {
    pub account_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub progress: Option<serde_json::Value>,
}

mod batch;
mod checks;
mod console;

pub use checks::{CheckMarks, PendingChild};
pub use console::{ChildOf, ClassSummary, CodeRecord, MemberState};

use batch::*;

impl Store {
    /// Accounts (anywhere) holding any of these SNILS (11 digits each).
    pub async fn snils_holders(&self, snils: &[String]) -> Result<Vec<SnilsHolder>, StoreError> {
        let mut rows = Vec::new();
        for chunk in snils.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT snils, school_id, roster_key, surname, given_name, patronymic, birth_date
                 FROM accounts WHERE snils IN ({})",
                Params::new(self.backend).list(chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for s in chunk {
                query = query.bind(s.clone());
            }
            rows.extend(query.fetch_all(&mut *self.conn().await?).await?);
        }
        rows.iter()
            .map(|row| {
                let school: Option<String> = row.try_get("school_id")?;
                Ok(SnilsHolder {
                    snils: row.try_get("snils")?,
                    school_id: school.and_then(|s| Uuid::parse_str(&s).ok()),
                    roster_key: row.try_get("roster_key")?,
                    surname: row.try_get("surname")?,
                    given_name: row.try_get("given_name")?,
                    patronymic: row.try_get("patronymic")?,
                    birth_date: opt_date_col(row, "birth_date")?,
                })
            })
            .collect()
    }

    /// Of these logins (lower case), those held by an account other than
    /// the one the school keys as given: login → (school, roster key).
    /// Logins are stored in lower case (the roster and the wizard lower
    /// them), so the unique index on `login` answers; `lower(login)` read
    /// the whole table once per thousand logins.
    pub async fn login_holders(
        &self,
        logins: &[String],
    ) -> Result<HashMap<String, (Option<String>, Option<String>)>, StoreError> {
        let mut rows = Vec::new();
        for chunk in logins.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT login, school_id, roster_key FROM accounts WHERE login IN ({})",
                Params::new(self.backend).list(chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for l in chunk {
                query = query.bind(l.clone());
            }
            rows.extend(query.fetch_all(&mut *self.conn().await?).await?);
        }
        let mut out = HashMap::new();
        for row in rows {
            let login: String = row.try_get("login")?;
            out.insert(
                login.to_lowercase(),
                (row.try_get("school_id")?, row.try_get("roster_key")?),
            );
        }
        Ok(out)
    }

    /// Creates or updates (by the school's key) a batch of people in one
    /// transaction with one audit row naming the accounts touched.
    pub async fn upsert_roster_batch(
        &self,
        school_id: Uuid,
        people: &[RosterPerson],
        actor: &str,
    ) -> Result<BatchWritten, StoreError> {
        if people.is_empty() {
            return Ok(BatchWritten::default());
        }
        let school = school_id.to_string();
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let (mut created, mut updated) = (Vec::new(), Vec::new());
        for chunk in people.chunks(ROWS_PER_STATEMENT) {
            // An update keeps the account's id, so the ids coming back tell
            // created from updated without looking the keys up first.
            let mut batch = RowBatch::new(ROSTER_COLUMNS, chunk.len());
            let mut proposed = HashSet::with_capacity(chunk.len());
            for p in chunk {
                // Time-ordered ids: a big import appends to the id indexes
                // instead of writing all over them.
                let id = Uuid::now_v7().to_string();
                proposed.insert(id.clone());
                batch.push(vec![
                    Some(id),
                    Some(p.key.clone()),
                    Some(p.role.as_str().to_string()),
                    Some(p.name.surname().to_string()),
                    Some(p.name.given().to_string()),
                    p.name.patronymic().map(str::to_string),
                    // `YYYY-MM-DD` (dates are checked to be after 1900),
                    // without parsing a format string per row.
                    Some(p.birth_date.to_string()),
                    p.snils.as_ref().map(|s| s.digits().to_string()),
                    p.class_name.clone(),
                    p.login.clone(),
                ]);
            }
            let mut params = Params::new(self.backend);
            let rows = batch.cte(&mut params);
            let (school_param, created_param, updated_param) =
                (params.one(), params.one(), params.one());
            // A row that changes nothing is not updated (and not returned),
            // so a re-import of the same file reports its rows unchanged.
            let differs = match self.backend {
                Backend::Postgres => "IS DISTINCT FROM",
                Backend::Sqlite => "IS NOT",
            };
            let changed = [
                "role",
                "surname",
                "given_name",
                "patronymic",
                "birth_date",
                "snils",
                "class_name",
            ]
            .iter()
            .map(|c| format!("accounts.{c} {differs} excluded.{c}"))
            .chain(std::iter::once(format!(
                "COALESCE(excluded.login, accounts.login) {differs} accounts.login"
            )))
            .collect::<Vec<_>>()
            .join(" OR ");
            let sql = format!(
                "WITH {rows}
                 INSERT INTO accounts (id, school_id, roster_key, role, surname, given_name,
                     patronymic, birth_date, snils, class_name, login, created_at, status,
                     email_verified, phone_verified, login_changed, updated_at)
                 SELECT v.id, {school_param}, v.roster_key, v.role, v.surname, v.given_name,
                     v.patronymic, v.birth_date, v.snils, v.class_name, v.login, {created_param},
                     'pending', 0, 0, 0, {updated_param}
                 FROM v WHERE true
                 ON CONFLICT (school_id, roster_key) DO UPDATE SET
                     role = excluded.role, surname = excluded.surname,
                     given_name = excluded.given_name, patronymic = excluded.patronymic,
                     birth_date = excluded.birth_date, snils = excluded.snils,
                     class_name = excluded.class_name,
                     login = COALESCE(excluded.login, accounts.login),
                     updated_at = excluded.updated_at
                 WHERE {changed}
                 RETURNING id"
            );
            let query = batch
                .bind(self.backend, sqlx::query(&sql))
                .bind(school.clone())
                .bind(now)
                .bind(now);
            for row in query.fetch_all(self.in_tx(&mut tx)).await? {
                let id: String = row.try_get("id")?;
                if proposed.contains(&id) {
                    created.push(id);
                } else {
                    updated.push(id);
                }
            }
        }
        self.insert_audit(
            &mut tx,
            &NewAuditEntry {
                actor: actor.to_string(),
                action: "roster.imported".into(),
                target_kind: "school".into(),
                target_id: school.clone(),
                reason: None,
                details: json!({
                    "rows": [people.first().map(|p| p.row), people.last().map(|p| p.row)],
                    "created": created,
                    "updated": updated,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        let unchanged = people.len().saturating_sub(created.len() + updated.len());
        Ok(BatchWritten {
            created: created.len() as u64,
            updated: updated.len() as u64,
            unchanged: unchanged as u64,
        })
    }

    /// After a bulk write, fresh statistics for the planner. PostgreSQL
    /// plans from them, and autovacuum refreshes them a minute or more
    /// later; until then a table that grew from nothing to a million rows is
    /// planned as if it held a few, and the follow-up queries (parents'
    /// links, code targets in id order) read whole schools per batch.
    /// SQLite plans by fixed rules without statistics and needs nothing.
    pub async fn refresh_account_statistics(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query("ANALYZE accounts").execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Proposes parent→pupil relationships named by the school's keys; pairs
    /// that exist already are left as they are. Returns how many were new.
    pub async fn propose_relationships(
        &self,
        school_id: Uuid,
        pairs: &[(String, String)],
        actor: &str,
    ) -> Result<u64, StoreError> {
        if pairs.is_empty() {
            return Ok(0);
        }
        let school = school_id.to_string();
        let mut tx = self.begin_write().await?;
        let mut added = 0;
        for chunk in pairs.chunks(ROWS_PER_STATEMENT) {
            let mut batch = RowBatch::new(PAIR_COLUMNS, chunk.len());
            for (parent, child) in chunk {
                // Time-ordered, as the accounts' ids: appended to the
                // primary key's index, not written all over it.
                batch.push(vec![
                    Some(Uuid::now_v7().to_string()),
                    Some(parent.clone()),
                    Some(child.clone()),
                ]);
            }
            let mut params = Params::new(self.backend);
            let rows = batch.cte(&mut params);
            let sql = format!(
                "WITH {rows}
                 INSERT INTO relationships (id, parent_id, pupil_id, status, created_at, created_by)
                 SELECT v.id, p.id, c.id, 'proposed', {}, {}
                 FROM v
                 JOIN accounts p ON p.school_id = {} AND p.roster_key = v.parent_key
                 JOIN accounts c ON c.school_id = {} AND c.roster_key = v.child_key
                 WHERE true
                 ON CONFLICT (parent_id, pupil_id) DO NOTHING",
                params.one(),
                params.one(),
                params.one(),
                params.one()
            );
            let query = batch
                .bind(self.backend, sqlx::query(&sql))
                .bind(now_ms())
                .bind(actor.to_string())
                .bind(school.clone())
                .bind(school.clone());
            added += query.execute(self.in_tx(&mut tx)).await?.rows_affected();
        }
        if added > 0 {
            self.insert_audit(
                &mut tx,
                &NewAuditEntry {
                    actor: actor.to_string(),
                    action: "relationship.proposed".into(),
                    target_kind: "school".into(),
                    target_id: school,
                    reason: Some("listed in the school's roster".into()),
                    details: json!({ "count": added }),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(added)
    }

    /// Pending accounts of a school (optionally one class or one account)
    /// after `after` (an account id), in id order, `limit` at a time.
    pub async fn code_targets(
        &self,
        school_id: Uuid,
        scope: &CodeScope,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<CodeTarget>, StoreError> {
        // Only the filters in use: a prepared `($2 IS NULL OR class_name =
        // $2)` gets one plan for both cases, which can use neither the class
        // index nor the primary key.
        let mut params = Params::new(self.backend);
        let mut sql = format!(
            "SELECT id, roster_key, surname, given_name, patronymic, class_name, role
             FROM accounts WHERE school_id = {} AND status = 'pending'",
            params.one()
        );
        if scope.class_name.is_some() {
            // A class's pupils and their parents (a parent of two classes'
            // pupils gets one code, with whichever class is issued first).
            let (class, school, class_again) = (params.one(), params.one(), params.one());
            sql += &format!(
                " AND (class_name = {class} OR id IN (
                    SELECT r.parent_id FROM relationships r
                    JOIN accounts p ON p.id = r.pupil_id
                    WHERE p.school_id = {school} AND p.class_name = {class_again}
                      AND r.status IN ('proposed', 'confirmed')))"
            );
        }
        if scope.account_id.is_some() {
            sql += &format!(" AND id = {}", params.one());
        }
        sql += &format!(
            " AND id > {} ORDER BY id LIMIT {}",
            params.one(),
            params.one()
        );
        let mut query = sqlx::query(&sql).bind(school_id.to_string());
        if let Some(class) = &scope.class_name {
            query = query
                .bind(class.clone())
                .bind(school_id.to_string())
                .bind(class.clone());
        }
        if let Some(account) = scope.account_id {
            query = query.bind(account.to_string());
        }
        let rows = query
            .bind(after.map(|a| a.to_string()).unwrap_or_default())
            .bind(limit)
            .fetch_all(&mut *self.conn().await?)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(CodeTarget {
                    account_id: uuid_col(row, "id")?,
                    roster_key: row.try_get("roster_key")?,
                    surname: row.try_get("surname")?,
                    given_name: row.try_get("given_name")?,
                    patronymic: row.try_get("patronymic")?,
                    class_name: row.try_get("class_name")?,
                    role: row.try_get("role")?,
                })
            })
            .collect()
    }

    /// The class an account is in, if any.
    pub async fn class_of(&self, account_id: Uuid) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT class_name FROM accounts WHERE id = $1")
            .bind(account_id.to_string())
            .fetch_optional(&mut *self.conn().await?)
            .await?;
        Ok(row.map(|r| r.try_get("class_name")).transpose()?.flatten())
    }

    /// A school's people (optionally one class), in id order after `after`.
    pub async fn school_people(
        &self,
        school_id: Uuid,
        class_name: Option<&str>,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<SchoolPerson>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, roster_key, role, surname, given_name, patronymic, birth_date, snils,
                    class_name, status, login
             FROM accounts
             WHERE school_id = $1 AND ($2 IS NULL OR class_name = $2) AND id > $3
             ORDER BY id LIMIT $4",
        )
        .bind(school_id.to_string())
        .bind(class_name.map(str::to_string))
        .bind(after.map(|a| a.to_string()).unwrap_or_default())
        .bind(limit)
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SchoolPerson {
                    id: uuid_col(row, "id")?,
                    key: row.try_get("roster_key")?,
                    role: row.try_get("role")?,
                    surname: row.try_get("surname")?,
                    given_name: row.try_get("given_name")?,
                    patronymic: row.try_get("patronymic")?,
                    birth_date: opt_date_col(row, "birth_date")?,
                    snils: row.try_get("snils")?,
                    class_name: row.try_get("class_name")?,
                    status: row.try_get("status")?,
                    login: row.try_get("login")?,
                })
            })
            .collect()
    }

    /// Stores new codes (their hashes) and revokes every earlier unused code
    /// of the same accounts, in one transaction with one audit row.
    pub async fn issue_codes(
        &self,
        codes: &[(Uuid, String)],
        expires_at: DateTime<Utc>,
        actor: &str,
    ) -> Result<(), StoreError> {
        if codes.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        for chunk in codes.chunks(ROWS_PER_STATEMENT) {
            let mut accounts = RowBatch::new(ACCOUNT_COLUMN, chunk.len());
            let mut fresh = RowBatch::new(CODE_COLUMNS, chunk.len());
            for (account, hash) in chunk {
                accounts.push(vec![Some(account.to_string())]);
                fresh.push(vec![Some(hash.clone()), Some(account.to_string())]);
            }
            let mut params = Params::new(self.backend);
            let sql = format!(
                "UPDATE activation_codes SET revoked_at = {}
                 WHERE used_at IS NULL AND revoked_at IS NULL AND {}",
                params.one(),
                accounts.matched_by("account_id", &mut params)
            );
            accounts
                .bind(self.backend, sqlx::query(&sql).bind(now))
                .execute(self.in_tx(&mut tx))
                .await?;
            let mut params = Params::new(self.backend);
            let rows = fresh.cte(&mut params);
            let sql = format!(
                "WITH {rows}
                 INSERT INTO activation_codes (code_hash, account_id, created_at, expires_at,
                     created_by)
                 SELECT v.code_hash, v.account_id, {}, {}, {} FROM v",
                params.one(),
                params.one(),
                params.one()
            );
            fresh
                .bind(self.backend, sqlx::query(&sql))
                .bind(now)
                .bind(expires_at.timestamp_millis())
                .bind(actor.to_string())
                .execute(self.in_tx(&mut tx))
                .await?;
        }
        let accounts: Vec<String> = codes.iter().map(|(a, _)| a.to_string()).collect();
        self.insert_audit(
            &mut tx,
            &NewAuditEntry {
                actor: actor.to_string(),
                action: "activation_code.issued".into(),
                target_kind: "accounts".into(),
                target_id: accounts.first().cloned().unwrap_or_default(),
                reason: None,
                details: json!({ "accounts": accounts, "expires_at": expires_at }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The code stored under this hash, if any.
    pub async fn find_activation_code(
        &self,
        code_hash: &str,
    ) -> Result<Option<ActivationRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT account_id, expires_at, used_at, revoked_at, progress_json
             FROM activation_codes WHERE code_hash = $1",
        )
        .bind(code_hash.to_string())
        .fetch_optional(&mut *self.conn().await?)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let progress: Option<String> = row.try_get("progress_json")?;
        Ok(Some(ActivationRecord {
            account_id: uuid_col(&row, "account_id")?,
            expires_at: to_time(row.try_get("expires_at")?),
            used_at: row.try_get::<Option<i64>, _>("used_at")?.map(to_time),
            revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(to_time),
            progress: progress.and_then(|p| serde_json::from_str(&p).ok()),
        }))
    }

    /// A school API token by its hash: the school it acts for.
    pub async fn school_for_token(&self, token_hash: &str) -> Result<Option<Uuid>, StoreError> {
        let row = sqlx::query(
            "SELECT school_id FROM school_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash.to_string())
        .fetch_optional(&mut *self.conn().await?)
        .await?;
        row.map(|r| uuid_col(&r, "school_id")).transpose()
    }

    /// Stores a new API token (its hash) for a school, audited.
    pub async fn add_school_token(
        &self,
        school_id: Uuid,
        token_hash: &str,
        label: &str,
        actor: &str,
    ) -> Result<Uuid, StoreError> {
        let id = Uuid::new_v4();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO school_tokens (id, school_id, token_hash, label, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.to_string())
        .bind(school_id.to_string())
        .bind(token_hash.to_string())
        .bind(label.to_string())
        .bind(now_ms())
        .execute(self.in_tx(&mut tx))
        .await?;
        self.insert_audit(
            &mut tx,
            &NewAuditEntry {
                actor: actor.to_string(),
                action: "school_token.created".into(),
                target_kind: "school".into(),
                target_id: school_id.to_string(),
                reason: None,
                details: json!({ "token_id": id, "label": label }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }
}
