use std::collections::BTreeMap;

use chrono::Duration;
use esia_link_provider::params::Params;
use esia_link_provider::tokens::{LogoutTokenClaims, BACKCHANNEL_LOGOUT_EVENT, LOGOUT_TOKEN_TYP};
use openidconnect::JsonWebKey;

use crate::fixture::*;
use crate::grants::{base64_basic, payload, segment};

#[test]
fn backchannel_logout_tokens_carry_the_specs_claims() {
    let provider = provider();
    let now = t0();
    let web_basic = format!("Basic {}", base64_basic("web", WEB_SECRET));
    let web = code_flow(
        &provider,
        "response_type=code&client_id=web&scope=openid&nonce=n",
        Some(&web_basic),
        "grant_type=authorization_code",
        now,
    );
    let later = now + Duration::hours(2);
    let deliveries = provider
        .backchannel_deliveries(
            ["web", "mobile", "jwt", "removed-client"],
            "acc-42",
            "sess-9",
            later,
        )
        .unwrap();
    let targets: Vec<(&str, &str)> = deliveries
        .iter()
        .map(|d| (d.client_id.as_str(), d.uri.as_str()))
        .collect();
    assert_eq!(
        targets,
        vec![
            ("web", "https://diary.example/backchannel"),
            ("mobile", "http://127.0.0.1:9/bc")
        ]
    );

    let delivery = &deliveries[0];
    assert!(delivery.form_body().starts_with("logout_token=ey"));
    let header = segment(&delivery.logout_token, 0);
    assert_eq!(header["typ"], LOGOUT_TOKEN_TYP);
    let claims = payload(&delivery.logout_token);
    assert!(
        claims.get("nonce").is_none(),
        "a logout token never has a nonce"
    );
    assert_eq!(
        claims["events"],
        serde_json::json!({ BACKCHANNEL_LOGOUT_EVENT: {} })
    );
    assert_eq!(claims["sid"], "sess-9");
    assert_eq!(
        claims["sub"],
        payload(&web.tokens.id_token.to_string())["sub"],
        "the sub the client knows"
    );
    assert_eq!(claims["aud"], "web");
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["jti"], delivery.jti.as_str());
    assert_eq!(claims["iat"], later.timestamp());
    assert_eq!(claims["exp"], (later + Duration::seconds(120)).timestamp());

    // The receiver checks it with the JWKS, as with an ID token.
    let typed: LogoutTokenClaims = provider
        .keys
        .verify(
            &delivery.logout_token,
            LOGOUT_TOKEN_TYP,
            ISSUER,
            later,
            true,
        )
        .unwrap();
    assert_eq!(
        typed.events,
        BTreeMap::from([(BACKCHANNEL_LOGOUT_EVENT.to_string(), serde_json::Map::new())])
    );
    let jwks = provider.keys.jwks(later);
    let kid = header["kid"].as_str().unwrap();
    let key = jwks
        .keys()
        .iter()
        .find(|k| k.key_id().map(|k| k.as_str()) == Some(kid))
        .unwrap();
    let (input, signature) = delivery.logout_token.rsplit_once('.').unwrap();
    let signature =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature)
            .unwrap();
    key.verify_signature(
        &esia_link_provider::jws::SigningAlg::Rs256.to_core(),
        input.as_bytes(),
        &signature,
    )
    .unwrap();
    // A logout token is not an ID token for anybody.
    assert!(provider
        .keys
        .verify::<esia_link_provider::tokens::IdTokenHintClaims>(
            &delivery.logout_token,
            "JWT",
            ISSUER,
            later,
            false
        )
        .is_err());
}

#[test]
fn rp_initiated_logout() {
    let provider = provider();
    let now = t0();
    let web_basic = format!("Basic {}", base64_basic("web", WEB_SECRET));
    let web = code_flow(
        &provider,
        "response_type=code&client_id=web&scope=openid",
        Some(&web_basic),
        "grant_type=authorization_code",
        now,
    );
    let hint = web.tokens.id_token.to_string();
    let access = web.tokens.access.token.clone();
    // Long after the ID token expired: still a valid hint.
    let later = now + Duration::hours(3);
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    // (query, Ok(redirect location or None) | Err(error))
    let cases: Vec<(String, Result<Option<&str>, &str>)> = vec![
        (
            format!(
                "id_token_hint={hint}&post_logout_redirect_uri={}&state=abc",
                enc("https://diary.example/bye")
            ),
            Ok(Some("https://diary.example/bye?state=abc")),
        ),
        (
            format!(
                "client_id=web&post_logout_redirect_uri={}",
                enc("https://diary.example/bye")
            ),
            Ok(Some("https://diary.example/bye")),
        ),
        (
            format!(
                "client_id=mobile&post_logout_redirect_uri={}",
                enc("ru.school.diary:/bye")
            ),
            Ok(Some("ru.school.diary:/bye")),
        ),
        (String::new(), Ok(None)),
        (
            format!(
                "post_logout_redirect_uri={}",
                enc("https://diary.example/bye")
            ),
            Err("invalid_request"),
        ),
        (
            format!(
                "id_token_hint={hint}&post_logout_redirect_uri={}",
                enc("https://evil.example/")
            ),
            Err("invalid_request"),
        ),
        (
            format!(
                "client_id=mobile&post_logout_redirect_uri={}",
                enc("https://diary.example/bye")
            ),
            Err("invalid_request"),
        ),
        (
            format!("id_token_hint={hint}&client_id=mobile"),
            Err("invalid_request"),
        ),
        (format!("id_token_hint={access}"), Err("invalid_request")),
        ("client_id=nobody".to_string(), Err("invalid_request")),
        ("state=a&state=b".to_string(), Err("invalid_request")),
    ];
    for (query, expected) in cases {
        let got = provider
            .parse_logout_request(&Params::parse(&query), later)
            .map(|r| r.redirect_location())
            .map_err(|e| e.code());
        assert_eq!(
            got.as_ref().map(|l| l.as_deref()),
            expected.as_ref().map(|l| *l),
            "{query:.80}"
        );
    }
    let request = provider
        .parse_logout_request(&Params::parse(&format!("id_token_hint={hint}")), later)
        .unwrap();
    assert!(
        !request.needs_confirmation(Some("sess-9")),
        "the hint names this session"
    );
    assert!(request.needs_confirmation(Some("sess-other")));
    assert!(request.needs_confirmation(None));
    let bare = provider
        .parse_logout_request(&Params::parse("client_id=web"), later)
        .unwrap();
    assert!(
        bare.needs_confirmation(Some("sess-9")),
        "no hint: ask the person"
    );
}
