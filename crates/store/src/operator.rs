//! Operator actions that reach past one table: resetting an activation,
//! locking and unlocking an account, and confirming a parent-pupil
//! relationship, each with its audit row in the same transaction.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{now_ms, NewAuditEntry, Store, StoreError};

impl Store {
    /// Back to "not activated": the password goes, unused codes are
    /// revoked, a new code (its hash) is stored. Links and the e-mail stay.
    pub async fn reset_activation(
        &self,
        account_id: Uuid,
        code_hash: &str,
        expires_at: DateTime<Utc>,
        actor: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let reset = sqlx::query(
            "UPDATE accounts SET status = 'pending', password_hash = NULL, email_verified = 0,
                 updated_at = $1
             WHERE id = $2 AND status <> 'blocked'",
        )
        .bind(now)
        .bind(account_id.to_string())
        .execute(self.in_tx(&mut tx))
        .await?
        .rows_affected();
        if reset != 1 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "UPDATE activation_codes SET revoked_at = $1
             WHERE account_id = $2 AND used_at IS NULL AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(account_id.to_string())
        .execute(self.in_tx(&mut tx))
        .await?;
        sqlx::query(
            "INSERT INTO activation_codes (code_hash, account_id, created_at, expires_at, created_by)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(code_hash.to_string())
        .bind(account_id.to_string())
        .bind(now)
        .bind(expires_at.timestamp_millis())
        .bind(actor.to_string())
        .execute(self.in_tx(&mut tx))
        .await?;
        self.insert_audit(
            &mut tx,
            &NewAuditEntry {
                actor: actor.to_string(),
                action: "account.activation_reset".into(),
                target_kind: "account".into(),
                target_id: account_id.to_string(),
                reason: Some(reason.to_string()),
                details: json!({ "code_expires_at": expires_at }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves the account's status from `from` to `to` (an operator locks
    /// or unlocks it) and writes `entry`, in one transaction. `NotFound`
    /// if the account's status is not `from` (any more): nothing written.
    pub async fn change_account_status(
        &self,
        account_id: Uuid,
        from: &str,
        to: &str,
        entry: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE accounts SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
        )
        .bind(to.to_string())
        .bind(now_ms())
        .bind(account_id.to_string())
        .bind(from.to_string())
        .execute(self.in_tx(&mut tx))
        .await?
        .rows_affected();
        if changed != 1 {
            return Err(StoreError::NotFound);
        }
        self.insert_audit(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Confirms the relationship between `parent` and `pupil` (proposed or
    /// declined before) on an operator's word. `NotFound` if no school
    /// listed that parent for that pupil.
    pub async fn confirm_relationship_by_operator(
        &self,
        parent: Uuid,
        pupil: Uuid,
        actor: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let confirmed = sqlx::query(
            "UPDATE relationships SET status = 'confirmed', basis = 'operator', holder_id = parent_id,
                 decided_at = $1, decided_by = $2
             WHERE parent_id = $3 AND pupil_id = $4 AND status IN ('proposed', 'declined')",
        )
        .bind(now)
        .bind(actor.to_string())
        .bind(parent.to_string())
        .bind(pupil.to_string())
        .execute(self.in_tx(&mut tx))
        .await?
        .rows_affected();
        if confirmed != 1 {
            return Err(StoreError::NotFound);
        }
        self.insert_audit(
            &mut tx,
            &NewAuditEntry {
                actor: actor.to_string(),
                action: "relationship.confirmed".into(),
                target_kind: "account".into(),
                target_id: pupil.to_string(),
                reason: Some(reason.to_string()),
                details: json!({ "parent": parent, "basis": "operator" }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "operator_tests.rs"]
mod tests;
