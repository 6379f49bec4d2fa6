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

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::{Serialize, Serializer};

mod invitations;
mod relationships;

pub use invitations::*;
pub use relationships::*;

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
    /// The viewer's account is locked by an operator.
    ViewerBlocked,
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
            DenyReason::ViewerBlocked => "viewer_blocked",
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
            DenyReason::NotAPupil | DenyReason::OutsideSchool | DenyReason::ViewerBlocked => 0,
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
mod tests;
