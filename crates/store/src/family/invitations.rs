//! A parent's invitations of trusted persons (table `invitations`): sent,
//! listed for the sender and the invitee, and changed (accepted, declined,
//! revoked, expired) only from the state the use case saw.

use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;
use uuid::Uuid;

use super::{opt_time, NewNotification};
use crate::{opt_uuid_col, to_time, uuid_col, NewAuditEntry, Store, StoreError};

/// An invitation with the names its lists show.
#[derive(Clone)]
pub struct InvitationRecord {
    pub id: Uuid,
    pub inviter_id: Uuid,
    pub pupil_id: Uuid,
    pub relationship_id: Uuid,
    pub relationship_status: String,
    pub invitee_surname: String,
    pub match_kind: String,
    pub match_hash: String,
    pub hint: String,
    pub services: String,
    pub status: String,
    pub grantee_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub opens_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub inviter_name: String,
    pub pupil_name: String,
    pub grantee_name: Option<String>,
}

impl fmt::Debug for InvitationRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvitationRecord")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("match_kind", &self.match_kind)
            .field("services", &self.services)
            .finish_non_exhaustive()
    }
}

/// A new invitation (the contact only as its HMAC and a masked hint).
#[derive(Clone)]
pub struct NewInvitation {
    pub id: Uuid,
    pub inviter_id: Uuid,
    pub pupil_id: Uuid,
    pub relationship_id: Uuid,
    pub invitee_surname: String,
    pub match_kind: String,
    pub match_hash: String,
    pub hint: String,
    pub services: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A state change of an invitation, applied only if it is still in
/// `from_status`.
#[derive(Debug, Clone)]
pub struct InvitationChange {
    pub id: Uuid,
    pub from_status: String,
    pub status: String,
    pub grantee_id: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub opens_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

fn list(n: usize, first: usize) -> String {
    (0..n)
        .map(|i| format!("${}", first + i))
        .collect::<Vec<_>>()
        .join(", ")
}

fn invitation_query(filter: &str) -> String {
    format!(
        "SELECT i.id, i.inviter_id, i.pupil_id, i.relationship_id, r.status AS relationship_status,
                i.invitee_surname, i.match_kind, i.match_hash, i.hint, i.services, i.status,
                i.grantee_id, i.created_at, i.expires_at, i.decided_at, i.opens_at, i.revoked_at,
                ia.surname AS ia_surname, ia.given_name AS ia_given, ia.patronymic AS ia_patronymic,
                pa.surname AS pa_surname, pa.given_name AS pa_given, pa.patronymic AS pa_patronymic,
                ga.surname AS ga_surname, ga.given_name AS ga_given, ga.patronymic AS ga_patronymic
         FROM invitations i
         JOIN relationships r ON r.id = i.relationship_id
         JOIN accounts ia ON ia.id = i.inviter_id
         JOIN accounts pa ON pa.id = i.pupil_id
         LEFT JOIN accounts ga ON ga.id = i.grantee_id
         WHERE {filter}
         ORDER BY i.created_at DESC, i.id"
    )
}

fn joined_name(row: &AnyRow, prefix: &str) -> Result<Option<String>, StoreError> {
    let surname: Option<String> = row.try_get(format!("{prefix}_surname").as_str())?;
    let given: Option<String> = row.try_get(format!("{prefix}_given").as_str())?;
    let patronymic: Option<String> = row.try_get(format!("{prefix}_patronymic").as_str())?;
    Ok(surname.map(|s| {
        [Some(s), given, patronymic]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    }))
}

fn invitation_from(row: &AnyRow) -> Result<InvitationRecord, StoreError> {
    Ok(InvitationRecord {
        id: uuid_col(row, "id")?,
        inviter_id: uuid_col(row, "inviter_id")?,
        pupil_id: uuid_col(row, "pupil_id")?,
        relationship_id: uuid_col(row, "relationship_id")?,
        relationship_status: row.try_get("relationship_status")?,
        invitee_surname: row.try_get("invitee_surname")?,
        match_kind: row.try_get("match_kind")?,
        match_hash: row.try_get("match_hash")?,
        hint: row.try_get("hint")?,
        services: row.try_get("services")?,
        status: row.try_get("status")?,
        grantee_id: opt_uuid_col(row, "grantee_id")?,
        created_at: to_time(row.try_get("created_at")?),
        expires_at: to_time(row.try_get("expires_at")?),
        decided_at: opt_time(row, "decided_at")?,
        opens_at: opt_time(row, "opens_at")?,
        revoked_at: opt_time(row, "revoked_at")?,
        inviter_name: joined_name(row, "ia")?.unwrap_or_default(),
        pupil_name: joined_name(row, "pa")?.unwrap_or_default(),
        grantee_name: joined_name(row, "ga")?,
    })
}

impl Store {
    /// Stores a new invitation with its audit row and notifications.
    pub async fn insert_invitation(
        &self,
        invitation: &NewInvitation,
        actor: &str,
        notifications: &[NewNotification],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO invitations (id, inviter_id, pupil_id, relationship_id, invitee_surname,
                 match_kind, match_hash, hint, services, status, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $11)",
        )
        .bind(invitation.id.to_string())
        .bind(invitation.inviter_id.to_string())
        .bind(invitation.pupil_id.to_string())
        .bind(invitation.relationship_id.to_string())
        .bind(invitation.invitee_surname.clone())
        .bind(invitation.match_kind.clone())
        .bind(invitation.match_hash.clone())
        .bind(invitation.hint.clone())
        .bind(invitation.services.clone())
        .bind(invitation.created_at.timestamp_millis())
        .bind(invitation.expires_at.timestamp_millis())
        .execute(self.in_tx(&mut tx))
        .await?;
        self.insert_audit(
            &mut tx,
            &NewAuditEntry {
                actor: actor.to_string(),
                action: "invitation.sent".into(),
                target_kind: "invitation".into(),
                target_id: invitation.id.to_string(),
                reason: None,
                details: json!({
                    "pupil_id": invitation.pupil_id,
                    "match_kind": invitation.match_kind,
                    "services": invitation.services,
                    "expires_at": invitation.expires_at,
                }),
            },
        )
        .await?;
        self.insert_notifications(&mut tx, notifications).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn invitation(&self, id: Uuid) -> Result<Option<InvitationRecord>, StoreError> {
        let row = sqlx::query(&invitation_query("i.id = $1"))
            .bind(id.to_string())
            .fetch_optional(&mut *self.conn().await?)
            .await?;
        row.as_ref().map(invitation_from).transpose()
    }

    pub async fn invitations_sent_by(
        &self,
        inviter: Uuid,
    ) -> Result<Vec<InvitationRecord>, StoreError> {
        let rows = sqlx::query(&invitation_query("i.inviter_id = $1"))
            .bind(inviter.to_string())
            .fetch_all(&mut *self.conn().await?)
            .await?;
        rows.iter().map(invitation_from).collect()
    }

    /// Invitations the viewer accepted, and pending ones whose contact hash
    /// is one of `hashes` (the caller checks the surname).
    pub async fn invitations_for_invitee(
        &self,
        viewer: Option<Uuid>,
        hashes: &[String],
    ) -> Result<Vec<InvitationRecord>, StoreError> {
        let by_hash = if hashes.is_empty() {
            "false".to_string()
        } else {
            format!(
                "(i.status = 'pending' AND i.match_hash IN ({}))",
                list(hashes.len(), 2)
            )
        };
        let sql = invitation_query(&format!("i.grantee_id = $1 OR {by_hash}"));
        let mut query = sqlx::query(&sql).bind(viewer.map(|v| v.to_string()).unwrap_or_default());
        for hash in hashes {
            query = query.bind(hash.clone());
        }
        let rows = query.fetch_all(&mut *self.conn().await?).await?;
        rows.iter().map(invitation_from).collect()
    }

    /// Whether an invitation of this person (by contact hash) for this
    /// pupil is pending (unexpired at `now`) or accepted.
    pub async fn live_invitation_exists(
        &self,
        pupil: Uuid,
        match_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM invitations
             WHERE pupil_id = $1 AND match_hash = $2
               AND (status = 'accepted' OR (status = 'pending' AND expires_at > $3))",
        )
        .bind(pupil.to_string())
        .bind(match_hash.to_string())
        .bind(now.timestamp_millis())
        .fetch_one(&mut *self.conn().await?)
        .await?;
        Ok(count > 0)
    }

    /// Applies a state change decided by the use case, if the invitation is
    /// still as it saw it; with its audit row and notifications.
    pub async fn change_invitation(
        &self,
        change: &InvitationChange,
        actor: &str,
        notifications: &[NewNotification],
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE invitations SET status = $1,
                 grantee_id = COALESCE($2, grantee_id),
                 decided_at = COALESCE($3, decided_at),
                 opens_at = COALESCE($4, opens_at),
                 revoked_at = COALESCE($5, revoked_at),
                 revoked_by = COALESCE($6, revoked_by)
             WHERE id = $7 AND status = $8",
        )
        .bind(change.status.clone())
        .bind(change.grantee_id.map(|g| g.to_string()))
        .bind(change.decided_at.map(|t| t.timestamp_millis()))
        .bind(change.opens_at.map(|t| t.timestamp_millis()))
        .bind(change.revoked_at.map(|t| t.timestamp_millis()))
        .bind(change.revoked_by.clone())
        .bind(change.id.to_string())
        .bind(change.from_status.clone())
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
                action: format!("invitation.{}", change.status),
                target_kind: "invitation".into(),
                target_id: change.id.to_string(),
                reason: None,
                details: json!({
                    "from": change.from_status,
                    "grantee_id": change.grantee_id,
                    "opens_at": change.opens_at,
                }),
            },
        )
        .await?;
        self.insert_notifications(&mut tx, notifications).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Notices that time produced (access opened): written once by whoever
    /// notices first, audited once.
    pub async fn record_access_opened(
        &self,
        invitation: Uuid,
        actor: &str,
        notifications: &[NewNotification],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let added = self.insert_notifications(&mut tx, notifications).await?;
        if added > 0 {
            self.insert_audit(
                &mut tx,
                &NewAuditEntry {
                    actor: actor.to_string(),
                    action: "invitation.opened".into(),
                    target_kind: "invitation".into(),
                    target_id: invitation.to_string(),
                    reason: Some("the waiting period after acceptance ended".into()),
                    details: json!({}),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
