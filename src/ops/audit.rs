//! `esia-link audit`: the append-only audit log, filtered by actor, action,
//! target and time; and `esia-link report duplicates`.

use chrono::Utc;

use super::report::parse_since;
use config::Config;
use i18n::Lang;
use store::AuditFilter;

pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub since: Option<String>,
    /// Rows before this moment: `2026-09-01` (the end of that day) or a
    /// span back from now (`2h`).
    pub until: Option<String>,
    pub limit: i64,
    pub json: bool,
}

pub async fn audit(config: Config, query: AuditQuery, lang: Lang) -> anyhow::Result<()> {
    let since = match &query.since {
        Some(text) => Some(
            Utc::now()
                - parse_since(text).ok_or_else(|| {
                    anyhow::anyhow!(
                        "{}: {text:?}",
                        lang.pick("--since ожидает 90m, 24h, 7d", "--since wants 90m, 24h, 7d")
                    )
                })?,
        ),
        None => None,
    };
    let until = match &query.until {
        Some(text) => Some(
            app::console::actions::parse_moment(
                text,
                app::console::actions::Bound::Until,
                Utc::now(),
            )
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: {text:?}",
                    lang.pick(
                        "--until ожидает ГГГГ-ММ-ДД или 90m, 24h, 7d",
                        "--until wants YYYY-MM-DD or 90m, 24h, 7d"
                    )
                )
            })?,
        ),
        None => None,
    };
    let (_, store) = crate::startup::build_tool_app(config).await?;
    let entries = store
        .audit_entries(&AuditFilter {
            actor: query.actor,
            action: query.action,
            target_id: query.target,
            since,
            until,
            limit: query.limit,
            ..AuditFilter::default()
        })
        .await?;
    if query.json {
        let rows: Vec<_> = entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "id": e.id, "at": e.at, "actor": e.actor, "action": e.action,
                    "target_kind": e.target_kind, "target_id": e.target_id,
                    "reason": e.reason, "details": e.details,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    for e in &entries {
        println!(
            "{} #{} {} {} {}:{}{}",
            e.at.format("%Y-%m-%d %H:%M:%S UTC"),
            e.id,
            e.actor,
            e.action,
            e.target_kind,
            e.target_id,
            e.reason
                .as_deref()
                .map(|r| format!(" — {r}"))
                .unwrap_or_default()
        );
    }
    if entries.is_empty() {
        println!("{}", lang.pick("Записей нет.", "No entries."));
    }
    Ok(())
}

pub async fn duplicates(config: Config, lang: Lang) -> anyhow::Result<()> {
    let (_, store) = crate::startup::build_tool_app(config).await?;
    let shared = store.shared_snils().await?;
    let contested = store.contested_accounts().await?;
    println!(
        "{}",
        lang.pick(
            "Учётные записи с одним СНИЛС (исправляет школа):",
            "Accounts sharing a SNILS (the school corrects them):"
        )
    );
    for (snils, accounts) in &shared {
        let masked = domain::snils::Snils::parse(snils)
            .map(|s| s.masked())
            .unwrap_or_else(|_| "(invalid)".into());
        let ids: Vec<String> = accounts.iter().map(ToString::to_string).collect();
        println!("  {masked}: {}", ids.join(", "));
    }
    if shared.is_empty() {
        println!("  —");
    }
    println!(
        "{}",
        lang.pick(
            "Учётные записи, на которые претендовала другая учётная запись Госуслуг:",
            "Accounts another State Services identity tried to claim:"
        )
    );
    for (account, provider, identities) in &contested {
        println!(
            "  {account} ({provider}): {identities} {}",
            lang.pick("других учётных записей", "other identities")
        );
    }
    if contested.is_empty() {
        println!("  —");
    }
    Ok(())
}
