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

/// A document of the person as ESIA's `/docs` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub id: i64,
    /// `RF_PASSPORT`, `FID_DOC` (identity documents), `MDCL_PLCY`,
    /// `RF_DRIVING_LICENSE`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// `VERIFIED`, `NOT_VERIFIED`, or absent.
    #[serde(rename = "vrfStu", default)]
    pub vrf_stu: Option<String>,
    /// e.g. `VERIFYING` while a check is under way.
    #[serde(rename = "vrfValStu", default)]
    pub vrf_val_stu: Option<String>,
    #[serde(default)]
    pub series: Option<String>,
    #[serde(default)]
    pub number: Option<String>,
}

impl Document {
    pub fn is_identity(&self) -> bool {
        matches!(self.kind.as_str(), "RF_PASSPORT" | "FID_DOC")
    }

    pub fn is_verified(&self) -> bool {
        self.vrf_stu.as_deref() == Some("VERIFIED")
    }
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
    /// Absent: one passport is made up from `tier` (id 1, `VERIFIED` unless
    /// simplified) and `r_id_doc` defaults to 1. `[]`: no documents at all.
    #[serde(default)]
    pub documents: Option<Vec<Document>>,
    /// `rIdDoc`: the `id` of the current identity document.
    #[serde(default)]
    pub r_id_doc: Option<i64>,
}

impl Person {
    /// The documents ESIA lists for this person.
    pub fn documents(&self) -> Vec<Document> {
        match &self.documents {
            Some(documents) => documents.clone(),
            None => vec![Document {
                id: 1,
                kind: "RF_PASSPORT".into(),
                vrf_stu: Some(
                    if self.tier == Tier::Simplified {
                        "NOT_VERIFIED"
                    } else {
                        "VERIFIED"
                    }
                    .into(),
                ),
                vrf_val_stu: None,
                series: Some("1100".into()),
                number: Some(format!(
                    "{:0>6}",
                    self.oid.chars().rev().take(6).collect::<String>()
                )),
            }],
        }
    }

    /// `rIdDoc` as ESIA sends it.
    pub fn current_document_id(&self) -> Option<i64> {
        match &self.documents {
            None => Some(self.r_id_doc.unwrap_or(1)),
            Some(_) => self.r_id_doc,
        }
    }

    /// The tier ESIA's data shows: `trusted` → verified; standard when the
    /// current identity document (`rIdDoc` → RF_PASSPORT / FID_DOC) is
    /// VERIFIED; otherwise simplified (also when the data is missing).
    pub fn documented_tier(&self) -> Tier {
        if self.tier == Tier::Verified {
            return Tier::Verified;
        }
        let current = self.current_document_id();
        let standard = self
            .documents()
            .iter()
            .any(|d| Some(d.id) == current && d.is_identity() && d.is_verified());
        if standard {
            Tier::Standard
        } else {
            Tier::Simplified
        }
    }
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
        // Both profiles must tell the same story: the OIDC `tier` claim and
        // the tier a relying party derives from ESIA's documents.
        anyhow::ensure!(
            person.documented_tier() == person.tier,
            "{}: tier is {} but the documents make it {} (standard needs the \
             rIdDoc document to be a VERIFIED RF_PASSPORT or FID_DOC)",
            person.login,
            person.tier.as_str(),
            person.documented_tier().as_str()
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

    #[test]
    fn the_tier_must_agree_with_the_documents() {
        let person = |tier: &str, documents: &str| {
            format!(
                "[[person]]\noid = \"1\"\nlogin = \"x\"\npassword = \"p\"\nsurname = \"S\"\n\
                 given_name = \"G\"\nbirth_date = \"1980-01-01\"\ntier = \"{tier}\"\n{documents}"
            )
        };
        let policy_only =
            "r_id_doc = 2\ndocuments = [{ id = 2, type = \"MDCL_PLCY\", vrfStu = \"VERIFIED\" }]";
        assert!(super::parse_persons(&person("standard", policy_only)).is_err());
        assert!(super::parse_persons(&person("simplified", policy_only)).is_ok());
        let passport =
            "r_id_doc = 5\ndocuments = [{ id = 5, type = \"RF_PASSPORT\", vrfStu = \"VERIFIED\" }]";
        assert!(super::parse_persons(&person("standard", passport)).is_ok());
        assert!(super::parse_persons(&person("simplified", passport)).is_err());
        // No documents: tier unknown, which counts as simplified.
        assert!(super::parse_persons(&person("simplified", "documents = []")).is_ok());
        // An old persons file without documents still loads.
        assert!(super::parse_persons(&person("standard", "")).is_ok());
    }
}
