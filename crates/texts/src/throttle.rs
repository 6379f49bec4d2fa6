//! The rate limiter's verdicts, as a person reads them.

use domain::throttle::Verdict;
use i18n::Lang;

use crate::VerdictText;

impl VerdictText for Verdict {
    /// What to tell the person, with `retry_at` already formatted (e.g.
    /// "10:42"); `None` when the attempt is allowed.
    fn message(&self, lang: Lang, retry_at: &str) -> Option<String> {
        let text = match (self, lang) {
            (Verdict::Allowed, _) => return None,
            (Verdict::WaitUntil(_), Lang::Ru) => {
                format!("Слишком много попыток. Повторите после {retry_at}")
            }
            (Verdict::WaitUntil(_), Lang::En) => {
                format!("Too many attempts. Try again after {retry_at}")
            }
            (Verdict::LockedUntil(_), Lang::Ru) => format!(
                "Вход временно заблокирован после многих неудачных попыток. Повторите после {retry_at}"
            ),
            (Verdict::LockedUntil(_), Lang::En) => format!(
                "Sign-in is locked for a while after too many failed attempts. Try again after {retry_at}"
            ),
        };
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 9, 1, h, m, s)
            .single()
            .expect("a valid time")
    }
    #[test]
    fn messages_name_the_time() {
        let wait = Verdict::WaitUntil(at(10, 42, 0));
        assert_eq!(
            wait.message(Lang::Ru, "10:42").as_deref(),
            Some("Слишком много попыток. Повторите после 10:42")
        );
        assert_eq!(
            wait.message(Lang::En, "10:42").as_deref(),
            Some("Too many attempts. Try again after 10:42")
        );
        let locked = Verdict::LockedUntil(at(11, 0, 0));
        for lang in [Lang::Ru, Lang::En] {
            let text = locked.message(lang, "11:00").unwrap_or_default();
            assert!(text.ends_with("11:00"), "{text}");
        }
        assert_eq!(Verdict::Allowed.message(Lang::Ru, "10:42"), None);
        assert_eq!(locked.retry_at(), Some(at(11, 0, 0)));
        assert!(Verdict::Allowed.is_allowed() && !wait.is_allowed());
    }
}
