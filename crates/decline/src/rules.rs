//! The petrovich case rules (`rules/rules.json`) and the engine that applies
//! them.

use std::sync::LazyLock;

use serde::Deserialize;

use crate::word::{is_cyrillic_word, lower, map_parts, replace_ending};
use crate::{Case, Gender, NamePart};

/// The embedded rules could not be read; see [`crate::rules_status`].
#[derive(Debug, Clone, thiserror::Error)]
pub enum RulesError {
    #[error("petrovich {file} is not valid JSON for its schema: {reason}")]
    Json { file: &'static str, reason: String },
    #[error("petrovich rules.json: a rule has {0} modifiers, not one per oblique case (5)")]
    ModifierCount(usize),
}

const RULES_JSON: &str = include_str!("../rules/rules.json");

static RULES: LazyLock<Result<Rules, RulesError>> = LazyLock::new(|| parse(RULES_JSON));

pub(crate) fn status() -> Result<(), RulesError> {
    RULES.as_ref().map(|_| ()).map_err(Clone::clone)
}

#[derive(Deserialize)]
struct RawRules {
    lastname: RawList,
    firstname: RawList,
    middlename: RawList,
}

#[derive(Deserialize)]
struct RawList {
    #[serde(default)]
    exceptions: Vec<RawRule>,
    #[serde(default)]
    suffixes: Vec<RawRule>,
}

#[derive(Deserialize)]
struct RawRule {
    gender: RuleGender,
    test: Vec<String>,
    mods: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
enum RuleGender {
    Male,
    Female,
    Androgynous,
}

struct Rules {
    surname: RuleList,
    given: RuleList,
    patronymic: RuleList,
}

struct RuleList {
    exceptions: Vec<Rule>,
    suffixes: Vec<Rule>,
}

struct Rule {
    gender: RuleGender,
    tests: Vec<String>,
    /// Genitive, dative, accusative, instrumental, prepositional.
    mods: [Modifier; 5],
    tags: Vec<String>,
}

/// A petrovich modifier such as `--ого`: each «-» cuts one letter from the
/// end, the letters are appended, «.» alone means «unchanged».
#[derive(Default, Clone)]
struct Modifier {
    cut: usize,
    ending: String,
}

impl Modifier {
    fn parse(spec: &str) -> Modifier {
        Modifier {
            cut: spec.chars().filter(|&c| c == '-').count(),
            ending: spec.chars().filter(|&c| c != '-' && c != '.').collect(),
        }
    }
}

fn parse(json: &str) -> Result<Rules, RulesError> {
    let raw: RawRules = serde_json::from_str(json).map_err(|e| RulesError::Json {
        file: "rules.json",
        reason: e.to_string(),
    })?;
    Ok(Rules {
        surname: list(raw.lastname)?,
        given: list(raw.firstname)?,
        patronymic: list(raw.middlename)?,
    })
}

fn list(raw: RawList) -> Result<RuleList, RulesError> {
    let convert = |rules: Vec<RawRule>| rules.into_iter().map(rule).collect::<Result<Vec<_>, _>>();
    Ok(RuleList {
        exceptions: convert(raw.exceptions)?,
        suffixes: convert(raw.suffixes)?,
    })
}

fn rule(raw: RawRule) -> Result<Rule, RulesError> {
    let parsed: Vec<Modifier> = raw.mods.iter().map(|m| Modifier::parse(m)).collect();
    let mods: [Modifier; 5] = parsed
        .try_into()
        .map_err(|v: Vec<Modifier>| RulesError::ModifierCount(v.len()))?;
    Ok(Rule {
        gender: raw.gender,
        tests: raw.test,
        mods,
        tags: raw.tags,
    })
}

impl Rule {
    fn applies_to(&self, gender: RuleGender, first_of_compound: bool) -> bool {
        let gender_ok = self.gender == RuleGender::Androgynous || self.gender == gender;
        // As in petrovich-js: a tagged rule needs one of its tags among the
        // word's features, and the only feature is being the first part of a
        // compound (the indeclinable «Бонч» of «Бонч-Бруевич»).
        let tags_ok = self.tags.is_empty()
            || (first_of_compound && self.tags.iter().any(|t| t == "first_word"));
        gender_ok && tags_ok
    }

    fn modifier(&self, case: Case) -> Option<&Modifier> {
        let index = match case {
            Case::Nominative => return None,
            Case::Genitive => 0,
            Case::Dative => 1,
            Case::Accusative => 2,
            Case::Instrumental => 3,
            Case::Prepositional => 4,
        };
        self.mods.get(index)
    }
}

impl RuleList {
    /// Exceptions (whole word) first, then suffixes; in each, the first rule
    /// in file order wins — the rules file says «порядок имеет значение».
    fn find(&self, lowered: &str, gender: RuleGender, first_of_compound: bool) -> Option<&Rule> {
        let usable = |r: &&Rule| r.applies_to(gender, first_of_compound);
        self.exceptions
            .iter()
            .filter(usable)
            .find(|r| r.tests.iter().any(|t| t == lowered))
            .or_else(|| {
                self.suffixes
                    .iter()
                    .filter(usable)
                    .find(|r| r.tests.iter().any(|t| lowered.ends_with(t.as_str())))
            })
    }

    fn decline(&self, word: &str, gender: RuleGender, case: Case) -> String {
        map_parts(word, |part, first_of_compound| {
            if !is_cyrillic_word(part) {
                return part.to_owned();
            }
            match self
                .find(&lower(part), gender, first_of_compound)
                .and_then(|rule| rule.modifier(case))
            {
                Some(m) => replace_ending(part, m.cut, &m.ending),
                None => part.to_owned(),
            }
        })
    }
}

pub(crate) fn decline_word(part: NamePart, word: &str, gender: Gender, case: Case) -> String {
    let Ok(rules) = RULES.as_ref() else {
        return word.to_owned();
    };
    if case == Case::Nominative {
        return word.to_owned();
    }
    let list = match part {
        NamePart::Surname => &rules.surname,
        NamePart::Given => &rules.given,
        NamePart::Patronymic => &rules.patronymic,
    };
    match gender {
        Gender::Male => list.decline(word, RuleGender::Male, case),
        Gender::Female => list.decline(word, RuleGender::Female, case),
        // Petrovich would use the «androgynous» rules alone, which turns a
        // woman's «Фёдорова» into «Фёдоровы». Declining only where both
        // genders give the same form keeps every change right for either.
        Gender::Unknown => {
            let male = list.decline(word, RuleGender::Male, case);
            let female = list.decline(word, RuleGender::Female, case);
            if male == female {
                male
            } else {
                word.to_owned()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_rules_parse_into_all_three_lists() {
        let rules = parse(RULES_JSON).unwrap();
        for list in [&rules.surname, &rules.given, &rules.patronymic] {
            assert!(!list.suffixes.is_empty());
        }
        assert!(!rules.surname.exceptions.is_empty());
    }

    #[test]
    fn broken_rules_are_reported_not_panicked_on() {
        let cases: &[(&str, &str)] = &[
            ("{", "not valid JSON"),
            (
                r#"{"lastname":{"suffixes":[{"gender":"male","test":["а"],"mods":["."]}]},
                    "firstname":{},"middlename":{}}"#,
                "1 modifiers",
            ),
        ];
        for (json, want) in cases {
            let err = parse(json).err().unwrap().to_string();
            assert!(err.contains(want), "{err}");
        }
    }

    #[test]
    fn modifiers_read_as_petrovich_defines_them() {
        let cases: &[(&str, usize, &str)] = &[
            (".", 0, ""),
            ("-ой", 1, "ой"),
            ("--ого", 2, "ого"),
            ("---етра", 3, "етра"),
            ("а", 0, "а"),
        ];
        for (spec, cut, ending) in cases {
            let m = Modifier::parse(spec);
            assert_eq!((m.cut, m.ending.as_str()), (*cut, *ending), "{spec}");
        }
    }
}
