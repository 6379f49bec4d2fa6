//! Slowing down password guessing: a few free attempts, then an
//! exponentially growing wait after each failure, then a lockout. Pure: the
//! caller keeps the failure count and the time of the last failure, and
//! passes the current time in, so tests need no clock.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The `[throttle]` config section. Durations are whole seconds (`30`) or
/// a number with a unit: `"500ms"`, `"1s"`, `"15m"`, `"30min"`, `"1h"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottlePolicy {
    /// Failures allowed without any wait.
    pub free_attempts: u32,
    /// The wait after the first failure past the free ones; doubles with
    /// each further failure.
    #[serde(deserialize_with = "duration", serialize_with = "write_duration")]
    pub base_delay: Duration,
    /// The wait never grows beyond this.
    #[serde(deserialize_with = "duration", serialize_with = "write_duration")]
    pub max_delay: Duration,
    /// From this many failures on, each failure locks the account for
    /// `lock_for`; 0 turns lockout off.
    pub lock_after: u32,
    #[serde(deserialize_with = "duration", serialize_with = "write_duration")]
    pub lock_for: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            free_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(15 * 60),
            lock_after: 10,
            lock_for: Duration::from_secs(30 * 60),
        }
    }
}

/// Whether another attempt may be made now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Too many failures in a row: wait until then.
    WaitUntil(DateTime<Utc>),
    /// Locked after `lock_after` failures: no attempt until then.
    LockedUntil(DateTime<Utc>),
}

impl ThrottlePolicy {
    /// `failures` is the count of consecutive failures (reset on success by
    /// the caller), `last_failure` when the latest one happened. Without
    /// `last_failure` there is nothing to wait from, so the answer is
    /// [`Verdict::Allowed`]. Once locked, an attempt after the lock ends is
    /// allowed, and a failure then locks again at once.
    pub fn decide(
        &self,
        failures: u32,
        last_failure: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Verdict {
        let Some(last) = last_failure else {
            return Verdict::Allowed;
        };
        if self.lock_after > 0 && failures >= self.lock_after {
            let until = add(last, self.lock_for);
            return if now < until {
                Verdict::LockedUntil(until)
            } else {
                Verdict::Allowed
            };
        }
        match self.delay_after(failures) {
            Some(delay) => {
                let until = add(last, delay);
                if now < until {
                    Verdict::WaitUntil(until)
                } else {
                    Verdict::Allowed
                }
            }
            None => Verdict::Allowed,
        }
    }

    /// The wait after `failures` failures, ignoring lockout: none within
    /// the free attempts, then `base_delay`, doubling, at most `max_delay`.
    pub fn delay_after(&self, failures: u32) -> Option<Duration> {
        if failures < self.free_attempts.max(1) {
            return None;
        }
        let doublings = failures - self.free_attempts.max(1);
        let factor = 1u32.checked_shl(doublings).unwrap_or(u32::MAX);
        let delay = self
            .base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay);
        Some(delay.min(self.max_delay))
    }
}

/// `time + delay`, saturating instead of overflowing on absurd configs.
fn add(time: DateTime<Utc>, delay: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(delay)
        .ok()
        .and_then(|delta| time.checked_add_signed(delta))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl Verdict {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Verdict::Allowed)
    }

    /// When the next attempt may be made, if not now; the caller formats it
    /// in the person's time zone for [`Verdict::message`].
    pub fn retry_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Verdict::Allowed => None,
            Verdict::WaitUntil(at) | Verdict::LockedUntil(at) => Some(*at),
        }
    }
}

/// Reads `30` (seconds) or `"500ms"`, `"1s"`, `"15m"`, `"30min"`, `"1h"`.
/// Written back as the shortest exact spelling (`"1s"`, `"15m"`, `"500ms"`).
fn write_duration<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    let ms = value.as_millis();
    let text = if ms.is_multiple_of(3_600_000) && ms > 0 {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) && ms > 0 {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1_000) {
        format!("{}s", ms / 1_000)
    } else {
        format!("{ms}ms")
    };
    serializer.serialize_str(&text)
}

fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    struct DurationVisitor;

    impl Visitor<'_> for DurationVisitor {
        type Value = Duration;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("seconds as a number, or a string like \"500ms\", \"1s\", \"15m\", \"1h\"")
        }

        fn visit_u64<E: de::Error>(self, secs: u64) -> Result<Duration, E> {
            Ok(Duration::from_secs(secs))
        }

        fn visit_i64<E: de::Error>(self, secs: i64) -> Result<Duration, E> {
            u64::try_from(secs)
                .map(Duration::from_secs)
                .map_err(|_| E::custom("a duration cannot be negative"))
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
            parse_duration(text).ok_or_else(|| {
                E::custom(format!(
                    "{text:?} is not a duration; write e.g. \"500ms\", \"1s\", \"15m\", \"1h\""
                ))
            })
        }
    }

    deserializer.deserialize_any(DurationVisitor)
}

fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let millis_per_unit: u64 = match unit.trim() {
        "ms" => 1,
        "" | "s" | "sec" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    number
        .checked_mul(millis_per_unit)
        .map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 9, 1, h, m, s)
            .single()
            .expect("a valid time")
    }

    #[test]
    fn default_policy_table() {
        let policy = ThrottlePolicy::default();
        let last = at(10, 0, 0);
        let cases = [
            // (failures, seconds since the last failure, verdict)
            (0, 0, Verdict::Allowed),
            (4, 0, Verdict::Allowed),
            (5, 0, Verdict::WaitUntil(at(10, 0, 1))),
            (5, 1, Verdict::Allowed),
            (6, 0, Verdict::WaitUntil(at(10, 0, 2))),
            (6, 1, Verdict::WaitUntil(at(10, 0, 2))),
            (7, 3, Verdict::WaitUntil(at(10, 0, 4))),
            (8, 0, Verdict::WaitUntil(at(10, 0, 8))),
            (9, 0, Verdict::WaitUntil(at(10, 0, 16))),
            (9, 16, Verdict::Allowed),
            (10, 0, Verdict::LockedUntil(at(10, 30, 0))),
            (10, 29 * 60 + 59, Verdict::LockedUntil(at(10, 30, 0))),
            (10, 30 * 60, Verdict::Allowed),
            (11, 60, Verdict::LockedUntil(at(10, 30, 0))),
            (u32::MAX, 0, Verdict::LockedUntil(at(10, 30, 0))),
        ];
        for (failures, elapsed, expected) in cases {
            let now = last + TimeDelta::seconds(elapsed);
            assert_eq!(
                policy.decide(failures, Some(last), now),
                expected,
                "{failures} failures, {elapsed} s later"
            );
        }
        assert_eq!(policy.decide(7, None, last), Verdict::Allowed);
    }

    #[test]
    fn delay_doubles_up_to_the_cap() {
        let no_lock = ThrottlePolicy {
            lock_after: 0,
            ..ThrottlePolicy::default()
        };
        let cases = [
            (4, None),
            (5, Some(1)),
            (6, Some(2)),
            (10, Some(32)),
            (14, Some(512)),
            (15, Some(900)),
            (40, Some(900)),
            (u32::MAX, Some(900)),
        ];
        for (failures, seconds) in cases {
            assert_eq!(
                no_lock.delay_after(failures),
                seconds.map(Duration::from_secs),
                "{failures}"
            );
        }
        let last = at(10, 0, 0);
        assert_eq!(
            no_lock.decide(100, Some(last), last),
            Verdict::WaitUntil(at(10, 15, 0))
        );
    }

    #[derive(Debug, Deserialize)]
    struct Section {
        throttle: ThrottlePolicy,
    }

    #[test]
    fn config_section() {
        let parsed: Section = toml::from_str("[throttle]\n").expect("empty section");
        assert_eq!(parsed.throttle, ThrottlePolicy::default());

        let parsed: Section = toml::from_str(
            "[throttle]\nfree_attempts = 3\nbase_delay = \"500ms\"\nmax_delay = 600\nlock_after = 0\nlock_for = \"1h\"\n",
        )
        .expect("full section");
        assert_eq!(
            parsed.throttle,
            ThrottlePolicy {
                free_attempts: 3,
                base_delay: Duration::from_millis(500),
                max_delay: Duration::from_secs(600),
                lock_after: 0,
                lock_for: Duration::from_secs(3600),
            }
        );

        for (text, mentions) in [
            ("base_delay = \"soon\"", "soon"),
            ("lock_for = -5", "negative"),
            ("lock_aftr = 3", "lock_aftr"),
        ] {
            let error = toml::from_str::<Section>(&format!("[throttle]\n{text}\n"))
                .expect_err(text)
                .to_string();
            assert!(error.contains(mentions), "{text}: {error}");
        }
    }

    #[test]
    fn duration_spellings() {
        let cases = [
            ("1s", Some(1_000)),
            ("15m", Some(900_000)),
            ("30min", Some(1_800_000)),
            ("1h", Some(3_600_000)),
            ("250ms", Some(250)),
            ("42", Some(42_000)),
            (" 2 s", Some(2_000)),
            ("1d", None),
            ("", None),
            ("m", None),
        ];
        for (text, millis) in cases {
            assert_eq!(
                parse_duration(text),
                millis.map(Duration::from_millis),
                "{text:?}"
            );
        }
    }
}
