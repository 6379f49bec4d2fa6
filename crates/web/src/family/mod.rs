//! Who may see whose diary, over HTTP.
//!
//! | path | what |
//! | --- | --- |
//! | `GET /notifications` | the notification centre: invitations (accept/decline), notices |
//! | `POST /notifications/{id}/read` | mark one read |
//! | `POST /family/relationships/{id}/{accept,decline}` | answer a school's parent-child link |
//! | `GET /family` | children, invitations sent and received, what this session sees |
//! | `POST /family/invitations` | invite a trusted person (surname + SNILS or phone, services, child) |
//! | `POST /family/invitations/{id}/{accept,decline,revoke,reinvite}` | the invitation's steps |
//! | `GET /api/v1/me/notifications`, `POST /api/v1/me/notifications/{id}/read` | the same as JSON (`X-CSRF-Token` header) |
//! | `GET /api/v1/me/access` | pupils this session may see, with basis, services, since/until |
//! | `GET /api/v1/access?viewer=&pupil=&service=` | service-to-service check, school API bearer token |
//!
//! Plain HTML forms carrying the session's CSRF token; no JavaScript.

mod api;
mod notifications;
mod page;
mod texts;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use uuid::Uuid;

use super::error::WebError;
use super::pages::{render, Chrome};
use super::{cookies, AppState};
use ::texts::prelude::*;
use api::{check_access, my_access, notifications_json, read_json};
use app::shared::Session;
use app::AppError;
use domain::access::FamilyRefusal;
use i18n::Lang;
use notifications::{answer_relationship, invitation_step, notifications_page, read_form};
use page::{family_page, invite, FamilyMessagePage};
use texts::t;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(notifications_page))
        .route("/notifications/{id}/read", post(read_form))
        .route("/family", get(family_page))
        .route(
            "/family/relationships/{id}/{answer}",
            post(answer_relationship),
        )
        .route("/family/invitations", post(invite))
        .route("/family/invitations/{id}/{action}", post(invitation_step))
        .route("/api/v1/me/notifications", get(notifications_json))
        .route("/api/v1/me/notifications/{id}/read", post(read_json))
        .route("/api/v1/me/access", get(my_access))
        .route("/api/v1/access", get(check_access))
}

pub(super) fn refusal_status(refusal: FamilyRefusal) -> StatusCode {
    match refusal {
        FamilyRefusal::NotAddressedToYou
        | FamilyRefusal::NotYourInvitation
        | FamilyRefusal::TrustedCannotInvite
        | FamilyRefusal::NotConfirmedParent
        | FamilyRefusal::SelfInvitation => StatusCode::FORBIDDEN,
        r if r.is_input() => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::CONFLICT,
    }
}

pub(super) fn refusal_page(refusal: FamilyRefusal, lang: Lang) -> Response {
    let page = FamilyMessagePage {
        chrome: Chrome::new(
            lang,
            lang.pick("Действие не выполнено", "Not done"),
            "/family",
        ),
        message: refusal.message(lang).to_string(),
        code: refusal.code(),
        notifications: t(lang, "Центр уведомлений", "Notification centre"),
        family: t(
            lang,
            "Семья и доверенные лица",
            "Family and trusted persons",
        ),
    };
    render(refusal_status(refusal), &page)
}

pub(super) fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// The session, or `None` (the page sends the browser to the login page).
pub(super) async fn page_session(
    app: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Session>, WebError> {
    let cookie = cookies::get(headers, cookies::SESSION);
    match app.account().session(cookie.as_deref()).await {
        Ok(session) => Ok(Some(session)),
        Err(AppError::NotLoggedIn) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn form_session(app: &AppState, headers: &HeaderMap) -> Result<Session, WebError> {
    let cookie = cookies::get(headers, cookies::SESSION);
    Ok(app.account().session(cookie.as_deref()).await?)
}

pub(super) fn parse_id(text: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(text).map_err(|_| AppError::NotFound)
}

pub(super) fn done_notice(done: Option<String>, lang: Lang) -> Option<String> {
    Some(match done?.as_str() {
        "accepted" => t(lang, "Приглашение принято.", "Invitation accepted."),
        "declined" => t(lang, "Приглашение отклонено.", "Invitation declined."),
        "confirmed" => t(
            lang,
            "Связь с ребёнком подтверждена.",
            "The link to the child is confirmed.",
        ),
        "sent" => t(
            lang,
            "Приглашение отправлено. Приглашённый увидит его в центре уведомлений после входа через Госуслуги.",
            "Invitation sent. The invitee sees it in the notification centre after logging in via State Services.",
        ),
        "revoked" => t(
            lang,
            "Доступ отозван. Он закрыт сразу.",
            "Access revoked. It is closed at once.",
        ),
        _ => return None,
    })
}
