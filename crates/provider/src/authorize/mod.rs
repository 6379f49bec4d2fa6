//! `/oauth2/authorize`: the authorization request, parsed and checked in
//! the order that decides where an error may go.
//!
//! Until the client and its redirect URI are known to be genuine, an error
//! is shown on our own page and never redirected (RFC 6749 §4.1.2.1),
//! otherwise the endpoint would be an open redirector. After that, errors
//! go back to the client with `state` and `iss` (RFC 9207).

mod session;

#[cfg(test)]
mod tests;

pub use session::SessionDecision;

use url::Url;

use crate::clients::{ClientKind, Clients};
use crate::errors::Error;
use crate::params::Params;
use crate::scope::{Scope, Scopes};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// No `prompt`: use a session if there is one, else sign in.
    Default,
    /// `prompt=none`: never show a page; `login_required` without a session.
    None,
    /// `prompt=login` (and `select_account`, since choosing another account
    /// here means signing in again): sign in even with a session.
    Login,
}

/// A request that passed every check; what the sign-in pages and the
/// code need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client_id: String,
    /// Where the answer goes: the presented URI (a loopback one keeps its
    /// port), or the only registered one when none was presented.
    pub redirect_uri: String,
    /// Whether the request carried `redirect_uri`; if it did, the token
    /// request must repeat it (RFC 6749 §4.1.3).
    pub redirect_uri_given: bool,
    pub scopes: Scopes,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// The S256 PKCE challenge.
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    /// Seconds; a session older than this needs a fresh sign-in.
    pub max_age: Option<u64>,
    /// Passed to the sign-in pages (language choice).
    pub ui_locales: Option<String>,
    pub login_hint: Option<String>,
}

/// An authorization error, by where it must be shown.
#[derive(Debug)]
pub enum AuthorizeError {
    /// Show our own error page; do not redirect.
    Page(Error),
    /// Redirect to the client with the error.
    Redirect(ErrorRedirect),
}

#[derive(Debug)]
pub struct ErrorRedirect {
    pub redirect_uri: String,
    pub error: Error,
    pub state: Option<String>,
}

impl ErrorRedirect {
    /// The `Location` of the error redirect: `error`, `error_description`,
    /// `state`, `iss`.
    pub fn location(&self, issuer: &str) -> String {
        let mut pairs = vec![("error", self.error.code())];
        if let Some(description) = self.error.description() {
            pairs.push(("error_description", description));
        }
        if let Some(state) = &self.state {
            pairs.push(("state", state));
        }
        pairs.push(("iss", issuer));
        append_query(&self.redirect_uri, &pairs)
    }
}

const MAX_STATE_LEN: usize = 2048;
const MAX_NONCE_LEN: usize = 512;
const MAX_HINT_LEN: usize = 256;

/// Parses the raw query string of `/oauth2/authorize`.
pub fn parse_authorization_request(
    query: &str,
    clients: &Clients,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let params = Params::parse(query);
    let page = |d: &'static str| AuthorizeError::Page(Error::invalid_request(d));

    if params.is_repeated("client_id") {
        return Err(page("client_id was given more than once"));
    }
    let client_id = params
        .get("client_id")
        .ok_or_else(|| page("client_id is required"))?;
    let client = clients
        .get(client_id)
        .ok_or_else(|| page("unknown client"))?;
    if client.redirect_uris.is_empty() {
        return Err(AuthorizeError::Page(Error::UnauthorizedClient(
            "this client does not sign people in".into(),
        )));
    }
    if params.is_repeated("redirect_uri") {
        return Err(page("redirect_uri was given more than once"));
    }
    let presented = params.get("redirect_uri");
    let redirect_uri = client.resolve_redirect_uri(presented).ok_or_else(|| {
        page(if presented.is_some() {
            "redirect_uri is not registered for this client"
        } else {
            "redirect_uri is required: the client has several"
        })
    })?;

    // From here on the client and its redirect URI are genuine: errors go
    // back to it.
    let state = params.get("state").map(str::to_string);
    let redirect = |error: Error| {
        AuthorizeError::Redirect(ErrorRedirect {
            redirect_uri: redirect_uri.clone(),
            error,
            state: state.clone(),
        })
    };
    params.refuse_repeats().map_err(redirect)?;
    if params.get("request").is_some() {
        return Err(redirect(Error::RequestNotSupported));
    }
    if params.get("request_uri").is_some() {
        return Err(redirect(Error::RequestUriNotSupported));
    }
    match params.get("response_type") {
        None => {
            return Err(redirect(Error::invalid_request(
                "response_type is required",
            )))
        }
        Some("code") => {}
        Some(_) => return Err(redirect(Error::UnsupportedResponseType)),
    }
    if params.get("response_mode").is_some_and(|m| m != "query") {
        return Err(redirect(Error::invalid_request(
            "only response_mode=query is supported",
        )));
    }

    let scope_text = params
        .get("scope")
        .ok_or_else(|| redirect(Error::invalid_request("scope is required")))?;
    let scopes = Scopes::parse(scope_text).map_err(redirect)?;
    if !scopes.contains(Scope::Openid) {
        return Err(redirect(Error::invalid_scope("scope must include openid")));
    }
    if let Some(refused) = scopes.iter().find(|s| !client.scopes.contains(*s)) {
        return Err(redirect(Error::invalid_scope(format!(
            "scope {} is not allowed for this client",
            refused.as_str()
        ))));
    }

    let code_challenge = pkce_challenge(&params, client.kind).map_err(redirect)?;
    let prompt = prompt(params.get("prompt")).map_err(redirect)?;
    let max_age = match params.get("max_age") {
        None => None,
        Some(text) => Some(text.parse::<u64>().map_err(|_| {
            redirect(Error::invalid_request(
                "max_age must be a number of seconds",
            ))
        })?),
    };

    for (name, limit) in [
        ("state", MAX_STATE_LEN),
        ("nonce", MAX_NONCE_LEN),
        ("login_hint", MAX_HINT_LEN),
        ("ui_locales", MAX_HINT_LEN),
    ] {
        if params.get(name).is_some_and(|v| v.len() > limit) {
            return Err(redirect(Error::invalid_request(format!(
                "{name} is too long"
            ))));
        }
    }

    Ok(AuthorizationRequest {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.clone(),
        redirect_uri_given: presented.is_some(),
        scopes,
        state: state.clone(),
        nonce: params.get("nonce").map(str::to_string),
        code_challenge,
        prompt,
        max_age,
        ui_locales: params.get("ui_locales").map(str::to_string),
        login_hint: params.get("login_hint").map(str::to_string),
    })
}

/// RFC 7636 with OAuth 2.1's tightening: S256 only (`plain` lets whoever
/// sees the request redeem the code), and required for public clients.
fn pkce_challenge(params: &Params, kind: ClientKind) -> Result<Option<String>, Error> {
    let challenge = params.get("code_challenge");
    let method = params.get("code_challenge_method");
    match (challenge, method) {
        (None, Some(_)) => Err(Error::invalid_request(
            "code_challenge_method without code_challenge",
        )),
        (None, None) if kind == ClientKind::Public => Err(Error::invalid_request(
            "PKCE is required: send code_challenge with code_challenge_method=S256",
        )),
        (None, None) => Ok(None),
        (Some(_), None | Some("plain")) => Err(Error::invalid_request(
            "code_challenge_method must be S256 (plain is not accepted)",
        )),
        (Some(_), Some(m)) if m != "S256" => {
            Err(Error::invalid_request("code_challenge_method must be S256"))
        }
        (Some(c), Some(_)) if !is_pkce_string(c) => Err(Error::invalid_request(
            "code_challenge must be 43–128 characters of A–Z a–z 0–9 - . _ ~",
        )),
        (Some(c), Some(_)) => Ok(Some(c.to_string())),
    }
}

/// RFC 7636 §4.1 grammar (verifier and challenge alike).
pub fn is_pkce_string(text: &str) -> bool {
    (43..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn prompt(value: Option<&str>) -> Result<Prompt, Error> {
    let Some(value) = value else {
        return Ok(Prompt::Default);
    };
    let words: Vec<&str> = value.split(' ').filter(|w| !w.is_empty()).collect();
    if words.contains(&"none") {
        // OpenID Connect Core §3.1.2.1: none cannot be combined.
        return if words.len() == 1 {
            Ok(Prompt::None)
        } else {
            Err(Error::invalid_request(
                "prompt=none cannot be combined with other values",
            ))
        };
    }
    let mut prompt = Prompt::Default;
    for word in words {
        match word {
            "login" | "select_account" => prompt = Prompt::Login,
            // First-party diary apps are approved by configuration; there
            // is no consent screen to show again.
            "consent" => {}
            _ => return Err(Error::invalid_request("unknown prompt value")),
        }
    }
    Ok(prompt)
}

impl AuthorizationRequest {
    /// The `Location` of the successful answer: `code`, `state`, `iss`.
    pub fn success_location(&self, code: &str, issuer: &str) -> String {
        let mut pairs = vec![("code", code)];
        if let Some(state) = &self.state {
            pairs.push(("state", state));
        }
        pairs.push(("iss", issuer));
        append_query(&self.redirect_uri, &pairs)
    }

    /// An error to send back after the pages ran (the person cancelled →
    /// `access_denied`).
    pub fn error_redirect(&self, error: Error) -> ErrorRedirect {
        ErrorRedirect {
            redirect_uri: self.redirect_uri.clone(),
            error,
            state: self.state.clone(),
        }
    }
}

/// Appends parameters to a redirect URI, keeping any query it has.
fn append_query(base: &str, pairs: &[(&str, &str)]) -> String {
    match Url::parse(base) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(pairs);
            url.into()
        }
        // Registered URIs were parsed at load; this only guards the type.
        Err(_) => {
            let query: String = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish();
            let separator = if base.contains('?') { '&' } else { '?' };
            format!("{base}{separator}{query}")
        }
    }
}
