//! `/login/password`: the diary login and password; `/link`: the same form
//! after a State Services login the automatic match could not place, which
//! links that identity to the proven account when the names match.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use secrecy::SecretString;
use serde::Deserialize;

use super::auth::{client_address, see_other};
use super::error::WebError;
use super::lang::RequestLang;
use super::pages::{render, Chrome, PasswordPage};
use super::{cookies, AppState};
use crate::app::credentials::PasswordRefusal;
use crate::i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/password", get(login_page).post(login))
        .route("/link", get(link_page).post(link))
}

fn page(
    lang: Lang,
    linking: bool,
    intro: String,
    login: &str,
    errors: Vec<String>,
) -> PasswordPage {
    let (title, path, action, submit) = if linking {
        (
            lang.pick(
                "Связать с учётной записью дневника",
                "Link to your e-diary account",
            ),
            "/link",
            "/link",
            lang.pick("Связать и войти", "Link and log in"),
        )
    } else {
        (
            lang.pick("Вход по логину и паролю", "Log in with login and password"),
            "/login/password",
            "/login/password",
            lang.pick("Войти", "Log in"),
        )
    };
    PasswordPage {
        chrome: Chrome::new(lang, title, path),
        intro,
        errors,
        action,
        login: login.chars().take(64).collect(),
        login_label: lang.pick("Логин дневника", "E-diary login"),
        password_label: lang.pick("Пароль", "Password"),
        submit_label: submit,
        activate_label: lang.pick(
            "Нет пароля? Активируйте учётную запись кодом от школы",
            "No password? Activate your account with the code from your school",
        ),
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

fn refusal_status(refusal: &PasswordRefusal) -> StatusCode {
    match refusal {
        PasswordRefusal::RateLimited | PasswordRefusal::Throttled(_) => {
            StatusCode::TOO_MANY_REQUESTS
        }
        PasswordRefusal::NothingToLink => StatusCode::GONE,
        _ => StatusCode::UNAUTHORIZED,
    }
}

fn logged_in(app: &AppState, session: &str, location: &str) -> Response {
    let mut headers = HeaderMap::new();
    let secure = app.config().server.secure_cookies;
    cookies::set(
        &mut headers,
        cookies::SESSION,
        session,
        "/",
        app.config().server.session_absolute_hours * 3600,
        secure,
    );
    cookies::remove(&mut headers, cookies::PENDING_LINK, "/", secure);
    see_other(headers, location)
}

async fn login_page(RequestLang(lang): RequestLang) -> Response {
    render(
        StatusCode::OK,
        &page(lang, false, String::new(), "", Vec::new()),
    )
}

async fn login(
    State(app): State<AppState>,
    RequestLang(lang): RequestLang,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    if !super::same_origin(&app, &headers) {
        return Err(WebError::page(crate::app::AppError::CsrfMismatch, lang));
    }
    let client = client_address(&app, &headers, peer);
    let result = app
        .password_login(
            &form.login,
            SecretString::from(form.password),
            &client,
            lang,
        )
        .await
        .map_err(|e| WebError::page(e, lang))?;
    Ok(match result {
        Ok(session) => logged_in(&app, &session, "/account"),
        Err(refusal) => render(
            refusal_status(&refusal),
            &page(
                lang,
                false,
                String::new(),
                &form.login,
                vec![refusal.message(lang)],
            ),
        ),
    })
}

fn link_intro(lang: Lang, provider: &str, name: &str) -> String {
    match lang {
        Lang::Ru => format!("Вы вошли в «{provider}» как {name}, но мы не смогли сами найти вашу учётную запись в дневнике. Введите логин и пароль своей учётной записи дневника: если ФИО совпадают, учётные записи будут связаны, и в следующий раз вход через «{provider}» пройдёт сразу."),
        Lang::En => format!("You logged in to \"{provider}\" as {name}, but we could not find your e-diary account ourselves. Enter the login and password of your own e-diary account: if the names match, the accounts are linked and your next login via \"{provider}\" goes straight in."),
    }
}

async fn link_page(
    State(app): State<AppState>,
    RequestLang(lang): RequestLang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let token = cookies::get(&headers, cookies::PENDING_LINK);
    let identity = app
        .pending_identity(token.as_deref())
        .await
        .map_err(|e| WebError::page(e, lang))?;
    Ok(match identity {
        Some(identity) => {
            let provider = app.provider_display_name(&identity.provider, lang);
            let name = match &identity.patronymic {
                Some(p) => format!("{} {} {p}", identity.surname, identity.given_name),
                None => format!("{} {}", identity.surname, identity.given_name),
            };
            render(
                StatusCode::OK,
                &page(
                    lang,
                    true,
                    link_intro(lang, &provider, &name),
                    "",
                    Vec::new(),
                ),
            )
        }
        None => render(
            StatusCode::GONE,
            &page(
                lang,
                false,
                String::new(),
                "",
                vec![PasswordRefusal::NothingToLink.message(lang)],
            ),
        ),
    })
}

async fn link(
    State(app): State<AppState>,
    RequestLang(lang): RequestLang,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    if !super::same_origin(&app, &headers) {
        return Err(WebError::page(crate::app::AppError::CsrfMismatch, lang));
    }
    let token = cookies::get(&headers, cookies::PENDING_LINK);
    let client = client_address(&app, &headers, peer);
    let result = app
        .link_with_password(
            token.as_deref(),
            &form.login,
            SecretString::from(form.password),
            &client,
            lang,
        )
        .await
        .map_err(|e| WebError::page(e, lang))?;
    Ok(match result {
        Ok(session) => logged_in(&app, &session, "/account"),
        Err(refusal) => render(
            refusal_status(&refusal),
            &page(
                lang,
                true,
                String::new(),
                &form.login,
                vec![refusal.message(lang)],
            ),
        ),
    })
}
