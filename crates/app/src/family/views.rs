//! What the family use cases return: notifications, invitations, children and access as pages and JSON show them.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use domain::access::{Basis, InvitationState, Service, ServiceSet};
use domain::roster::Column;

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A school linked a parent persona of this person to a pupil: accept
    /// or decline.
    RelationshipInvitation,
    /// A parent's link was confirmed (to the parent and to the pupil).
    RelationshipConfirmed,
    /// A parent invites this person: accept or decline.
    TrustedInvitation,
    /// The parent's own invitation went out.
    InvitationSent,
    /// Accepted; access opens at `opens_at` (to both sides).
    InvitationAccepted,
    InvitationDeclined,
    InvitationExpired,
    AccessOpened,
    AccessRevoked,
    /// The school corrected the person's data.
    DataCorrected,
    Other,
}

impl NoticeKind {
    pub fn code(self) -> &'static str {
        match self {
            NoticeKind::RelationshipInvitation => "relationship_invitation",
            NoticeKind::RelationshipConfirmed => "relationship_confirmed",
            NoticeKind::TrustedInvitation => "trusted_invitation",
            NoticeKind::InvitationSent => "invitation_sent",
            NoticeKind::InvitationAccepted => "invitation_accepted",
            NoticeKind::InvitationDeclined => "invitation_declined",
            NoticeKind::InvitationExpired => "invitation_expired",
            NoticeKind::AccessOpened => "access_opened",
            NoticeKind::AccessRevoked => "access_revoked",
            NoticeKind::DataCorrected => "data_corrected",
            NoticeKind::Other => "other",
        }
    }

    pub(super) fn parse(code: &str) -> NoticeKind {
        [
            NoticeKind::RelationshipInvitation,
            NoticeKind::RelationshipConfirmed,
            NoticeKind::TrustedInvitation,
            NoticeKind::InvitationSent,
            NoticeKind::InvitationAccepted,
            NoticeKind::InvitationDeclined,
            NoticeKind::InvitationExpired,
            NoticeKind::AccessOpened,
            NoticeKind::AccessRevoked,
            NoticeKind::DataCorrected,
        ]
        .into_iter()
        .find(|k| k.code() == code)
        .unwrap_or(NoticeKind::Other)
    }
}

/// Which side of a two-sided notice the reader is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The parent who invited (or whose link it is).
    Parent,
    /// The invited person.
    Invitee,
    /// The pupil whose diary it is.
    Pupil,
}

impl Side {
    pub(super) fn code(self) -> &'static str {
        match self {
            Side::Parent => "parent",
            Side::Invitee => "invitee",
            Side::Pupil => "pupil",
        }
    }
}

/// An invitation the reader can still answer: where the buttons post.
#[derive(Debug, Clone, Serialize)]
pub struct Answerable {
    /// `/family/relationships/{id}` or `/family/invitations/{id}`;
    /// `/accept` and `/decline` are appended.
    pub path: String,
}

/// One entry of the notification centre.
#[derive(Clone, Serialize)]
pub struct NotificationItem {
    pub id: Uuid,
    pub kind: NoticeKind,
    pub side: Option<Side>,
    pub read: bool,
    pub created_at: DateTime<Utc>,
    /// The pupil it concerns.
    pub pupil: Option<String>,
    pub school: Option<String>,
    /// The other person: the inviting parent, the invitee (surname and
    /// masked contact) or the person who accepted.
    pub other: Option<String>,
    pub services: ServiceSet,
    pub opens_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The invitation's state now (invitations only): pending, expired,
    /// waiting, open, declined, revoked; confirmed for school links.
    pub state: Option<String>,
    /// Set while it can be accepted or declined.
    pub answer: Option<Answerable>,
    /// What the school corrected (data-correction notices).
    pub corrected: Vec<Column>,
}

impl fmt::Debug for NotificationItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotificationItem")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("state", &self.state)
            .field("read", &self.read)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct NotificationCentre {
    pub unread: usize,
    pub items: Vec<NotificationItem>,
    /// The clock the viewer's pages show times by (their school's region).
    #[serde(skip)]
    pub zone: chrono_tz::Tz,
}

/// An invitation as the family page lists it.
#[derive(Clone, Serialize)]
pub struct InvitationView {
    pub id: Uuid,
    pub pupil_id: Uuid,
    pub pupil: String,
    pub inviter: String,
    /// Surname and masked SNILS or phone, as the parent typed them.
    pub invitee: String,
    pub grantee: Option<String>,
    pub services: ServiceSet,
    pub state: InvitationState,
    pub created_at: DateTime<Utc>,
    pub can_revoke: bool,
    pub can_reinvite: bool,
}

impl fmt::Debug for InvitationView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvitationView")
            .field("id", &self.id)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// A pupil the session may see, and on what grounds.
#[derive(Clone, Serialize)]
pub struct PupilAccess {
    pub pupil_id: Uuid,
    pub full_name: String,
    pub school: Option<String>,
    pub class_name: Option<String>,
    pub basis: Basis,
    pub services: ServiceSet,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl fmt::Debug for PupilAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PupilAccess")
            .field("pupil_id", &self.pupil_id)
            .field("basis", &self.basis)
            .finish_non_exhaustive()
    }
}

/// Access that opens later (accepted, waiting period running).
#[derive(Clone, Serialize)]
pub struct UpcomingAccess {
    pub pupil_id: Uuid,
    pub full_name: String,
    pub services: ServiceSet,
    pub opens_at: DateTime<Utc>,
}

impl fmt::Debug for UpcomingAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpcomingAccess")
            .field("pupil_id", &self.pupil_id)
            .field("opens_at", &self.opens_at)
            .finish_non_exhaustive()
    }
}

/// `GET /api/v1/me/access`.
#[derive(Debug, Clone, Serialize)]
pub struct AccessList {
    pub account_id: Uuid,
    pub pupils: Vec<PupilAccess>,
    pub upcoming: Vec<UpcomingAccess>,
}

/// A child the parent's link to is confirmed: they may invite for it.
#[derive(Clone, Serialize)]
pub struct ChildView {
    pub pupil_id: Uuid,
    pub full_name: String,
    pub school: Option<String>,
    pub class_name: Option<String>,
}

impl fmt::Debug for ChildView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildView")
            .field("pupil_id", &self.pupil_id)
            .finish_non_exhaustive()
    }
}

/// The family page.
#[derive(Debug, Clone, Serialize)]
pub struct FamilyOverview {
    pub role: String,
    /// Trusted persons cannot invite.
    pub can_invite: bool,
    /// The waiting period after acceptance, in hours (for the form's text).
    pub opening_delay_hours: i64,
    pub children: Vec<ChildView>,
    /// School links waiting for this person's answer.
    pub proposals: usize,
    pub sent: Vec<InvitationView>,
    pub received: Vec<InvitationView>,
    pub access: AccessList,
    /// The clock the viewer's pages show times by (their school's region).
    #[serde(skip)]
    pub zone: chrono_tz::Tz,
}

/// The invitation form.
#[derive(Clone, Default)]
pub struct InviteForm {
    pub pupil_id: Option<Uuid>,
    pub surname: String,
    pub snils: String,
    pub phone: String,
    pub services: ServiceSet,
}

impl fmt::Debug for InviteForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InviteForm")
            .field("pupil_id", &self.pupil_id)
            .field("services", &self.services)
            .finish_non_exhaustive()
    }
}

/// The service-to-service answer.
#[derive(Clone, Serialize)]
pub struct AccessAnswer {
    pub viewer: Uuid,
    pub pupil: Uuid,
    pub service: Service,
    pub allowed: bool,
    pub basis: Option<Basis>,
    pub services: ServiceSet,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Why not (a stable code), when denied.
    pub reason: Option<&'static str>,
    pub opens_at: Option<DateTime<Utc>>,
    pub message: String,
}

impl fmt::Debug for AccessAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessAnswer")
            .field("allowed", &self.allowed)
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}
