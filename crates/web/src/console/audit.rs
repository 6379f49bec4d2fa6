//! `/ops/audit`: the audit log, newest first, a page at a time.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;

use crate::error::WebError;
use crate::lang::RequestLang;
use crate::pages::{render, Chrome};
use crate::{query_param, AppState};
use app::console::actions::{parse_moment, AuditQuery, Bound};
use i18n::Lang;

use super::operator_or_page;

struct AuditTexts {
    actor: &'static str,
    subject: &'static str,
    action: &'static str,
    since: &'static str,
    until: &'static str,
    filter: &'static str,
    at: &'static str,
    target: &'static str,
    reason: &'static str,
    details: &'static str,
    none: &'static str,
    more: &'static str,
    back: &'static str,
    scoped: &'static str,
}

impl AuditTexts {
    fn new(lang: Lang) -> AuditTexts {
        let t = |ru, en| lang.pick(ru, en);
        AuditTexts {
            actor: t("Кто", "Actor"),
            subject: t("Объект (id)", "Subject (id)"),
            action: t("Действие", "Action"),
            since: t("С (ГГГГ-ММ-ДД или 24h)", "Since (YYYY-MM-DD or 24h)"),
            until: t("До (ГГГГ-ММ-ДД или 24h)", "Until (YYYY-MM-DD or 24h)"),
            filter: t("Показать", "Filter"),
            at: t("Время (UTC)", "Time (UTC)"),
            target: t("Объект", "Subject"),
            reason: t("Причина", "Reason"),
            details: t("Подробности", "Details"),
            none: t("Записей нет.", "No entries."),
            more: t("Ещё (более ранние записи)", "More (older entries)"),
            back: t("К консоли поддержки", "Back to the support console"),
            scoped: t(
                "Показаны только записи об учётных записях вашей школы.",
                "Only entries about accounts of your school are shown.",
            ),
        }
    }
}

struct AuditRowView {
    id: i64,
    at: String,
    actor: String,
    action: String,
    target: String,
    reason: String,
    details: String,
}

#[derive(Template)]
#[template(path = "ops_audit.html")]
struct AuditPageView {
    chrome: Chrome,
    t: AuditTexts,
    actor: String,
    subject: String,
    action: String,
    since: String,
    until: String,
    scoped: bool,
    problem: Option<String>,
    rows: Vec<AuditRowView>,
    more_url: Option<String>,
}

/// `GET /ops/audit?actor=&subject=&action=&since=&until=`: the audit log,
/// newest first, a page at a time.
pub(super) async fn audit(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    RequestLang(lang): RequestLang,
) -> Result<Response, WebError> {
    let operator = match operator_or_page(&app, &headers, lang, "/ops/audit").await? {
        Ok(operator) => operator,
        Err(page) => return Ok(page),
    };
    let param = |name: &str| {
        query_param(query.as_deref(), name)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let (actor, subject, action, since, until) = (
        param("actor"),
        param("subject"),
        param("action"),
        param("since"),
        param("until"),
    );
    let now = Utc::now();
    let moment = |text: &str, bound| match text {
        "" => Ok(None),
        text => parse_moment(text, bound, now).map(Some).ok_or(()),
    };
    let mut page = AuditPageView {
        chrome: Chrome::new(
            lang,
            lang.pick("Журнал действий", "Audit log"),
            "/ops/audit",
        ),
        t: AuditTexts::new(lang),
        scoped: operator.role.school().is_some(),
        problem: None,
        rows: Vec::new(),
        more_url: None,
        actor,
        subject,
        action,
        since,
        until,
    };
    let (Ok(since), Ok(until)) = (
        moment(&page.since, Bound::Since),
        moment(&page.until, Bound::Until),
    ) else {
        page.problem = Some(
            lang.pick(
                "Время не распознано: укажите дату ГГГГ-ММ-ДД или срок вроде 90m, 24h, 7d.",
                "The time was not understood: give a date YYYY-MM-DD or a span like 90m, 24h, 7d.",
            )
            .to_string(),
        );
        return Ok(render(StatusCode::BAD_REQUEST, &page));
    };
    let filled = |v: &str| (!v.is_empty()).then(|| v.to_string());
    let entries = app
        .console()
        .audit_log(
            &operator,
            &AuditQuery {
                actor: filled(&page.actor),
                subject: filled(&page.subject),
                action: filled(&page.action),
                since,
                until,
                before: query_param(query.as_deref(), "before").and_then(|b| b.trim().parse().ok()),
            },
        )
        .await?;
    page.more_url = entries.more_before.map(|before| {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("actor", &page.actor),
            ("subject", &page.subject),
            ("action", &page.action),
            ("since", &page.since),
            ("until", &page.until),
        ] {
            if !value.is_empty() {
                url.append_pair(name, value);
            }
        }
        url.append_pair("before", &before.to_string());
        format!("/ops/audit?{}", url.finish())
    });
    page.rows = entries
        .rows
        .into_iter()
        .map(|e| AuditRowView {
            id: e.id,
            at: e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
            actor: e.actor,
            action: e.action,
            target: format!("{}:{}", e.target_kind, e.target_id),
            reason: e.reason.unwrap_or_default(),
            details: e.details.to_string(),
        })
        .collect();
    Ok(render(StatusCode::OK, &page))
}
