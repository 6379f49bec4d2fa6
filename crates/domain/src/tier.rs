//! State Services account tiers, regions, and the age-based tier policy.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Simplified (name + contact) < standard (passport and SNILS checked by the
/// state registries) < verified (identity confirmed in person or by e-signature).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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

    pub fn parse(text: &str) -> Option<Tier> {
        match text.trim().to_ascii_lowercase().as_str() {
            "simplified" => Some(Tier::Simplified),
            "standard" => Some(Tier::Standard),
            "verified" => Some(Tier::Verified),
            _ => None,
        }
    }
}

impl FromStr for Tier {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Tier::parse(s).ok_or_else(|| format!("unknown tier {s:?}"))
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A region of the Russian Federation by its number (29 Arkhangelsk, 78 St Petersburg…).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct RegionCode(u16);

impl RegionCode {
    pub fn new(code: u16) -> Result<RegionCode, String> {
        if (1..=999).contains(&code) {
            Ok(RegionCode(code))
        } else {
            Err(format!("region code must be 1..999, not {code}"))
        }
    }

    pub fn parse(text: &str) -> Result<RegionCode, String> {
        let code: u16 = text
            .trim()
            .parse()
            .map_err(|_| format!("region code must be a number, not {text:?}"))?;
        RegionCode::new(code)
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

impl TryFrom<u16> for RegionCode {
    type Error = String;

    fn try_from(code: u16) -> Result<Self, Self::Error> {
        RegionCode::new(code)
    }
}

impl From<RegionCode> for u16 {
    fn from(code: RegionCode) -> u16 {
        code.0
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// "From age `from_age` the account must be at least `min_tier`."
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierPolicy {
    pub from_age: u32,
    pub min_tier: Tier,
}

impl Default for TierPolicy {
    fn default() -> Self {
        TierPolicy {
            from_age: 14,
            min_tier: Tier::Standard,
        }
    }
}

/// Full years on `today` (a 29 February birthday counts on 1 March in other years).
pub fn age_on(birth: NaiveDate, today: NaiveDate) -> u32 {
    if today < birth {
        return 0;
    }
    let mut years = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

impl TierPolicy {
    /// The lowest acceptable tier; an unknown birth date takes the safe side.
    pub fn required_tier(&self, birth_date: Option<NaiveDate>, today: NaiveDate) -> Tier {
        match birth_date {
            Some(birth) if age_on(birth, today) < self.from_age => Tier::Simplified,
            _ => self.min_tier,
        }
    }

    pub fn allows(&self, tier: Tier, birth_date: Option<NaiveDate>, today: NaiveDate) -> bool {
        tier >= self.required_tier(birth_date, today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn ages() {
        let cases = [
            (date(2011, 3, 15), date(2026, 11, 22), 15),
            (date(2012, 11, 22), date(2026, 11, 22), 14),
            (date(2012, 11, 23), date(2026, 11, 22), 13),
            (date(2012, 2, 29), date(2026, 2, 28), 13),
            (date(2012, 2, 29), date(2026, 3, 1), 14),
            (date(2030, 1, 1), date(2026, 1, 1), 0),
        ];
        for (birth, today, age) in cases {
            assert_eq!(age_on(birth, today), age, "{birth} on {today}");
        }
    }

    #[test]
    fn policy_table() {
        let policy = TierPolicy::default();
        let today = date(2026, 11, 22);
        let cases = [
            (Some(date(2011, 3, 15)), Tier::Simplified, false),
            (Some(date(2011, 3, 15)), Tier::Standard, true),
            (Some(date(2016, 5, 20)), Tier::Simplified, true),
            (Some(date(2012, 11, 22)), Tier::Simplified, false),
            (None, Tier::Simplified, false),
            (None, Tier::Verified, true),
        ];
        for (birth, tier, allowed) in cases {
            assert_eq!(
                policy.allows(tier, birth, today),
                allowed,
                "{birth:?} {tier}"
            );
        }
        assert!(Tier::Simplified < Tier::Standard && Tier::Standard < Tier::Verified);
        assert_eq!(Tier::parse("Verified"), Some(Tier::Verified));
        assert_eq!(Tier::parse("gold"), None);
        assert!(RegionCode::new(0).is_err());
        assert_eq!(RegionCode::parse(" 29 ").map(RegionCode::get), Ok(29));
    }
}
