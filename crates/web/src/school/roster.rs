//! The roster upload: a file is checked (nothing written) and the report
//! shown with the spreadsheet's row numbers, the person's key and name, the
//! column, what is wrong and how to fix it; the report downloads as CSV;
//! then the school writes all rows (only when all are good) or the good
//! ones. The file waits in the ephemeral store in between.

use askama::Template;
use axum::extract::{Form, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{admin_or_page, download, message};
use crate::error::WebError;
use crate::kit::Visit;
use crate::pages::{render, Chrome};
use crate::AppState;
use ::texts::prelude::*;
use app::school::console::CheckedUpload;
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

fn problem_rows(checked: &CheckedUpload, lang: Lang) -> Vec<ProblemRow> {
    checked
        .report
        .problems
        .iter()
        .map(|p| {
            let label = checked.labels.get(&p.row);
            ProblemRow {
                row: p.row,
                key: label.map(|l| l.key.clone()).unwrap_or_default(),
                name: label.map(|l| l.name.clone()).unwrap_or_default(),
                column: p
                    .column
                    .map(|c| c.label(lang).to_string())
                    .unwrap_or_default(),
                reason: p.problem.message(lang),
                fix: ::texts::how_to_fix(&p.problem, lang).to_string(),
            }
        })
        .collect()
}

fn report_page(
    checked: &CheckedUpload,
    upload: Option<String>,
    csrf: String,
    lang: Lang,
) -> ReportPage {
    let report = &checked.report;
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
        file_problem: report.file_problem.as_ref().map(|p| p.message(lang)),
        problems: problem_rows(checked, lang),
        more,
        warnings: report.warnings.iter().map(|w| w.message(lang)).collect(),
        may_write_all: open && report.problems_total == 0 && report.rows > 0,
        may_write_good: open && report.problems_total > 0 && report.good_rows > 0,
        upload: upload.filter(|_| open),
        written,
        csrf,
        lang: lang.code(),
    }
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
    let id = app.school().keep_upload(&admin, &bytes).await?;
    let checked = app.school().check_upload(&admin, bytes).await?;
    let status = if checked.report.file_problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(
        status,
        &report_page(&checked, Some(id), admin.csrf, lang),
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
    let bytes = app.school().kept_upload(&admin, &id).await?;
    let checked = app.school().check_upload(&admin, bytes).await?;
    let t = ReportTexts::new(lang);
    let mut out = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    let write = |out: &mut csv::Writer<Vec<u8>>, cells: [&str; 6]| {
        out.write_record(cells)
            .map_err(|e| WebError::from(AppError::Internal(format!("report CSV: {e}"))))
    };
    write(&mut out, [t.row, t.key, t.name, t.column, t.reason, t.fix])?;
    if let Some(problem) = &checked.report.file_problem {
        write(&mut out, ["", "", "", "", &problem.message(lang), ""])?;
    }
    for p in problem_rows(&checked, lang) {
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
    let checked = app.school().write_upload(&admin, &id, partial).await?;
    let status = if checked.report.written {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render(
        status,
        &report_page(&checked, Some(id), admin.csrf, lang),
    ))
}
