//! Test persons, read from a TOML file (`persons.toml` ships with the crate).

use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Simplified,
    Standard,
    Verified,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Simplified => "simplified",
            Tier::Standard => "standard",
            Tier::Verified => "verified",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// `EML` or `MBT`.
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
    #[serde(default)]
    pub verified: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kid {
    pub surname: String,
    pub given_name: String,
    #[serde(default)]
    pub patronymic: Option<String>,
    pub birth_date: NaiveDate,
    #[serde(default)]
    pub gender: Option<String>,
    #[serde(default)]
    pub snils: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub oid: String,
    pub login: String,
    pub password: String,
    pub surname: String,
    pub given_name: String,
    #[serde(default)]
    pub patronymic: Option<String>,
    pub birth_date: NaiveDate,
    #[serde(default)]
    pub gender: Option<String>,
    #[serde(default)]
    pub snils: Option<String>,
    pub tier: Tier,
    /// The link outcome this person is meant to produce (documentation).
    #[serde(default)]
    pub expect: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub kids: Vec<Kid>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonsFile {
    person: Vec<Person>,
}

pub const SHIPPED_PERSONS: &str = include_str!("../persons.toml");

pub fn parse_persons(text: &str) -> anyhow::Result<Vec<Person>> {
    let file: PersonsFile = toml::from_str(text)?;
    let mut seen = std::collections::HashSet::new();
    for person in &file.person {
        anyhow::ensure!(
            seen.insert(person.login.clone()),
            "login {} appears twice",
            person.login
        );
    }
    Ok(file.person)
}

pub fn shipped_persons() -> Vec<Person> {
    parse_persons(SHIPPED_PERSONS).unwrap_or_default()
}

pub fn load_persons(path: &Path) -> anyhow::Result<Vec<Person>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    parse_persons(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shipped_file_parses_and_covers_every_outcome() {
        let persons = super::parse_persons(super::SHIPPED_PERSONS).expect("shipped persons parse");
        let outcomes: std::collections::HashSet<_> =
            persons.iter().filter_map(|p| p.expect.clone()).collect();
        for outcome in [
            "linked",
            "name_mismatch",
            "snils_missing",
            "no_account",
            "ambiguous",
            "linked_elsewhere",
            "tier_too_low",
            "region_disabled",
        ] {
            assert!(outcomes.contains(outcome), "{outcome}");
        }
    }
}
