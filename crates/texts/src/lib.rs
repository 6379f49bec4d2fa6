//! The words of the domain's rules. `domain` decides (a SNILS is wrong, a
//! code expired, access opens tomorrow) and knows no language; this crate
//! says it, in Russian and English, as extension traits on the domain's
//! types: `use ::texts::prelude::*;` and `error.message(lang)` reads as before.

mod access;
mod activation;
pub mod esia;
mod identity;
pub mod remedy;
mod roster;
mod throttle;

use i18n::Lang;

pub use identity::render_comparison;
pub use roster::how_to_fix;

/// A problem or an error, as a sentence fragment for the person.
pub trait ErrorText {
    fn message(&self, lang: Lang) -> String;
}

/// A fixed message for a refusal.
pub trait StaticMessage {
    fn message(self, lang: Lang) -> &'static str;
}

/// The word for a value (a tier, a column, a name part, a service).
pub trait Label {
    fn label(self, lang: Lang) -> &'static str;
}

/// How a normalization rule is explained to support staff.
pub trait Describe {
    fn describe(self, lang: Lang) -> &'static str;
}

/// A roster row's problem with its row and column.
pub trait RowText {
    fn describe(&self, lang: Lang) -> String;
}

/// A set of diary services, listed.
pub trait ServicesText {
    fn labels(self, lang: Lang) -> String;
}

/// Why a diary access check said no.
pub trait DenyText {
    fn message(self, lang: Lang) -> String;
}

/// What the rate limiter tells the person (`None` when allowed).
pub trait VerdictText {
    fn message(&self, lang: Lang, retry_at: &str) -> Option<String>;
}

/// Every trait, for `use texts::prelude::*`.
pub mod prelude {
    pub use crate::{
        render_comparison, DenyText, Describe, ErrorText, Label, RowText, ServicesText,
        StaticMessage, VerdictText,
    };
}
