//! People: search by name, login or class; a person's page (data, links,
//! codes, relationships) with the corrections form; the school's
//! confirmation of a parent-child relationship. Corrections and
//! confirmations are the console's use cases, audited there.

use askama::Template;
use axum::extract::{Form, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use super::{admin_or_page, lang_suffix, message, redirect};
use crate::error::WebError;
use crate::kit::Visit;
use crate::pages::{render, Chrome};
use crate::{query_param, AppState};
use app::console::actions::{Corrected, Correction};
use app::shared::mask_word;
use app::AppError;
use i18n::Lang;

pub(super) struct PersonRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub class: String,
    pub login: String,
}

fn full_name(surname: &str, given: &str, patronymic: Option<&str>) -> String {
    [Some(surname), Some(given), patronymic]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
}

fn role_word(role: &str, lang: Lang) -> String {
    match role {
        "pupil" => lang.pick("ученик", "pupil"),
        "parent" => lang.pick("родитель", "parent"),
        "teacher" => lang.pick("учитель", "teacher"),
        other => other,
    }
    .to_string()
}

#[derive(Template)]
#[template(path = "school_people.html")]
struct PeoplePage {
    chrome: Chrome,
    query: String,
    rows: Vec<PersonRow>,
    searched: bool,
    label: &'static str,
    search: &'static str,
    nobody: &'static str,
    back: &'static str,
    headings: [&'static str; 4],
    lang: &'static str,
}

/// `GET /school/people?q=`: people whose name, login or class contain
/// every word of `q`.
pub(super) async fn search(
    State(app): State<AppState>,
    visit: Visit,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let lang = visit.lang;
    let admin = match admin_or_page(&app, &visit, "/school/people").await? {
        Ok(admin) => admin,
        Err(page) => return Ok(page),
    };
    let q = query_param(query.as_deref(), "q").unwrap_or_default();
    let found = app.school().search_people(&admin, &q).await?;
    let t = |ru, en| lang.pick(ru, en);
    let page = PeoplePage {
        chrome: Chrome::new(lang, t("Поиск людей", "Find people"), "/school/people"),
        searched: !q.trim().is_empty(),
        query: q,
        rows: found
            .into_iter()
            .map(|p| PersonRow {
                id: p.id.to_string(),
                name: full_name(&p.surname, &p.given_name, p.patronymic.as_deref()),
                role: role_word(&p.role, lang),
                class: p.class_name.unwrap_or_default(),
                login: p.login.unwrap_or_default(),
            })
            .collect(),
        label: t("ФИО, логин или класс", "Name, login or class"),
        search: t("Найти", "Search"),
        nobody: t("Никого не найдено.", "Nobody found."),
        back: t("В кабинет школы", "Back to the school console"),
        headings: [
            t("ФИО", "Name"),
            t("Кто", "Who"),
            t("Класс", "Class"),
            t("Логин", "Login"),
        ],
        lang: lang.code(),
    };
    Ok(render(StatusCode::OK, &page))
}

pub(super) struct Fact {
    pub label: &'static str,
    pub value: String,
}

#[derive(Template)]
#[template(path = "school_person.html")]
struct PersonPage {
    chrome: Chrome,
    id: String,
    facts: Vec<Fact>,
    links: Vec<String>,
    codes: Vec<String>,
    relatives: Vec<(String, String)>,
    pending: bool,
    notice: Option<String>,
    csrf: String,
    lang: &'static str,
    t: PersonTexts,
}

pub(super) struct PersonTexts {
    pub links: &'static str,
    pub codes: &'static str,
    pub relatives: &'static str,
    pub none: &'static str,
    pub issue: &'static str,
    pub issue_hint: &'static str,
    pub correct_heading: &'static str,
    pub correct_hint: &'static str,
    pub surname: &'static str,
    pub given_name: &'static str,
    pub patronymic: &'static str,
    pub birth_date: &'static str,
    pub snils: &'static str,
    pub reason: &'static str,
    pub correct: &'static str,
    pub back: &'static str,
}

impl PersonTexts {
    fn new(lang: Lang) -> PersonTexts {
        let t = |ru, en| lang.pick(ru, en);
        PersonTexts {
            links: t("Связи с Госуслугами", "State Services links"),
            codes: t("Коды активации", "Activation codes"),
            relatives: t("Родственные связи", "Relationships"),
            none: t("нет", "none"),
            issue: t(
                "Выдать новый код и скачать лист (PDF)",
                "Issue a new code and download the sheet (PDF)",
            ),
            issue_hint: t(
                "Прежний код перестанет действовать.",
                "The earlier code stops working.",
            ),
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
            reason: t("Причина", "Reason"),
            correct: t("Исправить", "Correct"),
            back: t("В кабинет школы", "Back to the school console"),
        }
    }
}

/// `ХХХ-ХХХ-ХХХ 01`: the SNILS's last digits only.
fn masked_snils(snils: &str) -> String {
    let tail: String = snils.chars().skip(9).collect();
    format!("***-***-*** {tail}")
}

/// `GET /school/person/{id}`: one person of the school.
pub(super) async fn person(
    State(app): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let lang = visit.lang;
    let admin = match admin_or_page(&app, &visit, "/school").await? {
        Ok(admin) => admin,
        Err(page) => return Ok(page),
    };
    let id = Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)?;
    let view = app.school().person(&admin, id).await?;
    let a = &view.account;
    let t = |ru, en| lang.pick(ru, en);
    let when = |at: chrono::DateTime<chrono::Utc>| at.format("%Y-%m-%d %H:%M UTC").to_string();
    let facts = vec![
        Fact {
            label: t("Кто", "Who"),
            value: role_word(&a.role, lang),
        },
        Fact {
            label: t("Класс", "Class"),
            value: view.class_name.clone().unwrap_or_else(|| "—".into()),
        },
        Fact {
            label: t("Дата рождения", "Birth date"),
            value: a
                .birth_date
                .map(|d| d.format("%d.%m.%Y").to_string())
                .unwrap_or_else(|| "—".into()),
        },
        Fact {
            label: t("СНИЛС", "SNILS"),
            value: a
                .snils
                .as_deref()
                .map(masked_snils)
                .unwrap_or_else(|| "—".into()),
        },
        Fact {
            label: t("Логин", "Login"),
            value: a.login.clone().unwrap_or_else(|| "—".into()),
        },
        Fact {
            label: t("Учётная запись", "Account"),
            value: match a.status.as_str() {
                "active" => t("активирована", "activated"),
                "pending" => t("не активирована", "not activated"),
                _ => t("заблокирована", "blocked"),
            }
            .to_string(),
        },
        Fact {
            label: t("Эл. почта", "E-mail"),
            value: a
                .email
                .as_deref()
                .map(|e| match e.split_once('@') {
                    Some((user, domain)) => format!("{}@{domain}", mask_word(user)),
                    None => mask_word(e),
                })
                .unwrap_or_else(|| "—".into()),
        },
    ];
    let links = view
        .links
        .iter()
        .map(|l| {
            format!(
                "{} — {} {}{}",
                app.provider_display_name(&l.provider, lang),
                t("связана", "linked"),
                when(l.linked_at),
                l.last_login_at
                    .map(|at| format!(", {} {}", t("последний вход", "last login"), when(at)))
                    .unwrap_or_default()
            )
        })
        .collect();
    let now = app.now();
    let codes = view
        .codes
        .iter()
        .map(|c| {
            let state = if c.used_at.is_some() {
                t("использован", "used")
            } else if c.revoked_at.is_some() {
                t("отозван", "revoked")
            } else if c.expires_at <= now {
                t("истёк", "expired")
            } else {
                t("действует", "valid")
            };
            format!(
                "{} {} — {state}, {} {}",
                t("выдан", "issued"),
                when(c.created_at),
                t("до", "until"),
                when(c.expires_at)
            )
        })
        .collect();
    let status_word = |status: &str| match status {
        "confirmed" => t("подтверждена", "confirmed"),
        _ => t("ждёт подтверждения", "waiting for confirmation"),
    };
    let mut relatives: Vec<(String, String)> = view
        .children
        .iter()
        .map(|c| {
            (
                format!("/school/person/{}?lang={}", c.pupil_id, lang.code()),
                format!(
                    "{}: {} ({})",
                    t("ребёнок", "child"),
                    full_name(&c.surname, &c.given_name, c.patronymic.as_deref()),
                    status_word(&c.status)
                ),
            )
        })
        .collect();
    relatives.extend(view.parents.iter().map(|p| {
        (
            format!("/school/person/{}?lang={}", p.parent_id, lang.code()),
            format!(
                "{}: {} ({})",
                t("родитель", "parent"),
                full_name(&p.surname, &p.given_name, p.patronymic.as_deref()),
                status_word(&p.status)
            ),
        )
    }));
    let notice = query_param(query.as_deref(), "done").and_then(|done| {
        let (ru, en) = match done.as_str() {
            "corrected" => (
                "Данные исправлены; исправленные поля и причина записаны в журнал.",
                "The data were corrected; the fields and the reason are in the audit log.",
            ),
            "unchanged" => (
                "В записи уже эти данные: ничего не изменилось.",
                "The record already says so: nothing changed.",
            ),
            _ => return None,
        };
        Some(lang.pick(ru, en).to_string())
    });
    let page = PersonPage {
        chrome: Chrome::new(
            lang,
            full_name(&a.surname, &a.given_name, a.patronymic.as_deref()),
            &format!("/school/person/{id}"),
        ),
        id: id.to_string(),
        facts,
        links,
        codes,
        relatives,
        pending: a.status == "pending",
        notice,
        csrf: admin.csrf,
        lang: lang.code(),
        t: PersonTexts::new(lang),
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(serde::Deserialize)]
pub(super) struct CorrectForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    surname: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    patronymic: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    snils: String,
    #[serde(default)]
    reason: String,
}

/// `POST /school/person/{id}/correct`: name, birth date or SNILS, with a
/// reason (audited with the changed fields, masked; the person is told).
pub(super) async fn correct(
    State(app): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    Form(form): Form<CorrectForm>,
) -> Result<Response, WebError> {
    let lang = visit.lang;
    let id = Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)?;
    // The role first: the console's correction is open to school
    // administrators only, and this page to them alone.
    app.school()
        .acting_admin(visit.session_cookie(), &form.csrf)
        .await?;
    let correction = match Correction::parse(
        &form.surname,
        &form.given_name,
        &form.patronymic,
        &form.birth_date,
        &form.snils,
    ) {
        Ok(correction) => correction,
        Err(e) => {
            return Ok(message(
                StatusCode::BAD_REQUEST,
                lang,
                lang.pick("Действие не выполнено", "Not done"),
                &e.message(lang),
            ))
        }
    };
    let done = match app
        .console()
        .operator_correct(
            visit.session_cookie(),
            &form.csrf,
            id,
            &correction,
            &form.reason,
        )
        .await?
    {
        Corrected::Changed(_) => "corrected",
        Corrected::Unchanged => "unchanged",
    };
    Ok(redirect(&format!(
        "/school/person/{id}?done={done}{}",
        lang_suffix(lang)
    )))
}

#[derive(serde::Deserialize)]
pub(super) struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    parent: String,
    #[serde(default)]
    pupil: String,
    #[serde(default)]
    reason: String,
}

/// `POST /school/confirm`: the school confirms a parent-child relationship
/// it listed (e.g. the parent came to the office), with a reason.
pub(super) async fn confirm(
    State(app): State<AppState>,
    visit: Visit,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, WebError> {
    let lang = visit.lang;
    let parent = Uuid::parse_str(form.parent.trim()).map_err(|_| AppError::NotFound)?;
    let pupil = Uuid::parse_str(form.pupil.trim()).map_err(|_| AppError::NotFound)?;
    app.school()
        .acting_admin(visit.session_cookie(), &form.csrf)
        .await?;
    app.console()
        .operator_confirm_relationship(
            visit.session_cookie(),
            &form.csrf,
            parent,
            pupil,
            &form.reason,
        )
        .await?;
    Ok(redirect(&format!(
        "/school?done=confirmed{}",
        lang_suffix(lang)
    )))
}
