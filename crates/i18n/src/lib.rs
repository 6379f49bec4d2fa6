//! The two languages every user-facing string exists in, and times as
//! people of a region read them.

use chrono::{DateTime, Offset, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// Russian is the default; English on request (`?lang=en` or `Accept-Language: en`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Ru,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    /// `"ru"` / `"en"` (any case, region suffix ignored); anything else is `None`.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "ru" => Some(Lang::Ru),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the language: an explicit choice wins, then the first supported
    /// entry of `Accept-Language` by quality, then Russian.
    pub fn negotiate(explicit: Option<&str>, accept_language: Option<&str>) -> Lang {
        if let Some(lang) = explicit.and_then(Lang::parse) {
            return lang;
        }
        let Some(header) = accept_language else {
            return Lang::Ru;
        };
        let mut best: Option<(Lang, f32)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("");
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(lang) = Lang::parse(tag) {
                if best.is_none_or(|(_, q)| quality > q) {
                    best = Some((lang, quality));
                }
            }
        }
        best.map(|(lang, _)| lang).unwrap_or(Lang::Ru)
    }

    /// Chooses between the two spellings of one message.
    pub fn pick<'a>(self, ru: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ru => ru,
            Lang::En => en,
        }
    }
}

/// A moment as shown to a person in `zone`, with the zone named so that
/// nobody has to guess: `30.11.2026 11:00 (МСК)`, `30.11.2026 13:00
/// (МСК+2)` (Russians count zones from Moscow time), in English `30 Nov
/// 2026 13:00 (UTC+5)`.
pub fn local_time(at: DateTime<Utc>, zone: chrono_tz::Tz, lang: Lang) -> String {
    let local = zone.from_utc_datetime(&at.naive_utc());
    let offset_minutes = local.offset().fix().local_minus_utc() / 60;
    match lang {
        Lang::Ru => format!(
            "{} ({})",
            local.format("%d.%m.%Y %H:%M"),
            relative_label("МСК", offset_minutes - 180)
        ),
        Lang::En => format!(
            "{} ({})",
            local.format("%-d %b %Y %H:%M"),
            relative_label("UTC", offset_minutes)
        ),
    }
}

/// `МСК`, `МСК+2`, `UTC−1`, `UTC+5:30` (a true minus sign).
fn relative_label(base: &str, minutes: i32) -> String {
    if minutes == 0 {
        return base.to_string();
    }
    let sign = if minutes > 0 { '+' } else { '\u{2212}' };
    let (hours, rest) = (minutes.abs() / 60, minutes.abs() % 60);
    if rest == 0 {
        format!("{base}{sign}{hours}")
    } else {
        format!("{base}{sign}{hours}:{rest:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_the_zone_and_name_it() {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 30, 8, 0, 0)
            .single()
            .expect("time");
        let cases = [
            (
                chrono_tz::Europe::Moscow,
                Lang::Ru,
                "30.11.2026 11:00 (МСК)",
            ),
            (
                chrono_tz::Europe::Moscow,
                Lang::En,
                "30 Nov 2026 11:00 (UTC+3)",
            ),
            (
                chrono_tz::Asia::Yekaterinburg,
                Lang::Ru,
                "30.11.2026 13:00 (МСК+2)",
            ),
            (
                chrono_tz::Asia::Yekaterinburg,
                Lang::En,
                "30 Nov 2026 13:00 (UTC+5)",
            ),
            (
                chrono_tz::Europe::Kaliningrad,
                Lang::Ru,
                "30.11.2026 10:00 (МСК\u{2212}1)",
            ),
            (
                chrono_tz::Asia::Kolkata,
                Lang::En,
                "30 Nov 2026 13:30 (UTC+5:30)",
            ),
            (chrono_tz::UTC, Lang::En, "30 Nov 2026 08:00 (UTC)"),
        ];
        for (zone, lang, expected) in cases {
            assert_eq!(local_time(at, zone, lang), expected, "{zone} {lang:?}");
        }
    }

    #[test]
    fn negotiation_table() {
        let cases = [
            (None, None, Lang::Ru),
            (Some("en"), None, Lang::En),
            (Some("EN"), Some("ru"), Lang::En),
            (Some("de"), Some("en-US,en;q=0.9"), Lang::En),
            (None, Some("en-GB"), Lang::En),
            (None, Some("de-DE,en;q=0.5,ru;q=0.8"), Lang::Ru),
            (None, Some("fr"), Lang::Ru),
        ];
        for (explicit, header, expected) in cases {
            assert_eq!(
                Lang::negotiate(explicit, header),
                expected,
                "{explicit:?} {header:?}"
            );
        }
    }
}
