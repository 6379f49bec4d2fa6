//! `/auth/*`: start a login, take the IdP's answer, show the outcome.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::lang::RequestLang;
use super::pages::{render, temporary_error, Chrome, MessagePage, OutcomePage};
use super::return_to::safe_return_target;
use super::texts::outcome_text;
use super::{cookies, AppState};
use crate::ephemeral::typed::{get_json, put_json};
use crate::i18n::Lang;
use crate::login::session::{random_token, SESSION_COOKIE};
use crate::login::{self, CallbackParams, Completed, FlowError, OutcomeReport, LOGIN_COOKIE};

const OUTCOME_COOKIE: &str = "el_outcome";
const OUTCOME_TTL: Duration = Duration::from_secs(600);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/start/{provider}", get(start))
        .route("/auth/callback/{provider}", get(callback))
        .route("/auth/outcome", get(outcome))
}

#[derive(Deserialize)]
struct StartParams {
    return_to: Option<String>,
}

async fn start(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(params): Query<StartParams>,
    RequestLang(lang): RequestLang,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request_headers: HeaderMap,
) -> Response {
    let secure = state.config.server.secure_cookies;
    let client = client_address(&state, &request_headers, peer);
    let return_to = match params.return_to.as_deref().filter(|r| !r.is_empty()) {
        None => None,
        Some(raw) => match safe_return_target(raw, &state.config.server.allowed_return_origins) {
            Some(target) => Some(target),
            None => {
                let page = MessagePage::new(
                    lang,
                    lang.pick("Адрес возврата отклонён", "Return address refused"),
                    lang.pick(
                        "Ссылка для входа указывает на посторонний сайт, поэтому вход не начат. Откройте дневник по его обычному адресу.",
                        "The login link points to a foreign site, so the login was not started. Open the e-diary at its usual address.",
                    ),
                    None,
                );
                return render(StatusCode::BAD_REQUEST, &page);
            }
        },
    };
    match login::start(&state, &provider, return_to, lang, &client).await {
        Ok(started) => {
            let mut headers = HeaderMap::new();
            cookies::set(
                &mut headers,
                LOGIN_COOKIE,
                &started.browser_token,
                "/auth",
                login::LOGIN_TTL.as_secs(),
                secure,
            );
            see_other(headers, &started.authorize_url)
        }
        Err(error) => {
            let report = login::record_flow_error(&state, &provider, &error, lang).await;
            tracing::warn!(code = error.code(), error = %error, reference = %report.reference, "login start failed");
            let status = match error {
                FlowError::UnknownProvider => StatusCode::NOT_FOUND,
                FlowError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            render(status, &outcome_page(&report, lang))
        }
    }
}

async fn callback(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(params): Query<CallbackParams>,
    request_headers: HeaderMap,
    RequestLang(request_lang): RequestLang,
) -> Response {
    let secure = state.config.server.secure_cookies;
    let browser = cookies::get(&request_headers, LOGIN_COOKIE);
    let mut headers = HeaderMap::new();
    let report = match login::complete(&state, &provider, &params, browser.as_deref()).await {
        Ok(Completed::Success {
            session_id,
            redirect_to,
            report: _,
        }) => {
            cookies::remove(&mut headers, LOGIN_COOKIE, "/auth", secure);
            cookies::set(
                &mut headers,
                SESSION_COOKIE,
                &session_id,
                "/",
                state.config.server.session_absolute_hours * 3600,
                secure,
            );
            return see_other(headers, &redirect_to);
        }
        Ok(Completed::Failure { report }) => {
            cookies::remove(&mut headers, LOGIN_COOKIE, "/auth", secure);
            report
        }
        Err(error @ (FlowError::Ephemeral(_) | FlowError::Store(_))) => {
            let report = login::record_flow_error(&state, &provider, &error, request_lang).await;
            tracing::error!(error = %error, reference = %report.reference, "login callback failed");
            return temporary_error(request_lang, Some(report.reference));
        }
        Err(error) => {
            tracing::warn!(code = error.code(), "login callback rejected");
            login::record_flow_error(&state, &provider, &error, request_lang).await
        }
    };
    // The outcome is shown on a clean URL: the code never stays in the address bar.
    let token = random_token();
    if let Err(e) = put_json(
        state.ephemeral.as_ref(),
        &format!("outcome:{token}"),
        &report,
        OUTCOME_TTL,
    )
    .await
    {
        tracing::error!(error = %e, "cannot keep the outcome for display");
        return render(StatusCode::OK, &outcome_page(&report, report.lang));
    }
    cookies::set(
        &mut headers,
        OUTCOME_COOKIE,
        &token,
        "/auth",
        OUTCOME_TTL.as_secs(),
        secure,
    );
    see_other(
        headers,
        &format!("/auth/outcome?lang={}", report.lang.code()),
    )
}

async fn outcome(
    State(state): State<AppState>,
    headers: HeaderMap,
    RequestLang(lang): RequestLang,
) -> Response {
    let report = match cookies::get(&headers, OUTCOME_COOKIE) {
        Some(token) if token.len() <= 64 => {
            get_json::<OutcomeReport>(state.ephemeral.as_ref(), &format!("outcome:{token}"))
                .await
                .ok()
                .flatten()
        }
        _ => None,
    };
    match report {
        Some(report) => render(StatusCode::OK, &outcome_page(&report, lang)),
        None => render(
            StatusCode::NOT_FOUND,
            &MessagePage::new(
                lang,
                lang.pick("Нет результата входа", "No login result"),
                lang.pick(
                    "Результат входа не найден или устарел. Начните вход заново.",
                    "The login result is missing or has expired. Start the login again.",
                ),
                None,
            ),
        ),
    }
}

fn outcome_page(report: &OutcomeReport, lang: Lang) -> OutcomePage {
    let text = outcome_text(report, lang);
    OutcomePage {
        chrome: Chrome::new(lang, text.title.clone(), "/auth/outcome"),
        outcome_code: report.outcome.clone(),
        text,
        reference: report.reference.clone(),
        fixer_label: lang.pick("Кто может исправить:", "Who can fix it:").into(),
        next_label: lang.pick("Что делать", "What to do").into(),
        reference_label: lang
            .pick(
                "Код обращения (назовите его в школе или службе поддержки):",
                "Reference code (quote it to the school or support):",
            )
            .into(),
        again_label: lang.pick("Начать вход заново", "Start again").into(),
    }
}

/// The client's address for rate limits: the configured proxy header's last
/// entry (the one our own proxy appended), else the peer address.
fn client_address(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> String {
    state
        .config
        .server
        .client_ip_header
        .as_deref()
        .and_then(|name| headers.get(name))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
        .map(str::to_string)
        .unwrap_or_else(|| peer.ip().to_string())
}

fn see_other(mut headers: HeaderMap, location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => {
            headers.insert(header::LOCATION, value);
            (StatusCode::SEE_OTHER, headers).into_response()
        }
        Err(_) => (StatusCode::BAD_GATEWAY, "invalid redirect target").into_response(),
    }
}
