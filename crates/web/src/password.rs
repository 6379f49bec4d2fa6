//! `/login/password`: the diary login and password; `/link`: the same form
//! after a State Services login the automatic match could not place, which
//! links that identity to the proven account when the names match;
//! `/link/code`: the same link proven with the school's activation code.
//! Like every form posted before a session exists, both are checked to come
//! from this site's own pages; the waiting identity is behind an HttpOnly
//! SameSite cookie.

use askama::Template;
use axum::extract::{Form, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use secrecy::SecretString;
use serde::Deserialize;

use super::auth::see_other;
use super::error::WebError;
use super::kit::Visit;
use super::lang::RequestLang;
use super::pages::{render, Chrome, PasswordPage, SupportBlock};
use super::return_to::safe_return_target;
use super::{cookies, AppState};
use app::account::activation::ActivationError;
use app::login::credentials::{CodeLinkRefusal, PasswordRefusal, PendingIdentity};
use domain::activation::CodeRefusal;
use domain::throttle::Verdict;
use i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/password", get(login_page).post(login))
        .route("/link", get(link_page).post(link))
        .route("/link/code", get(code_page).post(link_by_code))
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
        action: action.to_string(),
        login: login.chars().take(64).collect(),
        login_label: lang.pick("Логин дневника", "E-diary login"),
        password_label: lang.pick("Пароль", "Password"),
        submit_label: submit,
        activate_label: lang.pick(
            "Нет пароля? Активируйте учётную запись кодом от школы",
            "No password? Activate your account with the code from your school",
        ),
        code_link_label: linking.then(|| {
            lang.pick(
                "Нет пароля? Свяжите учётные записи кодом активации от школы",
                "No password? Link the accounts with the activation code from your school",
            )
        }),
        support: None,
    }
}

/// Support contacts for a refusal that sends the person to support: a
/// lockout (whose account a login is stays untold, so the service's
/// contacts), or an account linked to someone else (proven, so its own).
async fn support_for(
    app: &AppState,
    lang: Lang,
    refusal: &PasswordRefusal,
) -> Option<SupportBlock> {
    let contacts = match refusal {
        PasswordRefusal::Throttled(Verdict::LockedUntil(_)) => app.config().support_for(None, None),
        PasswordRefusal::AccountLinkedAlready { account, .. } => {
            account_support(app, *account).await
        }
        _ => return None,
    };
    Some(SupportBlock::new(lang, contacts.as_ref()))
}

/// An account's support contacts; none (general words) if they cannot be read.
async fn account_support(app: &AppState, account: uuid::Uuid) -> Option<config::SupportContacts> {
    app.account()
        .support_for_account(account)
        .await
        .unwrap_or_else(|error| {
            tracing::warn!(error = %error, "no support contacts for the account");
            None
        })
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

/// `?return_to=` of the password login, if it is one we may follow (an
/// app's authorization request waiting for the sign-in, for one).
fn password_return_to(app: &AppState, query: Option<&str>) -> Option<String> {
    let raw = super::query_param(query, "return_to")?;
    safe_return_target(&raw, &app.config().server.allowed_return_origins)
}

/// The password form, posting back with the same `return_to`.
fn login_form(
    lang: Lang,
    return_to: Option<&str>,
    login: &str,
    errors: Vec<String>,
) -> PasswordPage {
    let mut shown = page(lang, false, String::new(), login, errors);
    if let Some(target) = return_to {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("return_to", target)
            .finish();
        shown.action = format!("/login/password?{query}");
    }
    shown
}

async fn login_page(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    RequestLang(lang): RequestLang,
) -> Response {
    let return_to = password_return_to(&app, query.as_deref());
    render(
        StatusCode::OK,
        &login_form(lang, return_to.as_deref(), "", Vec::new()),
    )
}

async fn login(
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
    visit: Visit,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let return_to = password_return_to(&app, query.as_deref());
    let lang = visit.lang;
    visit.require_same_origin()?;
    let client = visit.client.clone();
    let result = app
        .login()
        .password_login(
            &form.login,
            SecretString::from(form.password),
            &client,
            lang,
        )
        .await?;
    Ok(match result {
        Ok(session) => logged_in(&app, &session, return_to.as_deref().unwrap_or("/account")),
        Err(refusal) => {
            let mut shown = login_form(
                lang,
                return_to.as_deref(),
                &form.login,
                vec![refusal.message(lang)],
            );
            shown.support = support_for(&app, lang, &refusal).await;
            render(refusal_status(&refusal), &shown)
        }
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
    let identity = pending_identity(&app, &headers).await?;
    Ok(match identity {
        Some(identity) => {
            let provider = app.provider_display_name(&identity.provider, lang);
            let name = display_name(&identity);
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

/// The identity waiting to be linked, named by the browser's cookie.
async fn pending_identity(
    app: &AppState,
    headers: &HeaderMap,
) -> Result<Option<PendingIdentity>, WebError> {
    let token = cookies::get(headers, cookies::PENDING_LINK);
    Ok(app.login().pending_identity(token.as_deref()).await?)
}

/// A fallback form's pending-link cookie and client address, once the
/// form is known to come from our own pages.
fn fallback_request(
    visit: &Visit,
    headers: &HeaderMap,
) -> Result<(Option<String>, String), WebError> {
    visit.require_same_origin()?;
    Ok((
        cookies::get(headers, cookies::PENDING_LINK),
        visit.client.clone(),
    ))
}

async fn link(
    State(app): State<AppState>,
    visit: Visit,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response, WebError> {
    let lang = visit.lang;
    let (token, client) = fallback_request(&visit, &headers)?;
    let result = app
        .login()
        .link_with_password(
            token.as_deref(),
            &form.login,
            SecretString::from(form.password),
            &client,
            lang,
        )
        .await?;
    Ok(match result {
        Ok(session) => logged_in(&app, &session, "/account"),
        Err(refusal) => {
            let mut shown = page(
                lang,
                true,
                String::new(),
                &form.login,
                vec![refusal.message(lang)],
            );
            shown.support = support_for(&app, lang, &refusal).await;
            render(refusal_status(&refusal), &shown)
        }
    })
}

fn display_name(identity: &PendingIdentity) -> String {
    match &identity.patronymic {
        Some(p) => format!("{} {} {p}", identity.surname, identity.given_name),
        None => format!("{} {}", identity.surname, identity.given_name),
    }
}

/// `/link/code`: the activation code as the proof.
#[derive(Template)]
#[template(path = "link_code.html")]
struct LinkCodePage {
    chrome: Chrome,
    intro: String,
    errors: Vec<String>,
    /// False when nothing waits to be linked: no form, a way back.
    form: bool,
    typed: String,
    code_label: &'static str,
    code_hint: &'static str,
    submit_label: &'static str,
    password_label: &'static str,
    start_label: &'static str,
    support: Option<SupportBlock>,
}

fn code_form(lang: Lang, intro: String, typed: &str, errors: Vec<String>) -> LinkCodePage {
    LinkCodePage {
        chrome: Chrome::new(
            lang,
            lang.pick(
                "Связать по коду активации",
                "Link with your activation code",
            ),
            "/link/code",
        ),
        intro,
        errors,
        form: true,
        typed: typed.chars().take(40).collect(),
        code_label: lang.pick(
            "Код активации с листа-приглашения",
            "Activation code from the invitation sheet",
        ),
        code_hint: lang.pick(
            "Регистр букв, пробелы и дефисы не важны.",
            "Letter case, spaces and hyphens do not matter.",
        ),
        submit_label: lang.pick("Связать и войти", "Link and log in"),
        password_label: lang.pick(
            "Есть логин и пароль? Свяжите учётные записи ими",
            "Have a login and password? Link the accounts with them",
        ),
        start_label: lang.pick("Начать вход заново", "Start again"),
        support: None,
    }
}

fn code_intro(lang: Lang, provider: &str, name: &str) -> String {
    match lang {
        Lang::Ru => format!("Вы вошли в «{provider}» как {name}, но мы не смогли сами найти вашу учётную запись в дневнике. Введите код активации со своего листа-приглашения от школы: если ФИО совпадают, учётные записи будут связаны, и в следующий раз вход через «{provider}» пройдёт сразу. Пароль для этого не нужен."),
        Lang::En => format!("You logged in to “{provider}” as {name}, but we could not find your e-diary account ourselves. Enter the activation code from your own invitation sheet from the school: if the names match, the accounts are linked and your next login via “{provider}” goes straight in. No password is needed for that."),
    }
}

/// Nothing waits to be linked: say so and offer a new login.
fn nothing_to_link(lang: Lang) -> Response {
    let mut shown = code_form(
        lang,
        String::new(),
        "",
        CodeLinkRefusal::NothingToLink.messages(lang),
    );
    shown.form = false;
    render(StatusCode::GONE, &shown)
}

async fn code_page(
    State(app): State<AppState>,
    RequestLang(lang): RequestLang,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let identity = pending_identity(&app, &headers).await?;
    let Some(identity) = identity else {
        return Ok(nothing_to_link(lang));
    };
    let provider = app.provider_display_name(&identity.provider, lang);
    let intro = code_intro(lang, &provider, &display_name(&identity));
    Ok(render(
        StatusCode::OK,
        &code_form(lang, intro, "", Vec::new()),
    ))
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

fn code_refusal_status(refusal: &CodeLinkRefusal) -> StatusCode {
    match refusal {
        CodeLinkRefusal::Code(ActivationError::RateLimited) => StatusCode::TOO_MANY_REQUESTS,
        CodeLinkRefusal::Code(ActivationError::Code(CodeRefusal::Unknown)) => {
            StatusCode::UNAUTHORIZED
        }
        CodeLinkRefusal::NameMismatch => StatusCode::UNAUTHORIZED,
        CodeLinkRefusal::NothingToLink => StatusCode::GONE,
        CodeLinkRefusal::AccountLinkedAlready { .. } => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

async fn link_by_code(
    State(app): State<AppState>,
    visit: Visit,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response, WebError> {
    let lang = visit.lang;
    let (token, client) = fallback_request(&visit, &headers)?;
    let result = app
        .login()
        .link_with_code(token.as_deref(), &form.code, &client)
        .await?;
    Ok(match result {
        Ok(session) => logged_in(&app, &session, "/account"),
        Err(CodeLinkRefusal::NothingToLink) => nothing_to_link(lang),
        Err(refusal) => {
            let mut shown = code_form(lang, String::new(), &form.code, refusal.messages(lang));
            if let CodeLinkRefusal::AccountLinkedAlready { account, .. } = &refusal {
                let contacts = account_support(&app, *account).await;
                shown.support = Some(SupportBlock::new(lang, contacts.as_ref()));
            }
            render(code_refusal_status(&refusal), &shown)
        }
    })
}
