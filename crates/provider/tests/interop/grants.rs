use chrono::Duration;
use esia_link_provider::introspect::{PresentedToken, Revocation};
use esia_link_provider::jws::SigningAlg;
use esia_link_provider::refresh::{rotate, PresentedRefreshToken, Rotation};
use esia_link_provider::tokens::{EsiaLinkIdToken, ACCESS_TOKEN_TYP};
use esia_link_provider::Provider;
use openidconnect::core::{CoreIdTokenVerifier, CoreJsonWebKeySet, CoreTokenResponse};
use openidconnect::{
    AccessTokenHash, ClientId, IssuerUrl, JsonWebKey, Nonce, OAuth2TokenResponse, TokenResponse,
};

use crate::fixture::*;

/// The JWKS as a client fetches it: serialised and parsed again.
fn fetched_jwks(provider: &Provider) -> CoreJsonWebKeySet {
    serde_json::from_str(&serde_json::to_string(&provider.keys.jwks(t0())).unwrap()).unwrap()
}

fn id_verifier(
    provider: &Provider,
    client: &str,
    alg: SigningAlg,
    at: chrono::DateTime<chrono::Utc>,
) -> CoreIdTokenVerifier<'static> {
    CoreIdTokenVerifier::new_public_client(
        ClientId::new(client.into()),
        IssuerUrl::new(ISSUER.into()).unwrap(),
        fetched_jwks(provider),
    )
    .set_allowed_algs([alg.to_core()])
    .set_time_fn(move || at)
}

#[test]
fn id_tokens_verify_with_openidconnects_own_verifier() {
    let provider = provider();
    let now = t0();
    let web_form =
        "grant_type=authorization_code&redirect_uri=https%3A%2F%2Fdiary.example%2Fcallback";
    let web_basic = format!("Basic {}", base64_basic("web", WEB_SECRET));
    let jwt_flow = |nonce: &str| {
        let query = format!(
            "response_type=code&client_id=jwt&scope=openid&nonce={nonce}&code_challenge={CHALLENGE}&code_challenge_method=S256"
        );
        let assertion = crate::wire::rsa_assertion_by_openidconnect(
            "jwt",
            &provider.endpoint("/oauth2/token"),
            now,
        );
        let form = format!(
            "grant_type=authorization_code&code_verifier={VERIFIER}&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={assertion}"
        );
        code_flow(&provider, &query, None, &form, now)
    };
    // (client, expected alg, flow result)
    let cases = [
        (
            "mobile",
            SigningAlg::Rs256,
            code_flow(
                &provider,
                &mobile_query("n-mobile"),
                None,
                &mobile_form(),
                now,
            ),
            "n-mobile",
        ),
        (
            "web",
            SigningAlg::Rs256,
            code_flow(
                &provider,
                "response_type=code&client_id=web&scope=openid+profile&nonce=n-web",
                Some(&web_basic),
                web_form,
                now,
            ),
            "n-web",
        ),
        ("jwt", SigningAlg::Es256, jwt_flow("n-jwt"), "n-jwt"),
    ];
    for (client, alg, signed, nonce) in cases {
        // The client library parses our token response...
        let json = serde_json::to_string(&signed.tokens.response(now)).unwrap();
        let response: CoreTokenResponse = serde_json::from_str(&json).unwrap();
        assert_eq!(
            response.expires_in(),
            Some(std::time::Duration::from_secs(300))
        );
        assert_eq!(
            response.refresh_token().map(|r| r.secret().as_str()),
            Some(signed.refresh.as_str())
        );
        let id_token = response.id_token().unwrap();
        // ...and verifies the ID token: signature by kid from our JWKS, iss, aud, exp, nonce.
        let verifier = id_verifier(&provider, client, alg, now);
        let claims = id_token
            .claims(&verifier, &Nonce::new(nonce.into()))
            .unwrap();
        assert_eq!(claims.auth_time(), Some(now));
        assert_eq!(
            claims.auth_context_ref().map(|a| a.as_str()),
            Some("urn:esia-link:acr:esia:verified")
        );
        assert_eq!(claims.auth_method_refs().unwrap()[0].as_str(), "fed");
        // at_hash, computed by openidconnect from the access token it received.
        let signing_key = id_token.signing_key(&verifier).unwrap();
        let expected =
            AccessTokenHash::from_token(response.access_token(), &alg.to_core(), signing_key)
                .unwrap();
        assert_eq!(claims.access_token_hash(), Some(&expected), "{client}");
        assert_eq!(id_token.signing_alg().unwrap(), &alg.to_core());
        // Refusals a client relies on.
        assert!(
            id_token
                .claims(&verifier, &Nonce::new("other".into()))
                .is_err(),
            "{client}: nonce"
        );
        assert!(
            id_token
                .claims(
                    &id_verifier(&provider, "someone", alg, now),
                    &Nonce::new(nonce.into())
                )
                .is_err(),
            "{client}: aud"
        );
        let later = id_verifier(&provider, client, alg, now + Duration::seconds(301));
        assert!(
            id_token.claims(&later, &Nonce::new(nonce.into())).is_err(),
            "{client}: exp"
        );
        let _ = signing_key.key_id().unwrap();
    }
}

#[test]
fn our_claims_ride_in_the_id_token_by_scope() {
    let provider = provider();
    let signed = code_flow(&provider, &mobile_query("n"), None, &mobile_form(), t0());
    let id_token: EsiaLinkIdToken = signed.tokens.id_token.to_string().parse().unwrap();
    let verifier = id_verifier(&provider, "mobile", SigningAlg::Rs256, t0());
    let claims = id_token.claims(&verifier, &Nonce::new("n".into())).unwrap();
    assert_eq!(claims.additional_claims().sid.as_deref(), Some("sess-9"));
    assert_eq!(
        claims.additional_claims().diary.as_ref().unwrap()["pupils"][0]["services"][1],
        "meals"
    );
    assert_eq!(
        claims.family_name().unwrap().get(None).unwrap().as_str(),
        "Иванова"
    );
    assert_eq!(
        claims.given_name().unwrap().get(None).unwrap().as_str(),
        "Мария"
    );
    assert_eq!(
        claims.middle_name().unwrap().get(None).unwrap().as_str(),
        "Петровна"
    );
    assert_eq!(
        claims.name().unwrap().get(None).unwrap().as_str(),
        "Иванова Мария Петровна"
    );
    let pairwise = claims.subject().as_str().to_string();
    assert_eq!(pairwise.len(), 43, "pairwise by default");
    assert_ne!(pairwise, "acc-42");

    // web: scopes openid only → no names, no diary; public subject.
    let web_basic = format!("Basic {}", base64_basic("web", WEB_SECRET));
    let web = code_flow(
        &provider,
        "response_type=code&client_id=web&scope=openid",
        Some(&web_basic),
        "grant_type=authorization_code",
        t0(),
    );
    let raw = payload(&web.tokens.id_token.to_string());
    assert_eq!(raw["sub"], "acc-42");
    for absent in ["name", "family_name", "diary", "nonce"] {
        assert!(raw.get(absent).is_none(), "{absent} in {raw}");
    }
}

#[test]
fn access_tokens_are_rfc9068_jwts_checked_offline() {
    let provider = provider();
    let now = t0();
    let signed = code_flow(&provider, &mobile_query("n"), None, &mobile_form(), now);
    let token = &signed.tokens.access.token;
    let header = segment(token, 0);
    assert_eq!(header["typ"], ACCESS_TOKEN_TYP);
    assert_eq!(header["alg"], "ES256", "the default access-token algorithm");
    let claims = payload(token);
    for name in [
        "iss",
        "exp",
        "aud",
        "sub",
        "client_id",
        "iat",
        "jti",
        "scope",
        "auth_time",
        "acr",
        "amr",
        "sid",
    ] {
        assert!(claims.get(name).is_some(), "{name} missing in {claims}");
    }
    assert_eq!(claims["aud"], "https://diary.example/api");
    assert_eq!(claims["scope"], "openid profile diary offline_access");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );

    // A back end with only the JWKS checks the signature with another library.
    let jwks = fetched_jwks(&provider);
    let kid = header["kid"].as_str().unwrap();
    let key = jwks
        .keys()
        .iter()
        .find(|k| k.key_id().map(|k| k.as_str()) == Some(kid))
        .unwrap();
    let (input, signature) = token.rsplit_once('.').unwrap();
    let signature =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature)
            .unwrap();
    key.verify_signature(&SigningAlg::Es256.to_core(), input.as_bytes(), &signature)
        .unwrap();

    // userinfo: same subject and claims as the ID token.
    let verified = provider
        .verify_access_token(token, now + Duration::seconds(10))
        .unwrap();
    assert_eq!(verified.token_family, signed.family.id);
    let userinfo = serde_json::to_value(provider.userinfo(&verified, &person()).unwrap()).unwrap();
    assert_eq!(
        userinfo["sub"],
        payload(&signed.tokens.id_token.to_string())["sub"]
    );
    assert_eq!(userinfo["middle_name"], "Петровна");
    assert_eq!(userinfo["diary"]["role"], "parent");
    assert!(
        provider
            .verify_access_token(token, now + Duration::seconds(300))
            .is_err(),
        "expired"
    );
    let id_token = signed.tokens.id_token.to_string();
    let err = provider.verify_access_token(&id_token, now).unwrap_err();
    assert_eq!(
        err.code(),
        "invalid_token",
        "an ID token is not an access token"
    );
    assert!(err.www_authenticate().unwrap().starts_with("Bearer"));
}

#[test]
fn introspection_and_revocation() {
    let provider = provider();
    let now = t0();
    let signed = code_flow(&provider, &mobile_query("n"), None, &mobile_form(), now);
    let mobile = provider.clients.get("mobile").unwrap();
    let web = provider.clients.get("web").unwrap();
    let backend = provider.clients.get("backend").unwrap();
    assert_eq!(
        provider
            .check_introspection_caller(mobile)
            .unwrap_err()
            .code(),
        "invalid_client"
    );

    let PresentedToken::Access(claims) = provider.classify_token(&signed.tokens.access.token, now)
    else {
        panic!("not classified as an access token");
    };
    // (caller, revoked, active)
    for (caller, revoked, active) in [
        (backend, false, true),
        (web, false, false),
        (backend, true, false),
    ] {
        let answer =
            serde_json::to_value(provider.introspect_access(&claims, caller, revoked)).unwrap();
        assert_eq!(answer["active"], active, "{} revoked={revoked}", caller.id);
        if active {
            assert_eq!(answer["client_id"], "mobile");
            assert_eq!(answer["scope"], "openid profile diary offline_access");
            assert_eq!(answer["token_type"], "bearer");
            assert_eq!(answer["acr"], "urn:esia-link:acr:esia:verified");
        } else {
            assert_eq!(
                answer,
                serde_json::json!({"active": false}),
                "nothing leaks"
            );
        }
    }
    let PresentedToken::Refresh(presented) = provider.classify_token(&signed.refresh, now) else {
        panic!("not a refresh token");
    };
    let active = |caller, family: Option<&_>, at| {
        serde_json::to_value(provider.introspect_refresh(&presented, family, caller, at)).unwrap()
            ["active"]
            .clone()
    };
    assert_eq!(active(mobile, Some(&signed.family), now), true);
    assert_eq!(
        active(backend, Some(&signed.family), now),
        false,
        "refresh tokens only to their client"
    );
    assert_eq!(active(mobile, None, now), false);
    assert_eq!(
        active(mobile, Some(&signed.family), signed.family.expires_at),
        false
    );

    // Revocation decisions.
    let decide = |token: &str, caller| {
        provider.revocation(
            provider.classify_token(token, now),
            Some(&signed.family),
            caller,
        )
    };
    assert_eq!(
        decide(&signed.refresh, mobile).unwrap(),
        Revocation::RevokeFamily(signed.family.id)
    );
    assert_eq!(
        decide(&signed.refresh, web).unwrap_err().code(),
        "unauthorized_client"
    );
    assert!(matches!(
        decide(&signed.tokens.access.token, mobile).unwrap(),
        Revocation::RevokeAccessToken { family_id, .. } if family_id == signed.family.id
    ));
    assert_eq!(
        decide(&signed.tokens.id_token.to_string(), mobile)
            .unwrap_err()
            .code(),
        "unsupported_token_type"
    );
    assert_eq!(
        decide("garbage", mobile).unwrap(),
        Revocation::Nothing,
        "RFC 7009: 200 for unknown tokens"
    );
}

#[test]
fn refresh_rotates_and_reuse_is_detected() {
    let provider = provider();
    let now = t0();
    let signed = code_flow(&provider, &mobile_query("n"), None, &mobile_form(), now);
    let mobile = provider.clients.get("mobile").unwrap();
    let later = now + Duration::minutes(10);
    let presented = PresentedRefreshToken::parse(&signed.refresh).unwrap();
    let Rotation::Rotated {
        token,
        family,
        grant,
    } = rotate(
        &signed.family,
        &presented,
        "mobile",
        Some("openid diary"),
        provider.lifetimes.refresh_reuse_grace(),
        later,
    )
    else {
        panic!("not rotated");
    };
    let refreshed = provider
        .issue_tokens(&grant, mobile, &person(), Some(token.clone()), later)
        .unwrap();
    let id = payload(&refreshed.id_token.to_string());
    let first = payload(&signed.tokens.id_token.to_string());
    assert_eq!(id["sub"], first["sub"]);
    assert_eq!(
        id["auth_time"], first["auth_time"],
        "auth_time is the original sign-in"
    );
    assert!(id.get("nonce").is_none(), "no nonce on refresh");
    assert!(id.get("name").is_none(), "profile was narrowed away");
    assert_eq!(payload(&refreshed.access.token)["scope"], "openid diary");

    // A refresh token used by another client: refused, family untouched.
    match rotate(
        &family,
        &PresentedRefreshToken::parse(&token).unwrap(),
        "web",
        None,
        Duration::zero(),
        later,
    ) {
        Rotation::Refused(e) => assert_eq!(e.code(), "invalid_grant"),
        other => panic!("{other:?}"),
    }
    // The old token again: reuse, revoke the family.
    match rotate(&family, &presented, "mobile", None, Duration::zero(), later) {
        Rotation::ReuseDetected { family_id, error } => {
            assert_eq!(family_id, signed.family.id);
            assert_eq!(error.json_body()["error"], "invalid_grant");
        }
        other => panic!("{other:?}"),
    }
}

pub fn base64_basic(id: &str, secret: &str) -> String {
    base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{id}:{secret}"),
    )
}

pub fn segment(token: &str, index: usize) -> serde_json::Value {
    let part = token.split('.').nth(index).unwrap();
    let bytes =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, part).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

pub fn payload(token: &str) -> serde_json::Value {
    segment(token, 1)
}

/// The instance that minted an access token skips its signature check
/// (the memo of tokens signed here); what it accepts is exactly what an
/// instance without the memo accepts, and a token with another signature
/// is checked and refused by both.
#[test]
fn the_minting_instance_accepts_only_what_any_instance_accepts() {
    let minting = provider();
    let other = provider();
    let now = t0();
    let signed = code_flow(&minting, &mobile_query("n"), None, &mobile_form(), now);
    let token = &signed.tokens.access.token;
    let later = now + Duration::seconds(10);
    let here = minting.verify_access_token(token, later).unwrap();
    let there = other.verify_access_token(token, later).unwrap();
    assert_eq!(
        serde_json::to_value(&here).unwrap(),
        serde_json::to_value(&there).unwrap()
    );
    // The same header and claims under a signature that is not ours.
    let (input, signature) = token.rsplit_once('.').unwrap();
    let mut forged_signature = signature.to_string();
    let last = forged_signature.pop().unwrap();
    forged_signature.push(if last == 'A' { 'B' } else { 'A' });
    let forged = format!("{input}.{forged_signature}");
    for provider in [&minting, &other] {
        let err = provider.verify_access_token(&forged, later).unwrap_err();
        assert_eq!(err.code(), "invalid_token");
    }
    // Expiry still counts for a token signed here.
    assert!(minting
        .verify_access_token(token, now + Duration::seconds(300))
        .is_err());
}
