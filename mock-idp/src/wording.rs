//! ESIA's error wording on the wire. Real ESIA sends `error_description` in
//! English, `ESIA-NNNNNN: <text>`, where the text is mostly RFC 6749's own
//! description of the OAuth error (samples posted in the issues of public
//! ESIA client libraries: 007004, 007005, 007011, 007014 word for word) and
//! sometimes an internal enum name (`ESIA-007053: OAuthErrorEnum.clientSecretWrong`,
//! sent with `error=access_denied`). The REST API answers `{code, message}`
//! with `message` like `SecurityErrorEnum.expiredToken`.
//!
//! `esia_proto::EsiaCode::esia_text` holds the Russian wording of ESIA's
//! guidelines for people; this is what the mock puts on the wire.

use esia_proto::EsiaCode;

/// The English text after `ESIA-NNNNNN: `.
pub fn text(code: EsiaCode) -> &'static str {
    match code {
        EsiaCode::E007002 => "Client authentication failed (unknown client, or no certificate registered for this client).",
        EsiaCode::E007003 => "The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.",
        EsiaCode::E007004 => "The resource owner or authorization server denied the request.",
        EsiaCode::E007005 => "The client is not authorized to request an access token using this method.",
        EsiaCode::E007006 => "The requested scope is invalid, unknown, or malformed.",
        EsiaCode::E007007 => "The authorization server encountered an unexpected condition that prevented it from fulfilling the request.",
        EsiaCode::E007008 => "The authorization server is currently unable to handle the request due to a temporary overloading or maintenance of the server.",
        EsiaCode::E007011 => "The provided authorization grant or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
        EsiaCode::E007014 => "The request doesn't contain the mandatory parameter.",
        EsiaCode::E007015 => "The request time is invalid.",
        EsiaCode::E007023 => "The redirect_uri of the request is not among those registered for the client.",
        EsiaCode::E007053 => "OAuthErrorEnum.clientSecretWrong",
        EsiaCode::E007055 => "Login with an unverified account is not allowed for this client.",
        EsiaCode::E005013 => "SecurityErrorEnum.expiredToken",
    }
}

/// `error` sent with the code: as `EsiaCode::oauth_error`, except where a
/// real answer was seen to differ.
pub fn oauth_error(code: EsiaCode) -> &'static str {
    match code {
        EsiaCode::E007053 => "access_denied",
        other => other.oauth_error(),
    }
}

/// `ESIA-NNNNNN: <text>`.
pub fn description(code: EsiaCode) -> String {
    format!("{}: {}", code.as_str(), text(code))
}

/// ESIA-007014 naming the missing parameter, as ESIA does:
/// `ESIA-007014: The request doesn't contain the mandatory parameter [timestamp].`
pub fn missing_parameter(name: &str) -> String {
    format!(
        "{}: The request doesn't contain the mandatory parameter [{name}].",
        EsiaCode::E007014.as_str()
    )
}

/// The `unknown_esia_code` fault's answer: a number no client maps.
pub const UNKNOWN_CODE: &str = "ESIA-007099";
pub const UNKNOWN_TEXT: &str = "OAuthErrorEnum.mockUnknownError";

/// REST API errors: `{code, message}` as ESIA's `/rs` answers.
pub mod rest {
    /// 401: the bearer token is missing, malformed or not ours.
    pub const INVALID_TOKEN: (&str, &str) = ("ESIA-005011", "SecurityErrorEnum.invalidToken");
    /// 401: the bearer token expired.
    pub const EXPIRED_TOKEN: (&str, &str) = ("ESIA-005013", "SecurityErrorEnum.expiredToken");
    /// 403: the token's scopes do not cover the resource (another OID, or a
    /// collection whose scope was not granted).
    pub const SCOPE_NOT_ALLOWED: (&str, &str) =
        ("ESIA-005029", "SecurityErrorEnum.scopeNotAllowed");
}
