//! Cookies: always HttpOnly and SameSite=Lax (the IdP's redirect back is a
//! top-level GET, which Lax allows), Secure when configured. Values are
//! base64url tokens, so no escaping is needed.

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};

pub fn set(
    headers: &mut HeaderMap,
    name: &str,
    value: &str,
    path: &str,
    max_age_secs: u64,
    secure: bool,
) {
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!(
        "{name}={value}; Path={path}; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{secure}"
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        headers.append(SET_COOKIE, value);
    }
}

pub fn remove(headers: &mut HeaderMap, name: &str, path: &str, secure: bool) {
    set(headers, name, "", path, 0, secure);
}

/// The value of cookie `name` in the request, if present and non-empty.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

/// The session id (a random token; only its hash is a store key).
pub const SESSION: &str = "el_session";
/// Binds a login transaction to the browser that started it.
pub const LOGIN: &str = "el_login";
/// Points the clean outcome URL at the kept report.
pub const OUTCOME: &str = "el_outcome";
/// A State Services identity waiting to be linked by diary password.
pub const PENDING_LINK: &str = "el_link";
