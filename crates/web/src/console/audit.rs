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
    show: &'static str,
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
            show: t("показать", "show"),
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
    /// Who, in words («оператор»); the id folded.
    actor: String,
    actor_id: String,
    /// The person the actor is: masked name, login, school.
    actor_person: Option<String>,
    /// The code, for the row's data attribute only.
    action: String,
    action_words: String,
    target: String,
    target_id: String,
    /// The person the row is about, if it is about an account.
    target_person: Option<String>,
    reason: String,
    /// Pretty JSON, folded.
    details: String,
}

/// «operator:UUID» → («оператор», "UUID").
fn who(actor: &str, lang: Lang) -> (String, String) {
    let (kind, id) = actor.split_once(':').unwrap_or((actor, ""));
    let words = match kind {
        "operator" => lang.pick("оператор", "operator"),
        "school_token" => lang.pick("школа (ключ API)", "school (API token)"),
        "system" => lang.pick("система", "system"),
        "account" => lang.pick("сам человек", "the person"),
        "test" => lang.pick("тест", "test"),
        other => other,
    };
    (words.to_string(), id.to_string())
}

fn kind_words(kind: &str, lang: Lang) -> String {
    match kind {
        "account" => lang.pick("учётная запись", "account"),
        "link" => lang.pick("связь", "link"),
        "invitation" => lang.pick("приглашение", "invitation"),
        "relationship" => lang.pick("связь родителя с ребёнком", "parent link"),
        "school" => lang.pick("школа", "school"),
        "attempt" => lang.pick("попытка входа", "login attempt"),
        other => other,
    }
    .to_string()
}

/// An audit action in words (an unknown one as it is).
fn action_words(action: &str, lang: Lang) -> String {
    let (ru, en) = match action {
        "link.created" => ("связь с Госуслугами создана", "link created"),
        "link.deleted" => ("связь с Госуслугами удалена", "link removed"),
        "link.relinked" => ("связь перенесена на эту запись", "link moved here"),
        "link.relinked_away" => ("связь перенесена на другую запись", "link moved away"),
        "account.created" => ("учётная запись создана", "account created"),
        "account.activation_reset" => ("активация сброшена", "activation reset"),
        "account.credentials_set" => ("пароль задан при активации", "credentials set"),
        "account.data_corrected" => ("данные исправлены", "data corrected"),
        "account.locked" => ("учётная запись заблокирована", "account blocked"),
        "account.unlocked" => ("учётная запись разблокирована", "account unblocked"),
        "account.email_confirmed" => ("почта подтверждена", "e-mail confirmed"),
        "account.password_reset" => ("пароль восстановлен", "password reset"),
        "account.password_reset_by_parent" => (
            "пароль ребёнка сброшен родителем",
            "password reset by the parent",
        ),
        "activation_code.issued" => ("выдан код активации", "activation code issued"),
        "invitation.sent" => ("приглашение отправлено", "invitation sent"),
        "invitation.accepted" => ("приглашение принято", "invitation accepted"),
        "invitation.declined" => ("приглашение отклонено", "invitation declined"),
        "invitation.revoked" => ("доступ отозван", "access revoked"),
        "invitation.expired" => ("приглашение просрочено", "invitation expired"),
        "invitation.opened" => ("доступ открыт", "access opened"),
        "relationship.proposed" => ("школа указала родителя", "parent proposed by the school"),
        "relationship.confirmed" => ("связь с ребёнком подтверждена", "parent link confirmed"),
        "relationship.declined" => ("связь с ребёнком отклонена", "parent link declined"),
        "diagnose.lookup" => ("поиск в консоли", "console lookup"),
        "diagnose.lookup_unmasked" => (
            "поиск в консоли без маскирования",
            "console lookup, unmasked",
        ),
        "operator.granted" => ("выдана роль оператора", "operator role granted"),
        "roster.imported" => ("загружен список школы", "roster imported"),
        "school.created" => ("школа создана", "school created"),
        "school_token.created" => ("выдан ключ API школы", "school API token issued"),
        other => return other.to_string(),
    };
    lang.pick(ru, en).to_string()
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
    let people = &entries.people;
    let person = |id: &str| {
        let label = uuid::Uuid::parse_str(id)
            .ok()
            .and_then(|id| people.get(&id))?;
        Some(format!(
            "{}, {}: {}, {}",
            label.name,
            lang.pick("логин", "login"),
            label.login.as_deref().unwrap_or("—"),
            label
                .school
                .as_deref()
                .unwrap_or(lang.pick("без школы", "no school")),
        ))
    };
    page.rows = entries
        .rows
        .into_iter()
        .map(|e| {
            let (actor, actor_id) = who(&e.actor, lang);
            let target_person = (e.target_kind == "account")
                .then(|| person(&e.target_id))
                .flatten();
            AuditRowView {
                id: e.id,
                at: e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
                actor_person: person(&actor_id),
                actor,
                actor_id,
                target_person,
                action_words: action_words(&e.action, lang),
                action: e.action,
                target: kind_words(&e.target_kind, lang),
                target_id: e.target_id.to_string(),
                reason: e.reason.unwrap_or_default(),
                details: serde_json::to_string_pretty(&e.details).unwrap_or_default(),
            }
        })
        .collect();
    Ok(render(StatusCode::OK, &page))
}
