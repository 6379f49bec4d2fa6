//! `/ops/unlink`, `/ops/relink` and `/ops/correct`: the console's forms for
//! changes to links and personal data, each with a reason (audited).

use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::response::Response;
use uuid::Uuid;

use crate::error::WebError;
use crate::lang::RequestLang;
use crate::{cookies, AppState};
use app::console::actions::{Corrected, Correction, CorrectionError, Relinked};
use app::AppError;

use super::kept::{reason_error, KeptForm};
use super::{back_to_console, forbidden};
use domain::name::NameError;
use i18n::Lang;

/// The console again, as it was for `q`, with the refused form `kept`.
pub(super) async fn show_kept(
    app: &AppState,
    cookie: Option<&str>,
    lang: Lang,
    q: &str,
    kept: KeptForm,
) -> Result<Response, WebError> {
    let operator = app.console().operator(cookie).await?;
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("q", q)
        .finish();
    super::console_page(app, operator, Some(query), lang, Some(kept)).await
}

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
            let kept = KeptForm::new(
                "unlink",
                account,
                &form.provider,
                "reason",
                reason_error(lang),
            )
            .with("reason", &form.reason);
            show_kept(&app, cookie.as_deref(), lang, &form.q, kept).await
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
    let kept = |field: &'static str, error: &str| {
        KeptForm::new("relink", from, &form.provider, field, error)
            .with("to", &form.to)
            .with("reason", &form.reason)
    };
    let Ok(to) = Uuid::parse_str(form.to.trim()) else {
        let error = lang.pick(
            "Укажите id учётной записи, на которую перенести связь (он виден после поиска по логину).",
            "Give the id of the account to move the link to (a lookup by login shows it).",
        );
        return show_kept(&app, cookie.as_deref(), lang, &form.q, kept("to", error)).await;
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
        .await;
    let (field, error) = match relinked {
        Ok(Relinked::Moved) => return Ok(back_to_console(&form.q, "relinked")),
        Ok(Relinked::TargetLinked) => (
            "to",
            lang.pick(
                "У другой учётной записи уже есть связь с этим провайдером; ничего не изменилось. Если та связь ошибочна, сначала отвяжите её.",
                "The other account is linked with this provider already; nothing changed. If that link is wrong, unlink it first.",
            ),
        ),
        Ok(Relinked::SameAccount) => (
            "to",
            lang.pick(
                "Это та же учётная запись: переносить нечего.",
                "That is the same account: nothing to move.",
            ),
        ),
        Err(AppError::ReasonRequired) => ("reason", reason_error(lang)),
        Err(e) => return Err(e.into()),
    };
    show_kept(&app, cookie.as_deref(), lang, &form.q, kept(field, error)).await
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
    let kept = |field: &'static str, error: &str| {
        KeptForm::new("correct", account, "", field, error)
            .with("surname", &form.surname)
            .with("given_name", &form.given_name)
            .with("patronymic", &form.patronymic)
            .with("birth_date", &form.birth_date)
            .with("snils", &form.snils)
            .with("reason", &form.reason)
    };
    let correction = match Correction::parse(
        &form.surname,
        &form.given_name,
        &form.patronymic,
        &form.birth_date,
        &form.snils,
    ) {
        Ok(correction) => correction,
        Err(e) => {
            let field = correction_field(&e);
            let error = e.message(lang);
            return show_kept(&app, cookie.as_deref(), lang, &form.q, kept(field, &error)).await;
        }
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
        Err(AppError::ReasonRequired) => {
            let error = reason_error(lang);
            show_kept(
                &app,
                cookie.as_deref(),
                lang,
                &form.q,
                kept("reason", error),
            )
            .await
        }
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

/// The field of the correction form an error is about.
fn correction_field(error: &CorrectionError) -> &'static str {
    match error {
        CorrectionError::Name(NameError::EmptySurname) => "surname",
        CorrectionError::Name(NameError::EmptyGiven) => "given_name",
        CorrectionError::Name(
            NameError::InvalidCharacter { part, .. } | NameError::TooLong { part },
        ) => match *part {
            "given name" => "given_name",
            "patronymic" => "patronymic",
            _ => "surname",
        },
        CorrectionError::Snils(_) => "snils",
        CorrectionError::BirthDate => "birth_date",
        // Nothing filled in: the first field.
        CorrectionError::Empty => "surname",
    }
}
