//! Parent-child links: the school's proposal, the parent's answer, and
//! whether two records are one person.

use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;

use crate::link::names_match;
use crate::name::{compare, FullName};

use super::*;

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
