//! What the school console (`/school`) reads: a school's classes, a class's
//! pupils and parents with where each stands (code, activation, State
//! Services link, last login), a person's codes and relationships, and the
//! parents' children that a parent's invitation sheet names.

use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use super::batch::{RowBatch, ACCOUNT_COLUMN, ROWS_PER_STATEMENT};
use super::{to_time, uuid_col, Params, Store, StoreError};

/// A class and how far its pupils are.
#[derive(Debug, Clone)]
pub struct ClassSummary {
    pub name: String,
    pub pupils: i64,
    pub active_pupils: i64,
}

/// A pupil or parent of a class, and where they stand.
#[derive(Debug, Clone)]
pub struct MemberState {
    pub id: Uuid,
    pub key: Option<String>,
    pub role: String,
    pub surname: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub class_name: Option<String>,
    /// `pending`, `active`, `blocked`.
    pub status: String,
    pub login: Option<String>,
    /// The latest unused, unrevoked code's expiry, if any.
    pub code_expires_at: Option<DateTime<Utc>>,
    /// Whether any code was ever issued.
    pub code_issued: bool,
    /// Linked with an identity provider (State Services).
    pub linked: bool,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// A child as a parent's invitation sheet names them.
#[derive(Debug, Clone)]
pub struct ChildOf {
    pub parent_id: Uuid,
    pub pupil_id: Uuid,
    pub surname: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub class_name: Option<String>,
    /// `proposed` or `confirmed`.
    pub status: String,
}

/// A code as a person's page lists it (never the code itself).
#[derive(Debug, Clone)]
pub struct CodeRecord {
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_by: String,
}

/// Accounts in `class` of the school, or parents of a pupil in it.
const IN_CLASS: &str = "(a.class_name = $2 OR a.id IN (
        SELECT r.parent_id FROM relationships r JOIN accounts p ON p.id = r.pupil_id
        WHERE p.school_id = $1 AND p.class_name = $2
          AND r.status IN ('proposed', 'confirmed')))";

fn opt_time(row: &sqlx::any::AnyRow, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(row.try_get::<Option<i64>, _>(column)?.map(to_time))
}

impl Store {
    /// The school's classes (those its pupils are in), by name.
    pub async fn school_classes(&self, school_id: Uuid) -> Result<Vec<ClassSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT class_name, COUNT(*) AS pupils,
                    SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END) AS active_pupils
             FROM accounts
             WHERE school_id = $1 AND role = 'pupil' AND class_name IS NOT NULL
             GROUP BY class_name ORDER BY class_name",
        )
        .bind(school_id.to_string())
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ClassSummary {
                    name: row.try_get("class_name")?,
                    pupils: row.try_get("pupils")?,
                    active_pupils: row.try_get::<Option<i64>, _>("active_pupils")?.unwrap_or(0),
                })
            })
            .collect()
    }

    /// The pupils of a class and their parents, pupils first, by name.
    pub async fn class_members(
        &self,
        school_id: Uuid,
        class_name: &str,
    ) -> Result<Vec<MemberState>, StoreError> {
        let sql = format!(
            "SELECT a.id, a.roster_key, a.role, a.surname, a.given_name, a.patronymic,
                    a.class_name, a.status, a.login,
                    (SELECT MAX(c.expires_at) FROM activation_codes c
                     WHERE c.account_id = a.id AND c.used_at IS NULL
                       AND c.revoked_at IS NULL) AS code_expires_at,
                    (SELECT COUNT(*) FROM activation_codes c
                     WHERE c.account_id = a.id) AS codes,
                    (SELECT COUNT(*) FROM federated_links l
                     WHERE l.account_id = a.id) AS links,
                    (SELECT MAX(l.last_login_at) FROM federated_links l
                     WHERE l.account_id = a.id) AS last_login_at
             FROM accounts a
             WHERE a.school_id = $1 AND {IN_CLASS}
             ORDER BY CASE WHEN a.role = 'pupil' THEN 0 ELSE 1 END, a.surname, a.given_name"
        );
        let rows = sqlx::query(&sql)
            .bind(school_id.to_string())
            .bind(class_name.to_string())
            .fetch_all(&mut *self.conn().await?)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(MemberState {
                    id: uuid_col(row, "id")?,
                    key: row.try_get("roster_key")?,
                    role: row.try_get("role")?,
                    surname: row.try_get("surname")?,
                    given_name: row.try_get("given_name")?,
                    patronymic: row.try_get("patronymic")?,
                    class_name: row.try_get("class_name")?,
                    status: row.try_get("status")?,
                    login: row.try_get("login")?,
                    code_expires_at: opt_time(row, "code_expires_at")?,
                    code_issued: row.try_get::<i64, _>("codes")? > 0,
                    linked: row.try_get::<i64, _>("links")? > 0,
                    last_login_at: opt_time(row, "last_login_at")?,
                })
            })
            .collect()
    }

    /// The children (proposed or confirmed) of these parents.
    pub async fn children_of(&self, parents: &[Uuid]) -> Result<Vec<ChildOf>, StoreError> {
        let mut found = Vec::new();
        for chunk in parents.chunks(ROWS_PER_STATEMENT) {
            let mut batch = RowBatch::new(ACCOUNT_COLUMN, chunk.len());
            for parent in chunk {
                batch.push(vec![Some(parent.to_string())]);
            }
            let mut params = Params::new(self.backend);
            let sql = format!(
                "SELECT r.parent_id, r.pupil_id, r.status, a.surname, a.given_name,
                        a.patronymic, a.class_name
                 FROM relationships r JOIN accounts a ON a.id = r.pupil_id
                 WHERE r.status IN ('proposed', 'confirmed') AND {}
                 ORDER BY a.surname, a.given_name",
                batch.matched_by("r.parent_id", &mut params)
            );
            let rows = batch
                .bind(self.backend, sqlx::query(&sql))
                .fetch_all(&mut *self.conn().await?)
                .await?;
            for row in &rows {
                found.push(ChildOf {
                    parent_id: uuid_col(row, "parent_id")?,
                    pupil_id: uuid_col(row, "pupil_id")?,
                    surname: row.try_get("surname")?,
                    given_name: row.try_get("given_name")?,
                    patronymic: row.try_get("patronymic")?,
                    class_name: row.try_get("class_name")?,
                    status: row.try_get("status")?,
                });
            }
        }
        Ok(found)
    }

    /// The parents (proposed or confirmed) of a pupil, as [`ChildOf`] rows
    /// naming the parent instead of the child.
    pub async fn parents_of(&self, pupil: Uuid) -> Result<Vec<ChildOf>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.parent_id, r.pupil_id, r.status, a.surname, a.given_name,
                    a.patronymic, a.class_name
             FROM relationships r JOIN accounts a ON a.id = r.parent_id
             WHERE r.status IN ('proposed', 'confirmed') AND r.pupil_id = $1
             ORDER BY a.surname, a.given_name",
        )
        .bind(pupil.to_string())
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ChildOf {
                    parent_id: uuid_col(row, "parent_id")?,
                    pupil_id: uuid_col(row, "pupil_id")?,
                    surname: row.try_get("surname")?,
                    given_name: row.try_get("given_name")?,
                    patronymic: row.try_get("patronymic")?,
                    class_name: row.try_get("class_name")?,
                    status: row.try_get("status")?,
                })
            })
            .collect()
    }

    /// Parent-child relationships of the school still waiting for
    /// confirmation (the parent's and the child's names), oldest first.
    pub async fn proposed_relationships(
        &self,
        school_id: Uuid,
        limit: i64,
    ) -> Result<Vec<(ChildOf, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.parent_id, r.pupil_id, r.status, c.surname, c.given_name, c.patronymic,
                    c.class_name, p.surname AS p_surname, p.given_name AS p_given,
                    p.patronymic AS p_patronymic
             FROM relationships r
             JOIN accounts c ON c.id = r.pupil_id
             JOIN accounts p ON p.id = r.parent_id
             WHERE r.status = 'proposed' AND c.school_id = $1
             ORDER BY r.created_at LIMIT $2",
        )
        .bind(school_id.to_string())
        .bind(limit)
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter()
            .map(|row| {
                let parent: Vec<String> = [
                    row.try_get::<Option<String>, _>("p_surname")?,
                    row.try_get::<Option<String>, _>("p_given")?,
                    row.try_get::<Option<String>, _>("p_patronymic")?,
                ]
                .into_iter()
                .flatten()
                .collect();
                Ok((
                    ChildOf {
                        parent_id: uuid_col(row, "parent_id")?,
                        pupil_id: uuid_col(row, "pupil_id")?,
                        surname: row.try_get("surname")?,
                        given_name: row.try_get("given_name")?,
                        patronymic: row.try_get("patronymic")?,
                        class_name: row.try_get("class_name")?,
                        status: row.try_get("status")?,
                    },
                    parent.join(" "),
                ))
            })
            .collect()
    }

    /// A person's codes, newest first.
    pub async fn codes_of(&self, account_id: Uuid) -> Result<Vec<CodeRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT created_at, expires_at, used_at, revoked_at, created_by
             FROM activation_codes WHERE account_id = $1 ORDER BY created_at DESC LIMIT 50",
        )
        .bind(account_id.to_string())
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(CodeRecord {
                    created_at: to_time(row.try_get("created_at")?),
                    expires_at: to_time(row.try_get("expires_at")?),
                    used_at: opt_time(row, "used_at")?,
                    revoked_at: opt_time(row, "revoked_at")?,
                    created_by: row.try_get("created_by")?,
                })
            })
            .collect()
    }
}
