//! SNILS, the insurance number that identifies a person across state systems:
//! 11 digits written `123-456-789 01`, the last two a check number.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A SNILS whose check number is right (or that is exempt from the check).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Snils(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnilsError {
    #[error("SNILS is empty")]
    Empty,
    #[error("SNILS must have 11 digits, found {found}")]
    Length { found: usize },
    #[error("SNILS may contain only digits, spaces and hyphens, found {character:?}")]
    NonDigit { character: char },
    #[error("SNILS check number is {found}, but the first nine digits give {expected}")]
    Checksum { expected: String, found: String },
}

/// Numbers up to and including 001-001-998 predate the check number.
const LAST_UNCHECKED: u64 = 1_001_998;

impl Snils {
    /// Accepts `123-456-789 01`, `12345678901`, and spaces, hyphens or
    /// non-breaking spaces anywhere.
    pub fn parse(input: &str) -> Result<Snils, SnilsError> {
        let mut digits = String::with_capacity(11);
        for c in input.trim().chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '\u{a0}' | '\u{2011}' | '\u{2013}' | '\t' => {}
                other => return Err(SnilsError::NonDigit { character: other }),
            }
        }
        if digits.is_empty() {
            return Err(SnilsError::Empty);
        }
        if digits.len() != 11 {
            return Err(SnilsError::Length {
                found: digits.len(),
            });
        }
        let snils = Snils(digits);
        if !snils.checksum_exempt() {
            let expected = check_number(&snils.0[..9]);
            let found = &snils.0[9..];
            if expected != found {
                return Err(SnilsError::Checksum {
                    expected,
                    found: found.to_string(),
                });
            }
        }
        Ok(snils)
    }

    /// The 11 digits, as stored.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// `***-***-789 01`: enough for a person to recognise their number.
    pub fn masked(&self) -> String {
        format!("***-***-{} {}", &self.0[6..9], &self.0[9..])
    }

    pub fn checksum_exempt(&self) -> bool {
        self.0[..9]
            .parse::<u64>()
            .map(|n| n <= LAST_UNCHECKED)
            .unwrap_or(false)
    }
}

/// The check number of nine digits: weights 9..1; below 100 as is; 100 and
/// 101 give 00; above 101 reduce modulo 101 and apply the same rule.
pub fn check_number(nine: &str) -> String {
    let mut sum: u32 = nine
        .chars()
        .zip((1..=9).rev())
        .map(|(c, weight)| c.to_digit(10).unwrap_or(0) * weight)
        .sum();
    if sum > 101 {
        sum %= 101;
    }
    if sum == 100 || sum == 101 {
        sum = 0;
    }
    format!("{sum:02}")
}

impl fmt::Display for Snils {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        write!(f, "{}-{}-{} {}", &d[0..3], &d[3..6], &d[6..9], &d[9..11])
    }
}

/// Masked: a SNILS must not reach logs through `{:?}`.
impl fmt::Debug for Snils {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Snils({})", self.masked())
    }
}

impl FromStr for Snils {
    type Err = SnilsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Snils::parse(s)
    }
}

impl Serialize for Snils {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Snils {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Snils::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parsing_table() {
        let ok = [
            ("112-233-445 95", "112-233-445 95"),
            ("11223344595", "112-233-445 95"),
            ("  112 233 445 95 ", "112-233-445 95"),
            ("112-233-445-95", "112-233-445 95"),
            ("112\u{a0}233\u{a0}445\u{a0}95", "112-233-445 95"),
            ("000-000-600 06", "000-000-600 06"),
            ("001-001-998 99", "001-001-998 99"),
            ("201-301-401 60", "201-301-401 60"),
        ];
        for (input, canonical) in ok {
            let snils = Snils::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(snils.to_string(), canonical, "{input}");
        }
        let bad = [
            ("", SnilsError::Empty),
            ("   ", SnilsError::Empty),
            ("112-233-445 9", SnilsError::Length { found: 10 }),
            ("112-233-445 955", SnilsError::Length { found: 12 }),
            ("112-233-445 9O", SnilsError::NonDigit { character: 'O' }),
            ("112.233.445.95", SnilsError::NonDigit { character: '.' }),
            (
                "112-233-445 96",
                SnilsError::Checksum {
                    expected: "95".into(),
                    found: "96".into(),
                },
            ),
            (
                "001-001-999 00",
                SnilsError::Checksum {
                    expected: "65".into(),
                    found: "00".into(),
                },
            ),
        ];
        for (input, error) in bad {
            assert_eq!(Snils::parse(input), Err(error), "{input:?}");
        }
    }

    #[test]
    fn check_number_rules() {
        // (nine digits, weighted sum, check number)
        let cases = [
            ("112233445", 95, "95"), // below 100: the sum itself
            ("000000001", 1, "01"),
            ("001326679", 100, "00"), // exactly 100
            ("001508816", 101, "00"), // exactly 101
            ("999999000", 351, "48"), // above 101: 351 mod 101
            ("999999999", 405, "01"),
            ("017996174", 201, "00"), // 201 mod 101 = 100 → 00
            ("189798879", 302, "00"), // 302 mod 101 = 100 → 00
        ];
        for (nine, sum, expected) in cases {
            let weighted: u32 = nine
                .chars()
                .zip((1..=9).rev())
                .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
                .sum();
            assert_eq!(weighted, sum, "{nine}");
            assert_eq!(check_number(nine), expected, "{nine}");
        }
    }

    #[test]
    fn masked_and_debug_hide_the_number() {
        let snils = Snils::parse("112-233-445 95").expect("valid");
        assert_eq!(snils.masked(), "***-***-445 95");
        assert_eq!(format!("{snils:?}"), "Snils(***-***-445 95)");
        assert_eq!(snils.digits(), "11223344595");
        assert!(!snils.checksum_exempt());
        assert!(Snils::parse("000-000-600 06")
            .expect("exempt")
            .checksum_exempt());
    }

    proptest! {
        #[test]
        fn a_parsed_snils_reprints_and_reparses_identically(nine in 1_001_999u64..999_999_999u64) {
            let nine = format!("{nine:09}");
            let text = format!("{nine}{}", check_number(&nine));
            let snils = Snils::parse(&text).expect("valid by construction");
            let printed = snils.to_string();
            prop_assert_eq!(Snils::parse(&printed).expect("reparses"), snils.clone());
            prop_assert_eq!(Snils::parse(&printed).expect("reparses").to_string(), printed);
        }
    }
}
