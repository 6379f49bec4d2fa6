//! The type and comparison rules of what the relying party reads, where a
//! spec states them and the two profiles differ (the README's "Spec rules"
//! table lists them all):
//!
//! - `sub`: OIDC Core §2 makes it a case-sensitive string of at most 255
//!   ASCII characters; ESIA sends the person's OID as a JSON integer.
//! - the JOSE header's `typ` (RFC 8725 §3.11, RFC 7515 §4.1.9) and ESIA's
//!   `sbt`: a header that says it is another kind of token is refused.
//! - the token response's `token_type` (RFC 6749 §5.1 and §7.1, RFC 6750,
//!   OIDC Core 3.1.3.3) and `expires_in`.
//! - the authorization error response's `error` (RFC 6749 §4.1.2.1).
//! - the `birthdate` claim (OIDC Core §5.1).

use chrono::{Datelike, NaiveDate};
use serde_json::{Map, Value};

use super::{FederationError, TokenProblem};

/// Whose rules a provider's tokens follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimProfile {
    /// OpenID Connect Core 1.0.
    Oidc,
    /// ESIA: `sub` and `urn:esia:sbj:oid` are the OID as a JSON integer,
    /// the header's `sbt` names the token kind (`id`, `access`).
    Esia,
}

/// OIDC Core §2: "It MUST NOT exceed 255 ASCII characters in length".
const MAX_SUBJECT_BYTES: usize = 255;

impl ClaimProfile {
    /// The subject as text, or `None` when its type or range is wrong.
    /// OIDC: a non-empty string of at most 255 bytes, kept as sent (an
    /// integer is refused: OIDC Core requires a string). ESIA: a
    /// non-negative JSON integer, printed in decimal; a string holding that
    /// same decimal form is tolerated (a proxy may quote it), anything else
    /// (a fraction, a sign, leading zeros, letters) is not an OID.
    pub fn subject(self, value: Option<&Value>) -> Option<String> {
        match (self, value?) {
            (ClaimProfile::Oidc, Value::String(text))
                if !text.is_empty() && text.len() <= MAX_SUBJECT_BYTES =>
            {
                Some(text.clone())
            }
            (ClaimProfile::Esia, Value::Number(number)) => number.as_u64().map(|n| n.to_string()),
            (ClaimProfile::Esia, Value::String(text)) => text
                .parse::<u64>()
                .ok()
                .map(|n| n.to_string())
                .filter(|canonical| canonical == text),
            _ => None,
        }
    }

    /// RFC 8725 §3.11 (explicit typing): an id_token's `typ`, when present,
    /// is `JWT` (RFC 7519 §5.1; compared case-insensitively as a media type,
    /// with or without `application/`, RFC 7515 §4.1.9), so an access token
    /// (`at+jwt`, RFC 9068) or a logout token (`logout+jwt`) is not taken
    /// for one. ESIA marks its token kinds with `sbt` instead: only `id`.
    pub fn check_header(self, header: &Map<String, Value>) -> Result<(), TokenProblem> {
        let wrong = |name: &str, value: &Value| {
            TokenProblem::WrongType(format!(
                "{name} {}",
                value.to_string().chars().take(40).collect::<String>()
            ))
        };
        match header.get("typ") {
            None => {}
            Some(Value::String(typ)) if is_jwt_media_type(typ) => {}
            Some(other) => return Err(wrong("typ", other)),
        }
        if self == ClaimProfile::Esia {
            match header.get("sbt") {
                None => {}
                Some(Value::String(sbt)) if sbt == "id" => {}
                Some(other) => return Err(wrong("sbt", other)),
            }
        }
        Ok(())
    }
}

fn is_jwt_media_type(typ: &str) -> bool {
    let subtype = match typ.split_once('/') {
        Some((kind, subtype)) if kind.eq_ignore_ascii_case("application") => subtype,
        Some(_) => return false,
        None => typ,
    };
    subtype.eq_ignore_ascii_case("jwt")
}

/// RFC 6749 §5.1 and §7.1, RFC 6750, OIDC Core 3.1.3.3: the access token is
/// used as a Bearer token only, so a response of any other `token_type`
/// ("mac", an extension) is refused rather than its token used; the value
/// compares case-insensitively. `expires_in`, when given, is a lifetime in
/// seconds: a negative one is not.
pub fn check_token_response(
    token_type: &str,
    expires_in: Option<i64>,
) -> Result<(), FederationError> {
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Err(FederationError::NotBearer(
            token_type.chars().take(32).collect(),
        ));
    }
    if expires_in.is_some_and(|seconds| seconds < 0) {
        return Err(FederationError::BadResponse(
            "the token response's expires_in is negative".into(),
        ));
    }
    Ok(())
}

/// RFC 6749 §4.1.2.1: `error` is `1*NQSCHAR` (printable ASCII but `"` and
/// `\`). A value outside that set is recorded as `unreadable_error`, so
/// that whatever the redirect carries never reaches a code, a metric label
/// or a log line as it came; at most 64 characters are kept.
pub fn oauth_error_name(error: &str) -> String {
    let nqschar = |c: char| matches!(c, '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e');
    if error.is_empty() || !error.chars().all(nqschar) {
        return "unreadable_error".into();
    }
    error.chars().take(64).collect()
}

/// OIDC Core §5.1 `birthdate`: `YYYY-MM-DD`, where the year `0000` means
/// "not given" and a lone `YYYY` gives no day: either way there is no
/// birth date to compare. The Russian `DD.MM.YYYY` is accepted as well (a
/// regional portal's configured claim may use it).
pub fn birthdate(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d.%m.%Y"))
        .ok()
        .filter(|date| date.year() > 0)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn subjects_by_profile_table() {
        use ClaimProfile::{Esia, Oidc};
        let long = "x".repeat(255);
        let cases: Vec<(ClaimProfile, Value, Option<&str>)> = vec![
            (Oidc, json!("248289761001"), Some("248289761001")),
            (Oidc, json!("Ab-9"), Some("Ab-9")),
            (Oidc, json!(long.clone()), Some(long.as_str())),
            (Oidc, json!("x".repeat(256)), None),
            (Oidc, json!(""), None),
            (Oidc, json!(1000299353u64), None),
            (Oidc, json!(1.5), None),
            (Oidc, json!(["42"]), None),
            (Oidc, json!(null), None),
            (Esia, json!(1000299353u64), Some("1000299353")),
            (Esia, json!(0), Some("0")),
            (Esia, json!("1000299353"), Some("1000299353")),
            (Esia, json!(-5), None),
            (Esia, json!(1000299353.5), None),
            (Esia, json!(1000299353.0), None),
            (Esia, json!("01000299353"), None),
            (Esia, json!("+1000299353"), None),
            (Esia, json!("OID.1000299353"), None),
            (Esia, json!(""), None),
            (Esia, json!(true), None),
        ];
        for (profile, value, expected) in cases {
            assert_eq!(
                profile.subject(Some(&value)).as_deref(),
                expected,
                "{profile:?} {value}"
            );
        }
        assert_eq!(Oidc.subject(None), None);
        assert_eq!(Esia.subject(None), None);
    }

    #[test]
    fn header_types_table() {
        use ClaimProfile::{Esia, Oidc};
        let cases: Vec<(ClaimProfile, Value, bool)> = vec![
            (Oidc, json!({"alg": "RS256"}), true),
            (Oidc, json!({"typ": "JWT"}), true),
            (Oidc, json!({"typ": "jwt"}), true),
            (Oidc, json!({"typ": "application/jwt"}), true),
            (Oidc, json!({"typ": "Application/JWT"}), true),
            (Oidc, json!({"typ": "at+jwt"}), false),
            (Oidc, json!({"typ": "application/at+jwt"}), false),
            (Oidc, json!({"typ": "logout+jwt"}), false),
            (Oidc, json!({"typ": "text/jwt"}), false),
            (Oidc, json!({"typ": 1}), false),
            (Oidc, json!({"sbt": "access"}), true),
            (Esia, json!({"ver": 1, "typ": "JWT", "sbt": "id"}), true),
            (Esia, json!({"typ": "JWT"}), true),
            (Esia, json!({"typ": "JWT", "sbt": "access"}), false),
            (Esia, json!({"typ": "JWT", "sbt": "ID"}), false),
            (Esia, json!({"typ": "JWT", "sbt": null}), false),
            (Esia, json!({"typ": "at+jwt", "sbt": "id"}), false),
        ];
        for (profile, header, accepted) in cases {
            let header = header.as_object().cloned().unwrap_or_default();
            let verdict = profile.check_header(&header);
            assert_eq!(verdict.is_ok(), accepted, "{profile:?} {header:?}");
            if let Err(problem) = verdict {
                assert_eq!(problem.code(), "token.wrong_typ");
            }
        }
    }

    #[test]
    fn token_responses_table() {
        let cases = [
            ("Bearer", Some(3600), None),
            ("bearer", None, None),
            ("BEARER", Some(0), None),
            ("mac", Some(3600), Some("token.not_bearer")),
            ("DPoP", Some(3600), Some("token.not_bearer")),
            ("", Some(3600), Some("token.not_bearer")),
            ("Bearer ", Some(3600), Some("token.not_bearer")),
            ("Bearer", Some(-1), Some("idp.bad_response")),
        ];
        for (token_type, expires_in, refused) in cases {
            let verdict = check_token_response(token_type, expires_in).map_err(|e| e.code());
            assert_eq!(
                verdict.err().as_deref(),
                refused,
                "{token_type:?} {expires_in:?}"
            );
        }
    }

    /// RFC 6749 §5.1: `access_token` and `token_type` are required strings,
    /// `expires_in` a number of seconds (ESIA always sends it), unknown
    /// members are ignored. The OIDC profile reads the response with
    /// `oauth2`'s types, the ESIA profile with `esia_proto`'s.
    #[test]
    fn token_response_shapes_table() {
        let cases = [
            (
                r#"{"access_token":"a","token_type":"Bearer","expires_in":3600,"x_extra":[1]}"#,
                true,
                true,
            ),
            (r#"{"access_token":"a","token_type":"bearer"}"#, true, false),
            (
                r#"{"access_token":"a","token_type":"Bearer","expires_in":"3600"}"#,
                false,
                false,
            ),
            (
                r#"{"access_token":"a","token_type":"Bearer","expires_in":3600.5}"#,
                false,
                false,
            ),
            (r#"{"token_type":"Bearer","expires_in":3600}"#, false, false),
            (r#"{"access_token":"a","expires_in":3600}"#, false, false),
            (
                r#"{"access_token":7,"token_type":"Bearer","expires_in":3600}"#,
                false,
                false,
            ),
        ];
        for (body, oidc, esia) in cases {
            let parsed = serde_json::from_str::<oauth2::basic::BasicTokenResponse>(body);
            assert_eq!(parsed.is_ok(), oidc, "OIDC {body}");
            let parsed = serde_json::from_str::<esia_proto::EsiaTokenResponse>(body);
            assert_eq!(parsed.is_ok(), esia, "ESIA {body}");
        }
    }

    #[test]
    fn oauth_error_names_table() {
        let long = "e".repeat(100);
        let cases = [
            ("access_denied", "access_denied"),
            ("invalid_request", "invalid_request"),
            ("a b!#[]~", "a b!#[]~"),
            (long.as_str(), &long[..64]),
            ("", "unreadable_error"),
            ("bad\"quote", "unreadable_error"),
            ("back\\slash", "unreadable_error"),
            ("new\nline", "unreadable_error"),
            ("отказ", "unreadable_error"),
        ];
        for (error, expected) in cases {
            assert_eq!(oauth_error_name(error), expected, "{error:?}");
        }
    }

    #[test]
    fn birthdates_table() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        let cases = [
            ("1990-06-05", date(1990, 6, 5)),
            (" 1990-06-05 ", date(1990, 6, 5)),
            ("05.06.1990", date(1990, 6, 5)),
            ("0000-06-05", None),
            ("05.06.0000", None),
            ("1990", None),
            ("1990-02-30", None),
            ("1990-06-05T00:00:00Z", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(birthdate(text), expected, "{text:?}");
        }
    }
}
