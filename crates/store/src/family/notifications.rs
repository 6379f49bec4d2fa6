//! The notification centre (table `notifications`): one row per (account,
//! kind, subject), so notices derived from time can be written by whoever
//! notices first.

use std::fmt;

use chrono::{DateTime, Utc};
use sqlx::{Any, Row, Transaction};
use uuid::Uuid;

use super::opt_time;
use crate::{json_col, to_time, uuid_col, Store, StoreError};

#[derive(Clone)]
pub struct NewNotification {
    pub account_id: Uuid,
    pub kind: String,
    /// The relationship or invitation (or other record) it is about.
    pub subject_id: String,
    /// What the text needs (names, services, times), as the use case saw it.
    pub params: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone)]
pub struct NotificationRecord {
    pub id: Uuid,
    pub kind: String,
    pub subject_id: String,
    pub params: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for NotificationRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotificationRecord")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("read", &self.read_at.is_some())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Notifications outside any other change (ones that exist stay).
    pub async fn add_notifications(
        &self,
        notifications: &[NewNotification],
    ) -> Result<u64, StoreError> {
        if notifications.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let added = self.insert_notifications(&mut tx, notifications).await?;
        tx.commit().await?;
        Ok(added)
    }

    pub(crate) async fn insert_notifications(
        &self,
        tx: &mut Transaction<'static, Any>,
        notifications: &[NewNotification],
    ) -> Result<u64, StoreError> {
        let mut added = 0;
        for n in notifications {
            added += sqlx::query(
                "INSERT INTO notifications (id, account_id, kind, subject_id, params_json, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (account_id, kind, subject_id) DO NOTHING",
            )
            .bind(Uuid::new_v4().to_string())
            .bind(n.account_id.to_string())
            .bind(n.kind.clone())
            .bind(n.subject_id.clone())
            .bind(n.params.to_string())
            .bind(n.created_at.timestamp_millis())
            .execute(self.in_tx(tx))
            .await?
            .rows_affected();
        }
        Ok(added)
    }

    /// The newest `limit` notifications of an account.
    pub async fn notifications_of(
        &self,
        account: Uuid,
        limit: i64,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, subject_id, params_json, created_at, read_at FROM notifications
             WHERE account_id = $1 ORDER BY created_at DESC, id LIMIT $2",
        )
        .bind(account.to_string())
        .bind(limit)
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(NotificationRecord {
                    id: uuid_col(row, "id")?,
                    kind: row.try_get("kind")?,
                    subject_id: row.try_get("subject_id")?,
                    params: json_col(row, "params_json")?,
                    created_at: to_time(row.try_get("created_at")?),
                    read_at: opt_time(row, "read_at")?,
                })
            })
            .collect()
    }

    /// Marks one of the account's notifications read; false if it has none
    /// with this id.
    pub async fn mark_notification_read(
        &self,
        account: Uuid,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let found: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE id = $1 AND account_id = $2",
        )
        .bind(id.to_string())
        .bind(account.to_string())
        .fetch_one(&mut *self.conn().await?)
        .await?;
        if found == 0 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE notifications SET read_at = $1
             WHERE id = $2 AND account_id = $3 AND read_at IS NULL",
        )
        .bind(at.timestamp_millis())
        .bind(id.to_string())
        .bind(account.to_string())
        .execute(&mut *self.conn().await?)
        .await?;
        Ok(true)
    }

    /// Marks the account's notifications about `subject` of these kinds
    /// read (an invitation answered needs no more attention).
    pub async fn mark_subject_read(
        &self,
        account: Uuid,
        subject: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE notifications SET read_at = $1
             WHERE account_id = $2 AND subject_id = $3 AND read_at IS NULL
               AND kind IN ('relationship_invitation', 'trusted_invitation')",
        )
        .bind(at.timestamp_millis())
        .bind(account.to_string())
        .bind(subject.to_string())
        .execute(&mut *self.conn().await?)
        .await?;
        Ok(())
    }
}
