//! Federated links and activation codes.

use std::sync::{LazyLock, OnceLock};

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use super::accounts::{account_from, PREFIXED_ACCOUNT_COLUMNS};
use super::sqlite_reads::NamedRow;
use super::{
    now_ms, opt_uuid_col, to_time, unique_violation, uuid_col, Account, Columns, LinkConflict,
    NewAuditEntry, Store, StoreError,
};

#[derive(Debug, Clone)]
pub struct NewLink {
    pub provider: String,
    pub subject: String,
    pub account_id: Uuid,
    /// `auto_snils`, `credentials`, `activation_code` or `operator`.
    pub method: String,
    pub tier_at_link: String,
}

#[derive(Debug, Clone)]
pub struct FederatedLink {
    pub id: Uuid,
    pub provider: String,
    pub subject: String,
    pub account_id: Uuid,
    pub method: String,
    pub tier_at_link: String,
    pub linked_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

const LINK_COLUMNS: &str =
    "id, provider, subject, account_id, method, tier_at_link, linked_at, last_login_at";

fn link_from(row: &AnyRow) -> Result<FederatedLink, StoreError> {
    let last: Option<i64> = row.try_get("last_login_at")?;
    Ok(FederatedLink {
        id: uuid_col(row, "id")?,
        provider: row.try_get("provider")?,
        subject: row.try_get("subject")?,
        account_id: uuid_col(row, "account_id")?,
        method: row.try_get("method")?,
        tier_at_link: row.try_get("tier_at_link")?,
        linked_at: to_time(row.try_get("linked_at")?),
        last_login_at: last.map(to_time),
    })
}

/// An account the login callback must consider: linked to the identity, or
/// carrying the person's SNILS; with its school's region and its link (if
/// any) with the same provider.
#[derive(Debug, Clone)]
pub struct LoginCandidate {
    pub account: Account,
    pub region_code: Option<i64>,
    pub link_id: Option<Uuid>,
    pub linked_subject: Option<String>,
}

/// The account linked to (provider, subject) (unique, so a scalar subquery:
/// on SQLite an `IN` list would build a temporary table on every login) and
/// every account with the SNILS, with their schools' regions and their
/// links with the provider.
static LOGIN_CANDIDATES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {}, s.region_code AS region_code, l.id AS link_id, l.subject AS linked_subject
         FROM accounts a
         LEFT JOIN schools s ON s.id = a.school_id
         LEFT JOIN federated_links l ON l.account_id = a.id AND l.provider = $1
         WHERE a.id = (SELECT account_id FROM federated_links WHERE provider = $2 AND subject = $3)
            OR a.snils = $4",
        *PREFIXED_ACCOUNT_COLUMNS
    )
});

/// Oldest account first (then by id), as the decision and its report list
/// them. Sorted here rather than by SQL: the rows are a handful, and
/// SQLite built a temporary b-tree for the `ORDER BY` on every login.
fn in_creation_order(mut candidates: Vec<LoginCandidate>) -> Vec<LoginCandidate> {
    candidates.sort_by_key(|c| (c.account.created_at, c.account.id));
    candidates
}

fn candidate_from(row: &impl Columns) -> Result<LoginCandidate, StoreError> {
    Ok(LoginCandidate {
        account: account_from(row)?,
        region_code: row.int("region_code")?,
        link_id: opt_uuid_col(row, "link_id")?,
        linked_subject: row.text("linked_subject")?,
    })
}

impl Store {
    /// Everything the link decision needs, in one statement: the account
    /// linked to (provider, subject) and every account with `snils_digits`.
    /// On a SQLite file it runs on the calling thread (`sqlite_reads`).
    pub async fn login_candidates(
        &self,
        provider: &str,
        subject: &str,
        snils_digits: Option<&str>,
    ) -> Result<Vec<LoginCandidate>, StoreError> {
        if let Some(reads) = self.fast_reads() {
            return reads.read(|connection| {
                let mut statement = connection.prepare_cached(&LOGIN_CANDIDATES)?;
                // The statement is fixed, and so are its columns.
                static NAMES: OnceLock<Vec<String>> = OnceLock::new();
                let names = NAMES.get_or_init(|| {
                    statement
                        .column_names()
                        .into_iter()
                        .map(str::to_string)
                        .collect()
                });
                let mut rows = statement.query(rusqlite::params![
                    provider,
                    provider,
                    subject,
                    snils_digits
                ])?;
                let mut candidates = Vec::new();
                while let Some(row) = rows.next()? {
                    candidates.push(candidate_from(&NamedRow { row, names })?);
                }
                Ok(in_creation_order(candidates))
            });
        }
        let rows = sqlx::query(&LOGIN_CANDIDATES)
            .bind(provider)
            .bind(provider)
            .bind(subject)
            .bind(snils_digits.map(str::to_string))
            .fetch_all(&mut *self.conn().await?)
            .await?;
        let candidates = rows.iter().map(candidate_from).collect::<Result<_, _>>()?;
        Ok(in_creation_order(candidates))
    }

    pub async fn find_link(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<FederatedLink>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {LINK_COLUMNS} FROM federated_links WHERE provider = $1 AND subject = $2"
        ))
        .bind(provider)
        .bind(subject)
        .fetch_optional(&mut *self.conn().await?)
        .await?;
        row.as_ref().map(link_from).transpose()
    }

    pub async fn find_link_for_account(
        &self,
        provider: &str,
        account_id: Uuid,
    ) -> Result<Option<FederatedLink>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {LINK_COLUMNS} FROM federated_links WHERE provider = $1 AND account_id = $2"
        ))
        .bind(provider)
        .bind(account_id.to_string())
        .fetch_optional(&mut *self.conn().await?)
        .await?;
        row.as_ref().map(link_from).transpose()
    }

    pub async fn links_for_account(
        &self,
        account_id: Uuid,
    ) -> Result<Vec<FederatedLink>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {LINK_COLUMNS} FROM federated_links WHERE account_id = $1 ORDER BY linked_at"
        ))
        .bind(account_id.to_string())
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter().map(link_from).collect()
    }

    /// Writes the link and its audit row in one transaction. The unique
    /// constraints decide races: the loser gets `AlreadyLinked`.
    pub async fn create_link(
        &self,
        link: &NewLink,
        actor: &str,
        reason: &str,
    ) -> Result<FederatedLink, StoreError> {
        let mut tx = self.begin_write().await?;
        let created = self.insert_link(&mut tx, link, actor, reason).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Consumes a live activation code of `link.account_id` and writes the
    /// link with its audit row, all or nothing: `None` (nothing written)
    /// when the code was used, revoked or expired meanwhile; of two
    /// concurrent redemptions exactly one links. The unique constraints
    /// decide link races as in [`Store::create_link`].
    pub async fn link_with_activation_code(
        &self,
        code_hash: &str,
        link: &NewLink,
        actor: &str,
        reason: &str,
    ) -> Result<Option<FederatedLink>, StoreError> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let consumed = sqlx::query(
            "UPDATE activation_codes SET used_at = $1, progress_json = NULL
             WHERE code_hash = $2 AND account_id = $3 AND used_at IS NULL
               AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(code_hash.to_string())
        .bind(link.account_id.to_string())
        .execute(self.in_tx(&mut tx))
        .await?
        .rows_affected();
        if consumed != 1 {
            return Ok(None);
        }
        let created = self.insert_link(&mut tx, link, actor, reason).await?;
        tx.commit().await?;
        Ok(Some(created))
    }

    async fn insert_link(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        link: &NewLink,
        actor: &str,
        reason: &str,
    ) -> Result<FederatedLink, StoreError> {
        let id = Uuid::new_v4();
        let now = now_ms();
        let inserted = sqlx::query(
            "INSERT INTO federated_links (id, provider, subject, account_id, method, tier_at_link, linked_at, last_login_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.to_string())
        .bind(&link.provider)
        .bind(&link.subject)
        .bind(link.account_id.to_string())
        .bind(&link.method)
        .bind(&link.tier_at_link)
        .bind(now)
        .bind(now)
        .execute(self.in_tx(tx))
        .await;
        if let Err(error) = inserted {
            if let Some(which) = unique_violation(&error) {
                let conflict = if which.contains("account") {
                    LinkConflict::AccountTaken
                } else {
                    LinkConflict::IdentityTaken
                };
                return Err(StoreError::AlreadyLinked(conflict));
            }
            return Err(error.into());
        }
        self.insert_audit(
            tx,
            &NewAuditEntry {
                actor: actor.to_string(),
                action: "link.created".into(),
                target_kind: "account".into(),
                target_id: link.account_id.to_string(),
                reason: Some(reason.to_string()),
                details: json!({
                    "link_id": id,
                    "provider": link.provider,
                    "method": link.method,
                    "tier": link.tier_at_link,
                }),
            },
        )
        .await?;
        Ok(FederatedLink {
            id,
            provider: link.provider.clone(),
            subject: link.subject.clone(),
            account_id: link.account_id,
            method: link.method.clone(),
            tier_at_link: link.tier_at_link.clone(),
            linked_at: to_time(now),
            last_login_at: Some(to_time(now)),
        })
    }

    pub async fn touch_link_login(
        &self,
        link_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE federated_links SET last_login_at = $1 WHERE id = $2")
            .bind(at.timestamp_millis())
            .bind(link_id.to_string())
            .execute(&mut *self.conn().await?)
            .await?;
        Ok(())
    }

    pub async fn delete_link(
        &self,
        link_id: Uuid,
        actor: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "SELECT {LINK_COLUMNS} FROM federated_links WHERE id = $1"
        ))
        .bind(link_id.to_string())
        .fetch_optional(self.in_tx(&mut tx))
        .await?
        .ok_or(StoreError::NotFound)?;
        let link = link_from(&row)?;
        sqlx::query("DELETE FROM federated_links WHERE id = $1")
            .bind(link_id.to_string())
            .execute(self.in_tx(&mut tx))
            .await?;
        self.insert_audit(&mut tx,
            &NewAuditEntry {
                actor: actor.to_string(),
                action: "link.deleted".into(),
                target_kind: "account".into(),
                target_id: link.account_id.to_string(),
                reason: Some(reason.to_string()),
                details: json!({"link_id": link.id, "provider": link.provider, "method": link.method}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves link `link_id` to `to_account` (an operator's relink), with an
    /// audit row on each account, in one transaction. The unique
    /// constraints decide races: if `to_account` has a link with the
    /// provider by then, nothing changes and the answer is `AlreadyLinked`.
    pub async fn relink(
        &self,
        link_id: Uuid,
        to_account: Uuid,
        actor: &str,
        reason: &str,
    ) -> Result<FederatedLink, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "SELECT {LINK_COLUMNS} FROM federated_links WHERE id = $1"
        ))
        .bind(link_id.to_string())
        .fetch_optional(self.in_tx(&mut tx))
        .await?
        .ok_or(StoreError::NotFound)?;
        let link = link_from(&row)?;
        let now = now_ms();
        let moved = sqlx::query(
            "UPDATE federated_links SET account_id = $1, method = 'operator', linked_at = $2, last_login_at = NULL
             WHERE id = $3",
        )
        .bind(to_account.to_string())
        .bind(now)
        .bind(link_id.to_string())
        .execute(self.in_tx(&mut tx))
        .await;
        if let Err(error) = moved {
            if unique_violation(&error).is_some() {
                return Err(StoreError::AlreadyLinked(LinkConflict::AccountTaken));
            }
            return Err(error.into());
        }
        let details = json!({
            "link_id": link.id,
            "provider": link.provider,
            "from_account": link.account_id,
            "to_account": to_account,
            "method_before": link.method,
        });
        for (action, account) in [
            ("link.relinked", to_account),
            ("link.relinked_away", link.account_id),
        ] {
            self.insert_audit(
                &mut tx,
                &NewAuditEntry {
                    actor: actor.to_string(),
                    action: action.into(),
                    target_kind: "account".into(),
                    target_id: account.to_string(),
                    reason: Some(reason.to_string()),
                    details: details.clone(),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(FederatedLink {
            account_id: to_account,
            method: "operator".into(),
            linked_at: to_time(now),
            last_login_at: None,
            ..link
        })
    }

    /// Stores only the code's hash.
    pub async fn insert_activation_code(
        &self,
        account_id: Uuid,
        code_hash: &str,
        expires_at: DateTime<Utc>,
        actor: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO activation_codes (code_hash, account_id, created_at, expires_at, created_by) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(code_hash)
        .bind(account_id.to_string())
        .bind(now_ms())
        .bind(expires_at.timestamp_millis())
        .bind(actor)
        .execute(self.in_tx(&mut tx))
        .await?;
        self.insert_audit(
            &mut tx,
            &NewAuditEntry {
                actor: actor.to_string(),
                action: "activation_code.issued".into(),
                target_kind: "account".into(),
                target_id: account_id.to_string(),
                reason: None,
                details: json!({"expires_at": expires_at}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks the code used and returns its account, once: of two concurrent
    /// consumers exactly one gets `Some`. Expired and used codes give `None`.
    pub async fn consume_activation_code(
        &self,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Uuid>, StoreError> {
        let row = sqlx::query(
            "UPDATE activation_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1
             RETURNING account_id",
        )
        .bind(now.timestamp_millis())
        .bind(code_hash)
        .fetch_optional(&mut *self.conn().await?)
        .await?;
        row.as_ref().map(|r| uuid_col(r, "account_id")).transpose()
    }
}
