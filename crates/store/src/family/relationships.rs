//! A school's parent→pupil links (table `relationships`): the ones a viewer
//! may answer or holds, and the parent's answer.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use super::{brief_columns, brief_from, opt_time, NewNotification, PersonBrief};
use crate::{opt_uuid_col, to_time, uuid_col, NewAuditEntry, Store, StoreError};

/// A school's parent→pupil link with both people.
#[derive(Debug, Clone)]
pub struct RelationshipRecord {
    pub id: Uuid,
    pub status: String,
    pub holder_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The parent persona the school entered.
    pub parent: PersonBrief,
    pub pupil: PersonBrief,
}

fn relationship_query(filter: &str) -> String {
    format!(
        "SELECT r.id, r.status, r.holder_id, r.created_at, r.decided_at, {}, {}
         FROM relationships r
         JOIN accounts p ON p.id = r.parent_id LEFT JOIN schools ps ON ps.id = p.school_id
         JOIN accounts c ON c.id = r.pupil_id LEFT JOIN schools cs ON cs.id = c.school_id
         WHERE {filter}
         ORDER BY r.created_at, r.id",
        brief_columns("p", "ps", "p_"),
        brief_columns("c", "cs", "c_"),
    )
}

fn relationship_from(row: &AnyRow) -> Result<RelationshipRecord, StoreError> {
    Ok(RelationshipRecord {
        id: uuid_col(row, "id")?,
        status: row.try_get("status")?,
        holder_id: opt_uuid_col(row, "holder_id")?,
        created_at: to_time(row.try_get("created_at")?),
        decided_at: opt_time(row, "decided_at")?,
        parent: brief_from(row, "p_")?,
        pupil: brief_from(row, "c_")?,
    })
}

impl Store {
    /// Links the viewer may answer or holds: proposed to them (or to a
    /// persona with their SNILS: the caller checks it is the same person),
    /// or held by them.
    pub async fn relationships_for_viewer(
        &self,
        viewer: Uuid,
        snils: Option<&str>,
    ) -> Result<Vec<RelationshipRecord>, StoreError> {
        let rows = sqlx::query(&relationship_query(
            "r.parent_id = $1 OR r.holder_id = $1 OR ($2 IS NOT NULL AND p.snils = $2)",
        ))
        .bind(viewer.to_string())
        .bind(snils.map(str::to_string))
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter().map(relationship_from).collect()
    }

    pub async fn relationship(&self, id: Uuid) -> Result<Option<RelationshipRecord>, StoreError> {
        let row = sqlx::query(&relationship_query("r.id = $1"))
            .bind(id.to_string())
            .fetch_optional(&mut *self.conn().await?)
            .await?;
        row.as_ref().map(relationship_from).transpose()
    }

    /// Confirms or declines a proposed link (held by `holder` when
    /// confirmed), with its audit row and notifications. `Ok(false)`: it
    /// was no longer proposed.
    #[allow(clippy::too_many_arguments)]
    pub async fn answer_relationship(
        &self,
        id: Uuid,
        status: &str,
        holder: Uuid,
        at: DateTime<Utc>,
        actor: &str,
        notifications: &[NewNotification],
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let confirmed = status == "confirmed";
        let changed = sqlx::query(
            "UPDATE relationships SET status = $1, holder_id = $2, basis = $3, decided_at = $4,
                 decided_by = $5
             WHERE id = $6 AND status = 'proposed'",
        )
        .bind(status.to_string())
        .bind(confirmed.then(|| holder.to_string()))
        .bind(confirmed.then(|| "parent_accepted".to_string()))
        .bind(at.timestamp_millis())
        .bind(holder.to_string())
        .bind(id.to_string())
        .execute(self.in_tx(&mut tx))
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        self.insert_audit(
            &mut tx,
            &NewAuditEntry {
                actor: actor.to_string(),
                action: format!("relationship.{status}"),
                target_kind: "relationship".into(),
                target_id: id.to_string(),
                reason: Some("answered by the parent in the notification centre".into()),
                details: json!({ "holder_id": holder, "at": at }),
            },
        )
        .await?;
        self.insert_notifications(&mut tx, notifications).await?;
        tx.commit().await?;
        Ok(true)
    }
}
