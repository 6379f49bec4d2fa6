//! Trusted-person invitations: their state as of now, and the state
//! machine that accepts, declines, revokes and expires them.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::activation::parse_phone;
use crate::name::normalize;
use crate::snils::Snils;

use super::*;

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
