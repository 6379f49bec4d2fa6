//! `/ops/reset-activation` and `/ops/confirm-relationship`: the console's
//! forms for the two operator actions of `app::console::operator_actions`.

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use uuid::Uuid;

use crate::error::WebError;
use crate::lang::RequestLang;
use crate::pages::{render, MessagePage};
use crate::{cookies, AppState};
use app::AppError;
use i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ops/reset-activation", post(reset_activation))
        .route("/ops/confirm-relationship", post(confirm_relationship))
}

#[derive(serde::Deserialize)]
struct ResetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    reason: String,
}

fn id(text: &str, lang: Lang) -> Result<Uuid, WebError> {
    Uuid::parse_str(text.trim()).map_err(|_| WebError::page(AppError::NotFound, lang))
}

async fn reset_activation(
    State(app): State<AppState>,
    headers: HeaderMap,
    RequestLang(lang): RequestLang,
    Form(form): Form<ResetForm>,
) -> Result<Response, WebError> {
    let cookie = cookies::get(&headers, cookies::SESSION);
    let account = id(&form.account, lang)?;
    let code = app
        .console()
        .operator_reset_activation(cookie.as_deref(), &form.csrf, account, &form.reason)
        .await?;
    let days = app.config().activation.code_days;
    let message = match lang {
        Lang::Ru => format!("Активация сброшена: пароль удалён, прежние коды не действуют. Новый код (показан один раз, действует {days} дн.): {code}. Передайте его человеку лично или через школу."),
        Lang::En => format!("The activation is reset: the password is removed and earlier codes no longer work. New code (shown once, valid for {days} days): {code}. Hand it over in person or through the school."),
    };
    Ok(render(
        StatusCode::OK,
        &MessagePage::new(
            lang,
            lang.pick("Новый код активации", "New activation code"),
            message,
            None,
        ),
    ))
}

#[derive(serde::Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    parent: String,
    #[serde(default)]
    pupil: String,
    #[serde(default)]
    reason: String,
}

async fn confirm_relationship(
    State(app): State<AppState>,
    headers: HeaderMap,
    RequestLang(lang): RequestLang,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, WebError> {
    let cookie = cookies::get(&headers, cookies::SESSION);
    let parent = id(&form.parent, lang)?;
    let pupil = id(&form.pupil, lang)?;
    app.console()
        .operator_confirm_relationship(cookie.as_deref(), &form.csrf, parent, pupil, &form.reason)
        .await?;
    Ok(render(
        StatusCode::OK,
        &MessagePage::new(
            lang,
            lang.pick("Связь подтверждена", "Relationship confirmed"),
            lang.pick(
                "Связь родителя с учеником подтверждена; действие записано в журнал аудита.",
                "The parent-pupil relationship is confirmed; the action is in the audit log.",
            ),
            None,
        ),
    ))
}
