//! esia-link as the OpenID Provider of the diary's apps: discovery, keys,
//! the authorization endpoint (which sends the person through the usual
//! sign-in pages), the token, userinfo, introspection and revocation
//! endpoints, and RP-initiated logout. Every endpoint answers 404 when
//! `[apps]` is not configured.

use askama::Template;
use axum::extract::{ConnectInfo, Form, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::error::WebError;
use super::kit::{client_address, Visit};
use super::pages::{render, Chrome, MessagePage};
use super::{cookies, AppState};
use app::apps::{AuthorizeStep, DirectAnswer, LogoutStep};
use app::shared::Session;
use app::AppError;
use i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/oauth2/jwks", get(jwks))
        .route("/oauth2/authorize", get(authorize))
        .route("/oauth2/continue/{id}", get(continue_authorize))
        .route("/oauth2/token", post(token))
        .route("/oauth2/userinfo", get(userinfo).post(userinfo))
        .route("/oauth2/introspect", post(introspect))
        .route("/oauth2/revoke", post(revoke))
        .route("/oauth2/logout", get(logout).post(confirm_logout))
}

/// Public metadata: cacheable for a few minutes (keys rotate with overlap).
fn public_json(value: serde_json::Value) -> Response {
    let mut response = Json(value).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

async fn discovery(State(app): State<AppState>) -> Result<Response, WebError> {
    Ok(public_json(app.apps().discovery().map_err(WebError::json)?))
}

async fn jwks(State(app): State<AppState>) -> Result<Response, WebError> {
    Ok(public_json(app.apps().jwks().map_err(WebError::json)?))
}

/// The session behind the cookie, if it is live.
async fn session_of(app: &AppState, visit: &Visit) -> Result<Option<Session>, WebError> {
    match app.account().session(visit.session_cookie()).await {
        Ok(session) => Ok(Some(session)),
        Err(AppError::NotLoggedIn) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

async fn authorize(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    visit: Visit,
) -> Result<Response, WebError> {
    let session = session_of(&app, &visit).await?;
    let step = app
        .apps()
        .authorize(query.as_deref().unwrap_or(""), session.as_ref())
        .await?;
    Ok(authorize_answer(step, visit.lang))
}

async fn continue_authorize(
    State(app): State<AppState>,
    Path(id): Path<String>,
    visit: Visit,
) -> Result<Response, WebError> {
    let session = session_of(&app, &visit).await?;
    let step = app.apps().continue_authorize(&id, session.as_ref()).await?;
    Ok(authorize_answer(step, visit.lang))
}

fn authorize_answer(step: AuthorizeStep, lang: Lang) -> Response {
    match step {
        AuthorizeStep::Redirect(location) => found(&location),
        AuthorizeStep::SignIn {
            continue_path,
            client_id,
            english,
        } => {
            let lang = if english { Lang::En } else { lang };
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("lang", lang.code())
                .append_pair("return_to", &continue_path)
                .append_pair("app", &client_id)
                .finish();
            found(&format!("/?{query}"))
        }
        AuthorizeStep::Refused { detail } => refused_page(lang, &detail),
    }
}

/// Our page for a request we must not redirect: what happened in the
/// person's language, the spec's detail for the app's developers.
fn refused_page(lang: Lang, detail: &str) -> Response {
    let message = format!(
        "{} ({detail})",
        lang.pick(
            "Приложение прислало запрос на вход, который мы не можем выполнить. Вернитесь в приложение и попробуйте войти ещё раз; если не получится, сообщите в поддержку приложения.",
            "The app sent a sign-in request we cannot carry out. Go back to the app and try to sign in again; if that fails, tell the app's support.",
        )
    );
    let page = MessagePage::new(
        lang,
        lang.pick("Вход в приложение невозможен", "Cannot sign in to the app"),
        message,
        None,
    );
    render(StatusCode::BAD_REQUEST, &page)
}

fn found(location: &str) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
}

/// A direct answer as it is: status, JSON (or nothing), the headers.
fn direct(answer: DirectAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = match answer.body {
        Some(body) => (status, Json(body)).into_response(),
        None => status.into_response(),
    };
    let headers = response.headers_mut();
    if let Some(challenge) = answer
        .www_authenticate
        .and_then(|value| HeaderValue::from_str(&value).ok())
    {
        headers.insert(header::WWW_AUTHENTICATE, challenge);
    }
    if answer.no_store {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
    response
}

async fn token(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: String,
) -> Result<Response, WebError> {
    let caller = client_address(&app, &headers, Some(peer));
    let answer = app
        .apps()
        .token(authorization(&headers), &body, &caller)
        .await
        .map_err(WebError::json)?;
    Ok(direct(answer))
}

async fn userinfo(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, WebError> {
    let answer = app
        .apps()
        .userinfo(authorization(&headers))
        .await
        .map_err(WebError::json)?;
    Ok(direct(answer))
}

async fn introspect(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: String,
) -> Result<Response, WebError> {
    let answer = app.apps().introspect(authorization(&headers), &body).await;
    Ok(direct(answer.map_err(WebError::json)?))
}

async fn revoke(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: String,
) -> Result<Response, WebError> {
    let answer = app.apps().revoke(authorization(&headers), &body).await;
    Ok(direct(answer.map_err(WebError::json)?))
}

#[derive(Template)]
#[template(path = "app_logout.html")]
struct LogoutPage {
    chrome: Chrome,
    question: String,
    query: String,
    csrf: String,
    confirm_label: &'static str,
    stay_label: &'static str,
}

async fn logout(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    visit: Visit,
) -> Result<Response, WebError> {
    let query = query.unwrap_or_default();
    let session = session_of(&app, &visit).await?;
    let step = app.apps().logout(&query, session.as_ref()).await?;
    let lang = visit.lang;
    Ok(match step {
        LogoutStep::Confirm {
            client_name_ru,
            client_name_en,
        } => {
            let name = lang.pick(&client_name_ru, &client_name_en);
            let question = match (lang, name.is_empty()) {
                (Lang::Ru, false) => {
                    format!("Приложение «{name}» просит выйти из электронного дневника. Выйти?")
                }
                (Lang::Ru, true) => "Выйти из электронного дневника?".to_string(),
                (Lang::En, false) => {
                    format!("The app \"{name}\" asks to log you out of the e-diary. Log out?")
                }
                (Lang::En, true) => "Log out of the e-diary?".to_string(),
            };
            let page = LogoutPage {
                chrome: Chrome::new(lang, lang.pick("Выход", "Log out"), "/oauth2/logout"),
                question,
                query,
                csrf: session.map(|s| s.data.csrf).unwrap_or_default(),
                confirm_label: lang.pick("Выйти", "Log out"),
                stay_label: lang.pick("Остаться в дневнике", "Stay logged in"),
            };
            render(StatusCode::OK, &page)
        }
        other => logout_answer(&app, other, lang),
    })
}

#[derive(Deserialize)]
struct ConfirmForm {
    query: String,
    csrf: String,
}

async fn confirm_logout(
    State(app): State<AppState>,
    visit: Visit,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, WebError> {
    let session = session_of(&app, &visit).await?;
    let step = app
        .apps()
        .confirm_logout(&form.query, session.as_ref(), &form.csrf)
        .await?;
    Ok(logout_answer(&app, step, visit.lang))
}

fn logout_answer(app: &AppState, step: LogoutStep, lang: Lang) -> Response {
    let mut response = match step {
        LogoutStep::Refused { detail } => return refused_page(lang, &detail),
        LogoutStep::LoggedOut {
            redirect: Some(location),
        } => found(&location),
        LogoutStep::LoggedOut { redirect: None } | LogoutStep::Confirm { .. } => {
            found(&format!("/?logged_out=1&lang={}", lang.code()))
        }
    };
    cookies::remove(
        response.headers_mut(),
        cookies::SESSION,
        "/",
        app.config().server.secure_cookies,
    );
    response
}
