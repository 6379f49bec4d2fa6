//! Russian personal names in the grammatical cases, and words that agree with
//! the person's gender («отозвал» / «отозвала»), for esia-link's pages.
//!
//! The endings come from the petrovich rules (`rules/rules.json`,
//! `rules/gender.json`, MIT), applied the way the petrovich implementations
//! apply them: exceptions (whole word) first, then suffix rules in file order,
//! the first match winning; a rule for one gender or for «androgynous»;
//! hyphenated names part by part, with `first_word` rules only on the first
//! part of a compound.
//!
//! Nothing here panics or allocates global state beyond the rules, parsed once.
//! A word the rules do not cover — empty, Latin, digits, an unknown ending —
//! comes back unchanged, which reads better on a page than a wrong ending.
//!
//! ```
//! use esia_link_decline::{Case, FullName, Gender};
//!
//! let pupil = FullName::new("Фёдорова", "Алёна", Some("Сергеевна"));
//! let gender = pupil.gender(None);
//! assert_eq!(gender, Gender::Female);
//! assert_eq!(
//!     pupil.declined(gender, Case::Genitive).to_string(),
//!     "Фёдоровой Алёны Сергеевны"
//! );
//! assert_eq!(gender.pick("его", "её", "его/её"), "её");
//! ```

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod gender;
mod name;
mod rules;
mod word;

pub use gender::detect_gender;
pub use name::FullName;
pub use rules::RulesError;

/// The person's gender as far as grammar needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gender {
    Male,
    Female,
    /// Neither the registry nor the name tells: words take a neutral form
    /// and names are declined only where both genders agree.
    Unknown,
}

impl Gender {
    /// The form that agrees with this gender:
    /// `gender.pick("отозвал", "отозвала", "отозвал(а)")`.
    pub fn pick<T>(self, male: T, female: T, unknown: T) -> T {
        match self {
            Gender::Male => male,
            Gender::Female => female,
            Gender::Unknown => unknown,
        }
    }

    /// Reads the `gender` field of ESIA person data (`M` / `F`; the long
    /// forms some providers send are accepted too). Anything else is `None`,
    /// so that the caller falls back to the name.
    pub fn from_registry(code: &str) -> Option<Gender> {
        match code.trim().to_ascii_uppercase().as_str() {
            "M" | "MALE" => Some(Gender::Male),
            "F" | "FEMALE" => Some(Gender::Female),
            _ => None,
        }
    }
}

/// The six Russian grammatical cases, in the traditional order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Case {
    /// Именительный: кто?
    Nominative,
    /// Родительный: кого?
    Genitive,
    /// Дательный: кому?
    Dative,
    /// Винительный: кого?
    Accusative,
    /// Творительный: кем?
    Instrumental,
    /// Предложный: о ком?
    Prepositional,
}

impl Case {
    pub const ALL: [Case; 6] = [
        Case::Nominative,
        Case::Genitive,
        Case::Dative,
        Case::Accusative,
        Case::Instrumental,
        Case::Prepositional,
    ];
}

/// Which part of a full name a word is: each has its own rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NamePart {
    Surname,
    Given,
    Patronymic,
}

/// Declines one part of a name. The word keeps its capitalisation style
/// (ИВАНОВ → ИВАНОВА, Иванов → Иванова) and its «ё».
pub fn decline_part(part: NamePart, word: &str, gender: Gender, case: Case) -> String {
    rules::decline_word(part, word, gender, case)
}

/// Declines a full name; the same as [`FullName::declined`].
pub fn decline(name: &FullName, gender: Gender, case: Case) -> FullName {
    name.declined(gender, case)
}

/// Checks that the embedded rules parse. They are compiled in, so this fails
/// only on a broken build; without them every name is left as given.
pub fn rules_status() -> Result<(), RulesError> {
    rules::status()?;
    gender::status()
}
