//! JSON API for the diary application: `GET /api/v1/me`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};

use super::error::WebError;
use super::{cookies, AppState};
use app::account::Me;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/me", get(me))
}

async fn me(State(app): State<AppState>, headers: HeaderMap) -> Result<Json<Me>, WebError> {
    let cookie = cookies::get(&headers, cookies::SESSION);
    let session = app
        .account()
        .session(cookie.as_deref())
        .await
        .map_err(WebError::json)?;
    Ok(Json(
        app.account().me(&session).await.map_err(WebError::json)?,
    ))
}
