//! Regions, schools and accounts.

use std::fmt;
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use uuid::Uuid;

use super::{
    flag_col, now_ms, opt_date_col, opt_uuid_col, to_time, unique_violation, uuid_col, Columns,
    NewAuditEntry, Store, StoreError,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub code: i64,
    pub name_ru: String,
    pub name_en: String,
    pub esia_enabled: bool,
}

#[derive(Debug, Clone)]
pub struct NewSchool {
    pub region_code: i64,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct School {
    pub id: Uuid,
    pub region_code: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone)]
pub struct NewAccount {
    pub school_id: Option<Uuid>,
    pub role: String,
    pub surname: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub birth_date: Option<NaiveDate>,
    /// 11 digits.
    pub snils: Option<String>,
    pub login: Option<String>,
    pub password_hash: Option<String>,
    pub status: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Clone)]
pub struct Account {
    pub id: Uuid,
    pub school_id: Option<Uuid>,
    pub role: String,
    pub surname: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub snils: Option<String>,
    pub login: Option<String>,
    pub password_hash: Option<String>,
    pub status: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub phone: Option<String>,
    pub phone_verified: bool,
    pub login_changed: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// No names, SNILS, contacts or hashes: accounts end up in logs by `{:?}`.
impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("school_id", &self.school_id)
            .field("role", &self.role)
            .field("status", &self.status)
            .field("has_snils", &self.snils.is_some())
            .field("has_password", &self.password_hash.is_some())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewAccount")
            .field("school_id", &self.school_id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

const ACCOUNT_COLUMNS: &str = "id, school_id, role, surname, given_name, patronymic, birth_date, snils, login, password_hash, status, email, email_verified, phone, phone_verified, login_changed, created_at, updated_at";

/// [`ACCOUNT_COLUMNS`] qualified with the alias `a`, for joins.
pub(crate) static PREFIXED_ACCOUNT_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    ACCOUNT_COLUMNS
        .split(", ")
        .map(|column| format!("a.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
});

/// An account with its school and region, as the account page shows it.
#[derive(Debug, Clone)]
pub struct AccountOverview {
    pub account: Account,
    pub school: Option<School>,
    pub region: Option<Region>,
}

pub(crate) fn account_from(row: &impl Columns) -> Result<Account, StoreError> {
    Ok(Account {
        id: uuid_col(row, "id")?,
        school_id: opt_uuid_col(row, "school_id")?,
        role: row.required_text("role")?,
        surname: row.required_text("surname")?,
        given_name: row.required_text("given_name")?,
        patronymic: row.text("patronymic")?,
        birth_date: opt_date_col(row, "birth_date")?,
        snils: row.text("snils")?,
        login: row.text("login")?,
        password_hash: row.text("password_hash")?,
        status: row.required_text("status")?,
        email: row.text("email")?,
        email_verified: flag_col(row, "email_verified")?,
        phone: row.text("phone")?,
        phone_verified: flag_col(row, "phone_verified")?,
        login_changed: flag_col(row, "login_changed")?,
        created_at: to_time(row.required_int("created_at")?),
        updated_at: to_time(row.required_int("updated_at")?),
    })
}

fn school_from(row: &AnyRow) -> Result<School, StoreError> {
    Ok(School {
        id: uuid_col(row, "id")?,
        region_code: row.try_get("region_code")?,
        name: row.try_get("name")?,
        created_at: to_time(row.try_get("created_at")?),
    })
}

impl Store {
    pub async fn upsert_region(&self, region: &Region) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO regions (code, name_ru, name_en, esia_enabled, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (code) DO UPDATE SET name_ru = excluded.name_ru, name_en = excluded.name_en,
             esia_enabled = excluded.esia_enabled, updated_at = excluded.updated_at",
        )
        .bind(region.code)
        .bind(&region.name_ru)
        .bind(&region.name_en)
        .bind(i64::from(region.esia_enabled))
        .bind(now_ms())
        .execute(&mut *self.conn().await?)
        .await?;
        Ok(())
    }

    pub async fn list_regions(&self) -> Result<Vec<Region>, StoreError> {
        let rows =
            sqlx::query("SELECT code, name_ru, name_en, esia_enabled FROM regions ORDER BY code")
                .fetch_all(&mut *self.conn().await?)
                .await?;
        rows.iter()
            .map(|row| {
                Ok(Region {
                    code: row.try_get("code")?,
                    name_ru: row.try_get("name_ru")?,
                    name_en: row.try_get("name_en")?,
                    esia_enabled: flag_col(row, "esia_enabled")?,
                })
            })
            .collect()
    }

    pub async fn create_school(
        &self,
        school: &NewSchool,
        actor: &str,
    ) -> Result<School, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = self.insert_school(&mut tx, school, actor).await?;
        tx.commit().await?;
        self.get_school(id).await
    }

    /// Schools and their accounts in one transaction: all or nothing.
    /// `accounts` name their school by index into `schools`.
    pub async fn create_roster(
        &self,
        schools: &[NewSchool],
        accounts: &[(usize, NewAccount)],
        actor: &str,
    ) -> Result<Vec<Uuid>, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut school_ids = Vec::with_capacity(schools.len());
        for school in schools {
            school_ids.push(self.insert_school(&mut tx, school, actor).await?);
        }
        let mut account_ids = Vec::with_capacity(accounts.len());
        for (school, account) in accounts {
            let account = NewAccount {
                school_id: school_ids.get(*school).copied(),
                ..account.clone()
            };
            account_ids.push(self.insert_account(&mut tx, &account, actor).await?);
        }
        tx.commit().await?;
        Ok(account_ids)
    }

    async fn insert_school(
        &self,
        tx: &mut Transaction<'static, Any>,
        school: &NewSchool,
        actor: &str,
    ) -> Result<Uuid, StoreError> {
        let id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO schools (id, region_code, name, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id.to_string())
        .bind(school.region_code)
        .bind(&school.name)
        .bind(now_ms())
        .execute(self.in_tx(tx))
        .await?;
        self.insert_audit(
            tx,
            &NewAuditEntry {
                actor: actor.to_string(),
                action: "school.created".into(),
                target_kind: "school".into(),
                target_id: id.to_string(),
                reason: None,
                details: json!({"region": school.region_code}),
            },
        )
        .await?;
        Ok(id)
    }

    pub async fn get_school(&self, id: Uuid) -> Result<School, StoreError> {
        let row =
            sqlx::query("SELECT id, region_code, name, created_at FROM schools WHERE id = $1")
                .bind(id.to_string())
                .fetch_one(&mut *self.conn().await?)
                .await?;
        school_from(&row)
    }

    pub async fn list_schools(&self) -> Result<Vec<School>, StoreError> {
        let rows =
            sqlx::query("SELECT id, region_code, name, created_at FROM schools ORDER BY name")
                .fetch_all(&mut *self.conn().await?)
                .await?;
        rows.iter().map(school_from).collect()
    }

    /// Creates an account and its audit row in one transaction.
    pub async fn create_account(
        &self,
        account: &NewAccount,
        actor: &str,
    ) -> Result<Account, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = self.insert_account(&mut tx, account, actor).await?;
        tx.commit().await?;
        self.get_account(id).await
    }

    async fn insert_account(
        &self,
        tx: &mut Transaction<'static, Any>,
        account: &NewAccount,
        actor: &str,
    ) -> Result<Uuid, StoreError> {
        let id = Uuid::new_v4();
        let now = now_ms();
        let inserted = sqlx::query(
            "INSERT INTO accounts (id, school_id, role, surname, given_name, patronymic, birth_date, snils, login,
             password_hash, status, email, email_verified, phone, phone_verified, login_changed, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, 0, 0, $14, $14)",
        )
        .bind(id.to_string())
        .bind(account.school_id.map(|s| s.to_string()))
        .bind(&account.role)
        .bind(&account.surname)
        .bind(&account.given_name)
        .bind(account.patronymic.clone())
        .bind(account.birth_date.map(|d| d.format("%Y-%m-%d").to_string()))
        .bind(account.snils.clone())
        .bind(account.login.clone())
        .bind(account.password_hash.clone())
        .bind(&account.status)
        .bind(account.email.clone())
        .bind(account.phone.clone())
        .bind(now)
        .execute(self.in_tx(tx))
        .await;
        if let Err(error) = inserted {
            if unique_violation(&error).is_some_and(|c| c.contains("login")) {
                return Err(StoreError::DuplicateLogin);
            }
            return Err(error.into());
        }
        self.insert_audit(
            tx,
            &NewAuditEntry {
                actor: actor.to_string(),
                action: "account.created".into(),
                target_kind: "account".into(),
                target_id: id.to_string(),
                reason: None,
                details: json!({"role": account.role, "school_id": account.school_id}),
            },
        )
        .await?;
        Ok(id)
    }

    pub async fn get_account(&self, id: Uuid) -> Result<Account, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_one(&mut *self.conn().await?)
        .await?;
        account_from(&row)
    }

    /// Every account carrying this SNILS (11 digits); more than one is a data error.
    pub async fn find_accounts_by_snils(
        &self,
        snils_digits: &str,
    ) -> Result<Vec<Account>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE snils = $1 ORDER BY created_at, id"
        ))
        .bind(snils_digits)
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter().map(account_from).collect()
    }

    pub async fn find_account_by_login(&self, login: &str) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE login = $1"
        ))
        .bind(login)
        .fetch_optional(&mut *self.conn().await?)
        .await?;
        row.as_ref().map(account_from).transpose()
    }

    pub async fn count_accounts(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM accounts")
            .fetch_one(&mut *self.conn().await?)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// The account with its school and the school's region, in one statement.
    pub async fn account_overview(&self, id: Uuid) -> Result<AccountOverview, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {}, s.id AS s_id, s.region_code AS s_region_code, s.name AS s_name, s.created_at AS s_created_at,
                    r.code AS r_code, r.name_ru AS r_name_ru, r.name_en AS r_name_en, r.esia_enabled AS r_esia_enabled
             FROM accounts a
             LEFT JOIN schools s ON s.id = a.school_id
             LEFT JOIN regions r ON r.code = s.region_code
             WHERE a.id = $1",
            *PREFIXED_ACCOUNT_COLUMNS
        ))
        .bind(id.to_string())
        .fetch_one(&mut *self.conn().await?)
        .await?;
        let account = account_from(&row)?;
        let school = match opt_uuid_col(&row, "s_id")? {
            Some(school_id) => Some(School {
                id: school_id,
                region_code: row.try_get("s_region_code")?,
                name: row.try_get("s_name")?,
                created_at: to_time(row.try_get("s_created_at")?),
            }),
            None => None,
        };
        let region = match row.try_get::<Option<i64>, _>("r_code")? {
            Some(code) => Some(Region {
                code,
                name_ru: row.try_get("r_name_ru")?,
                name_en: row.try_get("r_name_en")?,
                esia_enabled: flag_col(&row, "r_esia_enabled")?,
            }),
            None => None,
        };
        Ok(AccountOverview {
            account,
            school,
            region,
        })
    }

    /// The region of the account's school.
    pub async fn account_region(&self, account_id: Uuid) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT s.region_code AS region FROM accounts a JOIN schools s ON s.id = a.school_id WHERE a.id = $1",
        )
        .bind(account_id.to_string())
        .fetch_optional(&mut *self.conn().await?)
        .await?;
        Ok(row.map(|r| r.try_get("region")).transpose()?)
    }
}

impl Store {
    /// Grants (or changes) an account's `support` or `privileged_support`
    /// role, with its audit row.
    pub async fn grant_operator(
        &self,
        account_id: Uuid,
        role: &str,
        actor: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.grant(account_id, role, None, actor, reason).await
    }

    /// Makes the account an administrator of `school_id`'s people (a
    /// `school_admin` operator limited to that school), with its audit row.
    pub async fn grant_school_admin(
        &self,
        account_id: Uuid,
        school_id: Uuid,
        actor: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.grant(account_id, "school_admin", Some(school_id), actor, reason)
            .await
    }

    async fn grant(
        &self,
        account_id: Uuid,
        role: &str,
        school_id: Option<Uuid>,
        actor: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM operators WHERE account_id = $1")
            .bind(account_id.to_string())
            .execute(self.in_tx(&mut tx))
            .await?;
        sqlx::query(
            "INSERT INTO operators (account_id, role, school_id, granted_at, granted_by) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(account_id.to_string())
        .bind(role)
        .bind(school_id.map(|s| s.to_string()))
        .bind(now_ms())
        .bind(actor)
        .execute(self.in_tx(&mut tx))
        .await?;
        self.insert_audit(
            &mut tx,
            &NewAuditEntry {
                actor: actor.to_string(),
                action: "operator.granted".into(),
                target_kind: "account".into(),
                target_id: account_id.to_string(),
                reason: Some(reason.to_string()),
                details: json!({ "role": role, "school_id": school_id }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account's operator role and, for a `school_admin`, its school.
    pub async fn operator_role(
        &self,
        account_id: Uuid,
    ) -> Result<Option<(String, Option<Uuid>)>, StoreError> {
        let row = sqlx::query("SELECT role, school_id FROM operators WHERE account_id = $1")
            .bind(account_id.to_string())
            .fetch_optional(&mut *self.conn().await?)
            .await?;
        row.map(|r| Ok((r.try_get("role")?, opt_uuid_col(&r, "school_id")?)))
            .transpose()
    }

    /// Writes the school's correction of a person's name, birth date and
    /// SNILS (the values in `corrected`) and its audit row in one
    /// transaction. `corrected.updated_at` must be the time read with the
    /// account: if the account changed since, nothing is written and the
    /// answer is `NotFound`.
    pub async fn correct_personal_data(
        &self,
        corrected: &Account,
        actor: &str,
        reason: &str,
        details: serde_json::Value,
        notifications: &[super::NewNotification],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE accounts SET surname = $1, given_name = $2, patronymic = $3, birth_date = $4, snils = $5,
             updated_at = $6 WHERE id = $7 AND updated_at = $8",
        )
        .bind(&corrected.surname)
        .bind(&corrected.given_name)
        .bind(corrected.patronymic.clone())
        .bind(corrected.birth_date.map(|d| d.format("%Y-%m-%d").to_string()))
        .bind(corrected.snils.clone())
        .bind(now_ms().max(corrected.updated_at.timestamp_millis() + 1))
        .bind(corrected.id.to_string())
        .bind(corrected.updated_at.timestamp_millis())
        .execute(self.in_tx(&mut tx))
        .await?;
        if updated.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        self.insert_audit(
            &mut tx,
            &NewAuditEntry {
                actor: actor.to_string(),
                action: "account.data_corrected".into(),
                target_kind: "account".into(),
                target_id: corrected.id.to_string(),
                reason: Some(reason.to_string()),
                details,
            },
        )
        .await?;
        self.insert_notifications(&mut tx, notifications).await?;
        tx.commit().await?;
        Ok(())
    }
}
