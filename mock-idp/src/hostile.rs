//! Answers of a hostile IdP: oversized bodies and RFC 9207's `iss`.

use std::sync::atomic::Ordering;

use axum::body::{Body, Bytes};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::state::{Fault, Shared};

/// Size of the `huge_*` faults' answers.
pub const HUGE_BYTES: usize = 20 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;

/// A 200 JSON answer of [`HUGE_BYTES`]: `prefix`, then padding inside a
/// string, streamed in chunks without a Content-Length, so that only a
/// client that stops reading is safe.
pub fn huge_json(prefix: &str) -> Response {
    let head = Bytes::from(format!("{prefix}\"padding\":\""));
    let chunk = Bytes::from(vec![b'a'; CHUNK]);
    let count = HUGE_BYTES / CHUNK;
    let parts = std::iter::once(head)
        .chain(std::iter::repeat_n(chunk, count))
        .chain(std::iter::once(Bytes::from_static(b"\"}")))
        .map(Ok::<_, std::io::Error>);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(futures_util::stream::iter(parts)),
    )
        .into_response()
}

/// The `iss` to append to an authorization response, if any.
pub fn iss_parameter(state: &Shared) -> Option<String> {
    match state.fault() {
        Some(Fault::WrongIssParameter) => Some(format!("{}/other-issuer", state.issuer)),
        Some(Fault::MissingIssParameter) => None,
        _ => state
            .iss_parameter
            .load(Ordering::Relaxed)
            .then(|| state.issuer.clone()),
    }
}
