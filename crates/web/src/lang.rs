//! The request's language: `?lang=`, then the `el_lang` cookie (set when
//! `?lang=` was given), then `Accept-Language`, then Russian.

use axum::extract::FromRequestParts;
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE};
use axum::http::request::Parts;

use i18n::Lang;

pub const LANG_COOKIE: &str = "el_lang";

pub struct RequestLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for RequestLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestLang(from_parts(parts)))
    }
}

pub(super) fn query_lang(query: Option<&str>) -> Option<Lang> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Lang::parse(&v))
}

fn cookie_lang(parts: &Parts) -> Option<Lang> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == LANG_COOKIE)
        .and_then(|(_, v)| Lang::parse(v))
}

pub fn from_parts(parts: &Parts) -> Lang {
    if let Some(lang) = query_lang(parts.uri.query()) {
        return lang;
    }
    if let Some(lang) = cookie_lang(parts) {
        return lang;
    }
    let header = parts
        .headers
        .get(ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Lang::negotiate(None, header)
}
