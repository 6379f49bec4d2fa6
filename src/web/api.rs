//! JSON API for the diary application: `GET /api/v1/me`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::account::{current_session, load_me};
use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/me", get(me))
}

async fn me(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some((_, session)) = current_session(&state, &headers).await else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "not_logged_in", "message": "no valid session cookie"})),
        )
            .into_response();
    };
    match load_me(&state, &session).await {
        Ok(me) => Json(me).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot load the account of a session");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"error": "unavailable"})),
            )
                .into_response()
        }
    }
}
