//! Gender from the name, by the petrovich heuristics (`rules/gender.json`):
//! a whole-word exception, else the longest matching ending.

use std::sync::LazyLock;

use serde::Deserialize;

use crate::rules::RulesError;
use crate::word::{is_cyrillic_word, lower};
use crate::Gender;

const GENDER_JSON: &str = include_str!("../rules/gender.json");

static GENDER_RULES: LazyLock<Result<GenderRules, RulesError>> =
    LazyLock::new(|| parse(GENDER_JSON));

pub(crate) fn status() -> Result<(), RulesError> {
    GENDER_RULES.as_ref().map(|_| ()).map_err(Clone::clone)
}

#[derive(Deserialize)]
struct GenderFile {
    gender: GenderRules,
}

#[derive(Deserialize)]
struct GenderRules {
    lastname: PartRules,
    firstname: PartRules,
    middlename: PartRules,
}

#[derive(Deserialize)]
struct PartRules {
    #[serde(default)]
    exceptions: Lists,
    #[serde(default)]
    suffixes: Lists,
}

/// Word lists by gender. «androgynous» names (Саша, Женя, Ким) are listed so
/// that a longer or whole-word match stops a misleading shorter one.
#[derive(Deserialize, Default)]
struct Lists {
    #[serde(default)]
    male: Vec<String>,
    #[serde(default)]
    female: Vec<String>,
    #[serde(default)]
    androgynous: Vec<String>,
}

impl Lists {
    fn by_gender(&self) -> [(&[String], Gender); 3] {
        [
            (&self.male, Gender::Male),
            (&self.female, Gender::Female),
            (&self.androgynous, Gender::Unknown),
        ]
    }
}

fn parse(json: &str) -> Result<GenderRules, RulesError> {
    serde_json::from_str::<GenderFile>(json)
        .map(|f| f.gender)
        .map_err(|e| RulesError::Json {
            file: "gender.json",
            reason: e.to_string(),
        })
}

impl PartRules {
    /// `None` when no rule speaks; `Some(Unknown)` when the rules call the
    /// name androgynous.
    fn detect(&self, name: &str) -> Option<Gender> {
        let word = deciding_word(name)?;
        for (list, gender) in self.exceptions.by_gender() {
            if list.contains(&word) {
                return Some(gender);
            }
        }
        // Longest ending wins, as in petrovich-ruby: «-ева» (Ева) over «-ев».
        self.suffixes
            .by_gender()
            .into_iter()
            .flat_map(|(list, gender)| list.iter().map(move |s| (s, gender)))
            .filter(|(suffix, _)| word.ends_with(suffix.as_str()))
            .max_by_key(|(suffix, _)| suffix.chars().count())
            .map(|(_, gender)| gender)
    }
}

/// The word whose ending tells the gender: the last part of a compound
/// («Анна-Мария», «Римская-Корсакова») and the last word of a Turkic
/// patronymic («Мамед оглы»). Lower-cased; `None` if not Cyrillic.
fn deciding_word(name: &str) -> Option<String> {
    let last = name
        .split_whitespace()
        .next_back()?
        .rsplit(|c: char| c == '-' || ('\u{2010}'..='\u{2013}').contains(&c))
        .next()?;
    is_cyrillic_word(last).then(|| lower(last))
}

fn known(gender: Option<Gender>) -> Option<Gender> {
    gender.filter(|g| *g != Gender::Unknown)
}

/// Gender from the name alone: the patronymic decides when it can
/// (-ович/-ич, -овна/-ична, оглы/кызы); then the given name; then the
/// surname. A surname's ending is the weakest sign — «Цой Анна» is a woman
/// whatever «-ой» suggests — so it only speaks when the given name is silent
/// or androgynous («Иванова Женя»). Prefer the registry's word when there is
/// one: [`crate::FullName::gender`] takes it as a hint.
pub fn detect_gender(surname: &str, given: &str, patronymic: Option<&str>) -> Gender {
    let Ok(rules) = GENDER_RULES.as_ref() else {
        return Gender::Unknown;
    };
    patronymic
        .and_then(|p| known(rules.middlename.detect(p)))
        .or_else(|| known(rules.firstname.detect(given)))
        .or_else(|| known(rules.lastname.detect(surname)))
        .unwrap_or(Gender::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_gender_rules_parse() {
        let rules = parse(GENDER_JSON).unwrap();
        assert!(!rules.middlename.suffixes.male.is_empty());
        assert!(!rules.firstname.exceptions.androgynous.is_empty());
    }

    /// With no ending listed under two genders, the order in which
    /// equal-length matches are tried cannot change the answer.
    #[test]
    fn no_ending_is_listed_for_two_genders() {
        let rules = parse(GENDER_JSON).unwrap();
        for part in [&rules.lastname, &rules.firstname, &rules.middlename] {
            for lists in [&part.suffixes, &part.exceptions] {
                let mut seen = std::collections::HashMap::new();
                for (list, gender) in lists.by_gender() {
                    for w in list {
                        if let Some(other) = seen.insert(w.as_str(), gender) {
                            assert_eq!(other, gender, "«{w}» listed twice");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn deciding_word_is_the_last_cyrillic_part() {
        let cases: &[(&str, Option<&str>)] = &[
            ("Мамед оглы", Some("оглы")),
            ("Анна-Мария", Some("мария")),
            ("Римская–Корсакова", Some("корсакова")),
            ("  ", None),
            ("", None),
            ("Ivanova", None),
        ];
        for (name, want) in cases {
            assert_eq!(deciding_word(name).as_deref(), *want, "{name}");
        }
    }
}
