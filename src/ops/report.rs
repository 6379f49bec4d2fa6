//! `esia-link report outcomes --since 24h`: how logins went, by outcome and
//! region, with the most frequent reasons — a spike of `name_mismatch` in
//! one region on the first of September shows up here first.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};

use config::Config;
use i18n::Lang;
use store::OutcomeCount;

/// `24h`, `7d`, `90m` → a duration.
pub fn parse_since(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.len().checked_sub(1)?);
    let n: i64 = number.parse().ok().filter(|n| *n > 0)?;
    match unit {
        "m" => Some(Duration::minutes(n)),
        "h" => Some(Duration::hours(n)),
        "d" => Some(Duration::days(n)),
        _ => None,
    }
}

pub async fn outcomes(config: Config, since: &str, json: bool, lang: Lang) -> anyhow::Result<()> {
    let window = parse_since(since).ok_or_else(|| {
        anyhow::anyhow!(
            "{}: {since:?}",
            lang.pick(
                "--since ожидает число и единицу: 90m, 24h, 7d",
                "--since wants a number and a unit: 90m, 24h, 7d"
            )
        )
    })?;
    let (_, store) = crate::startup::build_tool_app(config).await?;
    let counts = store.outcome_counts(Utc::now() - window).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&counts)?);
    } else {
        print!("{}", render(&counts, since, lang));
    }
    Ok(())
}

pub fn render(counts: &[OutcomeCount], since: &str, lang: Lang) -> String {
    let t = |ru: &'static str, en: &'static str| lang.pick(ru, en);
    let total: i64 = counts.iter().map(|c| c.count).sum();
    let mut out = format!(
        "{} {since}: {total}\n",
        t("Попыток входа за", "Login attempts in the last")
    );
    let mut by_outcome: BTreeMap<&str, i64> = BTreeMap::new();
    let mut by_region: BTreeMap<(Option<i64>, &str), i64> = BTreeMap::new();
    let mut reasons: BTreeMap<&str, i64> = BTreeMap::new();
    for c in counts {
        *by_outcome.entry(c.outcome.as_str()).or_default() += c.count;
        *by_region
            .entry((c.region_code, c.outcome.as_str()))
            .or_default() += c.count;
        if let Some(code) = &c.error_code {
            *reasons.entry(code.as_str()).or_default() += c.count;
        }
    }
    let mut outcomes: Vec<_> = by_outcome.into_iter().collect();
    outcomes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    out.push_str(&format!("\n{}\n", t("По исходу:", "By outcome:")));
    for (outcome, n) in &outcomes {
        let share = if total > 0 {
            *n as f64 * 100.0 / total as f64
        } else {
            0.0
        };
        out.push_str(&format!("  {outcome:<18} {n:>8}  {share:5.1}%\n"));
    }
    out.push_str(&format!("\n{}\n", t("По региону:", "By region:")));
    for ((region, outcome), n) in &by_region {
        let region = region.map(|r| r.to_string()).unwrap_or_else(|| "—".into());
        out.push_str(&format!("  {region:>4}  {outcome:<18} {n:>8}\n"));
    }
    if !reasons.is_empty() {
        let mut top: Vec<_> = reasons.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        out.push_str(&format!("\n{}\n", t("Частые причины:", "Top reasons:")));
        for (code, n) in top.into_iter().take(10) {
            out.push_str(&format!("  {code:<28} {n:>8}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_parses_minutes_hours_days_and_refuses_the_rest() {
        assert_eq!(parse_since("24h"), Some(Duration::hours(24)));
        assert_eq!(parse_since("7d"), Some(Duration::days(7)));
        assert_eq!(parse_since("90m"), Some(Duration::minutes(90)));
        for bad in ["", "h", "0h", "-1h", "24", "24x", "1.5h"] {
            assert_eq!(parse_since(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_report_sums_by_outcome_region_and_reason() {
        let row = |outcome: &str, region: Option<i64>, code: Option<&str>, count| OutcomeCount {
            outcome: outcome.into(),
            region_code: region,
            error_code: code.map(str::to_string),
            count,
        };
        let counts = vec![
            row("logged_in", Some(29), None, 90),
            row("name_mismatch", Some(29), None, 6),
            row("name_mismatch", Some(78), None, 2),
            row("idp_error", None, Some("ESIA-007004"), 2),
        ];
        let text = render(&counts, "24h", Lang::En);
        assert!(
            text.contains("Login attempts in the last 24h: 100"),
            "{text}"
        );
        assert!(
            text.contains("name_mismatch             8    8.0%"),
            "{text}"
        );
        assert!(text.contains("  29  name_mismatch             6"), "{text}");
        assert!(text.contains("ESIA-007004"), "{text}");
    }
}
