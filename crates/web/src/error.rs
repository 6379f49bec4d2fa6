//! The web layer's one error type: every failure of a use case becomes a
//! page (or JSON for the API) with a status, a safe message and a reference
//! code; the cause is logged with its chain under that reference.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::pages::{render, MessagePage};
use app::AppError;
use domain::code::ReferenceCode;
use i18n::Lang;

/// How the error is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Page(Lang),
    Json,
}

#[derive(Debug)]
pub struct WebError {
    pub error: AppError,
    pub surface: Surface,
    /// For a temporary failure worth retrying as is (a login callback whose
    /// login was kept). Boxed: most errors have none.
    pub retry: Option<Box<Retry>>,
}

#[derive(Debug)]
pub struct Retry {
    /// The reference the use case recorded the failure under.
    pub reference: String,
    /// Where "try again" leads (a path on this service).
    pub url: String,
}

impl WebError {
    pub fn page(error: AppError, lang: Lang) -> WebError {
        WebError::new(error, Surface::Page(lang))
    }

    pub fn json(error: AppError) -> WebError {
        WebError::new(error, Surface::Json)
    }

    pub fn new(error: AppError, surface: Surface) -> WebError {
        WebError {
            error,
            surface,
            retry: None,
        }
    }

    /// A temporary failure already recorded under `reference`, whose
    /// request, repeated at `retry`, can still succeed.
    pub fn retryable(mut self, reference: String, url: String) -> WebError {
        self.retry = Some(Box::new(Retry { reference, url }));
        self
    }
}

fn status(error: &AppError) -> StatusCode {
    match error {
        AppError::UnknownProvider => StatusCode::NOT_FOUND,
        AppError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        AppError::StateMissing
        | AppError::StateUnknown
        | AppError::OtherBrowser
        | AppError::RepeatedParameter(_)
        | AppError::ReturnTargetRefused => StatusCode::BAD_REQUEST,
        AppError::NotLoggedIn => StatusCode::UNAUTHORIZED,
        AppError::ReasonRequired => StatusCode::BAD_REQUEST,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Forbidden => StatusCode::FORBIDDEN,
        AppError::CsrfMismatch => StatusCode::FORBIDDEN,
        AppError::ProviderUnavailable(_) => StatusCode::BAD_GATEWAY,
        AppError::LoginBusy => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Ephemeral(_) | AppError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Title and message for a person.
fn wording(error: &AppError, lang: Lang) -> (&'static str, &'static str) {
    let t = |ru, en| lang.pick(ru, en);
    match error {
        AppError::UnknownProvider => (
            t("Неизвестный способ входа", "Unknown login method"),
            t(
                "Такого способа входа нет. Откройте страницу входа и выберите способ из списка.",
                "There is no such login method. Open the login page and choose one from the list.",
            ),
        ),
        AppError::RateLimited => (
            t("Слишком много попыток", "Too many attempts"),
            t(
                "С вашего адреса сделано слишком много попыток. Подождите минуту и попробуйте снова.",
                "Too many attempts came from your address. Wait a minute and try again.",
            ),
        ),
        AppError::StateMissing | AppError::StateUnknown | AppError::OtherBrowser => (
            t("Вход не найден", "Login not found"),
            t(
                "Этот вход уже завершён, устарел или начат в другом браузере. Начните вход заново.",
                "This login is finished, expired or was started in another browser. Start again.",
            ),
        ),
        AppError::RepeatedParameter(_) => (
            t("Ссылка входа повреждена", "The login link is damaged"),
            t(
                "В ответе Госуслуг один параметр повторён, поэтому мы его не приняли. Начните вход заново.",
                "A parameter of the State Services answer is repeated, so we did not accept it. Start again.",
            ),
        ),
        AppError::ReturnTargetRefused => (
            t("Адрес возврата отклонён", "Return address refused"),
            t(
                "Ссылка для входа указывает на посторонний сайт, поэтому вход не начат. Откройте дневник по его обычному адресу.",
                "The login link points to a foreign site, so the login was not started. Open the e-diary at its usual address.",
            ),
        ),
        AppError::NotLoggedIn => (
            t("Вы не вошли", "You are not logged in"),
            t(
                "Сеанс закончился или вы ещё не вошли. Войдите снова.",
                "Your session has ended or you have not logged in yet. Log in again.",
            ),
        ),
        AppError::ReasonRequired => (
            t("Нужна причина", "A reason is needed"),
            t(
                "Каждое действие поддержки записывается в журнал с причиной. Укажите причину (не короче 5 знаков).",
                "Every support action is logged with its reason. Give a reason (at least 5 characters).",
            ),
        ),
        AppError::NotFound => (
            t("Не найдено", "Not found"),
            t("Такой записи нет (возможно, её уже изменили).", "There is no such record (it may have changed already)."),
        ),
        AppError::Forbidden => (
            t("Нет доступа", "No access"),
            t("Это действие доступно только сотрудникам поддержки.", "This action is for support staff only."),
        ),
        AppError::CsrfMismatch => (
            t("Запрос отклонён", "Request refused"),
            t(
                "Форма устарела или отправлена с другого сайта. Обновите страницу и попробуйте снова.",
                "The form is stale or was sent from another site. Reload the page and try again.",
            ),
        ),
        AppError::ProviderUnavailable(_) => (
            t("Сервис входа не отвечает", "The login service is not responding"),
            t(
                "Сервис входа сейчас недоступен. Ничего не изменилось; попробуйте через несколько минут.",
                "The login service is unavailable right now. Nothing was changed; try again in a few minutes.",
            ),
        ),
        AppError::LoginBusy => (
            t("Вход ещё выполняется", "The login is still in progress"),
            t(
                "Этот вход сейчас завершается. Подождите несколько секунд и попробуйте ещё раз.",
                "This login is being finished right now. Wait a few seconds and try again.",
            ),
        ),
        AppError::Ephemeral(_) | AppError::Store(_) | AppError::Internal(_) => (
            t("Временная ошибка", "Temporary error"),
            t(
                "Сервис временно не может выполнить запрос. Ничего не изменилось; попробуйте ещё раз через несколько минут.",
                "The service cannot complete the request right now. Nothing was changed; try again in a few minutes.",
            ),
        ),
    }
}

/// Logs an error with its whole chain of causes under `reference`.
pub fn log_error(error: &(dyn std::error::Error + 'static), reference: &str) {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    tracing::error!(reference, error = %chain, "request failed");
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (reference, retry_url) = match self.retry {
            Some(retry) => (retry.reference, Some(retry.url)),
            None => (ReferenceCode::generate().as_str().to_string(), None),
        };
        let status = status(&self.error);
        if self.error.is_internal() || matches!(self.error, AppError::ProviderUnavailable(_)) {
            log_error(&self.error, &reference);
        } else {
            tracing::info!(reference = %reference, code = self.error.code(), "request refused");
        }
        match self.surface {
            Surface::Json => (
                status,
                Json(json!({
                    "error": self.error.code(),
                    "message": wording(&self.error, Lang::En).1,
                    "reference": reference,
                })),
            )
                .into_response(),
            Surface::Page(lang) => {
                let (title, message) = wording(&self.error, lang);
                let mut page = MessagePage::new(lang, title, message, Some(reference));
                if let Some(url) = retry_url {
                    page = page.with_retry(url);
                }
                render(status, &page)
            }
        }
    }
}
