//! Who may see whose diary, as use cases: the notification centre, the
//! parent's answer to a school's link, trusted-person invitations (send,
//! answer, revoke, re-send), the access list of a session and the
//! service-to-service access check.
//!
//! Rules live in [`domain::access`]; this layer gathers the facts,
//! asks the rules with the application clock's `now`, and stores the
//! outcome with its audit row and notifications in one transaction.
//!
//! Notices that time produces (an invitation expired, access opened) and
//! invitations addressed to a person (a school's link to a parent persona of
//! theirs, a parent's invitation naming their surname and SNILS or phone)
//! are written by whoever looks first: the notification centre, the family
//! page. The notifications table keeps one row per (account, kind, subject).
//!
//! Time comes from the context's clock ([`crate::clock`]; tests and the
//! demo move it, nothing sleeps) and the policy from `[family]`.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::access_cache::Invalidation;
use crate::shared::{Session, TrustedClaimant};
use crate::{AppError, Families};
use domain::access::{
    answer_relationship, decide_access, invitation_state, may_invite, parse_invitation,
    plan_invitation, same_person, surname_matches, transition, AccessDecision, AccessFacts, Actor,
    Allowed, Answer, Basis, DenyReason, FamilyPolicy, FamilyRefusal, GrantFact, InvitationAction,
    InvitationFacts, InvitationState, InvitationStatus, InviterFacts, ParentLinkFact, PersonFacts,
    RelationshipStatus, Service, ServiceSet, Transition,
};
use domain::name::FullName;
use domain::roster::Column;
use domain::snils::Snils;
use domain::tier::Tier;
use ephemeral::sessions::tokens_equal;
use store::{
    FamilyTie, GrantRow, InvitationChange, InvitationRecord, NewInvitation, NewNotification,
    NewTrustedAccount, PersonBrief, RelationshipRecord, StoreError, ViewerRecord,
};

/// How many notifications the centre shows.
const NOTIFICATIONS_SHOWN: i64 = 100;

impl Families<'_> {
    /// The waiting period and invitation lifetime (`[family]`).
    pub fn family_policy(&self) -> FamilyPolicy {
        let family = &self.config().family;
        FamilyPolicy {
            opening_delay: Duration::hours(i64::from(family.opening_delay_hours)),
            invitation_ttl: Duration::days(i64::from(family.invitation_days)),
        }
    }
}

// ---------------------------------------------------------------------------
// What the use cases return.

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

    fn parse(code: &str) -> NoticeKind {
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
    fn code(self) -> &'static str {
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

// ---------------------------------------------------------------------------
// Helpers.

fn person_facts(p: &PersonBrief) -> PersonFacts {
    PersonFacts {
        name: FullName::new(&p.surname, &p.given_name, p.patronymic.as_deref()).ok(),
        birth_date: p.birth_date,
        snils: p.snils.clone(),
    }
}

fn invitation_facts(i: &InvitationRecord) -> InvitationFacts {
    InvitationFacts {
        status: InvitationStatus::parse(&i.status).unwrap_or(InvitationStatus::Revoked),
        expires_at: i.expires_at,
        opens_at: i.opens_at,
    }
}

fn grant_fact(row: &GrantRow) -> GrantFact {
    GrantFact {
        invitation: InvitationFacts {
            status: InvitationStatus::parse(&row.status).unwrap_or(InvitationStatus::Revoked),
            expires_at: row.expires_at,
            opens_at: row.opens_at,
        },
        services: ServiceSet::parse_list(&row.services),
        parent_link_confirmed: row.relationship_status == "confirmed",
    }
}

fn relationship_status(text: &str) -> RelationshipStatus {
    RelationshipStatus::parse(text).unwrap_or(RelationshipStatus::Revoked)
}

fn ms(t: Option<DateTime<Utc>>) -> serde_json::Value {
    t.map(|t| json!(t.timestamp_millis()))
        .unwrap_or(serde_json::Value::Null)
}

fn param_time(params: &serde_json::Value, key: &str) -> Option<DateTime<Utc>> {
    params
        .get(key)
        .and_then(|v| v.as_i64())
        .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
}

fn param_str(params: &serde_json::Value, key: &str) -> Option<String> {
    params.get(key).and_then(|v| v.as_str()).map(str::to_string)
}

/// A list of roster column codes; unknown codes are left out.
fn param_columns(params: &serde_json::Value, key: &str) -> Vec<Column> {
    let codes = params.get(key).and_then(|v| v.as_array());
    codes
        .into_iter()
        .flatten()
        .filter_map(|code| code.as_str().and_then(Column::from_code))
        .collect()
}

/// The params every invitation notice carries.
fn invitation_params(i: &InvitationRecord, side: Side) -> serde_json::Value {
    json!({
        "side": side.code(),
        "pupil": i.pupil_name,
        "inviter": i.inviter_name,
        "invitee": format!("{} ({})", i.invitee_surname, i.hint),
        "grantee": i.grantee_name,
        "services": i.services,
        "opens_at": ms(i.opens_at),
        "expires_at": ms(Some(i.expires_at)),
    })
}

fn notice(
    account: Uuid,
    kind: NoticeKind,
    subject: Uuid,
    params: serde_json::Value,
    at: DateTime<Utc>,
) -> NewNotification {
    NewNotification {
        account_id: account,
        kind: kind.code().to_string(),
        subject_id: subject.to_string(),
        params,
        created_at: at,
    }
}

fn actor_of(session: &Session) -> String {
    format!("account:{}", session.data.account_id)
}

/// Everything the sync step found, reused to show the current state of
/// the notifications' subjects.
struct Found {
    relationships: HashMap<Uuid, (RelationshipRecord, bool)>,
    invitations: HashMap<Uuid, InvitationRecord>,
}

impl Families<'_> {
    fn check_csrf(&self, session: &Session, csrf: &str) -> Result<(), AppError> {
        if tokens_equal(csrf, &session.data.csrf) {
            Ok(())
        } else {
            Err(AppError::CsrfMismatch)
        }
    }

    /// The HMACs an invitation naming this person would carry.
    fn contact_hashes(&self, snils: Option<&str>, verified_phone: Option<&str>) -> Vec<String> {
        let mut hashes = Vec::new();
        if let Some(s) = snils {
            hashes.push(self.lookup_hash("invitee_snils", s));
        }
        if let Some(p) = verified_phone {
            hashes.push(self.lookup_hash("invitee_phone", p));
        }
        hashes
    }

    fn viewer_hashes(&self, viewer: &ViewerRecord) -> Vec<String> {
        self.contact_hashes(
            viewer.person.snils.as_deref(),
            viewer.phone.as_deref().filter(|_| viewer.phone_verified),
        )
    }

    fn is_invitee(&self, viewer: &ViewerRecord, hashes: &[String], i: &InvitationRecord) -> bool {
        if i.grantee_id == Some(viewer.person.id) {
            return true;
        }
        i.inviter_id != viewer.person.id
            && i.pupil_id != viewer.person.id
            && hashes.contains(&i.match_hash)
            && surname_matches(&i.invitee_surname, &viewer.person.surname)
    }

    /// Whether a school's proposal names this person (their own persona or
    /// another school's persona of the same person).
    fn addressed(viewer: &ViewerRecord, r: &RelationshipRecord) -> bool {
        r.pupil.id != viewer.person.id
            && (r.parent.id == viewer.person.id
                || same_person(&person_facts(&r.parent), &person_facts(&viewer.person)))
    }

    /// Writes what became due for this viewer: invitations addressed to
    /// them, invitations of theirs that expired, access that opened.
    async fn sync_family(
        &self,
        viewer: &ViewerRecord,
        now: DateTime<Utc>,
    ) -> Result<Found, AppError> {
        let me = viewer.person.id;
        let mut due: Vec<NewNotification> = Vec::new();
        let mut relationships = HashMap::new();
        for r in self
            .store()
            .relationships_for_viewer(me, viewer.person.snils.as_deref())
            .await?
        {
            let addressed = Self::addressed(viewer, &r);
            if addressed && r.status == "proposed" {
                due.push(notice(
                    me,
                    NoticeKind::RelationshipInvitation,
                    r.id,
                    json!({
                        "side": Side::Parent.code(),
                        "pupil": r.pupil.display_name(),
                        "school": r.pupil.school_name,
                    }),
                    r.created_at,
                ));
            }
            relationships.insert(r.id, (r, addressed));
        }
        let hashes = self.viewer_hashes(viewer);
        let mut invitations = HashMap::new();
        let received = self
            .store()
            .invitations_for_invitee(Some(me), &hashes)
            .await?;
        let sent = self.store().invitations_sent_by(me).await?;
        for i in received.into_iter().chain(sent) {
            if invitations.contains_key(&i.id) {
                continue;
            }
            let mine = i.inviter_id == me;
            let addressed = self.is_invitee(viewer, &hashes, &i);
            if !mine && !addressed {
                continue;
            }
            match invitation_state(&invitation_facts(&i), now) {
                InvitationState::Pending { .. } if addressed && i.grantee_id.is_none() => {
                    due.push(notice(
                        me,
                        NoticeKind::TrustedInvitation,
                        i.id,
                        invitation_params(&i, Side::Invitee),
                        i.created_at,
                    ));
                }
                InvitationState::Expired if i.status == "pending" => {
                    self.expire(&i, now).await?;
                }
                InvitationState::Open { since } => {
                    let mut opened = vec![notice(
                        i.inviter_id,
                        NoticeKind::AccessOpened,
                        i.id,
                        invitation_params(&i, Side::Parent),
                        since,
                    )];
                    if let Some(grantee) = i.grantee_id {
                        opened.push(notice(
                            grantee,
                            NoticeKind::AccessOpened,
                            i.id,
                            invitation_params(&i, Side::Invitee),
                            since,
                        ));
                    }
                    self.store()
                        .record_access_opened(i.id, "system:clock", &opened)
                        .await?;
                }
                _ => {}
            }
            invitations.insert(i.id, i);
        }
        self.store().add_notifications(&due).await?;
        Ok(Found {
            relationships,
            invitations,
        })
    }

    /// Writes down an expiry nobody had noticed yet (audited, the parent
    /// told).
    async fn expire(&self, i: &InvitationRecord, now: DateTime<Utc>) -> Result<(), AppError> {
        let change = InvitationChange {
            id: i.id,
            from_status: "pending".into(),
            status: InvitationStatus::Expired.as_str().into(),
            grantee_id: None,
            decided_at: Some(now),
            opens_at: None,
            revoked_at: None,
            revoked_by: None,
        };
        let told = [notice(
            i.inviter_id,
            NoticeKind::InvitationExpired,
            i.id,
            invitation_params(i, Side::Parent),
            i.expires_at,
        )];
        self.store()
            .change_invitation(&change, "system:clock", &told)
            .await?;
        self.access_changed(&[Invalidation::Pupil(i.pupil_id)])
            .await;
        Ok(())
    }

    /// The notification centre of the session's account, newest first.
    pub async fn notifications(&self, session: &Session) -> Result<NotificationCentre, AppError> {
        let now = self.now();
        let viewer = self.store().family_viewer(session.data.account_id).await?;
        let mut found = self.sync_family(&viewer, now).await?;
        let records = self
            .store()
            .notifications_of(viewer.person.id, NOTIFICATIONS_SHOWN)
            .await?;
        let mut items = Vec::with_capacity(records.len());
        for n in records {
            let kind = NoticeKind::parse(&n.kind);
            let subject = Uuid::parse_str(&n.subject_id).ok();
            let p = &n.params;
            let side = match param_str(p, "side").as_deref() {
                Some("parent") => Some(Side::Parent),
                Some("invitee") => Some(Side::Invitee),
                Some("pupil") => Some(Side::Pupil),
                _ => None,
            };
            let mut item = NotificationItem {
                id: n.id,
                kind,
                side,
                read: n.read_at.is_some(),
                created_at: n.created_at,
                pupil: param_str(p, "pupil"),
                school: param_str(p, "school"),
                other: match side {
                    Some(Side::Invitee) => param_str(p, "inviter"),
                    Some(Side::Pupil) => param_str(p, "parent"),
                    _ => param_str(p, "grantee").or_else(|| param_str(p, "invitee")),
                },
                services: ServiceSet::parse_list(&param_str(p, "services").unwrap_or_default()),
                opens_at: param_time(p, "opens_at"),
                expires_at: param_time(p, "expires_at"),
                state: None,
                answer: None,
                corrected: param_columns(p, "fields"),
            };
            match (kind, subject) {
                (NoticeKind::RelationshipInvitation, Some(id)) => {
                    if let Some((r, addressed)) = found.relationships.get(&id) {
                        item.state = Some(r.status.clone());
                        if r.status == "proposed" && *addressed {
                            item.answer = Some(Answerable {
                                path: format!("/family/relationships/{id}"),
                            });
                        }
                    }
                }
                (NoticeKind::TrustedInvitation, Some(id)) => {
                    if let Entry::Vacant(slot) = found.invitations.entry(id) {
                        if let Some(i) = self.store().invitation(id).await? {
                            slot.insert(i);
                        }
                    }
                    if let Some(i) = found.invitations.get(&id) {
                        let state = invitation_state(&invitation_facts(i), now);
                        item.state = Some(state.code().to_string());
                        item.opens_at = i.opens_at;
                        if matches!(state, InvitationState::Pending { .. }) {
                            item.answer = Some(Answerable {
                                path: format!("/family/invitations/{id}"),
                            });
                        }
                    }
                }
                _ => {}
            }
            items.push(item);
        }
        Ok(NotificationCentre {
            unread: items.iter().filter(|i| !i.read).count(),
            items,
            zone: self.account().time_zone(viewer.region),
        })
    }

    /// Marks one notification read.
    pub async fn mark_notification_read(
        &self,
        session: &Session,
        csrf: &str,
        id: Uuid,
    ) -> Result<(), AppError> {
        self.check_csrf(session, csrf)?;
        let found = self
            .store()
            .mark_notification_read(session.data.account_id, id, self.now())
            .await?;
        if found {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// The parent accepts or declines a school's link to a child.
    pub async fn answer_relationship(
        &self,
        session: &Session,
        csrf: &str,
        id: Uuid,
        answer: Answer,
    ) -> Result<Result<RelationshipStatus, FamilyRefusal>, AppError> {
        self.check_csrf(session, csrf)?;
        let now = self.now();
        let viewer = self.store().family_viewer(session.data.account_id).await?;
        let r = self
            .store()
            .relationship(id)
            .await?
            .ok_or(AppError::NotFound)?;
        let addressed = Self::addressed(&viewer, &r);
        let status = match answer_relationship(relationship_status(&r.status), addressed, answer) {
            Ok(status) => status,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let me = viewer.person.id;
        let told = if status == RelationshipStatus::Confirmed {
            vec![
                notice(
                    me,
                    NoticeKind::RelationshipConfirmed,
                    id,
                    json!({
                        "side": Side::Parent.code(),
                        "pupil": r.pupil.display_name(),
                        "school": r.pupil.school_name,
                    }),
                    now,
                ),
                notice(
                    r.pupil.id,
                    NoticeKind::RelationshipConfirmed,
                    id,
                    json!({
                        "side": Side::Pupil.code(),
                        "parent": viewer.person.display_name(),
                        "school": r.pupil.school_name,
                    }),
                    now,
                ),
            ]
        } else {
            Vec::new()
        };
        let changed = self
            .store()
            .answer_relationship(id, status.as_str(), me, now, &actor_of(session), &told)
            .await?;
        if !changed {
            return Ok(Err(FamilyRefusal::AlreadyAnswered));
        }
        // The answering account may gain a tie it did not have.
        self.access_changed(&[Invalidation::Pupil(r.pupil.id), Invalidation::Viewer(me)])
            .await;
        self.store()
            .mark_subject_read(me, &id.to_string(), now)
            .await?;
        Ok(Ok(status))
    }

    fn invitation_view(
        &self,
        i: &InvitationRecord,
        me: Uuid,
        now: DateTime<Utc>,
    ) -> InvitationView {
        let state = invitation_state(&invitation_facts(i), now);
        InvitationView {
            id: i.id,
            pupil_id: i.pupil_id,
            pupil: i.pupil_name.clone(),
            inviter: i.inviter_name.clone(),
            invitee: format!("{} ({})", i.invitee_surname, i.hint),
            grantee: i.grantee_name.clone(),
            services: ServiceSet::parse_list(&i.services),
            state,
            created_at: i.created_at,
            can_revoke: i.inviter_id == me && state.is_live(),
            can_reinvite: i.inviter_id == me && !state.is_live(),
        }
    }

    /// The parent's link to a child, as strong as it gets for this viewer.
    async fn link_to(
        &self,
        viewer: &ViewerRecord,
        pupil: Uuid,
    ) -> Result<(Option<RelationshipStatus>, Option<Uuid>), AppError> {
        let me = viewer.person.id;
        let mut best: (Option<RelationshipStatus>, Option<Uuid>) = (None, None);
        for r in self
            .store()
            .relationships_for_viewer(me, viewer.person.snils.as_deref())
            .await?
        {
            if r.pupil.id != pupil {
                continue;
            }
            let held = r.holder_id == Some(me) || r.parent.id == me;
            let status = relationship_status(&r.status);
            if status == RelationshipStatus::Confirmed && held {
                return Ok((Some(status), Some(r.id)));
            }
            if Self::addressed(viewer, &r) && best.0.is_none() {
                best = (Some(status), Some(r.id));
            }
        }
        Ok(best)
    }

    /// A parent invites a trusted person for some services of one child.
    pub async fn invite_trusted(
        &self,
        session: &Session,
        csrf: &str,
        form: &InviteForm,
    ) -> Result<Result<InvitationView, FamilyRefusal>, AppError> {
        self.check_csrf(session, csrf)?;
        let now = self.now();
        let viewer = self.store().family_viewer(session.data.account_id).await?;
        let pupil = form.pupil_id.ok_or(AppError::NotFound)?;
        let is_trusted = viewer.person.role == "trusted";
        let (link, relationship) = self.link_to(&viewer, pupil).await?;
        if let Err(refusal) = may_invite(is_trusted, link) {
            return Ok(Err(refusal));
        }
        let request = match parse_invitation(&form.surname, &form.snils, &form.phone, form.services)
        {
            Ok(request) => request,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let hash_kind = match request.contact.kind() {
            "snils" => "invitee_snils",
            _ => "invitee_phone",
        };
        let hash = self.lookup_hash(hash_kind, request.contact.value());
        let inviter = InviterFacts {
            is_trusted_account: is_trusted,
            link,
            invites_self: self.viewer_hashes(&viewer).contains(&hash),
            already_invited: self
                .store()
                .live_invitation_exists(pupil, &hash, now)
                .await?,
        };
        let expires_at = match plan_invitation(&inviter, now, &self.family_policy()) {
            Ok(expires_at) => expires_at,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let Some(relationship_id) = relationship else {
            return Ok(Err(FamilyRefusal::NotConfirmedParent));
        };
        let invitation = NewInvitation {
            id: Uuid::new_v4(),
            inviter_id: viewer.person.id,
            pupil_id: pupil,
            relationship_id,
            invitee_surname: request.surname.clone(),
            match_kind: request.contact.kind().to_string(),
            match_hash: hash,
            hint: request.contact.hint(),
            services: request.services.to_list(),
            created_at: now,
            expires_at,
        };
        self.store_invitation(&invitation, session).await
    }

    async fn store_invitation(
        &self,
        invitation: &NewInvitation,
        session: &Session,
    ) -> Result<Result<InvitationView, FamilyRefusal>, AppError> {
        let now = invitation.created_at;
        let me = session.data.account_id;
        // The parent's own notice carries the names the list shows.
        let pupil = self.store().family_viewer(invitation.pupil_id).await?;
        let sent = notice(
            me,
            NoticeKind::InvitationSent,
            invitation.id,
            json!({
                "side": Side::Parent.code(),
                "pupil": pupil.person.display_name(),
                "invitee": format!("{} ({})", invitation.invitee_surname, invitation.hint),
                "services": invitation.services,
                "expires_at": invitation.expires_at.timestamp_millis(),
            }),
            now,
        );
        self.store()
            .insert_invitation(invitation, &actor_of(session), &[sent])
            .await?;
        self.access_changed(&[Invalidation::Pupil(invitation.pupil_id)])
            .await;
        let stored = self
            .store()
            .invitation(invitation.id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(Ok(self.invitation_view(&stored, me, now)))
    }

    /// Sends a revoked, declined or expired invitation again (the contact
    /// is kept only as a hash, so the parent need not type it again).
    pub async fn reinvite(
        &self,
        session: &Session,
        csrf: &str,
        id: Uuid,
    ) -> Result<Result<InvitationView, FamilyRefusal>, AppError> {
        self.check_csrf(session, csrf)?;
        let now = self.now();
        let viewer = self.store().family_viewer(session.data.account_id).await?;
        let old = self
            .store()
            .invitation(id)
            .await?
            .ok_or(AppError::NotFound)?;
        if old.inviter_id != viewer.person.id {
            return Ok(Err(FamilyRefusal::NotYourInvitation));
        }
        let (link, relationship) = self.link_to(&viewer, old.pupil_id).await?;
        let inviter = InviterFacts {
            is_trusted_account: viewer.person.role == "trusted",
            link,
            invites_self: false,
            already_invited: self
                .store()
                .live_invitation_exists(old.pupil_id, &old.match_hash, now)
                .await?,
        };
        let expires_at = match plan_invitation(&inviter, now, &self.family_policy()) {
            Ok(expires_at) => expires_at,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let Some(relationship_id) = relationship else {
            return Ok(Err(FamilyRefusal::NotConfirmedParent));
        };
        let invitation = NewInvitation {
            id: Uuid::new_v4(),
            inviter_id: viewer.person.id,
            pupil_id: old.pupil_id,
            relationship_id,
            invitee_surname: old.invitee_surname.clone(),
            match_kind: old.match_kind.clone(),
            match_hash: old.match_hash.clone(),
            hint: old.hint.clone(),
            services: old.services.clone(),
            created_at: now,
            expires_at,
        };
        self.store_invitation(&invitation, session).await
    }

    /// The invitee accepts or declines; the inviter revokes.
    pub async fn act_on_invitation(
        &self,
        session: &Session,
        csrf: &str,
        id: Uuid,
        action: InvitationAction,
    ) -> Result<Result<InvitationState, FamilyRefusal>, AppError> {
        self.check_csrf(session, csrf)?;
        let now = self.now();
        let viewer = self.store().family_viewer(session.data.account_id).await?;
        let i = self
            .store()
            .invitation(id)
            .await?
            .ok_or(AppError::NotFound)?;
        let me = viewer.person.id;
        let hashes = self.viewer_hashes(&viewer);
        let actor = if i.inviter_id == me {
            Actor::Inviter
        } else if self.is_invitee(&viewer, &hashes, &i) {
            Actor::Invitee
        } else {
            Actor::Stranger
        };
        let facts = invitation_facts(&i);
        let step = match transition(&facts, actor, action, now, &self.family_policy()) {
            Ok(step) => step,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if step == Transition::Expired {
            self.expire(&i, now).await?;
            return Ok(Err(FamilyRefusal::Expired));
        }
        let mut change = InvitationChange {
            id,
            from_status: i.status.clone(),
            status: step.status().as_str().into(),
            grantee_id: None,
            decided_at: None,
            opens_at: None,
            revoked_at: None,
            revoked_by: None,
        };
        // The notices carry the state after the change.
        let mut after = i.clone();
        let told: Vec<NewNotification> = match step {
            Transition::Accepted { opens_at } => {
                change.grantee_id = Some(me);
                change.decided_at = Some(now);
                change.opens_at = Some(opens_at);
                after.opens_at = Some(opens_at);
                after.grantee_name = Some(viewer.person.display_name());
                vec![
                    notice(
                        i.inviter_id,
                        NoticeKind::InvitationAccepted,
                        id,
                        invitation_params(&after, Side::Parent),
                        now,
                    ),
                    notice(
                        me,
                        NoticeKind::InvitationAccepted,
                        id,
                        invitation_params(&after, Side::Invitee),
                        now,
                    ),
                ]
            }
            Transition::Declined => {
                change.grantee_id = Some(me);
                change.decided_at = Some(now);
                after.grantee_name = Some(viewer.person.display_name());
                vec![
                    notice(
                        i.inviter_id,
                        NoticeKind::InvitationDeclined,
                        id,
                        invitation_params(&after, Side::Parent),
                        now,
                    ),
                    notice(
                        me,
                        NoticeKind::InvitationDeclined,
                        id,
                        invitation_params(&after, Side::Invitee),
                        now,
                    ),
                ]
            }
            Transition::Revoked | Transition::Expired => {
                change.revoked_at = Some(now);
                change.revoked_by = Some(me.to_string());
                let mut told = vec![notice(
                    i.inviter_id,
                    NoticeKind::AccessRevoked,
                    id,
                    invitation_params(&after, Side::Parent),
                    now,
                )];
                if let Some(grantee) = i.grantee_id {
                    told.push(notice(
                        grantee,
                        NoticeKind::AccessRevoked,
                        id,
                        invitation_params(&after, Side::Invitee),
                        now,
                    ));
                }
                told
            }
        };
        let changed = self
            .store()
            .change_invitation(&change, &actor_of(session), &told)
            .await?;
        if !changed {
            return Ok(Err(FamilyRefusal::AlreadyAnswered));
        }
        // An invitee who accepts gains a tie; the pupil covers the rest.
        let grantee = change.grantee_id.or(i.grantee_id);
        let mut what = vec![Invalidation::Pupil(i.pupil_id)];
        what.extend(grantee.map(Invalidation::Viewer));
        self.access_changed(&what).await;
        self.store()
            .mark_subject_read(me, &id.to_string(), now)
            .await?;
        let stored = self
            .store()
            .invitation(id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(Ok(invitation_state(&invitation_facts(&stored), now)))
    }

    /// The family page: children one may invite for, invitations sent and
    /// received, what this session sees.
    pub async fn overview(&self, session: &Session) -> Result<FamilyOverview, AppError> {
        let now = self.now();
        let viewer = self.store().family_viewer(session.data.account_id).await?;
        let me = viewer.person.id;
        let found = self.sync_family(&viewer, now).await?;
        let mut children: BTreeMap<Uuid, ChildView> = BTreeMap::new();
        let mut proposals = 0;
        for (r, addressed) in found.relationships.values() {
            let held = r.holder_id == Some(me) || r.parent.id == me;
            if r.status == "confirmed" && held {
                children.insert(
                    r.pupil.id,
                    ChildView {
                        pupil_id: r.pupil.id,
                        full_name: r.pupil.display_name(),
                        school: r.pupil.school_name.clone(),
                        class_name: r.pupil.class_name.clone(),
                    },
                );
            }
            if r.status == "proposed" && *addressed {
                proposals += 1;
            }
        }
        let mut children: Vec<ChildView> = children.into_values().collect();
        children.sort_by(|a, b| a.full_name.cmp(&b.full_name));
        let mut sent = Vec::new();
        let mut received = Vec::new();
        let mut all: Vec<&InvitationRecord> = found.invitations.values().collect();
        all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        for i in all {
            // Re-read what sync may have just changed (expiry).
            let view = self.invitation_view(i, me, now);
            if i.inviter_id == me {
                sent.push(view);
            } else {
                received.push(view);
            }
        }
        Ok(FamilyOverview {
            role: viewer.person.role.clone(),
            can_invite: viewer.person.role != "trusted",
            opening_delay_hours: self.family_policy().opening_delay.num_hours(),
            children,
            proposals,
            sent,
            received,
            access: self.access_list(&viewer, now).await?,
            zone: self.account().time_zone(viewer.region),
        })
    }

    /// `GET /api/v1/me/access`: the pupils this session may see.
    pub async fn my_access(&self, session: &Session) -> Result<AccessList, AppError> {
        let viewer = self.store().family_viewer(session.data.account_id).await?;
        self.access_list(&viewer, self.now()).await
    }

    async fn access_list(
        &self,
        viewer: &ViewerRecord,
        now: DateTime<Utc>,
    ) -> Result<AccessList, AppError> {
        let me = viewer.person.id;
        let mut pupils = Vec::new();
        let mut upcoming = Vec::new();
        if viewer.person.role == "pupil" {
            pupils.push(PupilAccess {
                pupil_id: me,
                full_name: viewer.person.display_name(),
                school: viewer.person.school_name.clone(),
                class_name: viewer.person.class_name.clone(),
                basis: Basis::SelfPupil,
                services: ServiceSet::ALL,
                since: None,
                until: None,
            });
        }
        let mut by_pupil: BTreeMap<Uuid, (PersonBrief, AccessFacts)> = BTreeMap::new();
        for (pupil, tie) in self.store().family_pupils(me).await? {
            if pupil.id == me {
                continue;
            }
            let entry = by_pupil.entry(pupil.id).or_insert_with(|| {
                let facts = AccessFacts {
                    same_account: false,
                    target_is_pupil: pupil.role == "pupil",
                    parent_links: Vec::new(),
                    grants: Vec::new(),
                };
                (pupil, facts)
            });
            match tie {
                FamilyTie::Link { since, .. } => entry.1.parent_links.push(ParentLinkFact {
                    status: RelationshipStatus::Confirmed,
                    since,
                }),
                FamilyTie::Grant { row, .. } => entry.1.grants.push(grant_fact(&row)),
            }
        }
        for (pupil, facts) in by_pupil.into_values() {
            match decide_access(&facts, None, now) {
                AccessDecision::Allow(Allowed {
                    basis,
                    services,
                    since,
                    until,
                }) => pupils.push(PupilAccess {
                    pupil_id: pupil.id,
                    full_name: pupil.display_name(),
                    school: pupil.school_name.clone(),
                    class_name: pupil.class_name.clone(),
                    basis,
                    services,
                    since,
                    until,
                }),
                AccessDecision::Deny(DenyReason::NotYetOpen { opens_at }) => {
                    let services = facts
                        .grants
                        .iter()
                        .filter(|g| g.invitation.opens_at == Some(opens_at))
                        .fold(ServiceSet::NONE, |all, g| all.union(g.services));
                    upcoming.push(UpcomingAccess {
                        pupil_id: pupil.id,
                        full_name: pupil.display_name(),
                        services,
                        opens_at,
                    });
                }
                AccessDecision::Deny(_) => {}
            }
        }
        Ok(AccessList {
            account_id: me,
            pupils,
            upcoming,
        })
    }

    /// The access decision for (viewer, pupil, service) as of now: one
    /// database statement, or none when the facts are cached (see
    /// [`super::access_cache`]; the decision is always taken anew).
    /// `school` limits the answer to one school's pupils (the asking
    /// school's token).
    pub async fn access_decision(
        &self,
        viewer: Uuid,
        pupil: Uuid,
        service: Service,
        school: Option<Uuid>,
    ) -> Result<AccessAnswer, AppError> {
        let (target, ties) = match self.access_cache().get(viewer, pupil) {
            Some(cached) => cached,
            None => {
                let ticket = self.access_cache().ticket();
                let (target, ties) = self.store().access_facts(viewer, pupil).await?;
                let (target, ties) = (Arc::new(target), Arc::new(ties));
                self.access_cache()
                    .fill(ticket, viewer, pupil, target.clone(), ties.clone());
                (target, ties)
            }
        };
        let facts = AccessFacts {
            same_account: viewer == pupil,
            target_is_pupil: target.role.as_deref() == Some("pupil"),
            parent_links: ties
                .links
                .iter()
                .filter(|link| link.pupil == pupil)
                .map(|link| ParentLinkFact {
                    status: relationship_status(&link.status),
                    since: link.decided_at,
                })
                .collect(),
            grants: ties
                .grants
                .iter()
                .filter(|grant| grant.pupil == pupil)
                .map(|grant| grant_fact(&grant.row))
                .collect(),
        };
        let outside = match (school, facts.target_is_pupil) {
            (Some(school), true) => target.school != Some(school),
            _ => false,
        };
        let decision = if outside {
            AccessDecision::Deny(DenyReason::OutsideSchool)
        } else {
            decide_access(&facts, Some(service), self.now())
        };
        Ok(match decision {
            AccessDecision::Allow(a) => AccessAnswer {
                viewer,
                pupil,
                service,
                allowed: true,
                basis: Some(a.basis),
                services: a.services,
                since: a.since,
                until: a.until,
                reason: None,
                opens_at: None,
                message: a.basis.label(i18n::Lang::En).to_string(),
            },
            AccessDecision::Deny(reason) => AccessAnswer {
                viewer,
                pupil,
                service,
                allowed: false,
                basis: None,
                services: ServiceSet::NONE,
                since: None,
                until: None,
                reason: Some(reason.code()),
                opens_at: match reason {
                    DenyReason::NotYetOpen { opens_at } => Some(opens_at),
                    _ => None,
                },
                message: reason.message(i18n::Lang::En),
            },
        })
    }

    /// `GET /api/v1/access`: a school's system asks, with its bearer token
    /// (the school API token), whether a viewer may see a service of one of
    /// its pupils. A bad token is `Forbidden`.
    pub async fn check_access(
        &self,
        token: &str,
        viewer: Uuid,
        pupil: Uuid,
        service: Service,
    ) -> Result<AccessAnswer, AppError> {
        let school = self.school().school_for_token(token).await?;
        self.access_decision(viewer, pupil, service, Some(school))
            .await
    }

    /// For the login flow after `no_account` / `snils_missing`: a person
    /// whom a parent invited (pending invitation naming their surname and
    /// SNILS, or verified phone) gets a lightweight `trusted` account linked
    /// to this identity, and finds the invitation in the notification
    /// centre. A trusted account already linked to this identity is
    /// returned as is. SNILS counts only from a standard or verified State
    /// Services account (a simplified account's SNILS is unchecked).
    /// `None`: nobody invited this person; the login fails as before.
    pub async fn claim_trusted_invitations(
        &self,
        person: &TrustedClaimant,
    ) -> Result<Option<Uuid>, AppError> {
        if let Some(id) = self
            .store()
            .trusted_account_for_identity(&person.provider, &person.subject)
            .await?
        {
            return Ok(Some(id));
        }
        let snils = person
            .snils
            .as_ref()
            .filter(|_| person.tier >= Tier::Standard)
            .map(Snils::digits);
        let hashes = self.contact_hashes(snils, person.verified_phone.as_deref());
        if hashes.is_empty() {
            return Ok(None);
        }
        let now = self.now();
        let matched: Vec<InvitationRecord> = self
            .store()
            .invitations_for_invitee(None, &hashes)
            .await?
            .into_iter()
            .filter(|i| {
                matches!(
                    invitation_state(&invitation_facts(i), now),
                    InvitationState::Pending { .. }
                ) && surname_matches(&i.invitee_surname, person.name.surname())
            })
            .collect();
        if matched.is_empty() {
            return Ok(None);
        }
        let account = NewTrustedAccount {
            surname: person.name.surname().to_string(),
            given_name: person.name.given().to_string(),
            patronymic: person.name.patronymic().map(str::to_string),
            birth_date: person.birth_date,
            snils: snils.map(str::to_string),
            verified_phone: person.verified_phone.clone(),
            provider: person.provider.clone(),
            subject: person.subject.clone(),
            tier: person.tier.as_str().to_string(),
        };
        let created = self
            .store()
            .create_trusted_account(&account, now, |id| {
                matched
                    .iter()
                    .map(|i| {
                        notice(
                            id,
                            NoticeKind::TrustedInvitation,
                            i.id,
                            invitation_params(i, Side::Invitee),
                            i.created_at,
                        )
                    })
                    .collect()
            })
            .await;
        match created {
            Ok(id) => {
                tracing::info!(account = %id, invitations = matched.len(), "trusted person's account created");
                Ok(Some(id))
            }
            // A concurrent first login won; use its account.
            Err(StoreError::AlreadyLinked(_)) => Ok(self
                .store()
                .trusted_account_for_identity(&person.provider, &person.subject)
                .await?),
            Err(other) => Err(other.into()),
        }
    }
}
