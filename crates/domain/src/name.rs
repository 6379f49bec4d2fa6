//! Full names (ФИО) and the comparison the link decision relies on:
//! normalization that forgives what people and schools get wrong by accident
//! (ё/е, case, spaces, dash and apostrophe variants, invisible characters
//! pasted from documents, Latin look-alikes typed into Cyrillic words) and a
//! per-part report of what differed and which rule made parts equal.
//!
//! Roster import and the link decision share this module: [`clean`] is what
//! is stored (the display form), [`normalize`] what is compared. Both reach a
//! fixed point: applying them twice changes nothing.

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

pub const MAX_PART_CHARS: usize = 100;

/// Surname, given name and an optional patronymic, trimmed and non-empty.
#[derive(Clone, PartialEq, Eq)]
pub struct FullName {
    surname: String,
    given: String,
    patronymic: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the surname is empty")]
    EmptySurname,
    #[error("the given name is empty")]
    EmptyGiven,
    #[error("the {part} contains a character that cannot be in a name: {character:?}")]
    InvalidCharacter { part: &'static str, character: char },
    #[error("the {part} is longer than {MAX_PART_CHARS} characters")]
    TooLong { part: &'static str },
}

fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'
            | '\u{2011}'
            | '\u{2012}'
            | '\u{2013}'
            | '\u{2014}'
            | '\u{2015}'
            | '\u{2212}'
            | '\u{fe63}'
            | '\u{ff0d}'
    )
}

/// A Latin or basic Cyrillic letter (А–я, Ё, ё): the characters of almost
/// every name. Each is a letter, composed (NFC) and never combines with what
/// precedes it, so checks can pass it without Unicode table lookups.
fn is_plain_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, 'А'..='я' | 'Ё' | 'ё')
}

/// Checks a part already passed through [`clean`].
fn check_part(value: &str, part: &'static str) -> Result<(), NameError> {
    if value.chars().count() > MAX_PART_CHARS {
        return Err(NameError::TooLong { part });
    }
    let allowed = |c: char| {
        is_plain_letter(c)
            || c.is_alphabetic()
            || c.is_whitespace()
            || is_dash(c)
            || matches!(c, '\'' | '’' | '`' | '.' | '\u{300}'..='\u{36f}')
    };
    match value.chars().find(|c| !allowed(*c)) {
        Some(character) => Err(NameError::InvalidCharacter { part, character }),
        None => Ok(()),
    }
}

impl FullName {
    pub fn new(
        surname: &str,
        given: &str,
        patronymic: Option<&str>,
    ) -> Result<FullName, NameError> {
        // Kept as written (the comparison reports what it forgave), but a
        // part of nothing but invisible characters is empty.
        let surname = surname.trim();
        let given = given.trim();
        let patronymic = patronymic
            .map(str::trim)
            .map(|p| (p, clean(p)))
            .filter(|(_, cleaned)| !cleaned.is_empty());
        let clean_surname = clean(surname);
        if clean_surname.is_empty() {
            return Err(NameError::EmptySurname);
        }
        let clean_given = clean(given);
        if clean_given.is_empty() {
            return Err(NameError::EmptyGiven);
        }
        check_part(&clean_surname, "surname")?;
        check_part(&clean_given, "given name")?;
        if let Some((_, cleaned)) = &patronymic {
            check_part(cleaned, "patronymic")?;
        }
        let patronymic = patronymic.map(|(p, _)| p);
        Ok(FullName {
            surname: surname.to_string(),
            given: given.to_string(),
            patronymic: patronymic.map(str::to_string),
        })
    }

    /// "Surname Given [Patronymic…]": words after the second form the
    /// patronymic (e.g. «Гусейн оглы»); a dash with spaces around it joins
    /// the words on both sides («Петров - Водкин»).
    pub fn parse(text: &str) -> Result<FullName, NameError> {
        let mut words: Vec<String> = Vec::new();
        let mut join_next = false;
        for token in text.split_whitespace() {
            let dash_only = token.chars().all(is_dash);
            let starts_dash = token.chars().next().is_some_and(is_dash);
            match words.last_mut() {
                Some(last) if join_next || dash_only || starts_dash => {
                    last.push(' ');
                    last.push_str(token);
                }
                _ => words.push(token.to_string()),
            }
            join_next = token.chars().last().is_some_and(is_dash);
        }
        let mut iter = words.into_iter();
        let surname = iter.next().unwrap_or_default();
        let given = iter.next().unwrap_or_default();
        let rest: Vec<String> = iter.collect();
        let patronymic = (!rest.is_empty()).then(|| rest.join(" "));
        FullName::new(&surname, &given, patronymic.as_deref())
    }

    pub fn surname(&self) -> &str {
        &self.surname
    }

    pub fn given(&self) -> &str {
        &self.given
    }

    pub fn patronymic(&self) -> Option<&str> {
        self.patronymic.as_deref()
    }

    /// `И***** П. И.`: enough for an operator to tell records apart.
    pub fn masked(&self) -> String {
        let initial = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
        let mut out = format!("{}***** {}.", initial(&self.surname), initial(&self.given));
        if let Some(p) = &self.patronymic {
            out.push_str(&format!(" {}.", initial(p)));
        }
        out
    }
}

impl fmt::Display for FullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.surname, self.given)?;
        if let Some(p) = &self.patronymic {
            write!(f, " {p}")?;
        }
        Ok(())
    }
}

/// Masked: names must not reach logs through `{:?}`.
impl fmt::Debug for FullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FullName({})", self.masked())
    }
}

/// The normalization rules, in the order they are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameRule {
    /// Unicode NFC (a decomposed «ё» becomes one character).
    Unicode,
    /// Soft hyphens, zero-width spaces and joiners, byte order marks.
    Invisible,
    /// Surrounding spaces trimmed, inner runs collapsed.
    Whitespace,
    /// Dash variants become `-`, spaces around it are dropped.
    Hyphen,
    /// Apostrophe variants (’ ʼ ‘ ` ´ ′) become `'`.
    Apostrophe,
    /// Latin A B C E H K M O P T X Y (and a c e o p x y) inside a Cyrillic word.
    LatinLookalike,
    /// Upper/lower case.
    Case,
    /// ё → е.
    #[serde(rename = "yo")]
    YoToYe,
}

impl NameRule {
    pub const ALL: [NameRule; 8] = [
        NameRule::Unicode,
        NameRule::Invisible,
        NameRule::Whitespace,
        NameRule::Hyphen,
        NameRule::Apostrophe,
        NameRule::LatinLookalike,
        NameRule::Case,
        NameRule::YoToYe,
    ];

    pub fn code(self) -> &'static str {
        match self {
            NameRule::Unicode => "unicode",
            NameRule::Invisible => "invisible",
            NameRule::Whitespace => "whitespace",
            NameRule::Hyphen => "hyphen",
            NameRule::Apostrophe => "apostrophe",
            NameRule::LatinLookalike => "latin_lookalike",
            NameRule::Case => "case",
            NameRule::YoToYe => "yo",
        }
    }

    fn apply(self, text: &str) -> String {
        match self {
            NameRule::Unicode => text.nfc().collect(),
            NameRule::Invisible => text.chars().filter(|c| !is_invisible(*c)).collect(),
            NameRule::Apostrophe => text
                .chars()
                .map(|c| if is_apostrophe(c) { '\'' } else { c })
                .collect(),
            NameRule::Whitespace => text.split_whitespace().collect::<Vec<_>>().join(" "),
            NameRule::Hyphen => {
                let unified: String = text
                    .chars()
                    .map(|c| if is_dash(c) { '-' } else { c })
                    .collect();
                unified
                    .split('-')
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join("-")
            }
            NameRule::LatinLookalike => latin_to_cyrillic(text),
            NameRule::Case => text.to_lowercase(),
            NameRule::YoToYe => text.replace('ё', "е").replace('Ё', "Е"),
        }
    }
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{ad}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}'
    )
}

fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '\u{2019}' | '\u{2bc}' | '\u{2018}' | '`' | '\u{b4}' | '\u{2032}'
    )
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{400}'..='\u{4ff}')
}

fn lookalike(c: char) -> Option<char> {
    Some(match c {
        'A' => 'А',
        'B' => 'В',
        'C' => 'С',
        'E' => 'Е',
        'H' => 'Н',
        'K' => 'К',
        'M' => 'М',
        'O' => 'О',
        'P' => 'Р',
        'T' => 'Т',
        'X' => 'Х',
        'Y' => 'У',
        'a' => 'а',
        'c' => 'с',
        'e' => 'е',
        'o' => 'о',
        'p' => 'р',
        'x' => 'х',
        'y' => 'у',
        _ => return None,
    })
}

/// Replaces look-alikes only inside words that have a Cyrillic letter, so a
/// name written wholly in Latin letters stays as it is. Works on decomposed
/// text, so a Latin letter with a mark («ă») becomes the Cyrillic one («ӑ»)
/// whether it was typed composed or not.
fn latin_to_cyrillic(text: &str) -> String {
    let decomposed: String = text.nfd().collect();
    let replaced = replace_lookalikes(&decomposed);
    if replaced == decomposed {
        // Nothing replaced: leave composition to the Unicode rule.
        text.to_string()
    } else {
        replaced.nfc().collect()
    }
}

fn is_combining(c: char) -> bool {
    matches!(c, '\u{300}'..='\u{36f}')
}

fn replace_lookalikes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.chars().any(is_cyrillic) {
            out.extend(word.chars().map(|c| lookalike(c).unwrap_or(c)));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphabetic() || is_combining(c) {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The normalized form used for comparison.
pub fn normalize(part: &str) -> String {
    normalize_traced(part).0
}

/// The normalized form and the rules that changed something, in order.
pub fn normalize_traced(part: &str) -> (String, Vec<NameRule>) {
    apply_until_fixed(part, &NameRule::ALL)
}

/// The rules that keep what a person wrote and only undo what documents and
/// keyboards add: the form rosters store.
const CLEANING: [NameRule; 5] = [
    NameRule::Unicode,
    NameRule::Invisible,
    NameRule::Whitespace,
    NameRule::Hyphen,
    NameRule::Apostrophe,
];

/// The display form of a name part: composed, without invisible characters,
/// single spaces, one kind of dash and apostrophe; letters and case kept.
pub fn clean(part: &str) -> String {
    if already_clean(part) {
        // Most names: no rule would change anything, so skip the passes
        // (each allocates a new string per rule; a roster import cleans
        // every name part of every row twice).
        return part.to_string();
    }
    apply_until_fixed(part, &CLEANING).0
}

/// Whether no [`CLEANING`] rule would change `part`: composed text, no
/// invisible characters, no dash or apostrophe variants, single inner
/// spaces only and none next to a hyphen.
fn already_clean(part: &str) -> bool {
    let mut prev: Option<char> = None;
    // Only plain letters, spaces, hyphens and apostrophes: composed as is.
    let mut plain = true;
    for c in part.chars() {
        if is_plain_letter(c) {
            prev = Some(c);
            continue;
        }
        plain &= matches!(c, ' ' | '-' | '\'');
        let fine = match c {
            ' ' => prev.is_some_and(|p| p != ' ' && p != '-'),
            '-' => prev != Some(' '),
            '\'' => true,
            c => !c.is_whitespace() && !is_dash(c) && !is_apostrophe(c) && !is_invisible(c),
        };
        if !fine {
            return false;
        }
        prev = Some(c);
    }
    prev != Some(' ') && (plain || is_nfc_quick(part.chars()) == IsNormalized::Yes)
}

/// Applies the rules in order, again and again until a pass changes nothing
/// (one rule can enable another: removing a zero-width joiner lets a
/// combining mark compose, lowering «Ё»+U+0308 leaves a mark for NFC).
fn apply_until_fixed(part: &str, rules: &[NameRule]) -> (String, Vec<NameRule>) {
    let mut text = part.to_string();
    let mut used = Vec::new();
    // Each pass only removes or unifies characters; a handful always settles.
    for _ in 0..8 {
        let mut changed = false;
        for &rule in rules {
            let next = rule.apply(&text);
            if next != text {
                if !used.contains(&rule) {
                    used.push(rule);
                }
                text = next;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    (text, used)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NamePart {
    Surname,
    #[serde(rename = "given_name")]
    Given,
    Patronymic,
}

impl NamePart {
    pub fn code(self) -> &'static str {
        match self {
            NamePart::Surname => "surname",
            NamePart::Given => "given_name",
            NamePart::Patronymic => "patronymic",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartComparison {
    Equal,
    /// Equal once these rules were applied.
    EqualAfterNormalization(Vec<NameRule>),
    Differs,
    /// Absent on the left (first) side only.
    MissingLeft,
    /// Absent on the right (second) side only.
    MissingRight,
}

/// [`PartComparison`] without the rules: what a report or a page needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartVerdict {
    Equal,
    EqualNormalized,
    Differs,
    /// Absent on the left (the IdP's) side only.
    MissingLeft,
    /// Absent on the right (the diary's) side only.
    MissingRight,
}

impl PartVerdict {
    pub fn is_match(self) -> bool {
        matches!(self, PartVerdict::Equal | PartVerdict::EqualNormalized)
    }
}

impl PartComparison {
    pub fn verdict(&self) -> PartVerdict {
        match self {
            PartComparison::Equal => PartVerdict::Equal,
            PartComparison::EqualAfterNormalization(_) => PartVerdict::EqualNormalized,
            PartComparison::Differs => PartVerdict::Differs,
            PartComparison::MissingLeft => PartVerdict::MissingLeft,
            PartComparison::MissingRight => PartVerdict::MissingRight,
        }
    }

    pub fn is_match(&self) -> bool {
        matches!(
            self,
            PartComparison::Equal | PartComparison::EqualAfterNormalization(_)
        )
    }

    pub fn code(&self) -> &'static str {
        match self {
            PartComparison::Equal => "equal",
            PartComparison::EqualAfterNormalization(_) => "equal_normalized",
            PartComparison::Differs => "differs",
            PartComparison::MissingLeft => "missing_left",
            PartComparison::MissingRight => "missing_right",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameComparison {
    pub surname: PartComparison,
    pub given: PartComparison,
    pub patronymic: PartComparison,
}

impl NameComparison {
    pub fn parts(&self) -> [(NamePart, &PartComparison); 3] {
        [
            (NamePart::Surname, &self.surname),
            (NamePart::Given, &self.given),
            (NamePart::Patronymic, &self.patronymic),
        ]
    }

    pub fn matches(&self) -> bool {
        self.parts().iter().all(|(_, c)| c.is_match())
    }

    pub fn mismatched_parts(&self) -> Vec<NamePart> {
        self.parts()
            .into_iter()
            .filter(|(_, c)| !c.is_match())
            .map(|(p, _)| p)
            .collect()
    }

    pub fn rules_used(&self) -> Vec<NameRule> {
        let mut rules: Vec<NameRule> = self
            .parts()
            .into_iter()
            .flat_map(|(_, c)| match c {
                PartComparison::EqualAfterNormalization(r) => r.clone(),
                _ => Vec::new(),
            })
            .collect();
        rules.sort();
        rules.dedup();
        rules
    }
}

fn compare_part(left: Option<&str>, right: Option<&str>) -> PartComparison {
    let (left, right) = match (left, right) {
        (None, None) => return PartComparison::Equal,
        (None, Some(_)) => return PartComparison::MissingLeft,
        (Some(_), None) => return PartComparison::MissingRight,
        (Some(l), Some(r)) => (l, r),
    };
    if left == right {
        return PartComparison::Equal;
    }
    if normalize(left) != normalize(right) {
        return PartComparison::Differs;
    }
    // A rule is reported when the parts would differ without it.
    let without = |skipped: NameRule| {
        let apply = |text: &str| {
            NameRule::ALL
                .into_iter()
                .filter(|r| *r != skipped)
                .fold(text.to_string(), |acc, rule| rule.apply(&acc))
        };
        apply(left) != apply(right)
    };
    let mut needed: Vec<NameRule> = NameRule::ALL.into_iter().filter(|r| without(*r)).collect();
    if needed.is_empty() {
        // Several rules each sufficed alone: name the ones that changed something.
        let (_, mut l) = normalize_traced(left);
        let (_, r) = normalize_traced(right);
        l.extend(r);
        l.sort();
        l.dedup();
        needed = l;
    }
    PartComparison::EqualAfterNormalization(needed)
}

/// Compares two names part by part; "left" is the first argument.
pub fn compare(left: &FullName, right: &FullName) -> NameComparison {
    NameComparison {
        surname: compare_part(Some(&left.surname), Some(&right.surname)),
        given: compare_part(Some(&left.given), Some(&right.given)),
        patronymic: compare_part(left.patronymic.as_deref(), right.patronymic.as_deref()),
    }
}

#[cfg(test)]
mod tests;
