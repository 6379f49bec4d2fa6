//! The activation wizard's pages: `/activate` (enter the code, or open the
//! QR link `/activate?code=...`), one form per step posted to
//! `/activate/step`, and `/activate/confirm?token=...` from the e-mail.
//! Plain forms, no JavaScript; every answer is kept between steps.

use axum::extract::{Form, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use secrecy::SecretString;
use serde::Deserialize;

use super::auth::see_other;
use super::error::WebError;
use super::kit::Visit;
use super::lang::RequestLang;
use super::pages::{render, ActivatePage, Chrome, WizardTexts};
use super::{cookies, query_param, AppState};
use app::account::activation::{WizardInput, WizardNext, WizardView};
use domain::activation::Step;
use i18n::Lang;

/// The browser's wizard (a random token; the store keys its hash).
pub const WIZARD: &str = "el_wizard";
const WIZARD_COOKIE_SECS: u64 = 60 * 60;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/activate", get(page))
        .route("/activate/code", post(enter_code))
        .route("/activate/step", post(step))
        .route("/activate/confirm", get(confirm))
}

fn blank(lang: Lang, title: &str, step: &'static str) -> ActivatePage {
    ActivatePage {
        chrome: Chrome::new(lang, title, "/activate"),
        t: WizardTexts::new(lang, ""),
        step,
        progress: None,
        errors: Vec::new(),
        typed: String::new(),
        name: String::new(),
        birth_date: String::new(),
        school: String::new(),
        class_name: None,
        role: String::new(),
        email: String::new(),
        phone: String::new(),
        login: None,
        login_changeable: false,
        proposed_login: None,
        csrf: String::new(),
        sent: String::new(),
    }
}

fn code_page(lang: Lang, typed: &str, errors: Vec<String>) -> ActivatePage {
    let mut page = blank(
        lang,
        lang.pick("Активация учётной записи", "Account activation"),
        "code",
    );
    page.typed = typed.chars().take(40).collect();
    page.errors = errors;
    page
}

fn step_page(lang: Lang, view: WizardView, errors: Vec<String>) -> ActivatePage {
    let (step, title) = match view.step {
        Step::Data => (
            "data",
            lang.pick("Проверьте свои данные", "Check your data"),
        ),
        Step::Contacts => ("contacts", lang.pick("Почта и телефон", "E-mail and phone")),
        Step::Password => ("password", lang.pick("Пароль", "Password")),
        Step::Login => ("login", lang.pick("Логин", "Login")),
    };
    let mut page = blank(lang, title, step);
    page.progress = Some(format!(
        "{} {} {} {}",
        lang.pick("Шаг", "Step"),
        view.step.number(),
        lang.pick("из", "of"),
        Step::ALL.len()
    ));
    page.errors = errors;
    page.name = view.full_name;
    page.birth_date = view
        .birth_date
        .map(|d| d.format("%d.%m.%Y").to_string())
        .unwrap_or_default();
    page.school = view.school.unwrap_or_default();
    page.class_name = view.class_name;
    page.role = super::account::role_label(&view.role, lang);
    page.email = view.email.unwrap_or_default();
    page.phone = view.phone.unwrap_or_default();
    page.login_changeable = !view.login_changed;
    page.login = view.login;
    page.proposed_login = view.proposed_login;
    page.csrf = view.csrf;
    page
}

async fn page(
    State(app): State<AppState>,
    visit: Visit,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let lang = visit.lang;
    // The QR link carries the code: open the wizard and drop the code from
    // the address bar (and from history and referrers).
    if let Some(code) = query_param(query.as_deref(), "code") {
        let client = visit.client.clone();
        return enter(&app, lang, &code, &client).await;
    }
    let token = cookies::get(&headers, WIZARD);
    match app.account().activation_view(token.as_deref()).await? {
        Some(view) => Ok(render(StatusCode::OK, &step_page(lang, view, Vec::new()))),
        None => Ok(render(StatusCode::OK, &code_page(lang, "", Vec::new()))),
    }
}

async fn enter(app: &AppState, lang: Lang, code: &str, client: &str) -> Result<Response, WebError> {
    match app.account().start_activation(code, client).await? {
        Ok(token) => {
            let mut headers = HeaderMap::new();
            cookies::set(
                &mut headers,
                WIZARD,
                &token,
                "/activate",
                WIZARD_COOKIE_SECS,
                app.config().server.secure_cookies,
            );
            Ok(see_other(
                headers,
                &format!("/activate?lang={}", lang.code()),
            ))
        }
        Err(error) => {
            let status = match error {
                app::account::activation::ActivationError::RateLimited => {
                    StatusCode::TOO_MANY_REQUESTS
                }
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            Ok(render(status, &code_page(lang, code, error.messages(lang))))
        }
    }
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

async fn enter_code(
    State(app): State<AppState>,
    visit: Visit,
    Form(form): Form<CodeForm>,
) -> Result<Response, WebError> {
    let lang = visit.lang;
    visit.require_same_origin()?;
    let client = visit.client.clone();
    enter(&app, lang, &form.code, &client).await
}

#[derive(Deserialize)]
struct StepForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeat: String,
    #[serde(default)]
    new_login: String,
}

async fn step(
    State(app): State<AppState>,
    RequestLang(lang): RequestLang,
    headers: HeaderMap,
    Form(form): Form<StepForm>,
) -> Result<Response, WebError> {
    let token = cookies::get(&headers, WIZARD);
    let input = match form.step.as_str() {
        "data" => WizardInput::ConfirmData,
        "contacts" => WizardInput::Contacts {
            email: form.email.clone(),
            phone: form.phone.clone(),
        },
        "password" => WizardInput::Password {
            password: SecretString::from(form.password),
            repeat: SecretString::from(form.repeat),
        },
        "login" => WizardInput::Login {
            new_login: Some(form.new_login.clone()).filter(|l| !l.trim().is_empty()),
        },
        _ => return Ok(see_other(HeaderMap::new(), "/activate")),
    };
    let result = app
        .account()
        .activation_submit(token.as_deref(), &form.csrf, input, lang)
        .await?;
    match result {
        Ok(WizardNext::Step(_)) => Ok(see_other(
            HeaderMap::new(),
            &format!("/activate?lang={}", lang.code()),
        )),
        Ok(WizardNext::Finished {
            email_masked,
            login,
        }) => {
            let mut page = blank(
                lang,
                lang.pick(
                    "Осталось подтвердить почту",
                    "One step left: confirm your e-mail",
                ),
                "sent",
            );
            page.sent = match lang {
                Lang::Ru => format!("Пароль сохранён, ваш логин — {login}. Мы отправили письмо на {email_masked}: откройте ссылку из него, чтобы завершить активацию. Ссылка действует 24 часа."),
                Lang::En => format!("Your password is saved and your login is {login}. We have sent a message to {email_masked}: open the link in it to finish the activation. The link is valid for 24 hours."),
            };
            let mut response = render(StatusCode::OK, &page);
            cookies::remove(
                response.headers_mut(),
                WIZARD,
                "/activate",
                app.config().server.secure_cookies,
            );
            Ok(response)
        }
        Err(error) => {
            // The same step again, with what was typed and why it was refused.
            match app.account().activation_view(token.as_deref()).await? {
                Some(view) => {
                    let mut page = step_page(lang, view, error.messages(lang));
                    if !form.email.is_empty() {
                        page.email = form.email;
                        page.phone = form.phone;
                    }
                    if page.proposed_login.is_some() && !form.new_login.trim().is_empty() {
                        page.proposed_login = Some(form.new_login.trim().to_string());
                    }
                    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
                }
                None => Ok(render(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &code_page(lang, "", error.messages(lang)),
                )),
            }
        }
    }
}

async fn confirm(
    State(app): State<AppState>,
    RequestLang(lang): RequestLang,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let token = query_param(query.as_deref(), "token").unwrap_or_default();
    let confirmed = app.account().confirm_email(&token).await?;
    let mut page = blank(
        lang,
        if confirmed {
            lang.pick("Учётная запись активна", "Your account is active")
        } else {
            lang.pick("Ссылка не действует", "The link does not work")
        },
        if confirmed { "confirmed" } else { "sent" },
    );
    page.sent = if confirmed {
        lang.pick(
            "Почта подтверждена, учётная запись активна. Войдите с логином и паролем — или через Госуслуги.",
            "Your e-mail is confirmed and the account is active. Log in with your login and password, or via State Services.",
        )
        .into()
    } else {
        lang.pick(
            "Ссылка устарела или уже использована. Войдите с логином и паролем: мы отправим новую ссылку.",
            "The link has expired or was used already. Log in with your login and password and we will send a new one.",
        )
        .into()
    };
    let status = if confirmed {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    Ok(render(status, &page))
}
