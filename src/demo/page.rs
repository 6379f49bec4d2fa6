//! `/demo`: who to log in as to see each journey, and the demo's clock with
//! a button that moves it forward (a trusted person's 24-hour wait passes
//! in a click). Served only by `esia-link demo` and the tests: it lives in
//! this feature-gated module and reaches the app through
//! [`crate::startup::Application::run_with_routes`], so a production build
//! has neither the page nor the control.

use std::sync::Arc;

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use chrono::Duration;
use serde::Deserialize;
use serde_json::json;

use app::clock::{Clock, SettableClock};
use i18n::Lang;
use store::{NewAuditEntry, Store};
use web::kit::Visit;
use web::AppState;

/// How far one press moves the clock, and the most a visitor may ask for.
pub const STEP_HOURS: i64 = 24;
const MAX_HOURS: i64 = 24 * 30;

/// The people of the demo's journeys as the seeded data names them.
#[derive(Debug, Clone, Default)]
pub struct Guide {
    /// The parent: name, and each child's name and school.
    pub parent: String,
    pub children: Vec<(String, String)>,
    pub grandmother: String,
    /// The child whose diary she sees, and the one whose invitation waits.
    pub open_child: String,
    pub pending_child: String,
    pub school_admin: String,
    pub school_admin_school: String,
    pub operator: String,
}

#[derive(Clone)]
struct DemoState {
    clock: Arc<SettableClock>,
    store: Store,
    guide: Arc<Guide>,
}

/// The demo's routes: `GET /demo`, `POST /demo/clock`.
pub fn router(clock: Arc<SettableClock>, store: Store, guide: Guide) -> Router<AppState> {
    Router::new()
        .route("/demo", get(show))
        .route("/demo/clock", post(advance))
        .layer(Extension(DemoState {
            clock,
            store,
            guide: Arc::new(guide),
        }))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// «1 час», «2 часа», «5 часов»; "1 hour", "24 hours".
pub fn hours(n: i64, lang: Lang) -> String {
    let abs = n.unsigned_abs();
    match lang {
        Lang::En if abs == 1 => format!("{n} hour"),
        Lang::En => format!("{n} hours"),
        Lang::Ru => {
            let word = match (abs % 10, abs % 100) {
                (_, 11..=14) => "часов",
                (1, _) => "час",
                (2..=4, _) => "часа",
                _ => "часов",
            };
            format!("{n} {word}")
        }
    }
}

async fn show(
    visit: Visit,
    State(app): State<AppState>,
    Extension(demo): Extension<DemoState>,
) -> Response {
    let lang = visit.lang;
    let g = &demo.guide;
    let t = |ru: &str, en: &str| lang.pick(ru, en).to_string();
    let q = if lang == Lang::En { "?lang=en" } else { "" };
    let children = g
        .children
        .iter()
        .map(|(name, school)| format!("{} ({})", escape(name), escape(school)))
        .collect::<Vec<_>>()
        .join(lang.pick(" и ", " and "));
    let rows = [
        (
            "novikova",
            format!(
                "{} — {}: {children}. {}",
                escape(&g.parent),
                t(
                    "мама двоих детей, обе связи подтверждены",
                    "a mother of two, both links confirmed"
                ),
                t(
                    "На странице «Семья» — её приглашения бабушке.",
                    "The family page shows her invitations to the grandmother."
                ),
            ),
        ),
        (
            "grandma",
            format!(
                "{} — {}. {} {}: {}; {}: {}. {}",
                escape(&g.grandmother),
                t("бабушка, доверенное лицо", "the grandmother, a trusted person"),
                t("Доступ к дневникам —", "Access to the diaries —"),
                escape(&g.open_child),
                t("открыт", "open"),
                escape(&g.pending_child),
                t(
                    "приглашение ждёт её ответа",
                    "the invitation awaits her answer"
                ),
                t(
                    "Примите его: доступ откроется через 24 часа — кнопка ниже переводит часы демо вперёд.",
                    "Accept it: access opens 24 hours later — the button below moves the demo's clock forward."
                ),
            ),
        ),
        (
            "school_admin",
            format!(
                "{} — {} «{}»: /school",
                escape(&g.school_admin),
                t("администратор школы", "the school administrator of"),
                escape(&g.school_admin_school),
            ),
        ),
        (
            "operator",
            format!(
                "{} — {}: /ops",
                escape(&g.operator),
                t("оператор поддержки", "a support operator"),
            ),
        ),
    ];
    let list = rows
        .iter()
        .map(|(login, what)| format!("<li><b>{login}</b> — {what}</li>"))
        .collect::<String>();
    let ahead = demo.clock.offset().num_hours();
    let now = i18n::local_time(app.now(), chrono_tz::Europe::Moscow, lang);
    let clock_line = if ahead == 0 {
        format!(
            "{} {now}, {}",
            t("Часы демо:", "The demo's clock:"),
            t("как настоящие.", "as the real one.")
        )
    } else {
        format!(
            "{} {now}, {} {}.",
            t("Часы демо:", "The demo's clock:"),
            t("впереди настоящих на", "ahead of the real one by"),
            hours(ahead, lang)
        )
    };
    let html = format!(
        "<!doctype html><html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <title>{title}</title></head><body><main>\
         <h1>{title}</h1><p>{intro}</p><ul>{list}</ul>\
         <h2>{clock_title}</h2><p id=\"demo-clock\">{clock_line}</p>\
         <form method=\"post\" action=\"/demo/clock{q}\">\
         <input type=\"hidden\" name=\"hours\" value=\"{STEP_HOURS}\">\
         <button type=\"submit\">{button}</button></form>\
         <p><a href=\"/{q}\">{home}</a></p></main></body></html>",
        code = lang.code(),
        title = t("Демо: кто что показывает", "Demo: who shows what"),
        intro = t(
            "Нажмите «Войти через Госуслуги» и войдите в тестовом кабинете под одним из логинов (пароль у всех «demo»).",
            "Press «Войти через Госуслуги» and log in at the mock as one of these (every password is \"demo\")."
        ),
        clock_title = t("Часы демо", "The demo's clock"),
        button = t("+24 ч", "+24 h"),
        home = t("На страницу входа", "To the login page"),
    );
    Html(html).into_response()
}

#[derive(Deserialize)]
struct AdvanceForm {
    hours: i64,
}

async fn advance(
    visit: Visit,
    Extension(demo): Extension<DemoState>,
    Form(form): Form<AdvanceForm>,
) -> Response {
    if let Err(refused) = visit.require_same_origin() {
        return refused.into_response();
    }
    if !(1..=MAX_HOURS).contains(&form.hours) {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            visit
                .lang
                .pick("От 1 до 720 часов.", "From 1 to 720 hours."),
        )
            .into_response();
    }
    demo.clock.advance(Duration::hours(form.hours));
    let entry = NewAuditEntry {
        actor: "system:demo".into(),
        action: "demo.clock_advanced".into(),
        target_kind: "clock".into(),
        target_id: "demo".into(),
        reason: Some("a demo visitor moved the demo's clock forward".into()),
        details: json!({
            "hours": form.hours,
            "ahead_hours": demo.clock.offset().num_hours(),
            "now": demo.clock.now(),
        }),
    };
    if let Err(error) = demo.store.append_audit(&entry).await {
        tracing::error!(error = %error, "demo clock move not audited");
    }
    tracing::info!(hours = form.hours, "demo clock moved forward");
    let back = if visit.lang == Lang::En {
        "/demo?lang=en"
    } else {
        "/demo"
    };
    Redirect::to(back).into_response()
}
