//! Parent-child links confirmed from State Services data (ESIA's list of a
//! person's kids): the school's links that could be meant, read in one
//! statement, and the confirmation with its audit row and notifications in
//! one transaction, conditional on the link still being proposed.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

use super::family::{brief_columns, brief_from};
use super::{
    opt_uuid_col, uuid_col, NewAuditEntry, NewNotification, PersonBrief, Store, StoreError,
};

/// What the audit row says when State Services data confirmed a link.
pub const ESIA_KIDS_REASON: &str = "confirmed by State Services data";

/// A school's parent→pupil link that a State Services login may confirm,
/// with the account that logged in (`viewer`), the parent persona the
/// school listed and the pupil.
#[derive(Debug, Clone)]
pub struct KidLink {
    pub relationship_id: Uuid,
    pub status: String,
    pub holder_id: Option<Uuid>,
    pub viewer: PersonBrief,
    pub parent: PersonBrief,
    pub pupil: PersonBrief,
}

impl Store {
    /// The links of pupils whose SNILS (11 digits) is among `kid_snils`
    /// that concern the account `viewer`: listed with it as the parent,
    /// held by it, or listed with a parent persona carrying its SNILS (the
    /// caller checks that persona is the same person). One statement.
    pub async fn kid_links(
        &self,
        viewer: Uuid,
        kid_snils: &[String],
    ) -> Result<Vec<KidLink>, StoreError> {
        if kid_snils.is_empty() {
            return Ok(Vec::new());
        }
        let list = (0..kid_snils.len())
            .map(|i| format!("${}", i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT r.id, r.status, r.holder_id, {}, {}, {}
             FROM accounts m LEFT JOIN schools ms ON ms.id = m.school_id
             JOIN accounts c ON c.snils IN ({list})
             LEFT JOIN schools cs ON cs.id = c.school_id
             JOIN relationships r ON r.pupil_id = c.id
             JOIN accounts p ON p.id = r.parent_id
             LEFT JOIN schools ps ON ps.id = p.school_id
             WHERE m.id = $1
               AND (r.parent_id = m.id OR r.holder_id = m.id
                    OR (m.snils IS NOT NULL AND p.snils = m.snils))
             ORDER BY r.created_at, r.id",
            brief_columns("m", "ms", "m_"),
            brief_columns("p", "ps", "p_"),
            brief_columns("c", "cs", "c_"),
        );
        let mut query = sqlx::query(&sql).bind(viewer.to_string());
        for snils in kid_snils {
            query = query.bind(snils.clone());
        }
        let rows = query.fetch_all(&mut *self.conn().await?).await?;
        rows.iter()
            .map(|row| {
                Ok(KidLink {
                    relationship_id: uuid_col(row, "id")?,
                    status: row.try_get("status")?,
                    holder_id: opt_uuid_col(row, "holder_id")?,
                    viewer: brief_from(row, "m_")?,
                    parent: brief_from(row, "p_")?,
                    pupil: brief_from(row, "c_")?,
                })
            })
            .collect()
    }

    /// Confirms a proposed link from State Services data: held by `holder`
    /// (the account that logged in), basis `esia_kids`, with its audit row
    /// and `notifications` in the same transaction. `Ok(false)`: it was no
    /// longer proposed, and nothing was written.
    pub async fn confirm_link_by_esia_kids(
        &self,
        id: Uuid,
        holder: Uuid,
        at: DateTime<Utc>,
        actor: &str,
        notifications: &[NewNotification],
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE relationships SET status = 'confirmed', holder_id = $1, basis = 'esia_kids',
                 decided_at = $2, decided_by = $3
             WHERE id = $4 AND status = 'proposed'",
        )
        .bind(holder.to_string())
        .bind(at.timestamp_millis())
        .bind(actor.to_string())
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
                action: "relationship.confirmed".into(),
                target_kind: "relationship".into(),
                target_id: id.to_string(),
                reason: Some(ESIA_KIDS_REASON.into()),
                details: json!({ "holder_id": holder, "basis": "esia_kids", "at": at }),
            },
        )
        .await?;
        for n in notifications {
            sqlx::query(
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
            .execute(self.in_tx(&mut tx))
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
