//! The roster upload: a file is checked (nothing written) and the report
//! shown with the spreadsheet's row numbers, the person's key and name, the
//! column, what is wrong and how to fix it; the report downloads as CSV;
//! then the school writes all rows (only when all are good) or the good
//! ones. The file waits in the ephemeral store in between. A large file is
//! checked and written by a background job (see `jobs.rs`).

use askama::Template;
use axum::extract::{Form, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{admin_or_page, download, message};
use crate::error::WebError;
use crate::kit::Visit;
use crate::pages::{render, Chrome};
use crate::AppState;
use app::school::jobs::{JobKind, JobState, ReportSnapshot};
use app::AppError;
use i18n::Lang;

pub(super) struct ProblemRow {
    pub row: u64,
    pub key: String,
    pub name: String,
    pub column: String,
    pub reason: String,
    pub fix: String,
}

pub(super) struct ReportTexts {
    pub row: &'static str,
    pub key: &'static str,
    pub name: &'static str,
    pub column: &'static str,
    pub reason: &'static str,
    pub fix: &'static str,
    pub download: &'static str,
    pub write_all: &'static str,
    pub write_good: &'static str,
    pub back: &'static str,
    pub warnings: &'static str,
}

impl ReportTexts {
    fn new(lang: Lang) -> ReportTexts {
        let t = |ru, en| lang.pick(ru, en);
        ReportTexts {
            row: t("Строка", "Row"),
            key: t("Ключ", "Key"),
            name: t("ФИО", "Name"),
            column: t("Столбец", "Column"),
            reason: t("Что не так", "What is wrong"),
            fix: t("Как исправить", "How to fix it"),
            download: t("Скачать отчёт (CSV)", "Download the report (CSV)"),
            write_all: t("Записать все строки", "Write all rows"),
            write_good: t(
                "Записать только строки без ошибок",
                "Write only the rows without errors",
            ),
            back: t("В кабинет школы", "Back to the school console"),
            warnings: t("Обратите внимание", "Note"),
        }
    }
}

#[derive(Template)]
#[template(path = "school_report.html")]
struct ReportPage {
    chrome: Chrome,
    t: ReportTexts,
    summary: String,
    /// The whole file was refused: why.
    file_problem: Option<String>,
    problems: Vec<ProblemRow>,
    more: Option<String>,
    warnings: Vec<String>,
    /// Where the report and "write" live; none once written.
    upload: Option<String>,
    may_write_all: bool,
    may_write_good: bool,
    /// After a write: what was written.
    written: Option<String>,
    csrf: String,
    lang: &'static str,
}

fn problem_rows(report: &ReportSnapshot, lang: Lang) -> Vec<ProblemRow> {
    report
        .problems
        .iter()
        .map(|p| ProblemRow {
            row: p.row,
            key: p.key.clone(),
            name: p.name.clone(),
            column: p.column.get(lang).to_string(),
            reason: p.reason.get(lang).to_string(),
            fix: p.fix.get(lang).to_string(),
        })
        .collect()
}

/// The listed warnings, and a last line counting those not listed.
fn warning_lines(report: &ReportSnapshot, lang: Lang) -> Vec<String> {
    let mut lines: Vec<String> = report
        .warnings
        .iter()
        .map(|w| w.get(lang).to_string())
        .collect();
    let unlisted = report.warnings_total.saturating_sub(lines.len() as u64);
    if unlisted > 0 {
        lines.push(match lang {
            Lang::Ru => format!("И ещё предупреждений такого рода: {unlisted}."),
            Lang::En => format!("And {unlisted} more warnings of this kind."),
        });
    }
    lines
}

fn report_page(
    report: &ReportSnapshot,
    upload: Option<String>,
    csrf: String,
    lang: Lang,
) -> ReportPage {
    let summary = match lang {
        Lang::Ru => format!(
            "Строк в файле: {}, без ошибок: {}, ошибок: {}.",
            report.rows, report.good_rows, report.problems_total
        ),
        Lang::En => format!(
            "Rows in the file: {}, good: {}, problems: {}.",
            report.rows, report.good_rows, report.problems_total
        ),
    };
    let listed = report.problems.len() as u64;
    let more = (report.problems_total > listed).then(|| match lang {
        Lang::Ru => format!(
            "И ещё {} — исправьте эти и проверьте файл снова.",
            report.problems_total - listed
        ),
        Lang::En => format!(
            "And {} more: fix these and check the file again.",
            report.problems_total - listed
        ),
    });
    let written = report.written.then(|| match lang {
        Lang::Ru => format!(
            "Записано: новых — {}, обновлено — {}, без изменений — {}, новых связей родитель–ребёнок — {}.",
            report.created, report.updated, report.unchanged, report.relationships_added
        ),
        Lang::En => format!(
            "Written: new {}, updated {}, unchanged {}, new parent-child links {}.",
            report.created, report.updated, report.unchanged, report.relationships_added
        ),
    });
    let title = if report.written {
        lang.pick("Список записан", "The roster is written")
    } else if report.file_problem.is_some() {
        lang.pick("Файл не принят", "The file was refused")
    } else {
        lang.pick("Проверка списка", "Roster check")
    };
    let open = upload.is_some() && report.file_problem.is_none() && !report.written;
    ReportPage {
        chrome: Chrome::new(lang, title, "/school"),
        t: ReportTexts::new(lang),
        summary,
        file_problem: report
            .file_problem
            .as_ref()
            .map(|p| p.get(lang).to_string()),
        problems: problem_rows(report, lang),
        more,
        warnings: warning_lines(report, lang),
        may_write_all: open && report.problems_total == 0 && report.rows > 0,
        may_write_good: open && report.problems_total > 0 && report.good_rows > 0,
        upload: upload.filter(|_| open),
        written,
        csrf,
        lang: lang.code(),
    }
}

/// The page of a report: 422 when the file was refused or not written.
fn report_response(
    report: &ReportSnapshot,
    upload: Option<String>,
    csrf: String,
    lang: Lang,
    write: bool,
) -> Response {
    let refused = report.file_problem.is_some() || (write && !report.written);
    let status = if refused {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(status, &report_page(report, upload, csrf, lang))
}

/// `POST /school/roster` (multipart: `csrf`, `file`): checks the file and
/// shows the report; nothing is written.
pub(super) async fn upload(
    State(app): State<AppState>,
    visit: Visit,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    let lang = visit.lang;
    let limit = app.config().uploads.max_file_bytes;
    let mut csrf = String::new();
    let mut file: Option<Vec<u8>> = None;
    let too_large = || {
        message(
            StatusCode::PAYLOAD_TOO_LARGE,
            lang,
            lang.pick("Файл не принят", "The file was refused"),
            &match lang {
                Lang::Ru => format!(
                    "Файл слишком большой: загрузить можно не больше {} КБ. Удалите из книги лишние листы и картинки или разделите список на несколько файлов, например по классам. Ничего не записано.",
                    limit / 1024
                ),
                Lang::En => format!(
                    "The file is too large: at most {} KB can be uploaded. Remove extra sheets and pictures or split the list into several files, e.g. by class. Nothing was written.",
                    limit / 1024
                ),
            },
        )
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return Ok(too_large()),
        };
        match field.name() {
            Some("csrf") => {
                csrf = field.text().await.unwrap_or_default();
                csrf.truncate(256);
            }
            Some("file") => {
                let mut field = field;
                let mut bytes = Vec::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            if (bytes.len() + chunk.len()) as u64 > limit {
                                return Ok(too_large());
                            }
                            bytes.extend_from_slice(&chunk);
                        }
                        Ok(None) => break,
                        Err(_) => return Ok(too_large()),
                    }
                }
                file = Some(bytes);
            }
            _ => {}
        }
    }
    let admin = app
        .school()
        .acting_admin(visit.session_cookie(), &csrf)
        .await?;
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        return Ok(message(
            StatusCode::BAD_REQUEST,
            lang,
            lang.pick("Файл не выбран", "No file chosen"),
            lang.pick(
                "Выберите файл со списком (CSV или XLSX) и нажмите «Проверить».",
                "Choose the roster file (CSV or XLSX) and press Check.",
            ),
        ));
    };
    let bytes = axum::body::Bytes::from(bytes);
    let id = app.school().keep_upload(&admin, bytes.clone()).await?;
    if app.school().runs_in_background(bytes.len()) {
        return super::jobs::start(&app, &admin, &id, JobKind::Check, lang).await;
    }
    let checked = app.school().check_upload(&admin, bytes).await?;
    Ok(report_response(
        &checked.snapshot(),
        Some(id),
        admin.csrf,
        lang,
        false,
    ))
}

/// `GET /school/roster/{id}/report.csv`: the check's report, one problem
/// a line, for Excel (UTF-8 with a byte order mark, `;`-separated).
pub(super) async fn report_csv(
    State(app): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let lang = visit.lang;
    let admin = match admin_or_page(&app, &visit, "/school").await? {
        Ok(admin) => admin,
        Err(page) => return Ok(page),
    };
    // A job's report is kept; a small upload is checked again.
    let report = match app.school().job(&admin, &id).await {
        Ok(job) => match (job.state(app.now()), &job.report) {
            (_, Some(report)) => report.clone(),
            (JobState::Running, None) => return Ok(super::jobs::not_ready(lang, &id)),
            (state, None) => return Ok(super::jobs::progress_page(&job, state, &id, lang)),
        },
        Err(AppError::NotFound) => {
            let bytes = app.school().kept_upload(&admin, &id).await?;
            app.school().check_upload(&admin, bytes).await?.snapshot()
        }
        Err(e) => return Err(e.into()),
    };
    let t = ReportTexts::new(lang);
    let mut out = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    let write = |out: &mut csv::Writer<Vec<u8>>, cells: [&str; 6]| {
        out.write_record(cells)
            .map_err(|e| WebError::from(AppError::Internal(format!("report CSV: {e}"))))
    };
    write(&mut out, [t.row, t.key, t.name, t.column, t.reason, t.fix])?;
    if let Some(problem) = &report.file_problem {
        write(&mut out, ["", "", "", "", problem.get(lang), ""])?;
    }
    for p in problem_rows(&report, lang) {
        write(
            &mut out,
            [
                &p.row.to_string(),
                &p.key,
                &p.name,
                &p.column,
                &p.reason,
                &p.fix,
            ],
        )?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| WebError::from(AppError::Internal(format!("report CSV: {e}"))))?;
    Ok(download(
        bytes,
        "text/csv; charset=utf-8",
        "roster-report.csv",
    ))
}

#[derive(serde::Deserialize)]
pub(super) struct WriteForm {
    #[serde(default)]
    csrf: String,
    /// `all` or `good`.
    #[serde(default)]
    mode: String,
}

/// `POST /school/roster/{id}/write`: writes the checked file: all rows
/// (refused while any is bad) or the good ones.
pub(super) async fn write(
    State(app): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
    Form(form): Form<WriteForm>,
) -> Result<Response, WebError> {
    let lang = visit.lang;
    let admin = app
        .school()
        .acting_admin(visit.session_cookie(), &form.csrf)
        .await?;
    let partial = form.mode == "good";
    // An upload checked by a job is written by one.
    match app.school().job(&admin, &id).await {
        Ok(_) => {
            let kind = if partial {
                JobKind::WriteGood
            } else {
                JobKind::WriteAll
            };
            return super::jobs::start(&app, &admin, &id, kind, lang).await;
        }
        Err(AppError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    let checked = app.school().write_upload(&admin, &id, partial).await?;
    Ok(report_response(
        &checked.snapshot(),
        Some(id),
        admin.csrf,
        lang,
        true,
    ))
}

/// `GET /school/roster/{id}`: a job's page: its progress while it runs
/// (the page refreshes itself), then its report.
pub(super) async fn job(
    State(app): State<AppState>,
    visit: Visit,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let lang = visit.lang;
    let return_to = format!("/school/roster/{id}");
    let admin = match admin_or_page(&app, &visit, &return_to).await? {
        Ok(admin) => admin,
        Err(page) => return Ok(page),
    };
    let job = app.school().job(&admin, &id).await?;
    match (job.state(app.now()), &job.report) {
        (JobState::Done, Some(report)) => {
            let write = job.kind != JobKind::Check;
            Ok(report_response(report, Some(id), admin.csrf, lang, write))
        }
        (state, _) => Ok(super::jobs::progress_page(&job, state, &id, lang)),
    }
}
