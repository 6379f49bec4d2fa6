//! Pure rules, no I/O: SNILS, full names, tiers and regions, the link
//! decision, activation and reference codes.

pub mod access;
pub mod activation;
pub mod code;
pub mod link;
pub mod login;
pub mod name;
pub mod password;
pub mod roster;
pub mod snils;
pub mod throttle;
pub mod tier;

pub use code::{ActivationCode, CodeHasher, ReferenceCode};
pub use link::{decide, CandidateAccount, IdpPerson, LinkOutcome, LinkPolicy, OutcomeCode};
pub use name::{FullName, NameComparison};
pub use snils::Snils;
pub use tier::{RegionCode, Tier, TierPolicy};
