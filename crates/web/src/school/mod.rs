//! `/school`: the school's own console, for accounts with the
//! `school_admin` role (bound to one school). Everyone else gets the login
//! page (no session) or a 403 page; another school's class or person is a
//! 404. Forms carry the session's CSRF token; changes are audited by the
//! use cases they call.
//!
//! | path | what |
//! | --- | --- |
//! | `GET /school` | the school's classes, the roster upload, waiting confirmations |
//! | `POST /school/roster` | upload a roster (CSV or XLSX): checked, nothing written; a large file by a job (303 to its page) |
//! | `GET /school/roster/{id}` | a job's page: progress (refreshing itself), then the report |
//! | `GET /school/roster/{id}/report.csv` | the check's report as CSV |
//! | `POST /school/roster/{id}/write` | write all rows, or the good ones |
//! | `GET /school/class?name=&filter=` | a class's pupils and parents, where each stands |
//! | `POST /school/class/codes` | codes for a class's pupils and parents: the packet PDF |
//! | `GET /school/people?q=` | search by name, login or class |
//! | `GET /school/person/{id}` | a person: data, links, codes, relationships |
//! | `POST /school/person/{id}/code` | issue or reissue one person's code: their sheet PDF |
//! | `POST /school/person/{id}/correct`, `POST /school/confirm` | corrections and parent-child confirmations |

mod classes;
mod jobs;
mod people;
mod roster;

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::error::WebError;
use crate::kit::Visit;
use crate::pages::{render, Chrome, MessagePage};
use crate::AppState;
use app::school::console::SchoolAdmin;
use app::AppError;
use i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/school", get(home))
        .route("/school/roster", post(roster::upload))
        .route("/school/roster/{id}", get(roster::job))
        .route("/school/roster/{id}/report.csv", get(roster::report_csv))
        .route("/school/roster/{id}/write", post(roster::write))
        .route("/school/class", get(classes::class))
        .route("/school/class/codes", post(classes::class_codes))
        .route("/school/people", get(people::search))
        .route("/school/person/{id}", get(people::person))
        .route("/school/person/{id}/code", post(classes::person_code))
        .route("/school/person/{id}/correct", post(people::correct))
        .route("/school/confirm", post(people::confirm))
        // Uploads are bounded while read (the configured file limit), not
        // by the framework's default of 2 MiB.
        .layer(axum::extract::DefaultBodyLimit::disable())
}

/// The administrator behind a page, or the page to show instead: the
/// login page (coming back to `return_to`) or a 403.
async fn admin_or_page(
    app: &AppState,
    visit: &Visit,
    return_to: &str,
) -> Result<Result<SchoolAdmin, Response>, WebError> {
    let lang = visit.lang;
    match app.school().admin(visit.session_cookie()).await {
        Ok(admin) => Ok(Ok(admin)),
        Err(AppError::NotLoggedIn) => Ok(Err(redirect(&format!(
            "/?region=29&return_to={}",
            url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
        )))),
        Err(AppError::Forbidden) => Ok(Err(message(
            StatusCode::FORBIDDEN,
            lang,
            lang.pick("Нет доступа", "No access"),
            lang.pick(
                "Кабинет школы открыт только администраторам школ. Если вы администратор, попросите оператора выдать вам эту роль.",
                "The school console is for school administrators only. If you are one, ask an operator to grant you the role.",
            ),
        ))),
        Err(e) => Err(e.into()),
    }
}

/// A 303 to `location`.
fn redirect(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn message(status: StatusCode, lang: Lang, title: &str, text: &str) -> Response {
    render(status, &MessagePage::new(lang, title, text, None))
}

/// `?lang=en` for English pages, so links keep the language.
fn lang_suffix(lang: Lang) -> &'static str {
    match lang {
        Lang::Ru => "",
        Lang::En => "&lang=en",
    }
}

/// A file download.
fn download(bytes: Vec<u8>, content_type: &'static str, file_name: &str) -> Response {
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

pub(super) struct ClassRow {
    pub name: String,
    pub link: String,
    pub pupils: i64,
    pub active: i64,
}

pub(super) struct WaitingRow {
    pub parent_id: String,
    pub pupil_id: String,
    pub parent: String,
    pub pupil: String,
}

pub(super) struct HomeTexts {
    pub classes: &'static str,
    pub class: &'static str,
    pub pupils: &'static str,
    pub active: &'static str,
    pub no_classes: &'static str,
    pub upload_heading: &'static str,
    pub upload_hint: &'static str,
    pub file: &'static str,
    pub check: &'static str,
    pub search_heading: &'static str,
    pub search_label: &'static str,
    pub search: &'static str,
    pub waiting_heading: &'static str,
    pub parent: &'static str,
    pub pupil: &'static str,
    pub reason: &'static str,
    pub confirm: &'static str,
    pub running: &'static str,
}

impl HomeTexts {
    fn new(lang: Lang) -> HomeTexts {
        let t = |ru, en| lang.pick(ru, en);
        HomeTexts {
            classes: t("Классы", "Classes"),
            class: t("Класс", "Class"),
            pupils: t("Учеников", "Pupils"),
            active: t("Активировали", "Activated"),
            no_classes: t(
                "Классов пока нет: загрузите список учеников и родителей.",
                "No classes yet: upload the list of pupils and parents.",
            ),
            upload_heading: t("Загрузить список (CSV или XLSX)", "Upload a roster (CSV or XLSX)"),
            upload_hint: t(
                "Сначала файл только проверяется: вы увидите отчёт и решите, записывать ли. Подходят книга Excel (.xlsx) с одним листом и CSV в UTF-8 или Windows-1251.",
                "The file is only checked first: you see a report and decide whether to write it. An Excel workbook (.xlsx) with one sheet, or CSV in UTF-8 or Windows-1251.",
            ),
            file: t("Файл", "File"),
            check: t("Проверить", "Check"),
            search_heading: t("Найти человека", "Find a person"),
            search_label: t("ФИО, логин или класс", "Name, login or class"),
            search: t("Найти", "Search"),
            waiting_heading: t(
                "Связи родитель–ребёнок ждут подтверждения",
                "Parent-child relationships waiting for confirmation",
            ),
            parent: t("Родитель", "Parent"),
            pupil: t("Ученик", "Pupil"),
            reason: t("Причина", "Reason"),
            confirm: t("Подтвердить", "Confirm"),
            running: t(
                "Файл со списком обрабатывается — посмотреть ход обработки",
                "A roster file is being processed: see its progress",
            ),
        }
    }
}

#[derive(Template)]
#[template(path = "school_home.html")]
struct HomePage {
    chrome: Chrome,
    t: HomeTexts,
    school: String,
    classes: Vec<ClassRow>,
    waiting: Vec<WaitingRow>,
    csrf: String,
    lang: &'static str,
    notice: Option<String>,
    /// The page of the job the school runs now.
    running: Option<String>,
}

/// `GET /school`: the school's classes, the upload form, the search and
/// the relationships waiting for the school.
async fn home(
    State(app): State<AppState>,
    visit: Visit,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, WebError> {
    let lang = visit.lang;
    let admin = match admin_or_page(&app, &visit, "/school").await? {
        Ok(admin) => admin,
        Err(page) => return Ok(page),
    };
    let classes = app.school().classes(&admin).await?;
    let waiting = app.school().waiting_confirmations(&admin).await?;
    let running = app
        .school()
        .running_job(&admin)
        .await?
        .map(|id| jobs::page_of(&id, lang));
    let notice = crate::query_param(query.as_deref(), "done").and_then(|done| {
        let (ru, en) = match done.as_str() {
            "confirmed" => (
                "Связь подтверждена; причина записана в журнал.",
                "The relationship was confirmed; the reason is in the audit log.",
            ),
            _ => return None,
        };
        Some(lang.pick(ru, en).to_string())
    });
    let page = HomePage {
        chrome: Chrome::new(
            lang,
            lang.pick("Кабинет школы", "School console"),
            "/school",
        ),
        t: HomeTexts::new(lang),
        school: admin.school_name.clone(),
        classes: classes
            .into_iter()
            .map(|c| ClassRow {
                link: format!(
                    "/school/class?name={}{}",
                    url::form_urlencoded::byte_serialize(c.name.as_bytes()).collect::<String>(),
                    lang_suffix(lang)
                ),
                name: c.name,
                pupils: c.pupils,
                active: c.active_pupils,
            })
            .collect(),
        waiting: waiting
            .into_iter()
            .map(|(child, parent)| WaitingRow {
                parent_id: child.parent_id.to_string(),
                pupil_id: child.pupil_id.to_string(),
                parent,
                pupil: format!(
                    "{} {}{}",
                    child.surname,
                    child.given_name,
                    child
                        .class_name
                        .map(|c| format!(", {c}"))
                        .unwrap_or_default()
                ),
            })
            .collect(),
        csrf: admin.csrf,
        lang: lang.code(),
        notice,
        running,
    };
    Ok(render(StatusCode::OK, &page))
}
