//! Types several areas share: the session (account, family, console), the
//! person a login brought (login, family), the operator's role and the
//! rules every operator action follows (console, school). Kept here so that
//! no area imports another in a circle.

use std::fmt;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::AppError;
use domain::name::FullName;
use domain::snils::Snils;
use domain::tier::Tier;
use ephemeral::sessions::SessionData;

/// A live session and the cookie value it was found by.
pub struct Session {
    pub id: String,
    pub data: SessionData,
}

/// The person from the identity provider, as the login flow has them
/// after a `no_account` / `snils_missing` outcome.
#[derive(Clone)]
pub struct TrustedClaimant {
    pub provider: String,
    pub subject: String,
    pub name: FullName,
    pub snils: Option<Snils>,
    pub birth_date: Option<NaiveDate>,
    pub tier: Tier,
    /// A mobile phone the provider marks verified (`+79XXXXXXXXX`).
    pub verified_phone: Option<String>,
}

impl fmt::Debug for TrustedClaimant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustedClaimant")
            .field("provider", &self.provider)
            .field("name", &self.name)
            .field("tier", &self.tier)
            .field("has_snils", &self.snils.is_some())
            .finish_non_exhaustive()
    }
}

/// Who may use the operator console, from the account's operator role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorRole {
    /// Sees masked data of everyone.
    Support,
    /// May unmask (audited as such).
    PrivilegedSupport,
    /// A school's administrator: sees masked data of the school's people
    /// only (anyone else is "not found") and may correct their data.
    SchoolAdmin { school_id: Uuid },
}

impl OperatorRole {
    /// The role stored in `operators` (with its school for `school_admin`).
    pub fn parse(role: &str, school_id: Option<Uuid>) -> Option<OperatorRole> {
        match (role, school_id) {
            ("support", _) => Some(OperatorRole::Support),
            ("privileged_support", _) => Some(OperatorRole::PrivilegedSupport),
            ("school_admin", Some(school_id)) => Some(OperatorRole::SchoolAdmin { school_id }),
            _ => None,
        }
    }

    pub fn may_unmask(self) -> bool {
        self == OperatorRole::PrivilegedSupport
    }

    /// The one school a school administrator is limited to; `None` for
    /// support, who see everyone.
    pub fn school(self) -> Option<Uuid> {
        match self {
            OperatorRole::SchoolAdmin { school_id } => Some(school_id),
            OperatorRole::Support | OperatorRole::PrivilegedSupport => None,
        }
    }
}

/// How short a reason may be: "fix" explains nothing to the next reader.
pub const MIN_REASON_CHARS: usize = 5;

/// The reason an operator gave, trimmed; too short is refused.
pub fn required_reason(reason: &str) -> Result<&str, AppError> {
    let reason = reason.trim();
    if reason.chars().count() < MIN_REASON_CHARS {
        return Err(AppError::ReasonRequired);
    }
    Ok(reason)
}

/// `Иванова` → `И*****`.
pub fn mask_word(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => std::iter::once(first)
            .chain(chars.map(|c| if c == '-' { '-' } else { '*' }))
            .collect(),
        None => String::new(),
    }
}
