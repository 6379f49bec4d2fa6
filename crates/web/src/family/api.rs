//! The same as JSON for the diary application, and the service-to-service access check.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::parse_id;
use super::texts::notice_text;
use crate::error::WebError;
use crate::lang::RequestLang;
use crate::{cookies, query_param, AppState};
use app::family::NotificationItem;
use app::shared::Session;
use app::AppError;
use domain::access::Service;

#[derive(Serialize)]
pub(super) struct NotificationJson {
    #[serde(flatten)]
    item: NotificationItem,
    text: String,
}

pub(super) async fn json_session(app: &AppState, headers: &HeaderMap) -> Result<Session, WebError> {
    let cookie = cookies::get(headers, cookies::SESSION);
    app.account()
        .session(cookie.as_deref())
        .await
        .map_err(WebError::json)
}

pub(super) async fn notifications_json(
    State(app): State<AppState>,
    headers: HeaderMap,
    RequestLang(lang): RequestLang,
) -> Result<Response, WebError> {
    let session = json_session(&app, &headers).await?;
    let centre = app
        .family()
        .notifications(&session)
        .await
        .map_err(WebError::json)?;
    let zone = centre.zone;
    let items: Vec<NotificationJson> = centre
        .items
        .into_iter()
        .map(|item| NotificationJson {
            text: notice_text(&item, zone, lang),
            item,
        })
        .collect();
    Ok(Json(json!({ "unread": centre.unread, "items": items })).into_response())
}

pub(super) async fn read_json(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let session = json_session(&app, &headers).await?;
    let csrf = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let id = parse_id(&id).map_err(WebError::json)?;
    app.family()
        .mark_notification_read(&session, &csrf, id)
        .await
        .map_err(WebError::json)?;
    Ok(Json(json!({ "id": id, "read": true })).into_response())
}

pub(super) async fn my_access(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let session = json_session(&app, &headers).await?;
    let list = app
        .family()
        .my_access(&session)
        .await
        .map_err(WebError::json)?;
    Ok(Json(list).into_response())
}

pub(super) fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": "access.bad_request", "message": message })),
    )
        .into_response()
}

/// Service to service: the school's system asks with its API bearer token
/// (`esia-link school token`) whether `viewer` may see `service` of
/// `pupil` (one of that school's pupils). 200 with `allowed` and, when
/// denied, a `reason` code; 401 without a token, 403 with a bad one.
pub(super) async fn check_access(
    State(app): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| WebError::json(AppError::NotLoggedIn))?;
    let query = uri.query();
    let uuid = |name: &str| query_param(query, name).and_then(|v| Uuid::parse_str(v.trim()).ok());
    let (Some(viewer), Some(pupil)) = (uuid("viewer"), uuid("pupil")) else {
        return Ok(bad_request("viewer and pupil must be account ids (UUID)"));
    };
    let Some(service) = query_param(query, "service").and_then(|s| Service::parse(&s)) else {
        return Ok(bad_request("service must be diary or attendance_meals"));
    };
    let answer = app
        .family()
        .check_access(token, viewer, pupil, service)
        .await
        .map_err(WebError::json)?;
    Ok(Json(answer).into_response())
}
