//! Parent-child links, trusted-person invitations and the notification
//! centre. Every change writes its audit row and its notifications in the
//! same transaction; state changes are conditional on the state the use
//! case decided from, so a concurrent answer loses cleanly (`Ok(false)`).
//!
//! Times are passed in by the caller (the application's clock), so tests
//! can move time without sleeping.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use uuid::Uuid;

use super::{
    flag_col, json_col, opt_date_col, opt_uuid_col, to_time, unique_violation, uuid_col,
    LinkConflict, NewAuditEntry, Store, StoreError,
};

/// A person as family pages show them (no contacts).
#[derive(Clone)]
pub struct PersonBrief {
    pub id: Uuid,
    pub role: String,
    pub surname: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub snils: Option<String>,
    pub school_id: Option<Uuid>,
    pub school_name: Option<String>,
    pub class_name: Option<String>,
}

impl PersonBrief {
    /// «Новиков Максим Андреевич».
    pub fn display_name(&self) -> String {
        match &self.patronymic {
            Some(p) => format!("{} {} {p}", self.surname, self.given_name),
            None => format!("{} {}", self.surname, self.given_name),
        }
    }
}

/// No names or SNILS in logs.
impl fmt::Debug for PersonBrief {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersonBrief")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("school_id", &self.school_id)
            .finish_non_exhaustive()
    }
}

/// The logged-in person, with what invitations are matched by.
#[derive(Clone)]
pub struct ViewerRecord {
    pub person: PersonBrief,
    pub phone: Option<String>,
    pub phone_verified: bool,
    /// The region of the person's school: its clock is the one their
    /// pages show times by.
    pub region: Option<i64>,
}

impl fmt::Debug for ViewerRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ViewerRecord")
            .field("person", &self.person)
            .field("has_phone", &self.phone.is_some())
            .finish_non_exhaustive()
    }
}

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

/// The account an access check asks about: its role and school (`role`
/// `None`: there is no such account).
#[derive(Debug, Clone, Default)]
pub struct AccessTarget {
    pub role: Option<String>,
    pub school: Option<Uuid>,
}

/// Every tie of a viewer to pupils: the parent links it holds or is named
/// in, and the grants it received. A handful for a parent, none for most.
#[derive(Debug, Clone, Default)]
pub struct ViewerTies {
    pub links: Vec<LinkTie>,
    pub grants: Vec<GrantTie>,
}

#[derive(Debug, Clone)]
pub struct LinkTie {
    pub pupil: Uuid,
    pub status: String,
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct GrantTie {
    pub pupil: Uuid,
    pub row: GrantRow,
}

impl ViewerTies {
    /// The pupils these ties are about (with repeats).
    pub fn pupils(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.links
            .iter()
            .map(|l| l.pupil)
            .chain(self.grants.iter().map(|g| g.pupil))
    }
}

#[derive(Debug, Clone)]
pub struct GrantRow {
    pub status: String,
    pub opens_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub services: String,
    pub relationship_status: String,
}

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

/// `p.id AS p_id, ...` for an account aliased `a` joined to its school `s`.
pub(super) fn brief_columns(a: &str, s: &str, prefix: &str) -> String {
    [
        "id",
        "role",
        "surname",
        "given_name",
        "patronymic",
        "birth_date",
        "snils",
        "school_id",
        "class_name",
    ]
    .iter()
    .map(|c| format!("{a}.{c} AS {prefix}{c}"))
    .chain(std::iter::once(format!("{s}.name AS {prefix}school_name")))
    .collect::<Vec<_>>()
    .join(", ")
}

pub(super) fn brief_from(row: &AnyRow, prefix: &str) -> Result<PersonBrief, StoreError> {
    let col = |c: &str| format!("{prefix}{c}");
    Ok(PersonBrief {
        id: uuid_col(row, &col("id"))?,
        role: row.try_get(col("role").as_str())?,
        surname: row.try_get(col("surname").as_str())?,
        given_name: row.try_get(col("given_name").as_str())?,
        patronymic: row.try_get(col("patronymic").as_str())?,
        birth_date: opt_date_col(row, &col("birth_date"))?,
        snils: row.try_get(col("snils").as_str())?,
        school_id: opt_uuid_col(row, &col("school_id"))?,
        school_name: row.try_get(col("school_name").as_str())?,
        class_name: row.try_get(col("class_name").as_str())?,
    })
}

fn opt_time(row: &AnyRow, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(row.try_get::<Option<i64>, _>(column)?.map(to_time))
}

fn list(n: usize, first: usize) -> String {
    (0..n)
        .map(|i| format!("${}", first + i))
        .collect::<Vec<_>>()
        .join(", ")
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
    /// The account behind a session, with its school.
    pub async fn family_viewer(&self, account_id: Uuid) -> Result<ViewerRecord, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {}, a.phone, a.phone_verified, s.region_code
             FROM accounts a LEFT JOIN schools s ON s.id = a.school_id WHERE a.id = $1",
            brief_columns("a", "s", "")
        ))
        .bind(account_id.to_string())
        .fetch_one(&mut *self.conn().await?)
        .await?;
        Ok(ViewerRecord {
            person: brief_from(&row, "")?,
            phone: row.try_get("phone")?,
            phone_verified: flag_col(&row, "phone_verified")?,
            region: row.try_get("region_code")?,
        })
    }

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

    pub(super) async fn insert_notifications(
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

    /// Everything an access check needs: the target account, and every
    /// tie of the viewer (to any pupil, so that one read serves the
    /// viewer's later checks from the access cache). One statement.
    pub async fn access_facts(
        &self,
        viewer: Uuid,
        target: Uuid,
    ) -> Result<(AccessTarget, ViewerTies), StoreError> {
        let rows = sqlx::query(
            "SELECT 'target' AS kind, a.id AS pupil_id, a.role AS status,
                    CAST(NULL AS BIGINT) AS t1, CAST(NULL AS BIGINT) AS t2,
                    CAST(NULL AS TEXT) AS services, CAST(NULL AS TEXT) AS link_status,
                    a.school_id AS target_school
             FROM accounts a WHERE a.id = $2
             UNION ALL
             SELECT 'link', r.pupil_id, r.status, r.decided_at, CAST(NULL AS BIGINT),
                    CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT)
             FROM relationships r WHERE r.holder_id = $1 OR r.parent_id = $1
             UNION ALL
             SELECT 'grant', i.pupil_id, i.status, i.opens_at, i.expires_at, i.services,
                    r.status, CAST(NULL AS TEXT)
             FROM invitations i JOIN relationships r ON r.id = i.relationship_id
             WHERE i.grantee_id = $1",
        )
        .bind(viewer.to_string())
        .bind(target.to_string())
        .fetch_all(&mut *self.conn().await?)
        .await?;
        let (mut found, mut ties) = (AccessTarget::default(), ViewerTies::default());
        for row in rows {
            let kind: String = row.try_get("kind")?;
            let status: String = row.try_get("status")?;
            let pupil = uuid_col(&row, "pupil_id")?;
            match kind.as_str() {
                "target" => {
                    found.role = Some(status);
                    found.school = opt_uuid_col(&row, "target_school")?;
                }
                "link" => ties.links.push(LinkTie {
                    pupil,
                    status,
                    decided_at: opt_time(&row, "t1")?,
                }),
                _ => ties.grants.push(GrantTie {
                    pupil,
                    row: GrantRow {
                        status,
                        opens_at: opt_time(&row, "t1")?,
                        expires_at: opt_time(&row, "t2")?.unwrap_or_else(|| to_time(0)),
                        services: row
                            .try_get::<Option<String>, _>("services")?
                            .unwrap_or_default(),
                        relationship_status: row
                            .try_get::<Option<String>, _>("link_status")?
                            .unwrap_or_default(),
                    },
                }),
            }
        }
        Ok((found, ties))
    }

    /// The pupils linked to the viewer by a confirmed link or an accepted
    /// invitation (the caller decides what is open), with the pupil's
    /// details: (pupil, link or grant).
    pub async fn family_pupils(
        &self,
        viewer: Uuid,
    ) -> Result<Vec<(PersonBrief, FamilyTie)>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT 'link' AS kind, r.status, r.decided_at AS t1, CAST(NULL AS BIGINT) AS t2,
                    CAST(NULL AS TEXT) AS services, CAST(NULL AS TEXT) AS link_status,
                    r.id AS tie_id, {c}
             FROM relationships r
             JOIN accounts c ON c.id = r.pupil_id LEFT JOIN schools cs ON cs.id = c.school_id
             WHERE (r.holder_id = $1 OR r.parent_id = $1) AND r.status = 'confirmed'
             UNION ALL
             SELECT 'grant', i.status, i.opens_at, i.expires_at, i.services, r.status, i.id, {c}
             FROM invitations i JOIN relationships r ON r.id = i.relationship_id
             JOIN accounts c ON c.id = i.pupil_id LEFT JOIN schools cs ON cs.id = c.school_id
             WHERE i.grantee_id = $1 AND i.status = 'accepted'",
            c = brief_columns("c", "cs", "c_")
        ))
        .bind(viewer.to_string())
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind")?;
                let tie = if kind == "link" {
                    FamilyTie::Link {
                        relationship_id: uuid_col(row, "tie_id")?,
                        since: opt_time(row, "t1")?,
                    }
                } else {
                    FamilyTie::Grant {
                        invitation_id: uuid_col(row, "tie_id")?,
                        row: GrantRow {
                            status: row.try_get("status")?,
                            opens_at: opt_time(row, "t1")?,
                            expires_at: opt_time(row, "t2")?.unwrap_or_else(|| to_time(0)),
                            services: row
                                .try_get::<Option<String>, _>("services")?
                                .unwrap_or_default(),
                            relationship_status: row
                                .try_get::<Option<String>, _>("link_status")?
                                .unwrap_or_default(),
                        },
                    }
                };
                Ok((brief_from(row, "c_")?, tie))
            })
            .collect()
    }

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

/// How a pupil is tied to the viewer.
#[derive(Debug, Clone)]
pub enum FamilyTie {
    Link {
        relationship_id: Uuid,
        since: Option<DateTime<Utc>>,
    },
    Grant {
        invitation_id: Uuid,
        row: GrantRow,
    },
}
