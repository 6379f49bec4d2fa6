//! `esia-link diagnose`: the operator's lookup on the command line.

use app::console::diagnose::{nothing_found, AttemptView, Diagnosis};
use config::Config;
use i18n::Lang;

pub async fn run(
    config: Config,
    query: &str,
    json: bool,
    unmask: bool,
    lang: Lang,
) -> anyhow::Result<()> {
    let (app, _) = crate::startup::build_tool_app(config).await?;
    let actor = format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    );
    let diagnosis = app.console().diagnose(query, &actor, unmask, lang).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&diagnosis)?);
    } else {
        print!("{}", render(&diagnosis, lang));
    }
    anyhow::ensure!(diagnosis.found, "{}", nothing_found(query, lang));
    Ok(())
}

/// The plain-text report.
pub fn render(diagnosis: &Diagnosis, lang: Lang) -> String {
    let t = |ru: &'static str, en: &'static str| lang.pick(ru, en);
    let mut out = String::new();
    for account in &diagnosis.accounts {
        out.push_str(&format!(
            "{} {} — {} ({}), {}, {}: {}\n",
            t("Учётная запись", "Account"),
            account.id,
            account.full_name,
            account.role,
            account
                .school
                .as_deref()
                .unwrap_or(t("без школы", "no school")),
            t("СНИЛС", "SNILS"),
            account.snils.as_deref().unwrap_or("—"),
        ));
        for identity in &account.identities {
            out.push_str(&format!(
                "  {} {} {}, {} {}\n",
                t("связана с", "linked to"),
                identity.provider,
                identity.subject,
                t("с", "since"),
                identity.linked_at.format("%Y-%m-%d %H:%M UTC"),
            ));
        }
    }
    if diagnosis.attempts.is_empty() {
        out.push_str(t(
            "Попыток входа не найдено.\n",
            "No login attempts found.\n",
        ));
    }
    for attempt in &diagnosis.attempts {
        out.push_str(&render_attempt(attempt, lang));
    }
    out
}

fn render_attempt(attempt: &AttemptView, lang: Lang) -> String {
    let t = |ru: &'static str, en: &'static str| lang.pick(ru, en);
    let marker = if attempt.looked_up { "▶" } else { " " };
    let mut out = format!(
        "{marker} {} {} {} {}",
        attempt.at.format("%Y-%m-%d %H:%M:%S UTC"),
        attempt.reference,
        attempt.provider,
        attempt.outcome,
    );
    if let Some(code) = &attempt.error_code {
        out.push_str(&format!(" [{code}]"));
    }
    out.push('\n');
    let tier = match (&attempt.tier, attempt.tier_known) {
        (Some(tier), Some(false)) => format!("{tier} ({})", t("не известен точно", "inferred")),
        (Some(tier), _) => tier.clone(),
        (None, _) => "—".into(),
    };
    out.push_str(&format!(
        "    {}: {tier}; {}: {}\n",
        t("уровень", "tier"),
        t("регион", "region"),
        attempt
            .region
            .map(|r| r.to_string())
            .unwrap_or_else(|| "—".into())
    ));
    if let Some(parts) = attempt.details.get("parts").and_then(|p| p.as_array()) {
        for part in parts {
            let name = part.get("part").and_then(|v| v.as_str()).unwrap_or("?");
            let verdict = part
                .get("comparison")
                .and_then(|v| v.as_str())
                .unwrap_or("?");
            let rules: Vec<&str> = part
                .get("rules")
                .and_then(|r| r.as_array())
                .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            out.push_str(&format!("    {name}: {verdict}"));
            if !rules.is_empty() {
                out.push_str(&format!(" ({})", rules.join(", ")));
            }
            out.push('\n');
        }
    }
    if let Some(snils_from_idp) = attempt
        .details
        .get("snils_from_idp")
        .and_then(|v| v.as_bool())
    {
        out.push_str(&format!(
            "    {}: {}\n",
            t("СНИЛС от провайдера", "SNILS from the IdP"),
            if snils_from_idp {
                attempt
                    .details
                    .get("snils")
                    .and_then(|v| v.as_str())
                    .unwrap_or(t("есть, недействителен", "present, invalid"))
            } else {
                t("нет", "absent")
            }
        ));
    }
    out.push_str(&format!(
        "    {} ({}):\n",
        t("что делать", "remedy"),
        attempt.remedy.side.label(lang)
    ));
    for step in &attempt.remedy.steps {
        out.push_str(&format!("      - {step}\n"));
    }
    out
}
