//! `/ops`: the operator console. Operators log in like everyone else (via
//! State Services) with an account that holds an operator role: `support`
//! (masked view), `privileged_support` (may unmask) or `school_admin` (masked
//! view of their own school's people, who alone may correct personal data).
//! They type a reference code, a diary login or a SNILS and see the
//! attempts, the comparison and the remedy; they unlink, relink, correct,
//! lock and unlock with a reason; `/ops/audit` reads the audit log. Without a lookup the
//! front page charts attempts per hour by outcome. Every lookup and every
//! change is audited under `operator:{account id}`.
//!
//! School administrators see the audit viewer too, limited to rows about
//! accounts of their school.

mod account_lock;
mod actions;
mod audit;
mod kept;
mod operator_actions;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::chart::{outcome_colour, stacked_bars, BarChart, Series};
use super::error::WebError;
use super::lang::RequestLang;
use super::pages::{render, Chrome, MessagePage, OpsAccount, OpsAttempt};
use super::{cookies, query_param, AppState};
use ::texts::prelude::*;
use app::console::account_lock::LockRecord;
use app::console::actions::{ConsoleRequest, HourlyOutcomes, Operator};
use app::console::diagnose::{nothing_found, Diagnosis};
use app::shared::OperatorRole;
use app::AppError;
use domain::link::OutcomeCode;
use domain::name::{NamePart, NameRule};
use domain::tier::Tier;
use i18n::Lang;
use kept::KeptForm;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ops", get(console))
        .route("/ops/audit", get(audit::audit))
        .route("/ops/unlink", post(actions::unlink))
        .route("/ops/relink", post(actions::relink))
        .route("/ops/correct", post(actions::correct))
        .merge(operator_actions::router())
        .merge(account_lock::router())
}

/// The console's words, chosen per request.
struct ConsoleTexts {
    query: &'static str,
    lookup: &'static str,
    unmask: &'static str,
    who_fixes: &'static str,
    tier: &'static str,
    unlink: &'static str,
    more_actions: &'static str,
    show_id: &'static str,
    reset_activation: &'static str,
    confirm_relationship: &'static str,
    lock: &'static str,
    unlock: &'static str,
    pupil_id: &'static str,
    reason: &'static str,
    relink_to: &'static str,
    relink: &'static str,
    correct_heading: &'static str,
    correct_hint: &'static str,
    surname: &'static str,
    given_name: &'static str,
    patronymic: &'static str,
    birth_date: &'static str,
    snils: &'static str,
    correct: &'static str,
    chart_heading: &'static str,
    region: &'static str,
    show: &'static str,
    audit_link: &'static str,
}

impl ConsoleTexts {
    fn new(lang: Lang) -> ConsoleTexts {
        let t = |ru, en| lang.pick(ru, en);
        ConsoleTexts {
            query: t(
                "Код обращения, логин или СНИЛС",
                "Reference code, login or SNILS",
            ),
            lookup: t("Найти", "Look up"),
            unmask: t("показать полностью", "show in full"),
            who_fixes: t("Кто исправляет", "Who fixes it"),
            tier: t("Уровень", "Tier"),
            unlink: t("Отвязать", "Unlink"),
            more_actions: t("Другие действия", "More actions"),
            show_id: t("Показать идентификатор", "Show the id"),
            reset_activation: t(
                "Сбросить активацию (новый код)",
                "Reset activation (new code)",
            ),
            confirm_relationship: t(
                "Подтвердить связь с учеником",
                "Confirm the relationship with a pupil",
            ),
            lock: t("Заблокировать", "Block"),
            unlock: t("Разблокировать", "Unblock"),
            pupil_id: t("id ученика", "pupil's id"),
            reason: t("Причина", "Reason"),
            relink_to: t(
                "Перенести связь на учётную запись (id)",
                "Move the link to account (id)",
            ),
            relink: t("Перенести", "Move link"),
            correct_heading: t("Исправить данные", "Correct the data"),
            correct_hint: t(
                "ФИО — целиком, как в документе; пустые поля остаются как есть.",
                "The full name as in the document; blank fields stay as they are.",
            ),
            surname: t("Фамилия", "Surname"),
            given_name: t("Имя", "Given name"),
            patronymic: t("Отчество", "Patronymic"),
            birth_date: t("Дата рождения (ГГГГ-ММ-ДД)", "Birth date (YYYY-MM-DD)"),
            snils: t("СНИЛС", "SNILS"),
            correct: t("Исправить", "Correct"),
            chart_heading: t(
                "Попытки входа по часам за последние 24 часа (UTC)",
                "Login attempts per hour, last 24 hours (UTC)",
            ),
            region: t("Регион (код)", "Region (code)"),
            show: t("Показать", "Show"),
            audit_link: t("Журнал действий", "Audit log"),
        }
    }
}

#[derive(Template)]
#[template(path = "ops_console.html")]
struct ConsolePage {
    chrome: Chrome,
    t: ConsoleTexts,
    query: String,
    may_unmask: bool,
    may_correct: bool,
    searched: bool,
    found: bool,
    /// What "nothing found" says for this query.
    nothing: &'static str,
    accounts: Vec<OpsAccount>,
    attempts: Vec<OpsAttempt>,
    csrf: String,
    /// A one-line notice ("the link was removed").
    notice: Option<String>,
    /// The front page's chart, an `<svg>` built by [`stacked_bars`].
    chart: Option<String>,
    region: String,
    /// A refused form, shown again with its input and the error beside it.
    kept: Option<KeptForm>,
}

impl ConsolePage {
    fn kept_for(&self, form: &str, account: &str, provider: &str) -> Option<&KeptForm> {
        self.kept.as_ref().filter(|k| k.is(form, account, provider))
    }

    /// What the refused form (form, account, provider) had in `field`.
    fn kept_value(&self, form: &str, account: &str, provider: &str, field: &str) -> &str {
        self.kept_for(form, account, provider)
            .map_or("", |k| k.value(field))
    }

    /// The error of the refused form (form, account, provider), if it is
    /// about `field`.
    fn kept_error(&self, form: &str, account: &str, provider: &str, field: &str) -> Option<&str> {
        self.kept_for(form, account, provider)
            .filter(|k| k.field == field)
            .map(|k| k.error.as_str())
    }
}

/// `/?region=29&return_to=...`: the login page, coming back here.
fn log_in_first(return_to: &'static str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/?region=29&return_to={return_to}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// The operator behind the request, or the page to show instead.
async fn operator_or_page(
    app: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    return_to: &'static str,
) -> Result<Result<Operator, Response>, WebError> {
    let cookie = cookies::get(headers, cookies::SESSION);
    match app.console().operator(cookie.as_deref()).await {
        Ok(operator) => Ok(Ok(operator)),
        Err(AppError::NotLoggedIn) => Ok(Err(log_in_first(return_to))),
        Err(AppError::Forbidden) => Ok(Err(forbidden(
            lang,
            lang.pick(
                "Консоль поддержки открыта только сотрудникам поддержки и администраторам школ.",
                "The support console is for support staff and school administrators only.",
            ),
        ))),
        Err(e) => Err(e.into()),
    }
}

async fn console(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    RequestLang(lang): RequestLang,
) -> Result<Response, WebError> {
    let operator = match operator_or_page(&app, &headers, lang, "/ops").await? {
        Ok(operator) => operator,
        Err(page) => return Ok(page),
    };
    console_page(&app, operator, query, lang, None).await
}

/// The console for `query`; with `kept`, a refused form shown again (422).
async fn console_page(
    app: &AppState,
    operator: Operator,
    query: Option<String>,
    lang: Lang,
    kept: Option<KeptForm>,
) -> Result<Response, WebError> {
    let looked_up = query_param(query.as_deref(), "q").filter(|q| !q.trim().is_empty());
    let notice = query_param(query.as_deref(), "done").and_then(|done| {
        let (ru, en) = match done.as_str() {
            "unlinked" => (
                "Связь удалена; причина записана в журнал.",
                "The link was removed; the reason is in the audit log.",
            ),
            "relinked" => (
                "Связь перенесена на другую учётную запись; причина записана в журнал.",
                "The link was moved to the other account; the reason is in the audit log.",
            ),
            "corrected" => (
                "Данные исправлены; исправленные поля и причина записаны в журнал.",
                "The data were corrected; the fields and the reason are in the audit log.",
            ),
            "unchanged" => (
                "В записи уже эти данные: ничего не изменилось.",
                "The record already says so: nothing changed.",
            ),
            "locked" => (
                "Учётная запись заблокирована: все её сеансы завершены, приложения получили выход; причина записана в журнал.",
                "The account is blocked: all its sessions ended and the apps were logged out; the reason is in the audit log.",
            ),
            "unlocked" => (
                "Учётная запись разблокирована; причина записана в журнал.",
                "The account is unblocked; the reason is in the audit log.",
            ),
            "lock_unchanged" => (
                "Состояние учётной записи уже такое: ничего не изменилось.",
                "The account is in that state already: nothing changed.",
            ),
            _ => return None,
        };
        Some(lang.pick(ru, en).to_string())
    });
    let unmask = query_param(query.as_deref(), "unmask").is_some();
    if unmask && !operator.role.may_unmask() {
        return Ok(forbidden(
            lang,
            lang.pick(
                "Показывать данные полностью может только старший сотрудник поддержки.",
                "Only privileged support may show the data in full.",
            ),
        ));
    }
    let region = query_param(query.as_deref(), "region")
        .and_then(|r| r.trim().parse::<i64>().ok())
        .filter(|r| (1..=999).contains(r));
    let request = ConsoleRequest {
        query: looked_up.clone(),
        unmask,
        region,
    };
    let console = app.console().page(&operator, &request, lang).await?;
    let diagnosis = console.diagnosis;
    let page = ConsolePage {
        chrome: Chrome::new(
            lang,
            lang.pick("Консоль поддержки", "Support console"),
            "/ops",
        ),
        nothing: nothing_found(looked_up.as_deref().unwrap_or_default(), lang),
        t: ConsoleTexts::new(lang),
        query: looked_up.unwrap_or_default(),
        may_unmask: operator.role.may_unmask(),
        may_correct: matches!(operator.role, OperatorRole::SchoolAdmin { .. }),
        searched: diagnosis.is_some(),
        found: diagnosis.as_ref().is_some_and(|d| d.found),
        accounts: diagnosis
            .as_ref()
            .map(|d| account_rows(d, lang))
            .unwrap_or_default(),
        attempts: diagnosis.map(|d| attempt_rows(d, lang)).unwrap_or_default(),
        csrf: operator.csrf,
        notice,
        chart: console.chart.as_ref().map(|c| chart(c, lang)),
        region: region.map(|r| r.to_string()).unwrap_or_default(),
        kept,
    };
    let status = if page.kept.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(status, &page))
}

fn account_rows(diagnosis: &Diagnosis, lang: Lang) -> Vec<OpsAccount> {
    diagnosis
        .accounts
        .iter()
        .map(|a| OpsAccount {
            id: a.id.to_string(),
            summary: format!(
                "{} ({}), {}, {}: {}, {}: {}",
                a.full_name,
                crate::account::role_label(&a.role, lang),
                a.school
                    .as_deref()
                    .unwrap_or(lang.pick("без школы", "no school")),
                lang.pick("логин", "login"),
                a.login.as_deref().unwrap_or("—"),
                lang.pick("СНИЛС", "SNILS"),
                a.snils.as_deref().unwrap_or("—")
            ),
            identities: a
                .identities
                .iter()
                .map(|i| {
                    (
                        i.provider.clone(),
                        i.subject.clone(),
                        i.linked_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                    )
                })
                .collect(),
            blocked: a.status == "blocked",
            lock_line: (a.status == "blocked").then(|| lock_line(a.lock.as_ref(), lang)),
        })
        .collect()
}

/// «Заблокирована 2026-12-07 19:40 UTC (operator:…): причина».
fn lock_line(lock: Option<&LockRecord>, lang: Lang) -> String {
    let blocked = lang.pick("Учётная запись заблокирована", "The account is blocked");
    match lock {
        Some(lock) => format!(
            "{blocked} {} ({}: {}){}",
            lock.at.format("%Y-%m-%d %H:%M UTC"),
            lang.pick("кем", "by"),
            lock.by,
            lock.reason
                .as_deref()
                .map(|r| format!(". {}: {r}", lang.pick("Причина", "Reason")))
                .unwrap_or_default()
        ),
        None => format!(
            "{blocked} ({})",
            lang.pick(
                "не через консоль: в журнале записи нет",
                "not in the console: no audit row"
            )
        ),
    }
}

fn attempt_rows(diagnosis: Diagnosis, lang: Lang) -> Vec<OpsAttempt> {
    diagnosis
        .attempts
        .into_iter()
        .map(|a| OpsAttempt {
            looked_up: a.looked_up,
            at: a.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            reference: a.reference,
            provider: a.provider,
            outcome_label: outcome_words(&a.outcome, lang),
            outcome: a.outcome,
            error_code: a.error_code.unwrap_or_default(),
            tier: match (a.tier.as_deref().map(|t| tier_words(t, lang)), a.tier_known) {
                (Some(t), Some(false)) => {
                    format!("{t} ({})", lang.pick("не известен точно", "inferred"))
                }
                (Some(t), _) => t,
                (None, _) => "—".into(),
            },
            comparison: comparison_lines(&a.details, lang),
            side: a.remedy.side.label(lang).to_string(),
            steps: a.remedy.steps,
        })
        .collect()
}

/// Attempts per hour as a stacked bar chart, one colour per outcome.
fn chart(hourly: &HourlyOutcomes, lang: Lang) -> String {
    let title = match hourly.region {
        Some(region) => format!(
            "{} — {} {region}",
            lang.pick(
                "Попытки входа по часам и исходам",
                "Login attempts per hour by outcome"
            ),
            lang.pick("регион", "region"),
        ),
        None => lang
            .pick(
                "Попытки входа по часам и исходам",
                "Login attempts per hour by outcome",
            )
            .to_string(),
    };
    stacked_bars(&BarChart {
        title,
        bar_labels: hourly
            .hours
            .iter()
            .map(|h| h.format("%H").to_string())
            .collect(),
        bar_titles: hourly
            .hours
            .iter()
            .map(|h| h.format("%Y-%m-%d %H:00 UTC").to_string())
            .collect(),
        label_every: 3,
        series: hourly
            .series
            .iter()
            .enumerate()
            .map(|(i, (outcome, counts))| Series {
                label: outcome_words(outcome, lang),
                colour: outcome_colour(outcome, i),
                counts: counts.iter().map(|c| (*c).max(0) as u64).collect(),
            })
            .collect(),
        empty_text: lang
            .pick(
                "За последние 24 часа попыток входа не было.",
                "No login attempts in the last 24 hours.",
            )
            .to_string(),
        total_label: lang.pick("всего", "total").to_string(),
    })
}

/// Back to the console's lookup `q`, with a notice.
fn back_to_console(q: &str, done: &str) -> Response {
    let mut back = url::form_urlencoded::Serializer::new(String::new());
    back.append_pair("q", q).append_pair("done", done);
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/ops?{}", back.finish())) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// An outcome code in words (an unknown code as it is).
fn outcome_words(code: &str, lang: Lang) -> String {
    OutcomeCode::parse(code).map_or_else(|| code.to_string(), |c| c.label(lang).to_string())
}

fn tier_words(code: &str, lang: Lang) -> String {
    Tier::parse(code).map_or_else(|| code.to_string(), |t| t.label(lang).to_string())
}

/// The recorded comparison, part by part, in words.
fn comparison_lines(details: &serde_json::Value, lang: Lang) -> Vec<String> {
    let mut lines: Vec<String> = details
        .get("parts")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .map(|part| {
            let text = |key: &str| part.get(key).and_then(|v| v.as_str()).unwrap_or("?");
            let name_part = [NamePart::Surname, NamePart::Given, NamePart::Patronymic]
                .into_iter()
                .find(|p| p.code() == text("part"))
                .map_or_else(|| text("part").to_string(), |p| p.label(lang).to_string());
            let comparison = match text("comparison") {
                "equal" => lang.pick("совпадает", "equal"),
                "equal_normalized" => {
                    lang.pick("совпадает после выравнивания", "equal after normalization")
                }
                "differs" => lang.pick("различается", "differs"),
                "missing_left" => lang.pick("нет в записи дневника", "missing in the diary record"),
                "missing_right" => lang.pick(
                    "нет в данных Госуслуг",
                    "missing in the State Services data",
                ),
                other => other,
            };
            let rules: Vec<&str> = part
                .get("rules")
                .and_then(|r| r.as_array())
                .map(|r| {
                    r.iter()
                        .filter_map(|v| v.as_str())
                        .map(|code| {
                            NameRule::ALL
                                .into_iter()
                                .find(|rule| rule.code() == code)
                                .map_or(code, |rule| rule.describe(lang))
                        })
                        .collect()
                })
                .unwrap_or_default();
            if rules.is_empty() {
                format!("{name_part}: {comparison}")
            } else {
                format!("{name_part}: {comparison} ({})", rules.join(", "))
            }
        })
        .collect();
    let snils = lang.pick("СНИЛС", "SNILS");
    if let Some(value) = details.get("snils").and_then(|v| v.as_str()) {
        lines.push(format!("{snils}: {value}"));
    } else if details.get("snils_from_idp").and_then(|v| v.as_bool()) == Some(false) {
        lines.push(format!(
            "{snils}: {}",
            lang.pick("Госуслуги его не передали", "absent at the IdP")
        ));
    }
    lines
}

fn forbidden(lang: Lang, message: &str) -> Response {
    render(
        StatusCode::FORBIDDEN,
        &MessagePage::new(lang, lang.pick("Нет доступа", "No access"), message, None),
    )
}
