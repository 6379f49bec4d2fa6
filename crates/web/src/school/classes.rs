//! A class at a glance (its pupils and their parents, where each stands,
//! with filters) and the codes: a class's packet (a cover page to sign
//! against, then one sheet per person) or one person's sheet.

use askama::Template;
use axum::extract::{Form, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{admin_or_page, download, message};
use crate::error::WebError;
use crate::kit::Visit;
use crate::pages::{render, Chrome};
use crate::{query_param, AppState};
use app::school::console::{Member, SchoolAdmin};
use app::school::{CodeScope, IssuedCode};
use app::AppError;
use i18n::Lang;

/// Where a person stands, from first to last step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    NotIssued,
    CodeIssued,
    CodeExpired,
    Activated,
}

fn stage(member: &Member, now: DateTime<Utc>) -> Stage {
    let s = &member.state;
    if s.status == "active" {
        return Stage::Activated;
    }
    match s.code_expires_at {
        Some(expires) if expires > now => Stage::CodeIssued,
        _ if s.code_issued => Stage::CodeExpired,
        _ => Stage::NotIssued,
    }
}

pub(super) struct MemberRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub stage: &'static str,
    pub stage_text: String,
    pub linked: &'static str,
    pub last_login: String,
}

pub(super) struct ClassTexts {
    pub name: &'static str,
    pub role: &'static str,
    pub state: &'static str,
    pub linked: &'static str,
    pub last_login: &'static str,
    pub all: &'static str,
    pub not_activated: &'static str,
    pub code_expired: &'static str,
    pub issue: &'static str,
    pub issue_hint: &'static str,
    pub back: &'static str,
    pub nobody: &'static str,
}

impl ClassTexts {
    fn new(lang: Lang) -> ClassTexts {
        let t = |ru, en| lang.pick(ru, en);
        ClassTexts {
            name: t("ФИО", "Name"),
            role: t("Кто", "Who"),
            state: t("Состояние", "State"),
            linked: t("Госуслуги", "State Services"),
            last_login: t("Последний вход", "Last login"),
            all: t("Все", "All"),
            not_activated: t("Не активировали", "Not activated"),
            code_expired: t("Код истёк", "Code expired"),
            issue: t(
                "Выдать коды классу и скачать пакет (PDF)",
                "Issue the class's codes and download the packet (PDF)",
            ),
            issue_hint: t(
                "Коды получат все ученики класса и их родители, кто ещё не активировал учётную запись; прежние коды перестанут действовать. Первая страница пакета — список для подписей.",
                "Every pupil of the class and their parents who have not activated get a code; earlier codes stop working. The packet's first page is the list to sign against.",
            ),
            back: t("В кабинет школы", "Back to the school console"),
            nobody: t("Никого не найдено.", "Nobody found."),
        }
    }
}

#[derive(Template)]
#[template(path = "school_class.html")]
struct ClassPage {
    chrome: Chrome,
    t: ClassTexts,
    class: String,
    class_query: String,
    filter: String,
    rows: Vec<MemberRow>,
    csrf: String,
    lang: &'static str,
}

fn moment(at: DateTime<Utc>, lang: Lang) -> String {
    match lang {
        Lang::Ru => at.format("%d.%m.%Y %H:%M UTC").to_string(),
        Lang::En => at.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

fn member_row(member: &Member, now: DateTime<Utc>, lang: Lang) -> MemberRow {
    let s = &member.state;
    let stage = stage(member, now);
    let stage_text = match stage {
        Stage::NotIssued => lang.pick("код не выдан", "no code issued").to_string(),
        Stage::CodeIssued => match (s.code_expires_at, lang) {
            (Some(at), Lang::Ru) => format!("код выдан, действует до {}", moment(at, lang)),
            (Some(at), Lang::En) => format!("code issued, valid until {}", moment(at, lang)),
            (None, _) => lang.pick("код выдан", "code issued").to_string(),
        },
        Stage::CodeExpired => lang
            .pick("код истёк — выдайте новый", "code expired: issue a new one")
            .to_string(),
        Stage::Activated => lang.pick("активирована", "activated").to_string(),
    };
    let role = match s.role.as_str() {
        "pupil" => lang.pick("ученик", "pupil").to_string(),
        "parent" if member.children.is_empty() => lang.pick("родитель", "parent").to_string(),
        "parent" => format!(
            "{} {}",
            lang.pick("родитель:", "parent of"),
            member.children.join(", ")
        ),
        other => other.to_string(),
    };
    MemberRow {
        id: s.id.to_string(),
        name: [
            Some(s.surname.as_str()),
            Some(s.given_name.as_str()),
            s.patronymic.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" "),
        role,
        stage: match stage {
            Stage::NotIssued => "not-issued",
            Stage::CodeIssued => "code-issued",
            Stage::CodeExpired => "code-expired",
            Stage::Activated => "activated",
        },
        stage_text,
        linked: if s.linked {
            lang.pick("связана", "linked")
        } else {
            "—"
        },
        last_login: s
            .last_login_at
            .map(|at| moment(at, lang))
            .unwrap_or_else(|| "—".into()),
    }
}

/// `GET /school/class?name=5А&filter=not_activated|code_expired`.
pub(super) async fn class(
    State(app): State<AppState>,
    visit: Visit,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let lang = visit.lang;
    let admin = match admin_or_page(&app, &visit, "/school").await? {
        Ok(admin) => admin,
        Err(page) => return Ok(page),
    };
    let name = query_param(query.as_deref(), "name").unwrap_or_default();
    let filter = query_param(query.as_deref(), "filter").unwrap_or_default();
    let members = app.school().class_members(&admin, name.trim()).await?;
    let now = app.now();
    let rows = members
        .iter()
        .filter(|m| match filter.as_str() {
            "not_activated" => stage(m, now) != Stage::Activated,
            "code_expired" => stage(m, now) == Stage::CodeExpired,
            _ => true,
        })
        .map(|m| member_row(m, now, lang))
        .collect();
    let title = format!("{} {}", lang.pick("Класс", "Class"), name.trim());
    let page = ClassPage {
        chrome: Chrome::new(lang, title, "/school"),
        t: ClassTexts::new(lang),
        class_query: url::form_urlencoded::byte_serialize(name.trim().as_bytes()).collect(),
        class: name.trim().to_string(),
        filter,
        rows,
        csrf: admin.csrf,
        lang: lang.code(),
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(serde::Deserialize)]
pub(super) struct ClassCodesForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

/// The packet (a class's: a cover page to sign against, then the sheets),
/// as `invitations` builds it for the console and the benchmark alike.
fn packet(
    app: &AppState,
    admin: &SchoolAdmin,
    heading: &str,
    issued: &[IssuedCode],
    cover: bool,
) -> Result<Vec<u8>, WebError> {
    invitations::packet::packet(
        &admin.school_name,
        heading,
        issued,
        &app.config().server.public_url,
        cover,
    )
    .map_err(|e| WebError::from(AppError::Internal(format!("packet PDF: {e}"))))
}

/// `POST /school/class/codes`: new codes for the class's pupils and their
/// parents (earlier codes revoked), as one PDF packet.
pub(super) async fn class_codes(
    State(app): State<AppState>,
    visit: Visit,
    Form(form): Form<ClassCodesForm>,
) -> Result<Response, WebError> {
    let lang = visit.lang;
    let admin = app
        .school()
        .acting_admin(visit.session_cookie(), &form.csrf)
        .await?;
    let class = form.name.trim().to_string();
    let scope = CodeScope {
        class_name: Some(class.clone()),
        account_id: None,
    };
    let issued = app.school().issue_packet(&admin, &scope).await?;
    if issued.is_empty() {
        return Ok(message(
            StatusCode::OK,
            lang,
            lang.pick("Коды не нужны", "No codes needed"),
            lang.pick(
                "Все ученики этого класса и их родители уже активировали учётные записи.",
                "Every pupil of this class and their parents have activated already.",
            ),
        ));
    }
    let heading = format!(
        "{}, класс {class}: листы с кодами активации",
        admin.school_name
    );
    let pdf = packet(&app, &admin, &heading, &issued, true)?;
    let file_name = format!(
        "class-{}.pdf",
        class
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
    );
    Ok(download(pdf, "application/pdf", &file_name))
}

#[derive(serde::Deserialize)]
pub(super) struct PersonCodeForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /school/person/{id}/code`: a new code for one person (their
/// earlier one is revoked), as their sheet.
pub(super) async fn person_code(
    State(app): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    Form(form): Form<PersonCodeForm>,
) -> Result<Response, WebError> {
    let lang = visit.lang;
    let id = Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound)?;
    let admin = app
        .school()
        .acting_admin(visit.session_cookie(), &form.csrf)
        .await?;
    let scope = CodeScope {
        class_name: None,
        account_id: Some(id),
    };
    let issued = app.school().issue_packet(&admin, &scope).await?;
    if issued.is_empty() {
        return Ok(message(
            StatusCode::CONFLICT,
            lang,
            lang.pick("Код не нужен", "No code needed"),
            lang.pick(
                "Этот человек уже активировал учётную запись: код ему не нужен.",
                "This person has activated already and needs no code.",
            ),
        ));
    }
    let pdf = packet(&app, &admin, "", &issued, false)?;
    Ok(download(pdf, "application/pdf", "invitation.pdf"))
}
