//! RFC 7519 §2 `NumericDate`: "a JSON numeric value representing the number
//! of seconds from 1970-01-01T00:00:00Z UTC", which may be non-integer
//! (`"exp": 1796000000.5` is a valid expiry). A string, a boolean or a
//! missing value is not a date.
//!
//! The clock we compare with counts whole seconds, so a date is kept as the
//! whole seconds on either side of it: "now is after `exp`" holds exactly
//! when now is after its floor, and "now is before `nbf`" exactly when now
//! is before its ceiling. Integers far outside `i64` saturate (a year-3000
//! `exp` is simply far away), as do fractions (`f64 as i64` saturates).

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumericDate {
    floor: i64,
    ceil: i64,
}

impl NumericDate {
    /// The date in `value`, if it is a JSON number.
    pub fn from_json(value: &Value) -> Option<NumericDate> {
        let Value::Number(number) = value else {
            return None;
        };
        if let Some(whole) = number.as_i64() {
            return Some(NumericDate::whole(whole));
        }
        if number.as_u64().is_some() {
            return Some(NumericDate::whole(i64::MAX));
        }
        // serde_json numbers are finite; the check keeps that assumption local.
        let seconds = number.as_f64().filter(|s| s.is_finite())?;
        Some(NumericDate {
            floor: seconds.floor() as i64,
            ceil: seconds.ceil() as i64,
        })
    }

    fn whole(seconds: i64) -> NumericDate {
        NumericDate {
            floor: seconds,
            ceil: seconds,
        }
    }

    /// The last whole second at or before the date (for "has it passed").
    pub fn floor(self) -> i64 {
        self.floor
    }

    /// The first whole second at or after the date (for "has it begun").
    pub fn ceil(self) -> i64 {
        self.ceil
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numeric_dates_table() {
        let cases: [(Value, Option<(i64, i64)>); 11] = [
            (json!(1_796_000_000), Some((1_796_000_000, 1_796_000_000))),
            (json!(1_796_000_000.5), Some((1_796_000_000, 1_796_000_001))),
            (json!(1_796_000_000.0), Some((1_796_000_000, 1_796_000_000))),
            (json!(-0.5), Some((-1, 0))),
            (json!(0), Some((0, 0))),
            (json!(u64::MAX), Some((i64::MAX, i64::MAX))),
            (json!(1e300), Some((i64::MAX, i64::MAX))),
            (json!("1796000000"), None),
            (json!(true), None),
            (json!(null), None),
            (json!([1_796_000_000]), None),
        ];
        for (value, expected) in cases {
            let got = NumericDate::from_json(&value).map(|d| (d.floor(), d.ceil()));
            assert_eq!(got, expected, "{value}");
        }
    }
}
