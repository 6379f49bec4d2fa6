//! Who may see whose diary: the parent-child confirmation, the trusted-person
//! invitation's state machine and the access decision. Pure: every function
//! takes the current time (`now`) and the facts the store found, so the
//! tables of cases below need no clock and no database.
//!
//! Pupils see themselves; a parent sees each child whose link they
//! confirmed (in any school); a trusted person sees the services a parent
//! granted, from the end of the waiting period after acceptance until the
//! parent revokes it; nobody else sees anything.

use std::fmt;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc};
use serde::{Serialize, Serializer};

use crate::activation::parse_phone;
use crate::link::names_match;
use crate::name::{compare, normalize, FullName};
use crate::snils::Snils;

/// What a diary shows, as a parent grants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// Marks, homework, the timetable.
    Diary,
    /// Attendance and school meals.
    AttendanceMeals,
}

impl Service {
    pub const ALL: [Service; 2] = [Service::Diary, Service::AttendanceMeals];

    pub fn code(self) -> &'static str {
        match self {
            Service::Diary => "diary",
            Service::AttendanceMeals => "attendance_meals",
        }
    }

    pub fn parse(code: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.code() == code.trim())
    }

    fn bit(self) -> u8 {
        match self {
            Service::Diary => 1,
            Service::AttendanceMeals => 2,
        }
    }
}

impl Serialize for Service {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

/// A set of services; stored as their codes joined by commas.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct ServiceSet(u8);

impl ServiceSet {
    pub const NONE: ServiceSet = ServiceSet(0);
    pub const ALL: ServiceSet = ServiceSet(3);

    pub fn of(services: impl IntoIterator<Item = Service>) -> ServiceSet {
        ServiceSet(services.into_iter().fold(0, |bits, s| bits | s.bit()))
    }

    /// `diary,attendance_meals`; unknown codes are ignored.
    pub fn parse_list(text: &str) -> ServiceSet {
        ServiceSet::of(text.split(',').filter_map(Service::parse))
    }

    pub fn contains(self, service: Service) -> bool {
        self.0 & service.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn union(self, other: ServiceSet) -> ServiceSet {
        ServiceSet(self.0 | other.0)
    }

    pub fn iter(self) -> impl Iterator<Item = Service> {
        Service::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    pub fn to_list(self) -> String {
        self.iter().map(Service::code).collect::<Vec<_>>().join(",")
    }
}

impl fmt::Debug for ServiceSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceSet({})", self.to_list())
    }
}

impl Serialize for ServiceSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// How long things take; configurable per deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FamilyPolicy {
    /// From acceptance until a trusted person's access opens.
    pub opening_delay: Duration,
    /// From sending until an unanswered invitation expires.
    pub invitation_ttl: Duration,
}

impl Default for FamilyPolicy {
    fn default() -> FamilyPolicy {
        FamilyPolicy {
            opening_delay: Duration::hours(24),
            invitation_ttl: Duration::days(7),
        }
    }
}

/// On what grounds a viewer sees a pupil.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    #[serde(rename = "self")]
    SelfPupil,
    Parent,
    Trusted,
}

impl Basis {
    pub fn code(self) -> &'static str {
        match self {
            Basis::SelfPupil => "self",
            Basis::Parent => "parent",
            Basis::Trusted => "trusted",
        }
    }
}

// ---------------------------------------------------------------------------
// Parent-child links.

/// A `relationships` row's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationshipStatus {
    Proposed,
    Confirmed,
    Declined,
    Revoked,
}

impl RelationshipStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RelationshipStatus::Proposed => "proposed",
            RelationshipStatus::Confirmed => "confirmed",
            RelationshipStatus::Declined => "declined",
            RelationshipStatus::Revoked => "revoked",
        }
    }

    pub fn parse(text: &str) -> Option<RelationshipStatus> {
        [
            RelationshipStatus::Proposed,
            RelationshipStatus::Confirmed,
            RelationshipStatus::Declined,
            RelationshipStatus::Revoked,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// Yes or no to an invitation (a school's or a parent's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Accept,
    Decline,
}

impl Answer {
    pub fn parse(text: &str) -> Option<Answer> {
        match text {
            "accept" => Some(Answer::Accept),
            "decline" => Some(Answer::Decline),
            _ => None,
        }
    }
}

/// A person as a record shows them: enough to tell whether two accounts
/// (a parent's persona at two schools) are one person.
#[derive(Clone)]
pub struct PersonFacts {
    pub name: Option<FullName>,
    pub birth_date: Option<NaiveDate>,
    /// 11 digits, as stored by the school.
    pub snils: Option<String>,
}

impl fmt::Debug for PersonFacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersonFacts")
            .field("name", &self.name)
            .field("has_snils", &self.snils.is_some())
            .finish_non_exhaustive()
    }
}

/// Whether two records are one person: the same SNILS, the same full name
/// (after normalization) and, when both have one, the same birth date. A
/// school's parent persona is addressed to whoever is that person.
pub fn same_person(a: &PersonFacts, b: &PersonFacts) -> bool {
    let (Some(sa), Some(sb)) = (&a.snils, &b.snils) else {
        return false;
    };
    let (Some(na), Some(nb)) = (&a.name, &b.name) else {
        return false;
    };
    let births_agree = match (a.birth_date, b.birth_date) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    };
    sa == sb && births_agree && names_match(&compare(na, nb), false)
}

/// A parent's answer to the school's proposal: the new status.
pub fn answer_relationship(
    status: RelationshipStatus,
    addressed_to_viewer: bool,
    answer: Answer,
) -> Result<RelationshipStatus, FamilyRefusal> {
    if !addressed_to_viewer {
        return Err(FamilyRefusal::NotAddressedToYou);
    }
    match (status, answer) {
        (RelationshipStatus::Proposed, Answer::Accept) => Ok(RelationshipStatus::Confirmed),
        (RelationshipStatus::Proposed, Answer::Decline) => Ok(RelationshipStatus::Declined),
        (RelationshipStatus::Revoked, _) => Err(FamilyRefusal::Revoked),
        _ => Err(FamilyRefusal::AlreadyAnswered),
    }
}

// ---------------------------------------------------------------------------
// Trusted-person invitations.

/// An `invitations` row's stored status. `Pending` past its expiry is
/// expired whether or not anyone has written that down yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Declined,
    Revoked,
    Expired,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Declined => "declined",
            InvitationStatus::Revoked => "revoked",
            InvitationStatus::Expired => "expired",
        }
    }

    pub fn parse(text: &str) -> Option<InvitationStatus> {
        [
            InvitationStatus::Pending,
            InvitationStatus::Accepted,
            InvitationStatus::Declined,
            InvitationStatus::Revoked,
            InvitationStatus::Expired,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// What the store knows of one invitation's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvitationFacts {
    pub status: InvitationStatus,
    pub expires_at: DateTime<Utc>,
    pub opens_at: Option<DateTime<Utc>>,
}

/// An invitation as of `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum InvitationState {
    /// Waiting for the invitee's answer until `expires_at`.
    Pending {
        expires_at: DateTime<Utc>,
    },
    /// Unanswered in time.
    Expired,
    Declined,
    /// Accepted; access opens at `opens_at`.
    Waiting {
        opens_at: DateTime<Utc>,
    },
    /// Accepted and open since `since`.
    Open {
        since: DateTime<Utc>,
    },
    Revoked,
}

impl InvitationState {
    pub fn code(self) -> &'static str {
        match self {
            InvitationState::Pending { .. } => "pending",
            InvitationState::Expired => "expired",
            InvitationState::Declined => "declined",
            InvitationState::Waiting { .. } => "waiting",
            InvitationState::Open { .. } => "open",
            InvitationState::Revoked => "revoked",
        }
    }

    /// Whether it still grants (or will grant) access or may be accepted:
    /// a second invitation of the same person for the same child is refused.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            InvitationState::Pending { .. }
                | InvitationState::Waiting { .. }
                | InvitationState::Open { .. }
        )
    }
}

pub fn invitation_state(facts: &InvitationFacts, now: DateTime<Utc>) -> InvitationState {
    match facts.status {
        InvitationStatus::Pending if now >= facts.expires_at => InvitationState::Expired,
        InvitationStatus::Pending => InvitationState::Pending {
            expires_at: facts.expires_at,
        },
        InvitationStatus::Expired => InvitationState::Expired,
        InvitationStatus::Declined => InvitationState::Declined,
        InvitationStatus::Revoked => InvitationState::Revoked,
        // An accepted row always has `opens_at`; without one it never opens.
        InvitationStatus::Accepted => match facts.opens_at {
            Some(opens_at) if now >= opens_at => InvitationState::Open { since: opens_at },
            Some(opens_at) => InvitationState::Waiting { opens_at },
            None => InvitationState::Revoked,
        },
    }
}

/// Who is acting on an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The parent who sent it.
    Inviter,
    /// The person it names (surname and SNILS or phone match the account).
    Invitee,
    /// Anyone else.
    Stranger,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationAction {
    Accept,
    Decline,
    Revoke,
}

/// What an action does to a stored invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Accepted {
        opens_at: DateTime<Utc>,
    },
    Declined,
    Revoked,
    /// The action found it expired: that is written down (and refused).
    Expired,
}

impl Transition {
    pub fn status(self) -> InvitationStatus {
        match self {
            Transition::Accepted { .. } => InvitationStatus::Accepted,
            Transition::Declined => InvitationStatus::Declined,
            Transition::Revoked => InvitationStatus::Revoked,
            Transition::Expired => InvitationStatus::Expired,
        }
    }
}

/// The invitation state machine. `Err` carries the refusal and, when the
/// refusal is an expiry nobody had written down yet, `Transition::Expired`
/// is returned as `Ok` for the caller to store and then refuse with
/// [`FamilyRefusal::Expired`].
///
/// pending --accept (invitee, before expiry)--> accepted (opens after the delay)
/// pending --decline (invitee)--> declined
/// pending|accepted --revoke (inviter)--> revoked
/// pending --(time)--> expired
pub fn transition(
    facts: &InvitationFacts,
    actor: Actor,
    action: InvitationAction,
    now: DateTime<Utc>,
    policy: &FamilyPolicy,
) -> Result<Transition, FamilyRefusal> {
    let allowed = match action {
        InvitationAction::Accept | InvitationAction::Decline => actor == Actor::Invitee,
        InvitationAction::Revoke => actor == Actor::Inviter,
    };
    if !allowed {
        return Err(match action {
            InvitationAction::Revoke => FamilyRefusal::NotYourInvitation,
            _ => FamilyRefusal::NotAddressedToYou,
        });
    }
    let state = invitation_state(facts, now);
    match (state, action) {
        (InvitationState::Pending { .. }, InvitationAction::Accept) => Ok(Transition::Accepted {
            opens_at: now + policy.opening_delay,
        }),
        (InvitationState::Pending { .. }, InvitationAction::Decline) => Ok(Transition::Declined),
        (
            InvitationState::Pending { .. }
            | InvitationState::Waiting { .. }
            | InvitationState::Open { .. },
            InvitationAction::Revoke,
        ) => Ok(Transition::Revoked),
        (InvitationState::Expired, _) if facts.status == InvitationStatus::Pending => {
            Ok(Transition::Expired)
        }
        (InvitationState::Expired, _) => Err(FamilyRefusal::Expired),
        (InvitationState::Revoked, _) => Err(FamilyRefusal::Revoked),
        (InvitationState::Declined, InvitationAction::Revoke) => {
            Err(FamilyRefusal::AlreadyAnswered)
        }
        _ => Err(FamilyRefusal::AlreadyAnswered),
    }
}

/// How the parent identifies the person they invite.
#[derive(Clone, PartialEq, Eq)]
pub enum Contact {
    Snils(Snils),
    /// `+79XXXXXXXXX`.
    Phone(String),
}

impl Contact {
    pub fn kind(&self) -> &'static str {
        match self {
            Contact::Snils(_) => "snils",
            Contact::Phone(_) => "phone",
        }
    }

    /// The canonical value that is hashed for matching.
    pub fn value(&self) -> &str {
        match self {
            Contact::Snils(s) => s.digits(),
            Contact::Phone(p) => p,
        }
    }

    /// What the parent's list shows: `СНИЛС ***-***-789 01`, `+7 *** ***-**-67`.
    pub fn hint(&self) -> String {
        match self {
            Contact::Snils(s) => s.masked(),
            Contact::Phone(p) => {
                let tail: String = p
                    .chars()
                    .skip(p.chars().count().saturating_sub(2))
                    .collect();
                format!("+7 *** ***-**-{tail}")
            }
        }
    }
}

impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Contact({}, {})", self.kind(), self.hint())
    }
}

/// A parsed invitation form.
#[derive(Clone)]
pub struct InvitationRequest {
    /// As typed, cleaned; compared normalized.
    pub surname: String,
    pub contact: Contact,
    pub services: ServiceSet,
}

impl fmt::Debug for InvitationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvitationRequest")
            .field("contact", &self.contact)
            .field("services", &self.services)
            .finish_non_exhaustive()
    }
}

/// Parses what the parent typed: a surname and either a SNILS or a mobile
/// phone (SNILS wins when both are given), and at least one service.
pub fn parse_invitation(
    surname: &str,
    snils: &str,
    phone: &str,
    services: ServiceSet,
) -> Result<InvitationRequest, FamilyRefusal> {
    let surname = crate::name::clean(surname);
    if normalize(&surname).is_empty() || surname.chars().count() > 100 {
        return Err(FamilyRefusal::SurnameMissing);
    }
    let contact = if !snils.trim().is_empty() {
        Contact::Snils(Snils::parse(snils).map_err(|_| FamilyRefusal::BadSnils)?)
    } else if !phone.trim().is_empty() {
        Contact::Phone(parse_phone(phone).map_err(|_| FamilyRefusal::BadPhone)?)
    } else {
        return Err(FamilyRefusal::ContactMissing);
    };
    if services.is_empty() {
        return Err(FamilyRefusal::NoServices);
    }
    Ok(InvitationRequest {
        surname,
        contact,
        services,
    })
}

/// Whether a surname typed in an invitation names this person.
pub fn surname_matches(invited: &str, actual: &str) -> bool {
    let invited = normalize(invited);
    !invited.is_empty() && invited == normalize(actual)
}

/// The inviter as the store found them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InviterFacts {
    /// The account's role is `trusted` (a lightweight account).
    pub is_trusted_account: bool,
    /// Their link to the child: confirmed, or not (yet), or none.
    pub link: Option<RelationshipStatus>,
    /// The invitee is the inviter themselves (same SNILS or phone).
    pub invites_self: bool,
    /// A live invitation for the same person and child exists.
    pub already_invited: bool,
}

/// Whether this account may invite anyone for the child at all (checked
/// before the form is read: a trusted person is told so whatever they typed).
pub fn may_invite(
    is_trusted_account: bool,
    link: Option<RelationshipStatus>,
) -> Result<(), FamilyRefusal> {
    if is_trusted_account {
        return Err(FamilyRefusal::TrustedCannotInvite);
    }
    if link != Some(RelationshipStatus::Confirmed) {
        return Err(FamilyRefusal::NotConfirmedParent);
    }
    Ok(())
}

/// Whether a parent may send the invitation; its expiry if so.
pub fn plan_invitation(
    inviter: &InviterFacts,
    now: DateTime<Utc>,
    policy: &FamilyPolicy,
) -> Result<DateTime<Utc>, FamilyRefusal> {
    may_invite(inviter.is_trusted_account, inviter.link)?;
    if inviter.invites_self {
        return Err(FamilyRefusal::SelfInvitation);
    }
    if inviter.already_invited {
        return Err(FamilyRefusal::AlreadyInvited);
    }
    Ok(now + policy.invitation_ttl)
}

/// Why a family action was refused: each a stable code and a message that
/// says what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FamilyRefusal {
    #[error("this invitation is addressed to someone else")]
    NotAddressedToYou,
    #[error("only the parent who sent the invitation can revoke it")]
    NotYourInvitation,
    #[error("the invitation expired")]
    Expired,
    #[error("the invitation was answered already")]
    AlreadyAnswered,
    #[error("the invitation or link was revoked")]
    Revoked,
    #[error("the inviter's link to the child is not confirmed")]
    NotConfirmedParent,
    #[error("a trusted person cannot invite others")]
    TrustedCannotInvite,
    #[error("no services chosen")]
    NoServices,
    #[error("no surname")]
    SurnameMissing,
    #[error("neither SNILS nor phone")]
    ContactMissing,
    #[error("the SNILS is invalid")]
    BadSnils,
    #[error("the phone number is invalid")]
    BadPhone,
    #[error("this person is invited for this child already")]
    AlreadyInvited,
    #[error("one cannot invite oneself")]
    SelfInvitation,
}

impl FamilyRefusal {
    pub fn code(self) -> &'static str {
        match self {
            FamilyRefusal::NotAddressedToYou => "family.not_addressed_to_you",
            FamilyRefusal::NotYourInvitation => "family.not_your_invitation",
            FamilyRefusal::Expired => "family.expired",
            FamilyRefusal::AlreadyAnswered => "family.already_answered",
            FamilyRefusal::Revoked => "family.revoked",
            FamilyRefusal::NotConfirmedParent => "family.not_confirmed_parent",
            FamilyRefusal::TrustedCannotInvite => "family.trusted_cannot_invite",
            FamilyRefusal::NoServices => "family.no_services",
            FamilyRefusal::SurnameMissing => "family.surname_missing",
            FamilyRefusal::ContactMissing => "family.contact_missing",
            FamilyRefusal::BadSnils => "family.bad_snils",
            FamilyRefusal::BadPhone => "family.bad_phone",
            FamilyRefusal::AlreadyInvited => "family.already_invited",
            FamilyRefusal::SelfInvitation => "family.self_invitation",
        }
    }

    /// Refusals about the form's content (the rest are about the state).
    pub fn is_input(self) -> bool {
        matches!(
            self,
            FamilyRefusal::NoServices
                | FamilyRefusal::SurnameMissing
                | FamilyRefusal::ContactMissing
                | FamilyRefusal::BadSnils
                | FamilyRefusal::BadPhone
        )
    }
}

// ---------------------------------------------------------------------------
// The access decision.

/// A link between the viewer and the pupil through a school's proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParentLinkFact {
    pub status: RelationshipStatus,
    pub since: Option<DateTime<Utc>>,
}

/// A trusted person's grant for the pupil.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantFact {
    pub invitation: InvitationFacts,
    pub services: ServiceSet,
    /// The inviting parent's link is still confirmed (a revoked parent
    /// link ends what they granted).
    pub parent_link_confirmed: bool,
}

/// Everything the decision needs about (viewer, pupil).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessFacts {
    /// The viewer is the pupil.
    pub same_account: bool,
    /// The target account exists and is a pupil.
    pub target_is_pupil: bool,
    pub parent_links: Vec<ParentLinkFact>,
    pub grants: Vec<GrantFact>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Allowed {
    pub basis: Basis,
    pub services: ServiceSet,
    pub since: Option<DateTime<Utc>>,
    /// Access has no end date unless revoked; kept for the API's shape.
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum DenyReason {
    /// No pupil with this id.
    NotAPupil,
    /// Nothing links the viewer to the pupil.
    NoRelationship,
    /// The school proposed the link; the parent has not accepted it.
    NotConfirmed,
    /// Accepted; the waiting period ends at `opens_at`.
    NotYetOpen {
        opens_at: DateTime<Utc>,
    },
    /// The invitation is pending: the viewer has not accepted it.
    NotAccepted,
    Revoked,
    Expired,
    Declined,
    /// The grant does not cover the service asked about.
    ServiceNotGranted,
    /// The parent who granted access is no longer linked to the child.
    ParentLinkEnded,
    /// The pupil is not at the school whose token asked.
    OutsideSchool,
}

impl DenyReason {
    pub fn code(self) -> &'static str {
        match self {
            DenyReason::NotAPupil => "not_a_pupil",
            DenyReason::NoRelationship => "no_relationship",
            DenyReason::NotConfirmed => "not_confirmed",
            DenyReason::NotYetOpen { .. } => "not_yet_open",
            DenyReason::NotAccepted => "not_accepted",
            DenyReason::Revoked => "revoked",
            DenyReason::Expired => "expired",
            DenyReason::Declined => "declined",
            DenyReason::ServiceNotGranted => "service_not_granted",
            DenyReason::ParentLinkEnded => "parent_link_ended",
            DenyReason::OutsideSchool => "outside_school",
        }
    }

    /// How telling a reason is when several grants each refuse: the most
    /// specific (closest to access) wins.
    fn rank(self) -> u8 {
        match self {
            DenyReason::NotYetOpen { .. } => 9,
            DenyReason::ServiceNotGranted => 8,
            DenyReason::NotConfirmed => 7,
            DenyReason::NotAccepted => 6,
            DenyReason::ParentLinkEnded => 5,
            DenyReason::Revoked => 4,
            DenyReason::Expired => 3,
            DenyReason::Declined => 2,
            DenyReason::NoRelationship => 1,
            DenyReason::NotAPupil | DenyReason::OutsideSchool => 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessDecision {
    Allow(Allowed),
    Deny(DenyReason),
}

impl AccessDecision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, AccessDecision::Allow(_))
    }
}

/// May the viewer see `service` (or, with `None`, anything) of the pupil?
/// Self first, then a confirmed parent link, then open trusted grants
/// (their services united).
pub fn decide_access(
    facts: &AccessFacts,
    service: Option<Service>,
    now: DateTime<Utc>,
) -> AccessDecision {
    if !facts.target_is_pupil {
        return AccessDecision::Deny(DenyReason::NotAPupil);
    }
    if facts.same_account {
        return AccessDecision::Allow(Allowed {
            basis: Basis::SelfPupil,
            services: ServiceSet::ALL,
            since: None,
            until: None,
        });
    }
    if let Some(link) = facts
        .parent_links
        .iter()
        .find(|l| l.status == RelationshipStatus::Confirmed)
    {
        return AccessDecision::Allow(Allowed {
            basis: Basis::Parent,
            services: ServiceSet::ALL,
            since: link.since,
            until: None,
        });
    }
    let mut best = DenyReason::NoRelationship;
    if facts
        .parent_links
        .iter()
        .any(|l| l.status == RelationshipStatus::Proposed)
    {
        best = DenyReason::NotConfirmed;
    } else if facts.parent_links.iter().any(|l| {
        matches!(
            l.status,
            RelationshipStatus::Revoked | RelationshipStatus::Declined
        )
    }) {
        best = DenyReason::Revoked;
    }
    let mut open: Option<Allowed> = None;
    for grant in &facts.grants {
        let refusal = match invitation_state(&grant.invitation, now) {
            InvitationState::Open { since } if grant.parent_link_confirmed => {
                if service.is_none_or(|s| grant.services.contains(s)) {
                    open = Some(match open {
                        None => Allowed {
                            basis: Basis::Trusted,
                            services: grant.services,
                            since: Some(since),
                            until: None,
                        },
                        Some(a) => Allowed {
                            services: a.services.union(grant.services),
                            since: a.since.min(Some(since)),
                            ..a
                        },
                    });
                    continue;
                }
                DenyReason::ServiceNotGranted
            }
            InvitationState::Open { .. } | InvitationState::Waiting { .. }
                if !grant.parent_link_confirmed =>
            {
                DenyReason::ParentLinkEnded
            }
            InvitationState::Waiting { opens_at } => DenyReason::NotYetOpen { opens_at },
            InvitationState::Open { .. } => DenyReason::ServiceNotGranted,
            InvitationState::Pending { .. } => DenyReason::NotAccepted,
            InvitationState::Expired => DenyReason::Expired,
            InvitationState::Declined => DenyReason::Declined,
            InvitationState::Revoked => DenyReason::Revoked,
        };
        if refusal.rank() > best.rank() {
            best = refusal;
        }
    }
    match open {
        Some(allowed) => AccessDecision::Allow(allowed),
        None => AccessDecision::Deny(best),
    }
}

/// `02.09.2025 14:30`, Moscow time, as parents read it.
pub fn moscow(time: DateTime<Utc>) -> String {
    match FixedOffset::east_opt(3 * 3600) {
        Some(offset) => time
            .with_timezone(&offset)
            .format("%d.%m.%Y %H:%M")
            .to_string(),
        None => time.format("%d.%m.%Y %H:%M UTC").to_string(),
    }
}

#[cfg(test)]
#[rustfmt::skip] // tables of cases read best one case per line
mod tests {
    use super::*;
    use chrono::TimeZone;

    type StepCase = (InvitationFacts, Actor, InvitationAction, DateTime<Utc>, Result<Transition, FamilyRefusal>);
    type AccessCase<'a> = (&'a str, AccessFacts, Option<Service>, Result<Basis, DenyReason>);

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 9, 1, 9, 0, 0).single().expect("time")
    }

    fn hours(h: i64) -> Duration {
        Duration::hours(h)
    }

    fn facts(status: InvitationStatus, opens_in: Option<i64>) -> InvitationFacts {
        InvitationFacts {
            status,
            expires_at: t0() + Duration::days(7),
            opens_at: opens_in.map(|h| t0() + hours(h)),
        }
    }

    #[test]
    fn invitation_state_machine_table() {
        use Actor::*;
        use FamilyRefusal as R;
        use InvitationAction::*;
        use InvitationStatus as S;
        let policy = FamilyPolicy::default();
        let now = t0() + hours(1);
        let late = t0() + Duration::days(8);
        let cases: Vec<StepCase> = vec![
            (facts(S::Pending, None), Invitee, Accept, now, Ok(Transition::Accepted { opens_at: now + hours(24) })),
            (facts(S::Pending, None), Invitee, Decline, now, Ok(Transition::Declined)),
            (facts(S::Pending, None), Inviter, Revoke, now, Ok(Transition::Revoked)),
            // Accepting someone else's invitation; the inviter accepting their own.
            (facts(S::Pending, None), Stranger, Accept, now, Err(R::NotAddressedToYou)),
            (facts(S::Pending, None), Inviter, Accept, now, Err(R::NotAddressedToYou)),
            (facts(S::Pending, None), Stranger, Decline, now, Err(R::NotAddressedToYou)),
            (facts(S::Pending, None), Invitee, Revoke, now, Err(R::NotYourInvitation)),
            (facts(S::Pending, None), Stranger, Revoke, now, Err(R::NotYourInvitation)),
            // Expiry: noticed by whoever acts first (stored, then refused).
            (facts(S::Pending, None), Invitee, Accept, late, Ok(Transition::Expired)),
            (facts(S::Pending, None), Inviter, Revoke, late, Ok(Transition::Expired)),
            (facts(S::Expired, None), Invitee, Accept, late, Err(R::Expired)),
            (facts(S::Expired, None), Inviter, Revoke, late, Err(R::Expired)),
            // Answered already.
            (facts(S::Accepted, Some(25)), Invitee, Accept, now, Err(R::AlreadyAnswered)),
            (facts(S::Accepted, Some(25)), Invitee, Decline, now, Err(R::AlreadyAnswered)),
            (facts(S::Declined, None), Invitee, Accept, now, Err(R::AlreadyAnswered)),
            (facts(S::Declined, None), Inviter, Revoke, now, Err(R::AlreadyAnswered)),
            // Accepted (waiting or open) is revoked at once; accepted never expires.
            (facts(S::Accepted, Some(25)), Inviter, Revoke, now, Ok(Transition::Revoked)),
            (facts(S::Accepted, Some(25)), Inviter, Revoke, late, Ok(Transition::Revoked)),
            (facts(S::Revoked, None), Inviter, Revoke, now, Err(R::Revoked)),
            (facts(S::Revoked, None), Invitee, Accept, now, Err(R::Revoked)),
        ];
        for (i, (f, actor, action, at, expected)) in cases.into_iter().enumerate() {
            assert_eq!(transition(&f, actor, action, at, &policy), expected, "case {i}: {f:?} {actor:?} {action:?}");
        }
    }

    #[test]
    fn invitation_states_follow_the_clock() {
        use InvitationStatus as S;
        let cases = [
            (facts(S::Pending, None), t0(), "pending"),
            (facts(S::Pending, None), t0() + Duration::days(7) - Duration::milliseconds(1), "pending"),
            (facts(S::Pending, None), t0() + Duration::days(7), "expired"),
            (facts(S::Accepted, Some(24)), t0() + hours(23), "waiting"),
            (facts(S::Accepted, Some(24)), t0() + hours(24), "open"),
            (facts(S::Accepted, None), t0(), "revoked"),
            (facts(S::Revoked, Some(24)), t0() + hours(48), "revoked"),
            (facts(S::Declined, None), t0(), "declined"),
            (facts(S::Expired, None), t0(), "expired"),
        ];
        for (f, now, expected) in cases {
            assert_eq!(invitation_state(&f, now).code(), expected, "{f:?} at {now}");
        }
    }

    #[test]
    fn who_may_invite() {
        use FamilyRefusal as R;
        use RelationshipStatus as L;
        let policy = FamilyPolicy::default();
        let ok = InviterFacts { is_trusted_account: false, link: Some(L::Confirmed), invites_self: false, already_invited: false };
        let cases = [
            (ok, Ok(t0() + Duration::days(7))),
            (InviterFacts { is_trusted_account: true, ..ok }, Err(R::TrustedCannotInvite)),
            (InviterFacts { link: Some(L::Proposed), ..ok }, Err(R::NotConfirmedParent)),
            (InviterFacts { link: Some(L::Declined), ..ok }, Err(R::NotConfirmedParent)),
            (InviterFacts { link: Some(L::Revoked), ..ok }, Err(R::NotConfirmedParent)),
            (InviterFacts { link: None, ..ok }, Err(R::NotConfirmedParent)),
            (InviterFacts { invites_self: true, ..ok }, Err(R::SelfInvitation)),
            (InviterFacts { already_invited: true, ..ok }, Err(R::AlreadyInvited)),
        ];
        for (inviter, expected) in cases {
            assert_eq!(plan_invitation(&inviter, t0(), &policy), expected, "{inviter:?}");
        }
        // A trusted person is refused before the form is even read.
        assert_eq!(may_invite(true, Some(L::Confirmed)), Err(R::TrustedCannotInvite));
        assert_eq!(may_invite(false, Some(L::Confirmed)), Ok(()));
    }

    #[test]
    fn invitation_forms_as_parents_fill_them() {
        use FamilyRefusal as R;
        let diary = ServiceSet::of([Service::Diary]);
        let ok = parse_invitation(" Лебедев ", "207-307-407 31", "", diary).expect("valid");
        assert_eq!(ok.surname, "Лебедев");
        assert_eq!(ok.contact.kind(), "snils");
        assert_eq!(ok.contact.value(), "20730740731");
        assert_eq!(ok.contact.hint(), "***-***-407 31");
        let phone = parse_invitation("Лебедев", "", "8 (912) 345-67-89", diary).expect("valid");
        assert_eq!(phone.contact.value(), "+79123456789");
        assert_eq!(phone.contact.hint(), "+7 *** ***-**-89");
        let cases = [
            ("", "207-307-407 31", "", diary, R::SurnameMissing),
            ("Лебедев", "", "", diary, R::ContactMissing),
            ("Лебедев", "207-307-407 32", "", diary, R::BadSnils),
            ("Лебедев", "", "+7 495 123-45-67", diary, R::BadPhone),
            ("Лебедев", "207-307-407 31", "", ServiceSet::NONE, R::NoServices),
        ];
        for (surname, snils, phone, services, expected) in cases {
            assert_eq!(parse_invitation(surname, snils, phone, services).map(|r| r.surname), Err(expected), "{surname:?} {snils:?} {phone:?}");
        }
        assert!(format!("{ok:?}").contains("***-***-407 31"));
        assert!(!format!("{ok:?}").contains("Лебедев"), "Debug hides the surname");
        assert!(surname_matches("ЛЕБЕДЕВ ", "Лебедев"));
        assert!(surname_matches("Федоров", "ФЁДОРОВ"));
        assert!(!surname_matches("Лебедева", "Лебедев"));
        assert!(!surname_matches("", ""));
    }

    #[test]
    fn services_round_trip_their_stored_form() {
        let both = ServiceSet::parse_list("attendance_meals,diary,unknown");
        assert_eq!(both, ServiceSet::ALL);
        assert_eq!(both.to_list(), "diary,attendance_meals");
        assert_eq!(ServiceSet::parse_list("").to_list(), "");
        assert!(ServiceSet::parse_list("diary").contains(Service::Diary));
        assert!(!ServiceSet::parse_list("diary").contains(Service::AttendanceMeals));
        assert_eq!(serde_json::to_string(&both).ok().as_deref(), Some(r#"["diary","attendance_meals"]"#));
    }

    #[test]
    fn relationship_answers_table() {
        use Answer::*;
        use FamilyRefusal as R;
        use RelationshipStatus as L;
        let cases = [
            (L::Proposed, true, Accept, Ok(L::Confirmed)),
            (L::Proposed, true, Decline, Ok(L::Declined)),
            (L::Proposed, false, Accept, Err(R::NotAddressedToYou)),
            (L::Confirmed, false, Decline, Err(R::NotAddressedToYou)),
            (L::Confirmed, true, Accept, Err(R::AlreadyAnswered)),
            (L::Declined, true, Accept, Err(R::AlreadyAnswered)),
            (L::Revoked, true, Accept, Err(R::Revoked)),
        ];
        for (status, addressed, answer, expected) in cases {
            assert_eq!(answer_relationship(status, addressed, answer), expected, "{status:?} {addressed} {answer:?}");
        }
    }

    #[test]
    fn one_person_across_schools() {
        let person = |s: &str, g: &str, p: Option<&str>, b: Option<(i32, u32, u32)>, snils: Option<&str>| PersonFacts {
            name: FullName::new(s, g, p).ok(),
            birth_date: b.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d)),
            snils: snils.map(str::to_string),
        };
        let maria = person("Иванова", "Мария", Some("Петровна"), Some((1985, 4, 12)), Some("20130140160"));
        let cases = [
            (person("ИВАНОВА", "Мария", Some("Петровна"), Some((1985, 4, 12)), Some("20130140160")), true),
            (person("Иванова", "Мария", Some("Петровна"), None, Some("20130140160")), true),
            (person("Иванова", "Мария", Some("Петровна"), Some((1985, 4, 13)), Some("20130140160")), false),
            (person("Иванова", "Мария", Some("Петровна"), Some((1985, 4, 12)), Some("20230240272")), false),
            (person("Иванова", "Мария", Some("Петровна"), Some((1985, 4, 12)), None), false),
            (person("Иванов", "Мария", Some("Петровна"), Some((1985, 4, 12)), Some("20130140160")), false),
            (person("Иванова", "Мария", None, Some((1985, 4, 12)), Some("20130140160")), false),
        ];
        for (other, expected) in cases {
            assert_eq!(same_person(&maria, &other), expected, "{other:?}");
        }
    }

    fn grant(status: InvitationStatus, opens_in: Option<i64>, services: ServiceSet, parent_ok: bool) -> GrantFact {
        GrantFact { invitation: facts(status, opens_in), services, parent_link_confirmed: parent_ok }
    }

    #[test]
    fn access_decision_table() {
        use InvitationStatus as S;
        use RelationshipStatus as L;
        let diary = ServiceSet::of([Service::Diary]);
        let meals = ServiceSet::of([Service::AttendanceMeals]);
        let nobody = AccessFacts { same_account: false, target_is_pupil: true, parent_links: vec![], grants: vec![] };
        let parent = |status| ParentLinkFact { status, since: Some(t0()) };
        let grants = |grants: Vec<GrantFact>| AccessFacts { grants, ..nobody.clone() };
        let now = t0() + hours(30);
        let cases: Vec<AccessCase> = vec![
            ("a pupil sees themselves", AccessFacts { same_account: true, ..nobody.clone() }, Some(Service::Diary), Ok(Basis::SelfPupil)),
            ("a pupil asking for another pupil", nobody.clone(), Some(Service::Diary), Err(DenyReason::NoRelationship)),
            ("not a pupil at all", AccessFacts { target_is_pupil: false, same_account: true, ..nobody.clone() }, None, Err(DenyReason::NotAPupil)),
            ("confirmed parent", AccessFacts { parent_links: vec![parent(L::Confirmed)], ..nobody.clone() }, Some(Service::AttendanceMeals), Ok(Basis::Parent)),
            ("proposed link only", AccessFacts { parent_links: vec![parent(L::Proposed)], ..nobody.clone() }, None, Err(DenyReason::NotConfirmed)),
            ("declined link", AccessFacts { parent_links: vec![parent(L::Declined)], ..nobody.clone() }, None, Err(DenyReason::Revoked)),
            ("trusted, open", grants(vec![grant(S::Accepted, Some(24), diary, true)]), Some(Service::Diary), Ok(Basis::Trusted)),
            ("trusted, open, any service", grants(vec![grant(S::Accepted, Some(24), diary, true)]), None, Ok(Basis::Trusted)),
            ("trusted, other service", grants(vec![grant(S::Accepted, Some(24), diary, true)]), Some(Service::AttendanceMeals), Err(DenyReason::ServiceNotGranted)),
            ("trusted, two grants unite", grants(vec![grant(S::Accepted, Some(24), diary, true), grant(S::Accepted, Some(2), meals, true)]), Some(Service::AttendanceMeals), Ok(Basis::Trusted)),
            ("access before the delay", grants(vec![grant(S::Accepted, Some(48), diary, true)]), Some(Service::Diary), Err(DenyReason::NotYetOpen { opens_at: t0() + hours(48) })),
            ("access after revocation", grants(vec![grant(S::Revoked, Some(24), diary, true)]), Some(Service::Diary), Err(DenyReason::Revoked)),
            ("pending invitation", grants(vec![grant(S::Pending, None, diary, true)]), Some(Service::Diary), Err(DenyReason::NotAccepted)),
            ("declined invitation", grants(vec![grant(S::Declined, None, diary, true)]), Some(Service::Diary), Err(DenyReason::Declined)),
            ("the parent's link ended", grants(vec![grant(S::Accepted, Some(24), diary, false)]), Some(Service::Diary), Err(DenyReason::ParentLinkEnded)),
            ("revoked grant beside a waiting one", grants(vec![grant(S::Revoked, Some(1), diary, true), grant(S::Accepted, Some(40), diary, true)]), Some(Service::Diary), Err(DenyReason::NotYetOpen { opens_at: t0() + hours(40) })),
        ];
        for (name, f, service, expected) in cases {
            let got = match decide_access(&f, service, now) {
                AccessDecision::Allow(a) => Ok(a.basis),
                AccessDecision::Deny(r) => Err(r),
            };
            assert_eq!(got, expected, "{name}");
        }
        // An expired invitation.
        let pending = grants(vec![grant(S::Pending, None, diary, true)]);
        assert_eq!(decide_access(&pending, None, t0() + Duration::days(8)), AccessDecision::Deny(DenyReason::Expired));
        // Services of two open grants unite; since is the earliest opening.
        let united = grants(vec![grant(S::Accepted, Some(24), diary, true), grant(S::Accepted, Some(2), meals, true)]);
        match decide_access(&united, None, now) {
            AccessDecision::Allow(a) => {
                assert_eq!(a.services, ServiceSet::ALL);
                assert_eq!(a.since, Some(t0() + hours(2)));
            }
            other => panic!("{other:?}"),
        }
    }

}
