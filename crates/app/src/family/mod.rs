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

mod access;
mod facts;
mod invitations;
mod notifications;
mod sync;
pub mod views;

pub use views::*;

use chrono::Duration;

use crate::shared::Session;
use crate::{AppError, Families};
use domain::access::{same_person, surname_matches, FamilyPolicy};
use ephemeral::sessions::tokens_equal;
use facts::person_facts;
use store::{InvitationRecord, RelationshipRecord, ViewerRecord};

impl Families<'_> {
    /// The waiting period and invitation lifetime (`[family]`).
    pub fn family_policy(&self) -> FamilyPolicy {
        let family = &self.config().family;
        FamilyPolicy {
            opening_delay: Duration::hours(i64::from(family.opening_delay_hours)),
            invitation_ttl: Duration::days(i64::from(family.invitation_days)),
        }
    }

    pub(super) fn check_csrf(&self, session: &Session, csrf: &str) -> Result<(), AppError> {
        if tokens_equal(csrf, &session.data.csrf) {
            Ok(())
        } else {
            Err(AppError::CsrfMismatch)
        }
    }

    /// The HMACs an invitation naming this person would carry.
    pub(super) fn contact_hashes(
        &self,
        snils: Option<&str>,
        verified_phone: Option<&str>,
    ) -> Vec<String> {
        let mut hashes = Vec::new();
        if let Some(s) = snils {
            hashes.push(self.lookup_hash("invitee_snils", s));
        }
        if let Some(p) = verified_phone {
            hashes.push(self.lookup_hash("invitee_phone", p));
        }
        hashes
    }

    pub(super) fn viewer_hashes(&self, viewer: &ViewerRecord) -> Vec<String> {
        self.contact_hashes(
            viewer.person.snils.as_deref(),
            viewer.phone.as_deref().filter(|_| viewer.phone_verified),
        )
    }

    pub(super) fn is_invitee(
        &self,
        viewer: &ViewerRecord,
        hashes: &[String],
        i: &InvitationRecord,
    ) -> bool {
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
    pub(super) fn addressed(viewer: &ViewerRecord, r: &RelationshipRecord) -> bool {
        r.pupil.id != viewer.person.id
            && (r.parent.id == viewer.person.id
                || same_person(&person_facts(&r.parent), &person_facts(&viewer.person)))
    }
}
