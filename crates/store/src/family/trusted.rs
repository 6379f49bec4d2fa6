//! Trusted persons' lightweight accounts, created at their first State
//! Services login that matched a parent's invitation.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use uuid::Uuid;

use super::NewNotification;
use crate::{unique_violation, uuid_col, LinkConflict, NewAuditEntry, Store, StoreError};

/// A trusted person's lightweight account, created at their first login.
#[derive(Clone)]
pub struct NewTrustedAccount {
    pub surname: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub snils: Option<String>,
    pub verified_phone: Option<String>,
    pub provider: String,
    pub subject: String,
    pub tier: String,
}

impl fmt::Debug for NewTrustedAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewTrustedAccount")
            .field("provider", &self.provider)
            .field("has_snils", &self.snils.is_some())
            .field("has_phone", &self.verified_phone.is_some())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The trusted account already linked to this identity, if any.
    pub async fn trusted_account_for_identity(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<Uuid>, StoreError> {
        let row = sqlx::query(
            "SELECT a.id FROM federated_links l JOIN accounts a ON a.id = l.account_id
             WHERE l.provider = $1 AND l.subject = $2 AND a.role = 'trusted'",
        )
        .bind(provider.to_string())
        .bind(subject.to_string())
        .fetch_optional(&mut *self.conn().await?)
        .await?;
        row.map(|r| uuid_col(&r, "id")).transpose()
    }

    /// Creates a trusted person's account and links the identity to it
    /// (method `invitation`), with audit rows and notifications, in one
    /// transaction. A concurrent first login loses with `AlreadyLinked`.
    pub async fn create_trusted_account(
        &self,
        account: &NewTrustedAccount,
        at: DateTime<Utc>,
        notifications: impl Fn(Uuid) -> Vec<NewNotification>,
    ) -> Result<Uuid, StoreError> {
        let id = Uuid::new_v4();
        let now = at.timestamp_millis();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO accounts (id, school_id, role, surname, given_name, patronymic, birth_date,
                 snils, status, phone, phone_verified, email_verified, login_changed, created_at,
                 updated_at)
             VALUES ($1, NULL, 'trusted', $2, $3, $4, $5, $6, 'active', $7, $8, 0, 0, $9, $9)",
        )
        .bind(id.to_string())
        .bind(account.surname.clone())
        .bind(account.given_name.clone())
        .bind(account.patronymic.clone())
        .bind(account.birth_date.map(|d| d.format("%Y-%m-%d").to_string()))
        .bind(account.snils.clone())
        .bind(account.verified_phone.clone())
        .bind(i64::from(account.verified_phone.is_some()))
        .bind(now)
        .execute(self.in_tx(&mut tx))
        .await?;
        self.insert_audit(
            &mut tx,
            &NewAuditEntry {
                actor: "system:login".into(),
                action: "account.created".into(),
                target_kind: "account".into(),
                target_id: id.to_string(),
                reason: Some("a trusted person invited by a parent logged in".into()),
                details: json!({ "role": "trusted" }),
            },
        )
        .await?;
        let link_id = Uuid::new_v4();
        let inserted = sqlx::query(
            "INSERT INTO federated_links (id, provider, subject, account_id, method, tier_at_link,
                 linked_at, last_login_at)
             VALUES ($1, $2, $3, $4, 'invitation', $5, $6, $6)",
        )
        .bind(link_id.to_string())
        .bind(account.provider.clone())
        .bind(account.subject.clone())
        .bind(id.to_string())
        .bind(account.tier.clone())
        .bind(now)
        .execute(self.in_tx(&mut tx))
        .await;
        if let Err(error) = inserted {
            if unique_violation(&error).is_some() {
                return Err(StoreError::AlreadyLinked(LinkConflict::IdentityTaken));
            }
            return Err(error.into());
        }
        self.insert_audit(
            &mut tx,
            &NewAuditEntry {
                actor: "system:login".into(),
                action: "link.created".into(),
                target_kind: "account".into(),
                target_id: id.to_string(),
                reason: Some("surname and SNILS (or phone) matched a parent's invitation".into()),
                details: json!({
                    "link_id": link_id,
                    "provider": account.provider,
                    "method": "invitation",
                    "tier": account.tier,
                }),
            },
        )
        .await?;
        self.insert_notifications(&mut tx, &notifications(id))
            .await?;
        tx.commit().await?;
        Ok(id)
    }
}
