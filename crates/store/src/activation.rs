//! The activation wizard's writes: progress kept with the code, the final
//! step that consumes the code and sets the credentials in one transaction,
//! and one-time e-mail tokens.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

use super::{now_ms, unique_violation, uuid_col, NewAuditEntry, Store, StoreError};

/// What the final step writes.
pub struct Activation<'a> {
    pub code_hash: &'a str,
    pub account_id: Uuid,
    pub password_hash: &'a str,
    pub email: &'a str,
    pub phone: &'a str,
    /// A new login (lower case), or keep the current one.
    pub new_login: Option<&'a str>,
    pub email_token_hash: &'a str,
    pub email_token_expires: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivationConflict {
    /// Used, revoked or expired meanwhile (another tab finished first).
    CodeGone,
    /// The account is no longer pending.
    AccountNotPending,
    LoginTaken,
}

/// A confirmed e-mail token: whose, and for which address.
#[derive(Debug, Clone)]
pub struct EmailTokenUse {
    pub account_id: Uuid,
}

impl Store {
    pub async fn save_activation_progress(
        &self,
        code_hash: &str,
        progress: &serde_json::Value,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE activation_codes SET progress_json = $1
             WHERE code_hash = $2 AND used_at IS NULL AND revoked_at IS NULL",
        )
        .bind(progress.to_string())
        .bind(code_hash.to_string())
        .execute(&mut *self.conn().await?)
        .await?;
        Ok(())
    }

    /// Consumes the code and sets the credentials, all or nothing.
    pub async fn finish_activation(
        &self,
        activation: &Activation<'_>,
    ) -> Result<Result<(), ActivationConflict>, StoreError> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let consumed = sqlx::query(
            "UPDATE activation_codes SET used_at = $1, progress_json = NULL
             WHERE code_hash = $2 AND account_id = $3 AND used_at IS NULL
               AND revoked_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(activation.code_hash.to_string())
        .bind(activation.account_id.to_string())
        .execute(self.in_tx(&mut tx))
        .await?
        .rows_affected();
        if consumed != 1 {
            return Ok(Err(ActivationConflict::CodeGone));
        }
        let updated = sqlx::query(
            "UPDATE accounts SET password_hash = $1, email = $2, email_verified = 0, phone = $3,
                 login = COALESCE($4, login),
                 login_changed = CASE WHEN $4 IS NULL THEN login_changed ELSE 1 END,
                 updated_at = $5
             WHERE id = $6 AND status = 'pending'",
        )
        .bind(activation.password_hash.to_string())
        .bind(activation.email.to_string())
        .bind(activation.phone.to_string())
        .bind(activation.new_login.map(str::to_string))
        .bind(now)
        .bind(activation.account_id.to_string())
        .execute(self.in_tx(&mut tx))
        .await;
        match updated {
            Ok(done) if done.rows_affected() == 1 => {}
            Ok(_) => return Ok(Err(ActivationConflict::AccountNotPending)),
            Err(error) if unique_violation(&error).is_some() => {
                return Ok(Err(ActivationConflict::LoginTaken))
            }
            Err(error) => return Err(error.into()),
        }
        self.insert_email_token(
            &mut tx,
            activation.email_token_hash,
            activation.account_id,
            "confirm_email",
            activation.email,
            activation.email_token_expires,
        )
        .await?;
        self.insert_audit(
            &mut tx,
            &NewAuditEntry {
                actor: format!("account:{}", activation.account_id),
                action: "account.credentials_set".into(),
                target_kind: "account".into(),
                target_id: activation.account_id.to_string(),
                reason: Some("activation code redeemed".into()),
                details: json!({ "login_changed": activation.new_login.is_some() }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    async fn insert_email_token(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        token_hash: &str,
        account_id: Uuid,
        purpose: &str,
        email: &str,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO email_tokens (token_hash, account_id, purpose, email, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash.to_string())
        .bind(account_id.to_string())
        .bind(purpose.to_string())
        .bind(email.to_string())
        .bind(now_ms())
        .bind(expires.timestamp_millis())
        .execute(self.in_tx(tx))
        .await?;
        Ok(())
    }

    /// A new confirmation token for an account's current e-mail (resend).
    pub async fn add_email_token(
        &self,
        token_hash: &str,
        account_id: Uuid,
        purpose: &str,
        email: &str,
        expires: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        self.insert_email_token(&mut tx, token_hash, account_id, purpose, email, expires)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Uses a confirmation token once: the e-mail it was sent to becomes
    /// confirmed and a pending account becomes active. `None` when the token
    /// is unknown, used, expired, or the address has changed since.
    pub async fn confirm_email(
        &self,
        token_hash: &str,
    ) -> Result<Option<EmailTokenUse>, StoreError> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT account_id, email FROM email_tokens
             WHERE token_hash = $1 AND purpose = 'confirm_email' AND used_at IS NULL
               AND expires_at > $2",
        )
        .bind(token_hash.to_string())
        .bind(now)
        .fetch_optional(self.in_tx(&mut tx))
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let account_id = uuid_col(&row, "account_id")?;
        let email: String = row.try_get("email")?;
        let used = sqlx::query(
            "UPDATE email_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
        )
        .bind(now)
        .bind(token_hash.to_string())
        .execute(self.in_tx(&mut tx))
        .await?
        .rows_affected();
        let updated = sqlx::query(
            "UPDATE accounts SET email_verified = 1,
                 status = CASE WHEN status = 'pending' THEN 'active' ELSE status END,
                 updated_at = $1
             WHERE id = $2 AND email = $3",
        )
        .bind(now)
        .bind(account_id.to_string())
        .bind(email)
        .execute(self.in_tx(&mut tx))
        .await?
        .rows_affected();
        if used != 1 || updated != 1 {
            return Ok(None);
        }
        self.insert_audit(
            &mut tx,
            &NewAuditEntry {
                actor: format!("account:{account_id}"),
                action: "account.email_confirmed".into(),
                target_kind: "account".into(),
                target_id: account_id.to_string(),
                reason: None,
                details: json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Some(EmailTokenUse { account_id }))
    }
}
