//! Account recovery over HTTP.
//!
//! | path | what |
//! | --- | --- |
//! | `GET, POST /recover/password` | forgotten password: login or e-mail → a one-time link |
//! | `GET, POST /recover/login` | forgotten login: e-mail + date of birth → the login by e-mail |
//! | `GET, POST /recover/reset?token=` | the link's page: a new password, twice |
//! | `GET, POST /family/child/{pupil_id}/password` | a parent sets a confirmed child's password |
//!
//! A request's answer is the same page whether or not an account matched.
//! Plain forms, no JavaScript.

use askama::Template;
use axum::extract::{Form, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use secrecy::SecretString;
use serde::Deserialize;
use uuid::Uuid;

use super::auth::see_other;
use super::error::WebError;
use super::kit::Visit;
use super::lang::RequestLang;
use super::pages::{render, Chrome};
use super::{cookies, query_param, AppState};
use app::account::recovery::{ChildPasswordView, RecoveryRefusal};
use app::AppError;
use i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/recover/password",
            get(password_form).post(request_password),
        )
        .route("/recover/login", get(login_form).post(request_login))
        .route("/recover/reset", get(reset_form).post(reset))
        .route(
            "/family/child/{pupil_id}/password",
            get(child_form).post(set_child_password),
        )
}

// ---------------------------------------------------------------------------
// Pages.

/// One input of a request form.
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    /// The input's `type`.
    pub kind: &'static str,
    pub autocomplete: &'static str,
    pub hint: Option<&'static str>,
    pub value: String,
}

/// Both request forms and their one answer.
#[derive(Template)]
#[template(path = "recover_request.html")]
pub struct RequestPage {
    pub chrome: Chrome,
    pub intro: &'static str,
    pub errors: Vec<String>,
    pub action: &'static str,
    pub fields: Vec<Field>,
    pub submit: &'static str,
    /// After a request: what the page says whatever matched.
    pub answer: Option<&'static str>,
    pub other_url: &'static str,
    pub other_label: &'static str,
    pub to_login: &'static str,
}

/// The new-password form behind a reset link.
#[derive(Template)]
#[template(path = "recover_reset.html")]
pub struct ResetPage {
    pub chrome: Chrome,
    pub intro: String,
    pub errors: Vec<String>,
    /// `None` when the link does not work: no form then.
    pub token: Option<String>,
    pub t: PasswordTexts,
    pub done: Option<&'static str>,
    pub again_label: &'static str,
}

/// A parent's form for a child's password.
#[derive(Template)]
#[template(path = "recover_child.html")]
pub struct ChildPage {
    pub chrome: Chrome,
    pub intro: String,
    pub errors: Vec<String>,
    pub action: String,
    pub csrf: String,
    pub t: PasswordTexts,
    pub done: Option<String>,
    /// Refused (403): the message only, no form.
    pub refused: bool,
    pub family_label: &'static str,
}

pub struct PasswordTexts {
    pub rules: &'static str,
    pub password: &'static str,
    pub repeat: &'static str,
    pub submit: &'static str,
    pub to_login: &'static str,
}

impl PasswordTexts {
    fn new(lang: Lang) -> PasswordTexts {
        PasswordTexts {
            rules: lang.pick(
                "Новый пароль: не короче 10 символов, без логина, имени и даты рождения, не из списка распространённых.",
                "The new password: at least 10 characters, without the login, name or date of birth, not a common one.",
            ),
            password: lang.pick("Новый пароль", "New password"),
            repeat: lang.pick("Новый пароль ещё раз", "New password again"),
            submit: lang.pick("Сохранить пароль", "Save the password"),
            to_login: lang.pick("Войти", "Log in"),
        }
    }
}

fn answer_text(lang: Lang, login: bool) -> &'static str {
    if login {
        lang.pick(
            "Если учётная запись с такими подтверждённой почтой и датой рождения есть, мы отправили на эту почту письмо с логином. Письмо может идти несколько минут; проверьте и папку «Спам».",
            "If an account with this confirmed e-mail and date of birth exists, we have sent its login to that e-mail. The message may take a few minutes; check the spam folder too.",
        )
    } else {
        lang.pick(
            "Если учётная запись с подтверждённой почтой подходит, мы отправили на эту почту ссылку для смены пароля. Письмо может идти несколько минут; проверьте и папку «Спам».",
            "If an account with a confirmed e-mail matches, we have sent a link to change the password to that e-mail. The message may take a few minutes; check the spam folder too.",
        )
    }
}

fn password_request_page(lang: Lang, who: &str, errors: Vec<String>) -> RequestPage {
    RequestPage {
        chrome: Chrome::new(
            lang,
            lang.pick("Восстановление пароля", "Forgotten password"),
            "/recover/password",
        ),
        intro: lang.pick(
            "Введите логин дневника или адрес электронной почты. Если у учётной записи есть подтверждённая почта, мы пришлём на неё ссылку для смены пароля.",
            "Enter your e-diary login or e-mail address. If the account has a confirmed e-mail, we will send a link to change the password there.",
        ),
        errors,
        action: "/recover/password",
        fields: vec![Field {
            name: "who",
            label: lang.pick("Логин или электронная почта", "Login or e-mail"),
            kind: "text",
            autocomplete: "username",
            hint: None,
            value: who.chars().take(254).collect(),
        }],
        submit: lang.pick("Отправить ссылку", "Send the link"),
        answer: None,
        other_url: "/recover/login",
        other_label: lang.pick("Забыли логин?", "Forgot your login?"),
        to_login: lang.pick("К входу по паролю", "Back to the password login"),
    }
}

fn login_request_page(
    lang: Lang,
    email: &str,
    birth_date: &str,
    errors: Vec<String>,
) -> RequestPage {
    RequestPage {
        chrome: Chrome::new(
            lang,
            lang.pick("Восстановление логина", "Forgotten login"),
            "/recover/login",
        ),
        intro: lang.pick(
            "Введите подтверждённую электронную почту учётной записи и дату рождения её владельца. Если они совпадут, мы пришлём логин на эту почту.",
            "Enter the account's confirmed e-mail and its owner's date of birth. If they match, we will send the login to that e-mail.",
        ),
        errors,
        action: "/recover/login",
        fields: vec![
            Field {
                name: "email",
                label: lang.pick("Электронная почта", "E-mail"),
                kind: "email",
                autocomplete: "email",
                hint: None,
                value: email.chars().take(254).collect(),
            },
            Field {
                name: "birth_date",
                label: lang.pick("Дата рождения", "Date of birth"),
                kind: "date",
                autocomplete: "bday",
                hint: Some(lang.pick("ДД.ММ.ГГГГ", "DD.MM.YYYY")),
                value: birth_date.chars().take(32).collect(),
            },
        ],
        submit: lang.pick("Прислать логин", "Send the login"),
        answer: None,
        other_url: "/recover/password",
        other_label: lang.pick("Забыли пароль?", "Forgot your password?"),
        to_login: lang.pick("К входу по паролю", "Back to the password login"),
    }
}

fn refusal_status(refusal: &RecoveryRefusal) -> StatusCode {
    match refusal {
        RecoveryRefusal::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        RecoveryRefusal::LinkGone => StatusCode::GONE,
        RecoveryRefusal::NotYourChild => StatusCode::FORBIDDEN,
        RecoveryRefusal::ChildNotActive => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

// ---------------------------------------------------------------------------
// Forgotten password and login.

#[derive(Deserialize)]
struct PasswordRequestForm {
    #[serde(default)]
    who: String,
}

#[derive(Deserialize)]
struct LoginRequestForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    birth_date: String,
}

async fn password_form(RequestLang(lang): RequestLang) -> Response {
    render(StatusCode::OK, &password_request_page(lang, "", Vec::new()))
}

async fn login_form(RequestLang(lang): RequestLang) -> Response {
    render(
        StatusCode::OK,
        &login_request_page(lang, "", "", Vec::new()),
    )
}

async fn request_password(
    State(app): State<AppState>,
    visit: Visit,
    Form(form): Form<PasswordRequestForm>,
) -> Result<Response, WebError> {
    let lang = visit.lang;
    visit.require_same_origin()?;
    let client = visit.client.clone();
    let result = app
        .account()
        .request_password_reset(&form.who, &client, lang)
        .await?;
    Ok(match result {
        Ok(()) => {
            let mut page = password_request_page(lang, "", Vec::new());
            page.answer = Some(answer_text(lang, false));
            render(StatusCode::OK, &page)
        }
        Err(refusal) => render(
            refusal_status(&refusal),
            &password_request_page(lang, &form.who, refusal.messages(lang)),
        ),
    })
}

async fn request_login(
    State(app): State<AppState>,
    visit: Visit,
    Form(form): Form<LoginRequestForm>,
) -> Result<Response, WebError> {
    let lang = visit.lang;
    visit.require_same_origin()?;
    let client = visit.client.clone();
    let result = app
        .account()
        .request_login_reminder(&form.email, &form.birth_date, &client, lang)
        .await?;
    Ok(match result {
        Ok(()) => {
            let mut page = login_request_page(lang, "", "", Vec::new());
            page.answer = Some(answer_text(lang, true));
            render(StatusCode::OK, &page)
        }
        Err(refusal) => render(
            refusal_status(&refusal),
            &login_request_page(lang, &form.email, &form.birth_date, refusal.messages(lang)),
        ),
    })
}

// ---------------------------------------------------------------------------
// The reset link.

fn reset_page(lang: Lang, token: Option<&str>) -> ResetPage {
    let mut chrome = Chrome::new(
        lang,
        lang.pick("Новый пароль", "New password"),
        "/recover/reset",
    );
    if let Some(token) = token {
        // The language switch keeps the link working.
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", token)
            .append_pair("lang", chrome.switch_lang)
            .finish();
        chrome.switch_url = format!("/recover/reset?{query}");
    }
    ResetPage {
        chrome,
        intro: String::new(),
        errors: Vec::new(),
        token: token.map(str::to_string),
        t: PasswordTexts::new(lang),
        done: None,
        again_label: lang.pick("Запросить новую ссылку", "Ask for a new link"),
    }
}

fn link_gone(lang: Lang) -> Response {
    let mut page = reset_page(lang, None);
    page.errors = RecoveryRefusal::LinkGone.messages(lang);
    render(StatusCode::GONE, &page)
}

fn reset_intro(lang: Lang, login: &str) -> String {
    match lang {
        Lang::Ru => format!("Задайте новый пароль для учётной записи с логином {login}. После смены пароля все входы в эту учётную запись на других устройствах завершатся."),
        Lang::En => format!("Choose a new password for the account with the login {login}. Once it is changed, every session of this account on other devices ends."),
    }
}

async fn reset_form(
    State(app): State<AppState>,
    RequestLang(lang): RequestLang,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let token = query_param(query.as_deref(), "token").unwrap_or_default();
    let link = app.account().reset_link(&token).await?;
    let Some(link) = link else {
        return Ok(link_gone(lang));
    };
    let mut page = reset_page(lang, Some(&token));
    page.intro = reset_intro(lang, &link.login);
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
struct NewPasswordForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeat: String,
}

async fn reset(
    State(app): State<AppState>,
    visit: Visit,
    Form(form): Form<NewPasswordForm>,
) -> Result<Response, WebError> {
    let lang = visit.lang;
    visit.require_same_origin()?;
    let client = visit.client.clone();
    let result = app
        .account()
        .reset_password(
            &form.token,
            SecretString::from(form.password),
            SecretString::from(form.repeat),
            &client,
        )
        .await?;
    Ok(match result {
        Ok(()) => {
            let mut page = reset_page(lang, None);
            page.done = Some(lang.pick(
                "Пароль изменён. Все прежние входы в учётную запись завершены; войдите с новым паролем.",
                "The password is changed. Every earlier session of the account has ended; log in with the new password.",
            ));
            // The browser's own session, if any, ended with the others.
            let mut response = render(StatusCode::OK, &page);
            cookies::remove(
                response.headers_mut(),
                cookies::SESSION,
                "/",
                app.config().server.secure_cookies,
            );
            response
        }
        Err(RecoveryRefusal::LinkGone) => link_gone(lang),
        Err(refusal) => {
            let mut page = reset_page(lang, Some(&form.token));
            page.errors = refusal.messages(lang);
            render(refusal_status(&refusal), &page)
        }
    })
}

// ---------------------------------------------------------------------------
// A parent sets a child's password.

fn child_page(lang: Lang, pupil_id: Uuid, view: Option<&ChildPasswordView>) -> ChildPage {
    let path = format!("/family/child/{pupil_id}/password");
    let intro = match (view, lang) {
        (Some(v), Lang::Ru) => format!(
            "Новый пароль для учётной записи ребёнка: {} (логин {}). Прежний пароль перестанет действовать, а все входы ребёнка завершатся.",
            v.full_name,
            v.login.as_deref().unwrap_or_default()
        ),
        (Some(v), Lang::En) => format!(
            "A new password for your child's account: {} (login {}). The old password stops working and every session of the child ends.",
            v.full_name,
            v.login.as_deref().unwrap_or_default()
        ),
        (None, _) => String::new(),
    };
    ChildPage {
        chrome: Chrome::new(
            lang,
            lang.pick("Пароль ребёнка", "Your child's password"),
            &path,
        ),
        intro,
        errors: Vec::new(),
        action: path,
        csrf: view.map(|v| v.csrf.clone()).unwrap_or_default(),
        t: PasswordTexts::new(lang),
        done: None,
        refused: view.is_none(),
        family_label: lang.pick("К странице «Семья»", "Back to Family"),
    }
}

fn child_refused(lang: Lang, pupil_id: Uuid, refusal: &RecoveryRefusal) -> Response {
    let mut page = child_page(lang, pupil_id, None);
    page.errors = refusal.messages(lang);
    render(refusal_status(refusal), &page)
}

/// An id that does not parse is nobody's child: the same 403.
fn parse_pupil(text: &str) -> Option<Uuid> {
    Uuid::parse_str(text.trim()).ok()
}

async fn child_form(
    State(app): State<AppState>,
    RequestLang(lang): RequestLang,
    headers: HeaderMap,
    Path(pupil_id): Path<String>,
) -> Result<Response, WebError> {
    let cookie = cookies::get(&headers, cookies::SESSION);
    let session = match app.account().session(cookie.as_deref()).await {
        Ok(session) => session,
        Err(AppError::NotLoggedIn) => return Ok(see_other(HeaderMap::new(), "/")),
        Err(e) => return Err(e.into()),
    };
    let Some(pupil) = parse_pupil(&pupil_id) else {
        return Ok(child_refused(
            lang,
            Uuid::nil(),
            &RecoveryRefusal::NotYourChild,
        ));
    };
    let view = app.account().child_password_view(&session, pupil).await?;
    Ok(match view {
        Ok(view) => render(StatusCode::OK, &child_page(lang, pupil, Some(&view))),
        Err(refusal) => child_refused(lang, pupil, &refusal),
    })
}

async fn set_child_password(
    State(app): State<AppState>,
    visit: Visit,
    headers: HeaderMap,
    Path(pupil_id): Path<String>,
    Form(form): Form<NewPasswordForm>,
) -> Result<Response, WebError> {
    let lang = visit.lang;
    let cookie = cookies::get(&headers, cookies::SESSION);
    let session = app.account().session(cookie.as_deref()).await?;
    let Some(pupil) = parse_pupil(&pupil_id) else {
        return Ok(child_refused(
            lang,
            Uuid::nil(),
            &RecoveryRefusal::NotYourChild,
        ));
    };
    let client = visit.client.clone();
    let result = app
        .account()
        .set_child_password(
            &session,
            pupil,
            &form.csrf,
            SecretString::from(form.password),
            SecretString::from(form.repeat),
            &client,
        )
        .await?;
    Ok(match result {
        Ok(view) => {
            let mut page = child_page(lang, pupil, Some(&view));
            page.done = Some(match lang {
                Lang::Ru => format!(
                    "Пароль ребёнка изменён. Сообщите его ребёнку: логин {}.",
                    view.login.as_deref().unwrap_or_default()
                ),
                Lang::En => format!(
                    "Your child's password is changed. Tell it to your child: login {}.",
                    view.login.as_deref().unwrap_or_default()
                ),
            });
            render(StatusCode::OK, &page)
        }
        Err(refusal @ (RecoveryRefusal::NotYourChild | RecoveryRefusal::ChildNotActive)) => {
            child_refused(lang, pupil, &refusal)
        }
        Err(refusal) => {
            // The form again, with what was wrong.
            let view = app.account().child_password_view(&session, pupil).await?;
            match view {
                Ok(view) => {
                    let mut page = child_page(lang, pupil, Some(&view));
                    page.errors = refusal.messages(lang);
                    render(refusal_status(&refusal), &page)
                }
                Err(other) => child_refused(lang, pupil, &other),
            }
        }
    })
}
