use chrono::{DateTime, Duration, Utc};
use esia_link_provider::client_auth::{authenticate_with, Audiences, SecretCache};
use esia_link_provider::keys::SigningKey;
use esia_link_provider::params::Params;
use openidconnect::core::{
    CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRsaPrivateSigningKey,
};
use openidconnect::{JsonWebKeyId, PrivateSigningKey, ProviderMetadataWithLogout};

use crate::fixture::*;

/// A client assertion signed by openidconnect's RSA signer (RustCrypto),
/// not by ring: the check must not depend on both sides sharing a library.
pub fn rsa_assertion_by_openidconnect(client: &str, audience: &str, now: DateTime<Utc>) -> String {
    let pem = std::fs::read_to_string(dir().join("keys/pkcs1-rs256.pem")).unwrap();
    let kid = SigningKey::from_pem(&pem, "client")
        .unwrap()
        .kid()
        .to_string();
    let signer =
        CoreRsaPrivateSigningKey::from_pem(&pem, Some(JsonWebKeyId::new(kid.clone()))).unwrap();
    let b64 = |bytes: &[u8]| {
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes)
    };
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": kid});
    let claims = serde_json::json!({
        "iss": client, "sub": client, "aud": audience,
        "jti": uuid::Uuid::new_v4().to_string(),
        "iat": now.timestamp(), "exp": (now + Duration::seconds(120)).timestamp(),
    });
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = signer
        .sign(
            &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            input.as_bytes(),
        )
        .unwrap();
    format!("{input}.{}", b64(&signature))
}

#[test]
fn private_key_jwt_from_another_library() {
    let provider = provider();
    let now = t0();
    let token_url = provider.endpoint("/oauth2/token");
    let audiences = Audiences {
        issuer: ISSUER,
        token_endpoint: &token_url,
        this_endpoint: &token_url,
    };
    let check = |assertion: &str, at| {
        let form = format!(
            "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={assertion}"
        );
        authenticate_with(
            &provider.clients,
            None,
            &Params::parse(&form),
            audiences,
            &SecretCache::new(),
            at,
            |_, _, _| true,
        )
        .map(|c| c.id.clone())
        .map_err(|e| e.code())
    };
    let good = rsa_assertion_by_openidconnect("jwt", &token_url, now);
    assert_eq!(check(&good, now), Ok("jwt".to_string()));
    assert_eq!(
        check(&good, now + Duration::minutes(10)),
        Err("invalid_client"),
        "expired"
    );
    let wrong_aud = rsa_assertion_by_openidconnect("jwt", "https://elsewhere.example/token", now);
    assert_eq!(check(&wrong_aud, now), Err("invalid_client"));
    let mut forged = good.clone();
    forged.truncate(good.len() - 4);
    forged.push_str("AAAA");
    assert_eq!(check(&forged, now), Err("invalid_client"));
}

#[test]
fn discovery_reads_as_core_metadata() {
    let provider = provider();
    let json = serde_json::to_string(&provider.discovery(t0()).unwrap()).unwrap();
    let core: CoreProviderMetadata = serde_json::from_str(&json).unwrap();
    assert_eq!(core.issuer().as_str(), ISSUER);
    assert_eq!(
        core.token_endpoint().unwrap().as_str(),
        "https://id.example/oauth2/token"
    );
    assert_eq!(core.jwks_uri().as_str(), "https://id.example/oauth2/jwks");
    let algs: Vec<_> = core.id_token_signing_alg_values_supported().to_vec();
    assert_eq!(
        algs,
        vec![
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            CoreJwsSigningAlgorithm::EcdsaP256Sha256
        ]
    );
    let with_logout: ProviderMetadataWithLogout = serde_json::from_str(&json).unwrap();
    assert_eq!(
        with_logout
            .additional_metadata()
            .end_session_endpoint
            .as_ref()
            .unwrap()
            .as_str(),
        "https://id.example/oauth2/logout"
    );
    let raw: serde_json::Value = serde_json::from_str(&json).unwrap();
    let expectations = [
        (
            "authorization_endpoint",
            serde_json::json!("https://id.example/oauth2/authorize"),
        ),
        (
            "userinfo_endpoint",
            serde_json::json!("https://id.example/oauth2/userinfo"),
        ),
        (
            "revocation_endpoint",
            serde_json::json!("https://id.example/oauth2/revoke"),
        ),
        (
            "introspection_endpoint",
            serde_json::json!("https://id.example/oauth2/introspect"),
        ),
        (
            "code_challenge_methods_supported",
            serde_json::json!(["S256"]),
        ),
        ("response_types_supported", serde_json::json!(["code"])),
        (
            "grant_types_supported",
            serde_json::json!(["authorization_code", "refresh_token"]),
        ),
        (
            "subject_types_supported",
            serde_json::json!(["pairwise", "public"]),
        ),
        (
            "scopes_supported",
            serde_json::json!(["openid", "profile", "diary", "offline_access"]),
        ),
        (
            "token_endpoint_auth_methods_supported",
            serde_json::json!([
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt",
                "none"
            ]),
        ),
        ("backchannel_logout_supported", serde_json::json!(true)),
        (
            "backchannel_logout_session_supported",
            serde_json::json!(true),
        ),
        (
            "authorization_response_iss_parameter_supported",
            serde_json::json!(true),
        ),
        ("request_parameter_supported", serde_json::json!(false)),
    ];
    for (field, value) in expectations {
        assert_eq!(raw[field], value, "{field}");
    }
    assert!(raw["acr_values_supported"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("urn:esia-link:acr:esia:standard")));
}

#[test]
fn jwks_is_what_openidconnect_expects() {
    let provider = provider();
    let json = serde_json::to_value(provider.keys.jwks(t0())).unwrap();
    let keys = json["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    for key in keys {
        assert_eq!(key["use"], "sig");
        assert!(key["kid"].as_str().unwrap().len() == 43);
        assert!(key.get("d").is_none());
    }
}
