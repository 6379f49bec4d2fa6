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

use super::actions::show_kept;
use super::kept::{reason_error, AccountForm, KeptForm};
use app::AppError;
use i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ops/reset-activation", post(reset_activation))
        .route("/ops/confirm-relationship", post(confirm_relationship))
}

fn id(text: &str, lang: Lang) -> Result<Uuid, WebError> {
    Uuid::parse_str(text.trim()).map_err(|_| WebError::page(AppError::NotFound, lang))
}

async fn reset_activation(
    State(app): State<AppState>,
    headers: HeaderMap,
    RequestLang(lang): RequestLang,
    Form(form): Form<AccountForm>,
) -> Result<Response, WebError> {
    let cookie = cookies::get(&headers, cookies::SESSION);
    let account = id(&form.account, lang)?;
    let code = match app
        .console()
        .operator_reset_activation(cookie.as_deref(), &form.csrf, account, &form.reason)
        .await
    {
        Ok(code) => code,
        // Back to the same form, the reason kept, the error beside it.
        Err(AppError::ReasonRequired) => {
            let kept = KeptForm::new("reset", account, "", "reason", reason_error(lang))
                .with("reason", &form.reason);
            return show_kept(&app, cookie.as_deref(), lang, &form.q, kept).await;
        }
        Err(e) => return Err(e.into()),
    };
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
    #[serde(default)]
    q: String,
}

async fn confirm_relationship(
    State(app): State<AppState>,
    headers: HeaderMap,
    RequestLang(lang): RequestLang,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, WebError> {
    let cookie = cookies::get(&headers, cookies::SESSION);
    let parent = id(&form.parent, lang)?;
    let kept = |field: &'static str, error: &str| {
        KeptForm::new("confirm", parent, "", field, error)
            .with("pupil", &form.pupil)
            .with("reason", &form.reason)
    };
    let Ok(pupil) = Uuid::parse_str(form.pupil.trim()) else {
        let error = lang.pick(
            "Укажите id ученика (он виден после поиска ученика по логину).",
            "Give the pupil's id (a lookup of the pupil by login shows it).",
        );
        return show_kept(&app, cookie.as_deref(), lang, &form.q, kept("pupil", error)).await;
    };
    match app
        .console()
        .operator_confirm_relationship(cookie.as_deref(), &form.csrf, parent, pupil, &form.reason)
        .await
    {
        Ok(()) => {}
        Err(AppError::ReasonRequired) => {
            let error = reason_error(lang);
            return show_kept(
                &app,
                cookie.as_deref(),
                lang,
                &form.q,
                kept("reason", error),
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    }
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
