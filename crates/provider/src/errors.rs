//! The one error type of the provider core, and how each error leaves the
//! service: the OAuth error code (RFC 6749 §4.1.2.1 and §5.2, RFC 6750,
//! RFC 7009, OpenID Connect Core §3.1.2.6), the HTTP status, and a
//! description that is safe to show to the client (never a key, a secret, a
//! token or a person's data).

use std::borrow::Cow;

use openidconnect::core::CoreErrorResponseType;
use openidconnect::StandardErrorResponse;
use serde_json::json;

/// Safe, fixed or caller-built description text.
pub type Description = Cow<'static, str>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // --- protocol errors: shown to the client ---
    #[error("invalid_request: {0}")]
    InvalidRequest(Description),
    /// `basic`: the client tried HTTP Basic, so the answer must carry
    /// `WWW-Authenticate: Basic` (RFC 6749 §5.2).
    #[error("invalid_client: {description}")]
    InvalidClient {
        description: Description,
        basic: bool,
    },
    #[error("invalid_grant: {0}")]
    InvalidGrant(Description),
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(Description),
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    #[error("invalid_scope: {0}")]
    InvalidScope(Description),
    #[error("unsupported_response_type")]
    UnsupportedResponseType,
    #[error("access_denied: {0}")]
    AccessDenied(Description),
    /// `prompt=none` and nobody is signed in (OpenID Connect Core §3.1.2.6).
    #[error("login_required")]
    LoginRequired,
    #[error("request_not_supported")]
    RequestNotSupported,
    #[error("request_uri_not_supported")]
    RequestUriNotSupported,
    /// RFC 7009 §2.2.1: a token of a kind this server does not revoke.
    #[error("unsupported_token_type")]
    UnsupportedTokenType,
    /// RFC 6750 §3.1: a bearer token at userinfo that did not verify.
    #[error("invalid_token: {0}")]
    InvalidToken(Description),

    // --- our own faults: the client sees `server_error` and nothing more ---
    /// Configuration that cannot be loaded: names the client or key and
    /// the field, for the operator (never shown to a client).
    #[error("configuration: {0}")]
    Config(String),
    /// Signing or serialisation failed; the cause is for the log.
    #[error("internal: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid_request(description: impl Into<Description>) -> Self {
        Error::InvalidRequest(description.into())
    }

    pub fn invalid_grant(description: impl Into<Description>) -> Self {
        Error::InvalidGrant(description.into())
    }

    pub fn invalid_scope(description: impl Into<Description>) -> Self {
        Error::InvalidScope(description.into())
    }

    pub fn invalid_client(description: impl Into<Description>, basic: bool) -> Self {
        Error::InvalidClient {
            description: description.into(),
            basic,
        }
    }

    /// The `error` value on the wire.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidRequest(_) => "invalid_request",
            Error::InvalidClient { .. } => "invalid_client",
            Error::InvalidGrant(_) => "invalid_grant",
            Error::UnauthorizedClient(_) => "unauthorized_client",
            Error::UnsupportedGrantType => "unsupported_grant_type",
            Error::InvalidScope(_) => "invalid_scope",
            Error::UnsupportedResponseType => "unsupported_response_type",
            Error::AccessDenied(_) => "access_denied",
            Error::LoginRequired => "login_required",
            Error::RequestNotSupported => "request_not_supported",
            Error::RequestUriNotSupported => "request_uri_not_supported",
            Error::UnsupportedTokenType => "unsupported_token_type",
            Error::InvalidToken(_) => "invalid_token",
            Error::Config(_) | Error::Internal(_) => "server_error",
        }
    }

    /// HTTP status for the endpoints that answer directly (token,
    /// introspection, revocation, userinfo). Authorization errors travel
    /// in a redirect instead.
    pub fn status(&self) -> u16 {
        match self {
            Error::InvalidClient { .. } | Error::InvalidToken(_) => 401,
            Error::Config(_) | Error::Internal(_) => 500,
            _ => 400,
        }
    }

    /// `error_description`: only words this crate wrote, never an
    /// internal cause.
    pub fn description(&self) -> Option<&str> {
        match self {
            Error::InvalidRequest(d)
            | Error::InvalidClient { description: d, .. }
            | Error::InvalidGrant(d)
            | Error::UnauthorizedClient(d)
            | Error::InvalidScope(d)
            | Error::AccessDenied(d)
            | Error::InvalidToken(d) => Some(d),
            Error::UnsupportedGrantType => {
                Some("grant_type must be authorization_code or refresh_token")
            }
            Error::UnsupportedResponseType => Some("only response_type=code is supported"),
            Error::LoginRequired => Some("the person is not signed in"),
            Error::RequestNotSupported => Some("request objects are not supported"),
            Error::RequestUriNotSupported => Some("request_uri is not supported"),
            Error::UnsupportedTokenType => Some("this kind of token cannot be revoked here"),
            Error::Config(_) | Error::Internal(_) => None,
        }
    }

    /// `WWW-Authenticate` where the RFCs require one.
    pub fn www_authenticate(&self) -> Option<String> {
        match self {
            Error::InvalidClient { basic: true, .. } => Some("Basic realm=\"esia-link\"".into()),
            Error::InvalidToken(d) => Some(format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\"",
                d.replace(['"', '\\'], "")
            )),
            _ => None,
        }
    }

    /// The JSON body of RFC 6749 §5.2.
    pub fn json_body(&self) -> serde_json::Value {
        match self.description() {
            Some(description) => json!({ "error": self.code(), "error_description": description }),
            None => json!({ "error": self.code() }),
        }
    }

    /// The same body as openidconnect's own error-response type, for a
    /// handler that prefers to serialise that.
    pub fn to_standard(&self) -> StandardErrorResponse<CoreErrorResponseType> {
        let kind = match self {
            Error::InvalidRequest(_) => CoreErrorResponseType::InvalidRequest,
            Error::InvalidClient { .. } => CoreErrorResponseType::InvalidClient,
            Error::InvalidGrant(_) => CoreErrorResponseType::InvalidGrant,
            Error::UnauthorizedClient(_) => CoreErrorResponseType::UnauthorizedClient,
            Error::UnsupportedGrantType => CoreErrorResponseType::UnsupportedGrantType,
            Error::InvalidScope(_) => CoreErrorResponseType::InvalidScope,
            other => CoreErrorResponseType::Extension(other.code().to_string()),
        };
        StandardErrorResponse::new(kind, self.description().map(str::to_string), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_leaves_with_its_code_status_and_header() {
        let cases: Vec<(Error, &str, u16, Option<&str>)> = vec![
            (Error::invalid_request("x"), "invalid_request", 400, None),
            (
                Error::invalid_client("bad", true),
                "invalid_client",
                401,
                Some("Basic realm=\"esia-link\""),
            ),
            (
                Error::invalid_client("bad", false),
                "invalid_client",
                401,
                None,
            ),
            (Error::invalid_grant("x"), "invalid_grant", 400, None),
            (
                Error::UnsupportedGrantType,
                "unsupported_grant_type",
                400,
                None,
            ),
            (Error::invalid_scope("x"), "invalid_scope", 400, None),
            (
                Error::UnsupportedTokenType,
                "unsupported_token_type",
                400,
                None,
            ),
            (Error::LoginRequired, "login_required", 400, None),
            (
                Error::Internal("rsa failed".into()),
                "server_error",
                500,
                None,
            ),
        ];
        for (error, code, status, header) in cases {
            assert_eq!(error.code(), code);
            assert_eq!(error.status(), status, "{code}");
            assert_eq!(error.www_authenticate().as_deref(), header, "{code}");
            assert_eq!(error.json_body()["error"], code);
            let standard = serde_json::to_value(error.to_standard()).unwrap();
            assert_eq!(standard["error"], code);
        }
    }

    #[test]
    fn internal_causes_never_reach_the_body() {
        let body = Error::Config("client web: secret_hash is not a PHC string".into()).json_body();
        assert_eq!(body, json!({ "error": "server_error" }));
    }

    #[test]
    fn bearer_challenge_names_invalid_token() {
        let header = Error::InvalidToken("expired".into())
            .www_authenticate()
            .unwrap();
        assert!(
            header.starts_with("Bearer error=\"invalid_token\""),
            "{header}"
        );
    }
}
