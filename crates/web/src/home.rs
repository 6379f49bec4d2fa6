//! `GET /`: choose the region; the State Services button shows only where
//! the region enables it.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::lang::RequestLang;
use super::pages::{render, Chrome, HomePage, ProviderButton, RegionOption, SelectedRegion};
use super::AppState;
use i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/healthz", get(health))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
}

struct HomeParams {
    region: Option<String>,
    return_to: Option<String>,
    logged_out: bool,
    /// The diary app that sent the person here to sign in.
    app: Option<String>,
}

async fn home(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    RequestLang(lang): RequestLang,
) -> Response {
    let params = HomeParams {
        region: super::query_param(query.as_deref(), "region"),
        return_to: super::query_param(query.as_deref(), "return_to"),
        logged_out: super::query_param(query.as_deref(), "logged_out").is_some(),
        app: super::query_param(query.as_deref(), "app"),
    };
    let asking_app = params.app.as_deref().and_then(|id| {
        app.apps()
            .client_names(id)
            .map(|names| (id.to_string(), names))
    });
    let chosen: Option<u16> = params.region.as_deref().and_then(|r| r.trim().parse().ok());
    let regions = app
        .config()
        .regions
        .iter()
        .map(|r| RegionOption {
            code: r.code,
            name: lang.pick(&r.name_ru, &r.name_en).to_string(),
            selected: Some(r.code) == chosen,
        })
        .collect();
    let selected_config = chosen.and_then(|c| app.config().regions.iter().find(|r| r.code == c));
    let return_to = params
        .return_to
        .filter(|r| !r.is_empty() && r.len() <= 2048);
    let providers = app
        .providers()
        .into_iter()
        .map(|p| {
            let mut url = url::form_urlencoded::Serializer::new(String::new());
            url.append_pair("lang", lang.code());
            if let Some(rt) = &return_to {
                url.append_pair("return_to", rt);
            }
            ProviderButton {
                url: format!("/auth/start/{}?{}", p.id, url.finish()),
                label: format!(
                    "{} {}",
                    lang.pick("Войти через", "Log in via"),
                    lang.pick(&p.display_name_ru, &p.display_name_en)
                ),
                id: p.id,
            }
        })
        .collect();
    let page = HomePage {
        chrome: Chrome::new(lang, lang.pick("Вход", "Log in"), "/"),
        heading: lang.pick("Вход в электронный дневник", "Log in to the e-diary").into(),
        region_label: lang.pick("Выберите ваш регион:", "Select your region:").into(),
        choose_label: lang.pick("Выбрать", "Choose").into(),
        regions,
        selected: selected_config.map(|r| SelectedRegion { enabled: r.esia_enabled }),
        providers,
        providers_intro: lang
            .pick(
                "Войдите через Госуслуги: при первом входе мы свяжем вашу учётную запись с дневником по ФИО и СНИЛС.",
                "Log in via State Services: on the first visit we link your account to the e-diary by full name and SNILS.",
            )
            .into(),
        disabled_text: lang
            .pick(
                "Кнопки «Войти через Госуслуги» здесь нет, потому что в этом регионе вход в дневник через Госуслуги пока не подключён. Регион выбирают по школе, а не по месту жительства: если школа (ваша или ребёнка) в другом регионе, выберите его. Иначе войдите логином и паролем от школы или активируйте учётную запись кодом с листа-приглашения (кнопки ниже).",
                "There is no State Services button here because e-diary login via State Services is not enabled in this region yet. The region is the school's, not where you live: if your (or your child's) school is in another region, choose that one. Otherwise log in with the login and password from the school, or activate your account with the code from the invitation sheet (buttons below).",
            )
            .into(),
        other_ways: lang.pick("Другие способы", "Other ways in").into(),
        password_url: {
            let mut url = url::form_urlencoded::Serializer::new(String::new());
            url.append_pair("lang", lang.code());
            if let Some(rt) = &return_to {
                url.append_pair("return_to", rt);
            }
            format!("/login/password?{}", url.finish())
        },
        password_label: lang
            .pick("Войти по логину и паролю дневника", "Log in with the e-diary login and password")
            .into(),
        activate_label: lang
            .pick(
                "Активировать учётную запись кодом от школы",
                "Activate your account with the code from your school",
            )
            .into(),
        pick_region_text: lang
            .pick(
                "Выберите регион, в котором находится школа.",
                "Select the region your school is in.",
            )
            .into(),
        return_to,
        app_client: asking_app.as_ref().map(|(id, _)| id.clone()),
        notice: asking_app.map(|(_, (ru, en))| match lang {
            Lang::Ru => format!("Приложение «{ru}» просит вас войти в электронный дневник. Войдите любым способом ниже — после входа вы вернётесь в приложение."),
            Lang::En => format!("The app \"{en}\" asks you to log in to the e-diary. Log in any way below: you will then go back to the app."),
        }).or_else(|| params.logged_out.then(|| {
            lang.pick(
                "Вы вышли из дневника. Чтобы войти снова, выберите регион.",
                "You have logged out of the e-diary. To log in again, select your region.",
            )
            .to_string()
        })),
    };
    render(StatusCode::OK, &page)
}

async fn health(State(app): State<AppState>) -> (StatusCode, &'static str) {
    match app.health().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// `GET /readyz`: 200 when the database and the ephemeral store answer,
/// 503 naming the one that does not (JSON).
async fn ready(State(app): State<AppState>) -> (StatusCode, axum::Json<serde_json::Value>) {
    // Side by side, each within `app::READY_BUDGET`: an answer within a
    // second whatever is down.
    let (checks, idps) = tokio::join!(app.readiness(), app.idp_reachability());
    let ready = checks.iter().all(|(_, result)| result.is_ok());
    let body: serde_json::Map<String, serde_json::Value> = checks
        .into_iter()
        .map(|(name, result)| {
            let state = match result {
                Ok(()) => "ok".to_string(),
                Err(error) => {
                    tracing::warn!(store = name, error = %error, "readiness: store down");
                    "down".to_string()
                }
            };
            (name.to_string(), serde_json::Value::String(state))
        })
        .collect();
    // An IdP that does not answer degrades State Services logins but not
    // the instance (password logins, activation and the API still work):
    // it is reported, it does not take the instance out of the pool.
    let mut body = body;
    let idps: serde_json::Map<String, serde_json::Value> = idps
        .into_iter()
        .map(|(id, result)| {
            let state = if result.is_ok() { "ok" } else { "unreachable" };
            (id, serde_json::Value::String(state.into()))
        })
        .collect();
    body.insert("idp".into(), serde_json::Value::Object(idps));
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(serde_json::Value::Object(body)))
}

/// `GET /metrics`: Prometheus text (restrict it to the monitoring network at
/// the load balancer: counts only, no personal data).
async fn metrics(
    State(app): State<AppState>,
) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    app.report_state();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app::telemetry::render(),
    )
}
