//! The login and consent pages, shared by both profiles. Plain HTML forms,
//! no JavaScript: field names `login` / `password`, and `decision` =
//! `allow` («Предоставить») / `deny` («Отказать»). The pending authorization
//! travels in the hidden field `pending`.

use axum::extract::{Form, State as AxState};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::state::{lock, random_token, Pending, Profile, State};
use crate::tokens::issue_code;
use crate::wording;
use esia_proto::EsiaCode;

/// The single sign-on cookie (only with `MockIdpConfig.sso`).
pub const SESSION_COOKIE: &str = "mock_esia_session";

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\"><title>{title} — Госуслуги (тестовый стенд)</title>\
<style>body{{font-family:sans-serif;max-width:520px;margin:40px auto}}button{{padding:10px 18px;margin-right:8px}}\
.error{{color:#b00}}label{{display:block;margin:8px 0}}</style></head>\
<body><h1>{title}</h1><p><small>Тестовый стенд ЕСИА — не настоящие Госуслуги</small></p>{body}</body></html>"
    )
}

pub fn login_page(pending_id: &str, error: Option<&str>) -> Response {
    let error = error
        .map(|e| format!("<p class=\"error\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "{error}<form method=\"post\" action=\"/aas/login\">\
<input type=\"hidden\" name=\"pending\" value=\"{}\">\
<label>Телефон, почта или СНИЛС <input name=\"login\" autocomplete=\"username\"></label>\
<label>Пароль <input type=\"password\" name=\"password\" autocomplete=\"current-password\"></label>\
<button type=\"submit\">Войти</button></form>",
        escape(pending_id)
    );
    (StatusCode::OK, Html(page("Вход", &body))).into_response()
}

fn scope_lines(scope: &str) -> Vec<&'static str> {
    let mut lines = Vec::new();
    for s in scope.split_whitespace() {
        let line = match s {
            "fullname" | "profile" => "Фамилия, имя, отчество",
            "birthdate" => "Дата рождения",
            "gender" => "Пол",
            "snils" => "СНИЛС",
            "id_doc" => "Данные документа, удостоверяющего личность",
            "email" => "Адрес электронной почты",
            "mobile" => "Номер мобильного телефона",
            "contacts" => "Контактные данные",
            "kid_fullname" => "Фамилия, имя, отчество детей",
            "kid_birthdate" => "Даты рождения детей",
            "kid_gender" => "Пол детей",
            "kid_snils" => "СНИЛС детей",
            s if s.starts_with("kid_") => "Сведения о детях",
            _ => continue,
        };
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    lines
}

pub fn consent_page(pending_id: &str, client_id: &str, scope: &str) -> Response {
    let items: String = scope_lines(scope)
        .into_iter()
        .map(|l| format!("<li>{l}</li>"))
        .collect();
    let body = format!(
        "<p>Система «{}» запрашивает доступ к вашим данным:</p><ul>{items}</ul>\
<form method=\"post\" action=\"/aas/consent\">\
<input type=\"hidden\" name=\"pending\" value=\"{}\">\
<button type=\"submit\" name=\"decision\" value=\"allow\">Предоставить</button>\
<button type=\"submit\" name=\"decision\" value=\"deny\">Отказать</button></form>",
        escape(client_id),
        escape(pending_id)
    );
    (
        StatusCode::OK,
        Html(page("Предоставление прав доступа", &body)),
    )
        .into_response()
}

pub fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!("<p class=\"error\">{}</p>", escape(message));
    (status, Html(page("Ошибка", &body))).into_response()
}

/// `redirect_uri` with query parameters appended.
pub fn redirect_to(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        query.append_pair(k, v);
    }
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!("{redirect_uri}{separator}{}", query.finish());
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// The error redirect of each profile.
pub fn error_redirect(
    profile: Profile,
    redirect_uri: &str,
    state: &str,
    code: EsiaCode,
) -> Response {
    match profile {
        Profile::Esia => error_redirect_text(
            redirect_uri,
            state,
            wording::oauth_error(code),
            &wording::description(code),
        ),
        Profile::Oidc => redirect_to(
            redirect_uri,
            &[("error", code.oauth_error()), ("state", state)],
        ),
    }
}

/// ESIA's error redirect with a given `error` and `error_description`.
pub fn error_redirect_text(
    redirect_uri: &str,
    state: &str,
    error: &str,
    description: &str,
) -> Response {
    redirect_to(
        redirect_uri,
        &[
            ("error", error),
            ("error_description", description),
            ("state", state),
        ],
    )
}

fn session_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

/// Parks `pending` and shows the login form, or with a live single sign-on
/// session in this browser, the consent page straight away.
pub fn login_or_consent(state: &State, headers: &HeaderMap, mut pending: Pending) -> Response {
    let signed_in = session_of(headers)
        .filter(|_| state.sso)
        .and_then(|s| lock(&state.sessions).get(&s).cloned())
        .filter(|oid| state.person(oid).is_some());
    let pending_id = random_token();
    let (client_id, scope) = (pending.client_id.clone(), pending.scope.clone());
    pending.oid = signed_in.clone();
    lock(&state.pending).insert(pending_id.clone(), pending);
    match signed_in {
        Some(_) => consent_page(&pending_id, &client_id, &scope),
        None => login_page(&pending_id, None),
    }
}

/// Forgets this browser's single sign-on session, if any.
pub fn end_session(state: &State, headers: &HeaderMap) {
    if let Some(session) = session_of(headers) {
        lock(&state.sessions).remove(&session);
    }
}

pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pending: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

pub async fn login(AxState(state): AxState<State>, Form(form): Form<LoginForm>) -> Response {
    let now = state.now();
    let pending = lock(&state.pending).get(&form.pending).cloned();
    let Some(pending) = pending.filter(|p| p.expires_at > now) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Сеанс входа устарел. Вернитесь на сайт и начните вход заново.",
        );
    };
    let person = state
        .person_by_login(form.login.trim())
        .filter(|p| p.password == form.password);
    let Some(person) = person else {
        return login_page(&form.pending, Some("Неверный логин или пароль"));
    };
    if let Some(p) = lock(&state.pending).get_mut(&form.pending) {
        p.oid = Some(person.oid.clone());
    }
    let page = consent_page(&form.pending, &pending.client_id, &pending.scope);
    if !state.sso {
        return page;
    }
    let session = random_token();
    lock(&state.sessions).insert(session.clone(), person.oid.clone());
    let cookie = format!("{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax");
    ([(header::SET_COOKIE, cookie)], page).into_response()
}

#[derive(Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    pending: String,
    #[serde(default)]
    decision: String,
}

pub async fn consent(AxState(state): AxState<State>, Form(form): Form<ConsentForm>) -> Response {
    let now = state.now();
    let pending = lock(&state.pending).remove(&form.pending);
    let Some(pending) = pending.filter(|p| p.expires_at > now) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Сеанс входа устарел. Вернитесь на сайт и начните вход заново.",
        );
    };
    let Some(oid) = pending.oid.clone() else {
        return error_page(StatusCode::BAD_REQUEST, "Сначала войдите.");
    };
    let answer = match form.decision.as_str() {
        "allow" => {
            let code = issue_code(&state, &pending, &oid);
            redirect_to(
                &pending.redirect_uri,
                &[("code", &code), ("state", &pending.state)],
            )
        }
        _ => error_redirect(
            pending.profile,
            &pending.redirect_uri,
            &pending.state,
            EsiaCode::E007004,
        ),
    };
    with_iss(answer, crate::hostile::iss_parameter(&state).as_deref())
}

/// Appends RFC 9207's `iss` to a redirect's Location.
fn with_iss(mut response: Response, iss: Option<&str>) -> Response {
    let Some(iss) = iss else {
        return response;
    };
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let Some(location) = location {
        let encoded: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("iss", iss)
            .finish();
        let separator = if location.contains('?') { '&' } else { '?' };
        if let Ok(value) = format!("{location}{separator}{encoded}").parse() {
            response.headers_mut().insert(header::LOCATION, value);
        }
    }
    response
}
