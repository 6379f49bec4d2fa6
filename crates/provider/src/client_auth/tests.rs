use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{Duration, TimeZone};
use serde_json::json;

use super::*;
use crate::keys::SigningKey;
use crate::testutil::{test_clients, CLIENT_ES256_PEM, CLIENT_RS256_PEM, POST_SECRET, WEB_SECRET};

const ISS: &str = "https://id.example";
const TOKEN: &str = "https://id.example/oauth2/token";
const AUDIENCES: Audiences<'static> = Audiences {
    issuer: ISS,
    token_endpoint: TOKEN,
    this_endpoint: "https://id.example/oauth2/introspect",
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 8, 0, 0).unwrap()
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

fn assertion(pem: &str, claims: serde_json::Value) -> String {
    SigningKey::from_pem(pem, "client")
        .unwrap()
        .sign_jwt("JWT", &claims)
        .unwrap()
}

fn good_claims() -> serde_json::Value {
    json!({
        "iss": "jwt", "sub": "jwt", "aud": TOKEN, "jti": "j-1",
        "iat": now().timestamp(), "exp": (now() + Duration::seconds(60)).timestamp(),
    })
}

fn with(mut claims: serde_json::Value, key: &str, value: serde_json::Value) -> serde_json::Value {
    if value.is_null() {
        claims.as_object_mut().unwrap().remove(key);
    } else {
        claims[key] = value;
    }
    claims
}

/// `Ok(client id)` or `Err((code, WWW-Authenticate present))`.
fn run(
    authorization: Option<&str>,
    form: &[(&str, &str)],
) -> std::result::Result<String, (String, bool)> {
    let clients = test_clients();
    let params = Params::from_pairs(form.iter().copied());
    let cache = SecretCache::new();
    authenticate_with(
        &clients,
        authorization,
        &params,
        AUDIENCES,
        &cache,
        now(),
        |_, _, _| true,
    )
    .map(|c| c.id.clone())
    .map_err(|e| (e.code().to_string(), e.www_authenticate().is_some()))
}

#[test]
fn secrets_and_public_clients() {
    let ok = |id: &str| Ok::<String, (String, bool)>(id.to_string());
    let err = |code: &str, header: bool| Err::<String, (String, bool)>((code.to_string(), header));
    let web_basic = basic("web", WEB_SECRET);
    let web_wrong = basic("web", "guess");
    let post_basic = basic("post", POST_SECRET);
    let unknown = basic("nobody", "x");
    let cases: Vec<(
        Option<&str>,
        Vec<(&str, &str)>,
        std::result::Result<String, (String, bool)>,
    )> = vec![
        (Some(&web_basic), vec![], ok("web")),
        (Some(&web_basic), vec![("client_id", "web")], ok("web")),
        (Some(&web_wrong), vec![], err("invalid_client", true)),
        (Some(&unknown), vec![], err("invalid_client", true)),
        (
            Some(&web_basic),
            vec![("client_id", "post")],
            err("invalid_request", false),
        ),
        (Some("Basic !!!"), vec![], err("invalid_client", true)),
        (Some("Bearer abc"), vec![], err("invalid_request", false)),
        // registered for Basic, presented in the form
        (
            None,
            vec![("client_id", "web"), ("client_secret", WEB_SECRET)],
            err("invalid_client", false),
        ),
        (
            None,
            vec![("client_id", "post"), ("client_secret", POST_SECRET)],
            ok("post"),
        ),
        (
            None,
            vec![("client_id", "post"), ("client_secret", "guess")],
            err("invalid_client", false),
        ),
        (Some(&post_basic), vec![], err("invalid_client", true)),
        (
            None,
            vec![("client_secret", POST_SECRET)],
            err("invalid_request", false),
        ),
        // two methods at once
        (
            Some(&web_basic),
            vec![("client_id", "web"), ("client_secret", WEB_SECRET)],
            err("invalid_request", false),
        ),
        (
            Some(&web_basic),
            vec![
                ("client_assertion_type", JWT_BEARER_ASSERTION_TYPE),
                ("client_assertion", "x.y.z"),
            ],
            err("invalid_request", false),
        ),
        // public client: client_id only
        (None, vec![("client_id", "mobile")], ok("mobile")),
        (
            None,
            vec![("client_id", "mobile"), ("client_secret", "x")],
            err("invalid_client", false),
        ),
        (
            None,
            vec![("client_id", "web")],
            err("invalid_client", false),
        ),
        (
            None,
            vec![("client_id", "nobody")],
            err("invalid_client", false),
        ),
        (None, vec![], err("invalid_client", false)),
        (
            None,
            vec![("client_id", "mobile"), ("client_id", "web")],
            err("invalid_request", false),
        ),
    ];
    for (i, (authorization, form, expected)) in cases.into_iter().enumerate() {
        assert_eq!(
            run(authorization, &form),
            expected,
            "case {i}: {authorization:?} {form:?}"
        );
    }
}

#[test]
fn basic_credentials_are_form_decoded() {
    let cases = [
        ("a%3Ab:c%2Bd+e", Some(("a:b", "c+d e"))),
        ("web:s3cr%C3%A9t", Some(("web", "s3crét"))),
        ("web:%FF", None),
        ("no-colon", None),
    ];
    for (raw, expected) in cases {
        let header = format!("basic {}", STANDARD.encode(raw));
        let got = basic_credentials(&header).ok();
        let got = got.as_ref().map(|(a, b)| (a.as_str(), b.as_str()));
        assert_eq!(got, expected, "{raw}");
    }
    let unpadded = format!("Basic {}", STANDARD.encode("web:x").trim_end_matches('='));
    assert!(basic_credentials(&unpadded).is_ok());
}

#[test]
fn private_key_jwt_assertions() {
    let t = now().timestamp();
    let not_registered = include_str!("../../tests/keys/rs256-a.pem");
    // (signing key, claims, assertion type, outcome: Ok or the error code)
    let cases: Vec<(&str, serde_json::Value, &str, std::result::Result<(), &str>)> = vec![
        (
            CLIENT_ES256_PEM,
            good_claims(),
            JWT_BEARER_ASSERTION_TYPE,
            Ok(()),
        ),
        (
            CLIENT_RS256_PEM,
            good_claims(),
            JWT_BEARER_ASSERTION_TYPE,
            Ok(()),
        ),
        (
            CLIENT_ES256_PEM,
            with(good_claims(), "aud", json!(ISS)),
            JWT_BEARER_ASSERTION_TYPE,
            Ok(()),
        ),
        (
            CLIENT_ES256_PEM,
            with(good_claims(), "aud", json!(["https://x", TOKEN])),
            JWT_BEARER_ASSERTION_TYPE,
            Ok(()),
        ),
        (
            CLIENT_ES256_PEM,
            with(
                good_claims(),
                "aud",
                json!("https://id.example/oauth2/introspect"),
            ),
            JWT_BEARER_ASSERTION_TYPE,
            Ok(()),
        ),
        (
            not_registered,
            good_claims(),
            JWT_BEARER_ASSERTION_TYPE,
            Err("invalid_client"),
        ),
        (
            CLIENT_ES256_PEM,
            with(good_claims(), "iss", json!("web")),
            JWT_BEARER_ASSERTION_TYPE,
            Err("invalid_client"),
        ),
        (
            CLIENT_ES256_PEM,
            with(good_claims(), "sub", json!("web")),
            JWT_BEARER_ASSERTION_TYPE,
            Err("invalid_client"),
        ),
        (
            CLIENT_ES256_PEM,
            with(good_claims(), "aud", json!("https://other.example/token")),
            JWT_BEARER_ASSERTION_TYPE,
            Err("invalid_client"),
        ),
        (
            CLIENT_ES256_PEM,
            with(good_claims(), "exp", json!(null)),
            JWT_BEARER_ASSERTION_TYPE,
            Err("invalid_client"),
        ),
        (
            CLIENT_ES256_PEM,
            with(good_claims(), "exp", json!(t - 31)),
            JWT_BEARER_ASSERTION_TYPE,
            Err("invalid_client"),
        ),
        (
            CLIENT_ES256_PEM,
            with(good_claims(), "exp", json!(t + 3600)),
            JWT_BEARER_ASSERTION_TYPE,
            Err("invalid_client"),
        ),
        (
            CLIENT_ES256_PEM,
            with(good_claims(), "nbf", json!(t + 120)),
            JWT_BEARER_ASSERTION_TYPE,
            Err("invalid_client"),
        ),
        (
            CLIENT_ES256_PEM,
            with(good_claims(), "jti", json!(null)),
            JWT_BEARER_ASSERTION_TYPE,
            Err("invalid_client"),
        ),
        (
            CLIENT_ES256_PEM,
            good_claims(),
            "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
            Err("invalid_request"),
        ),
        // a client registered for secrets cannot switch to assertions
        (
            CLIENT_ES256_PEM,
            with(
                with(good_claims(), "iss", json!("web")),
                "sub",
                json!("web"),
            ),
            JWT_BEARER_ASSERTION_TYPE,
            Err("invalid_client"),
        ),
    ];
    for (i, (pem, claims, kind, expected)) in cases.into_iter().enumerate() {
        let jwt = assertion(pem, claims);
        let got = run(
            None,
            &[("client_assertion_type", kind), ("client_assertion", &jwt)],
        );
        match (got, expected) {
            (Ok(id), Ok(())) => assert_eq!(id, "jwt", "case {i}"),
            (Err((code, _)), Err(expected)) => assert_eq!(code, expected, "case {i}"),
            (got, expected) => panic!("case {i}: got {got:?}, expected {expected:?}"),
        }
    }
}

#[test]
fn a_replayed_assertion_is_refused() {
    let clients = test_clients();
    let jwt = assertion(CLIENT_ES256_PEM, good_claims());
    let params = Params::from_pairs([
        ("client_assertion_type", JWT_BEARER_ASSERTION_TYPE),
        ("client_assertion", jwt.as_str()),
        ("client_id", "jwt"),
    ]);
    let cache = SecretCache::new();
    let mut seen = std::collections::HashSet::new();
    let mut attempt = || {
        authenticate_with(
            &clients,
            None,
            &params,
            AUDIENCES,
            &cache,
            now(),
            |client, jti, until| {
                assert!(until > now());
                seen.insert(format!("{client}/{jti}"))
            },
        )
        .map(|c| c.id.clone())
        .map_err(|e| e.code())
    };
    assert_eq!(attempt(), Ok("jwt".to_string()));
    assert_eq!(attempt(), Err("invalid_client"));
}

#[test]
fn the_secret_memo_follows_the_configured_hash() {
    let cache = SecretCache::new();
    let hash = crate::testutil::secret_hash("right");
    assert!(cache.verify("web", "right", &hash));
    assert!(cache.verify("web", "right", &hash), "from the memo");
    assert!(!cache.verify("web", "wrong", &hash));
    let new_hash = crate::testutil::secret_hash("rotated");
    assert!(
        !cache.verify("web", "right", &new_hash),
        "a new hash ignores the memo"
    );
    assert!(cache.verify("web", "rotated", &new_hash));
}
