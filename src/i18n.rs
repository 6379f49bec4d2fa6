//! The two languages every user-facing string exists in.

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

#[cfg(test)]
mod tests {
    use super::*;

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
