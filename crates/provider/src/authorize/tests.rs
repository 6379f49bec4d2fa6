use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::testutil::test_clients;

const ISS: &str = "https://id.example";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn mobile(extra: &str) -> String {
    format!(
        "response_type=code&client_id=mobile&redirect_uri=ru.school.diary%3A%2Foauth2\
         &scope=openid+diary&state=s-1&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}"
    )
}

fn web(extra: &str) -> String {
    format!("response_type=code&client_id=web&scope=openid&state=w-1{extra}")
}

enum Expect {
    Ok,
    /// An error page (no redirect) with this error code.
    Page(&'static str),
    /// A redirect to this URI prefix with this error code.
    Redirect(&'static str, &'static str),
}

#[test]
fn where_each_refusal_goes() {
    let clients = test_clients();
    let cases: Vec<(String, Expect)> = vec![
        (mobile(""), Expect::Ok),
        (web(""), Expect::Ok),
        // the client or its redirect URI are not genuine: a page, never a redirect
        (
            mobile("").replace("client_id=mobile", "client_id=nobody"),
            Expect::Page("invalid_request"),
        ),
        (
            mobile("").replace("client_id=mobile&", ""),
            Expect::Page("invalid_request"),
        ),
        (mobile("&client_id=mobile"), Expect::Page("invalid_request")),
        (
            mobile("").replace("oauth2&", "oauth3&"),
            Expect::Page("invalid_request"),
        ),
        (
            mobile("").replace("redirect_uri=ru.school.diary%3A%2Foauth2&", ""),
            Expect::Page("invalid_request"),
        ),
        (
            mobile("&redirect_uri=ru.school.diary%3A%2Foauth2"),
            Expect::Page("invalid_request"),
        ),
        (
            web("&redirect_uri=https%3A%2F%2Fevil.example%2Fcallback"),
            Expect::Page("invalid_request"),
        ),
        (
            "response_type=code&client_id=backend&scope=openid".into(),
            Expect::Page("unauthorized_client"),
        ),
        // genuine client: the error goes back to it
        (
            mobile("&state=again"),
            Expect::Redirect(
                "ru.school.diary:/oauth2?error=invalid_request",
                "invalid_request",
            ),
        ),
        (
            mobile("&scope=openid"),
            Expect::Redirect("ru.school.diary:", "invalid_request"),
        ),
        (
            mobile("").replace("response_type=code", "response_type=token"),
            Expect::Redirect("ru.school.diary:", "unsupported_response_type"),
        ),
        (
            mobile("").replace("response_type=code&", ""),
            Expect::Redirect("ru.school.diary:", "invalid_request"),
        ),
        (
            mobile("").replace("scope=openid+diary", "scope=diary"),
            Expect::Redirect("ru.school.diary:", "invalid_scope"),
        ),
        (
            mobile("").replace("scope=openid+diary", "scope=openid+email"),
            Expect::Redirect("ru.school.diary:", "invalid_scope"),
        ),
        (
            web("").replace("scope=openid", "scope=openid+offline_access"),
            Expect::Redirect("https://diary.example/callback", "invalid_scope"),
        ),
        (
            mobile("&request=eyJ"),
            Expect::Redirect("ru.school.diary:", "request_not_supported"),
        ),
        (
            mobile("&request_uri=https%3A%2F%2Fx"),
            Expect::Redirect("ru.school.diary:", "request_uri_not_supported"),
        ),
        (
            mobile("&response_mode=fragment"),
            Expect::Redirect("ru.school.diary:", "invalid_request"),
        ),
        (mobile("&response_mode=query"), Expect::Ok),
        // PKCE
        (
            mobile("").replace("&code_challenge_method=S256", ""),
            Expect::Redirect("ru.school.diary:", "invalid_request"),
        ),
        (
            mobile("").replace(
                &format!("&code_challenge={CHALLENGE}&code_challenge_method=S256"),
                "",
            ),
            Expect::Redirect("ru.school.diary:", "invalid_request"),
        ),
        (
            mobile("").replace("method=S256", "method=plain"),
            Expect::Redirect("ru.school.diary:", "invalid_request"),
        ),
        (
            web(&format!(
                "&code_challenge={CHALLENGE}&code_challenge_method=plain"
            )),
            Expect::Redirect("https://diary.example/", "invalid_request"),
        ),
        (
            mobile("").replace("method=S256", "method=S512"),
            Expect::Redirect("ru.school.diary:", "invalid_request"),
        ),
        (
            mobile("").replace(CHALLENGE, "short"),
            Expect::Redirect("ru.school.diary:", "invalid_request"),
        ),
        (
            mobile("").replace(CHALLENGE, &format!("{}%2B", &CHALLENGE[..42])),
            Expect::Redirect("ru.school.diary:", "invalid_request"),
        ),
        (
            mobile("").replace(CHALLENGE, &"a".repeat(129)),
            Expect::Redirect("ru.school.diary:", "invalid_request"),
        ),
        (
            web("&code_challenge_method=S256"),
            Expect::Redirect("https://diary.example/", "invalid_request"),
        ),
        (
            web(&format!(
                "&code_challenge={CHALLENGE}&code_challenge_method=S256"
            )),
            Expect::Ok,
        ),
        // prompt and max_age
        (mobile("&prompt=none"), Expect::Ok),
        (mobile("&prompt=login"), Expect::Ok),
        (mobile("&prompt=consent+login"), Expect::Ok),
        (
            mobile("&prompt=none+login"),
            Expect::Redirect("ru.school.diary:", "invalid_request"),
        ),
        (
            mobile("&prompt=sometimes"),
            Expect::Redirect("ru.school.diary:", "invalid_request"),
        ),
        (
            mobile("&max_age=-1"),
            Expect::Redirect("ru.school.diary:", "invalid_request"),
        ),
        (
            mobile(&format!("&nonce={}", "n".repeat(513))),
            Expect::Redirect("ru.school.diary:", "invalid_request"),
        ),
    ];
    for (query, expect) in cases {
        let result = parse_authorization_request(&query, &clients);
        match (expect, result) {
            (Expect::Ok, Ok(_)) => {}
            (Expect::Page(code), Err(AuthorizeError::Page(e))) => {
                assert_eq!(e.code(), code, "{query}")
            }
            (Expect::Redirect(prefix, code), Err(AuthorizeError::Redirect(r))) => {
                assert_eq!(r.error.code(), code, "{query}");
                let location = r.location(ISS);
                assert!(location.starts_with(prefix), "{query}: {location}");
                assert!(
                    location.ends_with("&iss=https%3A%2F%2Fid.example"),
                    "{location}"
                );
                assert!(
                    location.contains("&state=s-1") || location.contains("&state=w-1"),
                    "{location}"
                );
            }
            (_, other) => panic!("{query}: unexpected {other:?}"),
        }
    }
}

#[test]
fn accepted_request_carries_what_the_code_needs() {
    let clients = test_clients();
    let query = "response_type=code&client_id=mobile&redirect_uri=http%3A%2F%2F127.0.0.1%3A51004%2Fcb\
                 &scope=openid+profile+offline_access&state=xyz%20%26&nonce=n-0S6&prompt=select_account\
                 &max_age=300&ui_locales=en&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
                 &code_challenge_method=S256";
    let request = parse_authorization_request(query, &clients).unwrap();
    assert_eq!(
        request.redirect_uri, "http://127.0.0.1:51004/cb",
        "the loopback port is kept"
    );
    assert!(request.redirect_uri_given);
    assert_eq!(request.scopes.to_string(), "openid profile offline_access");
    assert_eq!(request.state.as_deref(), Some("xyz &"));
    assert_eq!(request.nonce.as_deref(), Some("n-0S6"));
    assert_eq!(request.prompt, Prompt::Login);
    assert_eq!(request.max_age, Some(300));
    assert_eq!(request.ui_locales.as_deref(), Some("en"));
    assert_eq!(
        request.success_location("c0de", ISS),
        "http://127.0.0.1:51004/cb?code=c0de&state=xyz+%26&iss=https%3A%2F%2Fid.example"
    );

    let web = parse_authorization_request(&web(""), &clients).unwrap();
    assert!(!web.redirect_uri_given);
    assert_eq!(
        web.success_location("c", ISS),
        "https://diary.example/callback?from=esia-link&code=c&state=w-1&iss=https%3A%2F%2Fid.example",
        "the registered query survives"
    );
}

#[test]
fn prompt_and_max_age_against_the_session() {
    let clients = test_clients();
    let now = Utc.with_ymd_and_hms(2025, 9, 1, 8, 0, 0).unwrap();
    let recent = Some(now - Duration::seconds(100));
    let old = Some(now - Duration::seconds(1000));
    #[derive(Debug, PartialEq)]
    enum D {
        Use,
        SignIn,
        LoginRequired,
    }
    // (extra query, session auth_time, decision)
    let cases = [
        ("", None, D::SignIn),
        ("", recent, D::Use),
        ("&prompt=none", None, D::LoginRequired),
        ("&prompt=none", recent, D::Use),
        ("&prompt=none&max_age=300", old, D::LoginRequired),
        ("&prompt=none&max_age=300", recent, D::Use),
        ("&prompt=login", recent, D::SignIn),
        ("&max_age=300", old, D::SignIn),
        ("&max_age=300", recent, D::Use),
        ("&max_age=0", recent, D::SignIn),
        ("&max_age=18446744073709551615", old, D::Use),
        ("&prompt=consent", recent, D::Use),
    ];
    for (extra, session, expected) in cases {
        let request = parse_authorization_request(&mobile(extra), &clients).unwrap();
        let decision = match request.session_decision(session, now) {
            SessionDecision::UseSession => D::Use,
            SessionDecision::SignIn => D::SignIn,
            SessionDecision::Refuse(redirect) => {
                assert_eq!(redirect.error.code(), "login_required");
                let location = redirect.location(ISS);
                assert!(
                    location.starts_with("ru.school.diary:/oauth2?error=login_required"),
                    "{location}"
                );
                assert!(location.contains("state=s-1"), "{location}");
                D::LoginRequired
            }
        };
        assert_eq!(decision, expected, "{extra} {session:?}");
    }
}

#[test]
fn pkce_grammar() {
    let cases = [
        (CHALLENGE, true),
        (&"a".repeat(43)[..], true),
        (&"~._-".repeat(32)[..], true),
        (&"a".repeat(42)[..], false),
        (&"a".repeat(129)[..], false),
        ("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c+", false),
        ("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c=", false),
    ];
    for (text, ok) in cases {
        assert_eq!(is_pkce_string(text), ok, "{text}");
    }
}
