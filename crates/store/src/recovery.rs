//! Account recovery's reads and writes: the accounts a recovery request may
//! reach (confirmed e-mail, active), the account behind a live reset link,
//! setting a new password by that link (the link used once, atomically) and
//! a parent setting a confirmed child's password. Each change writes its
//! audit row in the same transaction.

use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

use super::accounts::{account_from, PREFIXED_ACCOUNT_COLUMNS};
use super::{now_ms, uuid_col, Account, NewAuditEntry, Store, StoreError};

/// Whose password a reset link set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordReset {
    pub account_id: Uuid,
}

impl Store {
    /// Active accounts with a login whose confirmed e-mail is `email`
    /// (normalised by the caller). A parent may have given the same address
    /// for a child's account too, so there can be several.
    pub async fn recoverable_accounts_by_email(
        &self,
        email: &str,
    ) -> Result<Vec<Account>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM accounts a
             WHERE a.email = $1 AND a.email_verified = 1 AND a.status = 'active'
               AND a.login IS NOT NULL
             ORDER BY a.created_at, a.id",
            PREFIXED_ACCOUNT_COLUMNS.as_str()
        ))
        .bind(email.to_string())
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter().map(account_from).collect()
    }

    /// The account a live reset link (unused, unexpired, sent to the
    /// account's current, confirmed address) belongs to.
    pub async fn reset_link_account(
        &self,
        token_hash: &str,
    ) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM email_tokens t JOIN accounts a ON a.id = t.account_id
             WHERE t.token_hash = $1 AND t.purpose = 'reset_password' AND t.used_at IS NULL
               AND t.expires_at > $2 AND a.email = t.email AND a.email_verified = 1
               AND a.status = 'active'",
            PREFIXED_ACCOUNT_COLUMNS.as_str()
        ))
        .bind(token_hash.to_string())
        .bind(now_ms())
        .fetch_optional(&mut *self.conn().await?)
        .await?;
        row.as_ref().map(account_from).transpose()
    }

    /// Uses a reset link once and sets the account's password, all or
    /// nothing; the account's other reset links stop working too. `None`
    /// when the link is unknown, used (of two concurrent uses exactly one
    /// wins), expired, or the address changed since it was sent.
    pub async fn reset_password_by_link(
        &self,
        token_hash: &str,
        password_hash: &str,
    ) -> Result<Option<PasswordReset>, StoreError> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        // The UPDATE first: it takes the write lock and decides the race.
        let used = sqlx::query(
            "UPDATE email_tokens SET used_at = $1
             WHERE token_hash = $2 AND purpose = 'reset_password' AND used_at IS NULL
               AND expires_at > $1
             RETURNING account_id, email",
        )
        .bind(now)
        .bind(token_hash.to_string())
        .fetch_optional(self.in_tx(&mut tx))
        .await?;
        let Some(used) = used else {
            return Ok(None);
        };
        let account_id = uuid_col(&used, "account_id")?;
        let email: String = used.try_get("email")?;
        let updated = sqlx::query(
            "UPDATE accounts SET password_hash = $1, updated_at = $2
             WHERE id = $3 AND email = $4 AND email_verified = 1 AND status = 'active'",
        )
        .bind(password_hash.to_string())
        .bind(now)
        .bind(account_id.to_string())
        .bind(email)
        .execute(self.in_tx(&mut tx))
        .await?
        .rows_affected();
        if updated != 1 {
            // Dropping the transaction rolls the token's use back: the link
            // stays as refused as the account's state makes it.
            return Ok(None);
        }
        self.retire_reset_links(&mut tx, account_id, now).await?;
        self.insert_audit(
            &mut tx,
            &NewAuditEntry {
                actor: format!("account:{account_id}"),
                action: "account.password_reset".into(),
                target_kind: "account".into(),
                target_id: account_id.to_string(),
                reason: Some("one-time link sent to the confirmed e-mail".into()),
                details: json!({ "method": "email_link" }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Some(PasswordReset { account_id }))
    }

    /// A parent sets a child's password. The parent link is checked again
    /// in the same statement, so a link revoked meanwhile wins. `false`:
    /// no confirmed link (any more), or the child's account is not active.
    pub async fn reset_password_by_parent(
        &self,
        parent_id: Uuid,
        pupil_id: Uuid,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE accounts SET password_hash = $1, updated_at = $2
             WHERE id = $3 AND role = 'pupil' AND status = 'active'
               AND EXISTS (SELECT 1 FROM relationships r
                           WHERE r.pupil_id = $3 AND r.status = 'confirmed'
                             AND (r.holder_id = $4 OR r.parent_id = $4))",
        )
        .bind(password_hash.to_string())
        .bind(now)
        .bind(pupil_id.to_string())
        .bind(parent_id.to_string())
        .execute(self.in_tx(&mut tx))
        .await?
        .rows_affected();
        if updated != 1 {
            return Ok(false);
        }
        self.retire_reset_links(&mut tx, pupil_id, now).await?;
        self.insert_audit(
            &mut tx,
            &NewAuditEntry {
                actor: format!("account:{parent_id}"),
                action: "account.password_reset_by_parent".into(),
                target_kind: "account".into(),
                target_id: pupil_id.to_string(),
                reason: Some("set by a parent with a confirmed link".into()),
                details: json!({ "basis": "parent" }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Every unused reset link of the account stops working.
    async fn retire_reset_links(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        account_id: Uuid,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE email_tokens SET used_at = $1
             WHERE account_id = $2 AND purpose = 'reset_password' AND used_at IS NULL",
        )
        .bind(now)
        .bind(account_id.to_string())
        .execute(self.in_tx(tx))
        .await?;
        Ok(())
    }
}
