//! Admin endpoints (Bearer admin token): key rotation, faults, clients, clock.

use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::esia_keys::EsiaAlg;
use crate::keys::Alg;
use crate::state::{write, Client, Fault, State};

fn authorized(state: &State, headers: &HeaderMap) -> bool {
    let expected = format!("Bearer {}", state.admin_token);
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.as_bytes() == expected.as_bytes())
}

/// Parses the JSON body after the token was checked, so that an anonymous
/// caller learns nothing about the expected shape.
fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(bytes).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": format!("invalid JSON body: {e}")})),
        )
            .into_response()
    })
}

fn refused() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": "admin token required"})),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct RotateRequest {
    #[serde(default)]
    pub alg: Option<Alg>,
    #[serde(default = "yes")]
    pub keep_old: bool,
}

fn yes() -> bool {
    true
}

pub async fn rotate(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    Json(req): Json<RotateRequest>,
) -> Response {
    if !authorized(&state, &headers) {
        return refused();
    }
    let alg = req
        .alg
        .unwrap_or_else(|| crate::state::read(&state.keys).active.alg());
    match write(&state.keys).rotate(alg, req.keep_old) {
        Ok(kid) => {
            Json(json!({"kid": kid, "alg": alg.as_str(), "keep_old": req.keep_old})).into_response()
        }
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
pub struct EsiaRotateRequest {
    #[serde(default)]
    pub alg: Option<EsiaAlg>,
    #[serde(default = "yes")]
    pub keep_old: bool,
}

/// `POST /admin/esia/keys/rotate`: a new ESIA signing key and certificate.
pub async fn rotate_esia(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    Json(req): Json<EsiaRotateRequest>,
) -> Response {
    if !authorized(&state, &headers) {
        return refused();
    }
    let alg = req
        .alg
        .unwrap_or_else(|| crate::state::read(&state.esia_keys).active.alg());
    let now = state.now();
    let rotated = write(&state.esia_keys).rotate(alg, req.keep_old, now);
    match rotated {
        Ok(()) => Json(json!({
            "alg": alg.as_str(),
            "keep_old": req.keep_old,
            "certificates_pem": crate::state::read(&state.esia_keys).certificates_pem(),
        }))
        .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
pub struct FaultRequest {
    #[serde(default)]
    pub latency_ms: u64,
    #[serde(default)]
    pub fault: Option<Fault>,
}

pub async fn set_faults(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    Json(req): Json<FaultRequest>,
) -> Response {
    if !authorized(&state, &headers) {
        return refused();
    }
    *write(&state.fault) = req.fault.clone();
    *write(&state.latency) = std::time::Duration::from_millis(req.latency_ms);
    Json(json!({"fault": req.fault, "latency_ms": req.latency_ms})).into_response()
}

pub async fn clear_faults(AxState(state): AxState<State>, headers: HeaderMap) -> Response {
    if !authorized(&state, &headers) {
        return refused();
    }
    *write(&state.fault) = None;
    *write(&state.latency) = std::time::Duration::ZERO;
    StatusCode::NO_CONTENT.into_response()
}

pub async fn put_client(
    AxState(state): AxState<State>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    if !authorized(&state, &headers) {
        return refused();
    }
    let mut client: Client = match body(&raw) {
        Ok(client) => client,
        Err(response) => return response,
    };
    client.client_id = client_id;
    let mut clients = write(&state.clients);
    clients.retain(|c| c.client_id != client.client_id);
    clients.push(client);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
pub struct ClockRequest {
    pub advance_secs: i64,
}

pub async fn clock(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    Json(req): Json<ClockRequest>,
) -> Response {
    if !authorized(&state, &headers) {
        return refused();
    }
    let mut offset = write(&state.clock_offset);
    *offset += chrono::Duration::seconds(req.advance_secs);
    Json(json!({"offset_secs": offset.num_seconds()})).into_response()
}
