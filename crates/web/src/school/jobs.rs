//! The pages of a roster job (`app::school::jobs`): started with a 303 to
//! its page; the page refreshes itself (an HTML `meta` refresh, no
//! JavaScript) while the job runs, and shows the report when it is done.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::{message, redirect};
use crate::error::WebError;
use crate::pages::{render, Chrome};
use crate::AppState;
use app::school::console::SchoolAdmin;
use app::school::jobs::{JobKind, JobRecord, JobStart, JobState};
use app::school::roster::Phase;
use i18n::Lang;

const REFRESH_SECONDS: u32 = 2;

/// Starts a job on a kept upload and sends the browser to its page; a
/// school already running one is told so, with the way to it.
pub(super) async fn start(
    app: &AppState,
    admin: &SchoolAdmin,
    id: &str,
    kind: JobKind,
    lang: Lang,
) -> Result<Response, WebError> {
    match app::school::jobs::start(app, admin, id, kind).await? {
        JobStart::Started => Ok(redirect(&page_of(id, lang))),
        JobStart::Busy { upload } => Ok(message(
            StatusCode::CONFLICT,
            lang,
            lang.pick("Другой файл ещё обрабатывается", "Another file is still being processed"),
            &match lang {
                Lang::Ru => format!(
                    "Школа обрабатывает один файл за раз. Дождитесь конца: ход виден на странице {}. Потом загрузите этот файл снова. Ничего не записано.",
                    page_of(&upload, lang)
                ),
                Lang::En => format!(
                    "A school processes one file at a time. Wait until it ends: its progress is on the page {}. Then upload this file again. Nothing was written.",
                    page_of(&upload, lang)
                ),
            },
        )),
    }
}

/// The job's page, keeping the language.
pub(super) fn page_of(id: &str, lang: Lang) -> String {
    match lang {
        Lang::Ru => format!("/school/roster/{id}"),
        Lang::En => format!("/school/roster/{id}?lang=en"),
    }
}

/// The report of a job still running was asked for (the CSV download).
pub(super) fn not_ready(lang: Lang, id: &str) -> Response {
    message(
        StatusCode::CONFLICT,
        lang,
        lang.pick("Отчёт ещё не готов", "The report is not ready yet"),
        &match lang {
            Lang::Ru => format!(
                "Файл ещё обрабатывается; отчёт появится на странице {}.",
                page_of(id, lang)
            ),
            Lang::En => format!(
                "The file is still being processed; the report will be on the page {}.",
                page_of(id, lang)
            ),
        },
    )
}

#[derive(Template)]
#[template(path = "school_job.html")]
struct JobPage {
    chrome: Chrome,
    state: String,
    class: &'static str,
    progress: Option<String>,
    bar: Option<(u64, u64)>,
    hint: String,
    refresh: bool,
    refresh_seconds: u32,
    refresh_now: &'static str,
    back: &'static str,
    id: String,
    lang: &'static str,
}

/// A job not done: running (refreshing), interrupted or failed.
pub(super) fn progress_page(job: &JobRecord, state: JobState, id: &str, lang: Lang) -> Response {
    let writing = job.kind != JobKind::Check;
    let title = if writing {
        lang.pick("Запись списка", "Writing the roster")
    } else {
        lang.pick("Проверка списка", "Roster check")
    };
    let (text, class, hint) = match state {
        JobState::Running => (
            match job.phase {
                None => lang.pick("Файл открывается…", "Opening the file…"),
                Some(Phase::Checking) => lang.pick("Строки проверяются…", "Checking the rows…"),
                Some(Phase::Writing) => lang.pick("Строки записываются…", "Writing the rows…"),
                Some(Phase::Linking) => lang.pick(
                    "Записываются связи родитель–ребёнок…",
                    "Writing the parent-child links…",
                ),
            }
            .to_string(),
            "",
            lang.pick(
                "Страница обновляется сама. Её можно закрыть: файл обрабатывается и без неё, а ссылка на ход обработки есть в кабинете школы.",
                "This page refreshes itself. You may close it: the file is processed without it, and the school console links to its progress.",
            )
            .to_string(),
        ),
        JobState::Interrupted => (
            lang.pick(
                "Обработка прервалась: сервер перезапускался.",
                "The processing stopped: the server restarted.",
            )
            .to_string(),
            "problem",
            if writing {
                lang.pick(
                    "Часть строк могла быть записана. Загрузите тот же файл снова и запишите его: уже записанные строки будут отмечены как «без изменений», ничего не задвоится.",
                    "Some rows may have been written. Upload the same file again and write it: the rows already written show as unchanged, nothing is doubled.",
                )
            } else {
                lang.pick(
                    "Ничего не записано. Загрузите файл снова.",
                    "Nothing was written. Upload the file again.",
                )
            }
            .to_string(),
        ),
        JobState::Failed | JobState::Done => (
            lang.pick(
                "Обработка не удалась из-за ошибки сервиса.",
                "The processing failed on an error of the service.",
            )
            .to_string(),
            "problem",
            lang.pick(
                "Загрузите файл снова через несколько минут. Если ошибка повторится, сообщите в поддержку время загрузки.",
                "Upload the file again in a few minutes. If it happens again, tell support when you uploaded it.",
            )
            .to_string(),
        ),
    };
    let running = state == JobState::Running;
    let progress = (running && job.phase.is_some()).then(|| match (job.expected_rows, lang) {
        (Some(total), Lang::Ru) => format!("Обработано строк: {} из {total}.", job.rows),
        (Some(total), Lang::En) => format!("Rows done: {} of {total}.", job.rows),
        (None, Lang::Ru) => format!("Обработано строк: {}.", job.rows),
        (None, Lang::En) => format!("Rows done: {}.", job.rows),
    });
    let page = JobPage {
        chrome: Chrome::new(lang, title, &format!("/school/roster/{id}")),
        state: text,
        class,
        progress,
        bar: job
            .expected_rows
            .filter(|total| running && *total > 0)
            .map(|total| (job.rows.min(total), total)),
        hint,
        refresh: running,
        refresh_seconds: REFRESH_SECONDS,
        refresh_now: lang.pick("Обновить сейчас", "Refresh now"),
        back: lang.pick("В кабинет школы", "Back to the school console"),
        id: id.to_string(),
        lang: lang.code(),
    };
    let status = match state {
        JobState::Running => StatusCode::OK,
        JobState::Interrupted => StatusCode::CONFLICT,
        JobState::Failed | JobState::Done => StatusCode::INTERNAL_SERVER_ERROR,
    };
    render(status, &page)
}
