//! `/ops/unlink`, `/ops/relink` and `/ops/correct`: the console's forms for
//! changes to links and personal data, each with a reason (audited).

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use uuid::Uuid;

use crate::error::WebError;
use crate::lang::RequestLang;
use crate::{cookies, AppState};
use app::console::actions::{Corrected, Correction, Relinked};
use app::AppError;

use super::{back_to_console, forbidden, refused, KeptForm};

#[derive(serde::Deserialize)]
pub(super) struct UnlinkForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    q: String,
}

/// `POST /ops/unlink`: remove an account's link with a provider, with a
/// reason (audited).
pub(super) async fn unlink(
    State(app): State<AppState>,
    headers: HeaderMap,
    RequestLang(lang): RequestLang,
    Form(form): Form<UnlinkForm>,
) -> Result<Response, WebError> {
    let cookie = cookies::get(&headers, cookies::SESSION);
    let account = Uuid::parse_str(form.account.trim()).map_err(|_| AppError::NotFound)?;
    match app
        .console()
        .operator_unlink(
            cookie.as_deref(),
            &form.csrf,
            account,
            &form.provider,
            &form.reason,
        )
        .await
    {
        Ok(_) => Ok(back_to_console(&form.q, "unlinked")),
        // Back to the same form, the reason kept, the error beside it.
        Err(AppError::ReasonRequired) => {
            let operator = app.console().operator(cookie.as_deref()).await?;
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("q", &form.q)
                .finish();
            let kept = KeptForm {
                form: "unlink",
                account: account.to_string(),
                provider: form.provider.clone(),
                reason: form.reason.clone(),
                error: lang
                    .pick(
                        "Напишите причину — не короче пяти знаков: она попадёт в журнал.",
                        "Write a reason of at least five characters: it goes to the audit log.",
                    )
                    .to_string(),
            };
            super::console_page(&app, operator, Some(query), lang, Some(kept)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize)]
pub(super) struct RelinkForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    q: String,
}

/// `POST /ops/relink`: move an account's link with a provider to another
/// account, with a reason (audited on both accounts).
pub(super) async fn relink(
    State(app): State<AppState>,
    headers: HeaderMap,
    RequestLang(lang): RequestLang,
    Form(form): Form<RelinkForm>,
) -> Result<Response, WebError> {
    let cookie = cookies::get(&headers, cookies::SESSION);
    let from = Uuid::parse_str(form.account.trim()).map_err(|_| AppError::NotFound)?;
    let Ok(to) = Uuid::parse_str(form.to.trim()) else {
        return Ok(refused(
            StatusCode::BAD_REQUEST,
            lang,
            lang.pick(
                "Укажите id учётной записи, на которую перенести связь (он виден после поиска по логину).",
                "Give the id of the account to move the link to (a lookup by login shows it).",
            ),
        ));
    };
    let relinked = app
        .console()
        .operator_relink(
            cookie.as_deref(),
            &form.csrf,
            from,
            &form.provider,
            to,
            &form.reason,
        )
        .await?;
    Ok(match relinked {
        Relinked::Moved => back_to_console(&form.q, "relinked"),
        Relinked::TargetLinked => refused(
            StatusCode::CONFLICT,
            lang,
            lang.pick(
                "У другой учётной записи уже есть связь с этим провайдером; ничего не изменилось. Если та связь ошибочна, сначала отвяжите её.",
                "The other account is linked with this provider already; nothing changed. If that link is wrong, unlink it first.",
            ),
        ),
        Relinked::SameAccount => refused(
            StatusCode::BAD_REQUEST,
            lang,
            lang.pick(
                "Это та же учётная запись: переносить нечего.",
                "That is the same account: nothing to move.",
            ),
        ),
    })
}

#[derive(serde::Deserialize)]
pub(super) struct CorrectForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    surname: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    patronymic: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    snils: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    q: String,
}

/// `POST /ops/correct`: the person's school corrects the name, birth date
/// or SNILS, with a reason (audited with the changed fields, masked).
pub(super) async fn correct(
    State(app): State<AppState>,
    headers: HeaderMap,
    RequestLang(lang): RequestLang,
    Form(form): Form<CorrectForm>,
) -> Result<Response, WebError> {
    let cookie = cookies::get(&headers, cookies::SESSION);
    let account = Uuid::parse_str(form.account.trim()).map_err(|_| AppError::NotFound)?;
    let correction = match Correction::parse(
        &form.surname,
        &form.given_name,
        &form.patronymic,
        &form.birth_date,
        &form.snils,
    ) {
        Ok(correction) => correction,
        Err(e) => return Ok(refused(StatusCode::BAD_REQUEST, lang, &e.message(lang))),
    };
    match app
        .console()
        .operator_correct(
            cookie.as_deref(),
            &form.csrf,
            account,
            &correction,
            &form.reason,
        )
        .await
    {
        Ok(Corrected::Changed(_)) => Ok(back_to_console(&form.q, "corrected")),
        Ok(Corrected::Unchanged) => Ok(back_to_console(&form.q, "unchanged")),
        Err(AppError::Forbidden) => Ok(forbidden(
            lang,
            lang.pick(
                "Персональные данные исправляет только школа: администратор школы этого человека.",
                "Only the school corrects personal data: the administrator of the person's school.",
            ),
        )),
        Err(e) => Err(e.into()),
    }
}
