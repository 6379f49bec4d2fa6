//! The OIDC profile (discovery, PKCE, nonce, userinfo) and key rotation.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use mock_idp::Fault;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::kit::*;

async fn oidc_code(idp: &mock_idp::MockIdp, verifier: &str, nonce: &str) -> String {
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let params: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", "esia-link-oidc"),
        ("redirect_uri", OIDC_REDIRECT),
        ("scope", "openid profile snils"),
        ("state", "s-1"),
        ("nonce", nonce),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let url = url_with(&format!("{}/oidc/authorize", idp.base_url()), &params);
    let query = consent(idp, &http(), &url, "fedorov", "allow").await;
    assert_eq!(query.get("state").map(String::as_str), Some("s-1"));
    query.get("code").cloned().expect("code")
}

async fn oidc_token(idp: &mock_idp::MockIdp, code: &str, verifier: &str) -> reqwest::Response {
    http()
        .post(format!("{}/oidc/token", idp.base_url()))
        .basic_auth("esia-link-oidc", Some("demo-oidc-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", OIDC_REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .expect("token")
}

#[tokio::test]
async fn discovery_pkce_nonce_and_userinfo() {
    let idp = mock().await;
    let discovery: Value = http()
        .get(format!(
            "{}/.well-known/openid-configuration",
            idp.base_url()
        ))
        .send()
        .await
        .expect("discovery")
        .json()
        .await
        .expect("json");
    assert_eq!(discovery["issuer"], Value::String(idp.issuer()));
    assert_eq!(
        discovery["code_challenge_methods_supported"],
        json!(["S256"])
    );

    let verifier = "a-verifier-of-sufficient-length-0123456789abcdef";
    let code = oidc_code(&idp, verifier, "n-123").await;
    let wrong = oidc_token(&idp, &code, "another-verifier-of-sufficient-length-000000").await;
    assert_eq!(wrong.status(), 400, "wrong PKCE verifier refused");
    let body: Value = wrong.json().await.expect("json");
    assert_eq!(body["error"], "invalid_grant");

    let code = oidc_code(&idp, verifier, "n-456").await;
    let tokens: Value = oidc_token(&idp, &code, verifier)
        .await
        .json()
        .await
        .expect("json");
    let id_token = tokens["id_token"].as_str().expect("id_token");
    let (_, claims) = decode(id_token);
    assert_eq!(claims["nonce"], "n-456");
    assert_eq!(claims["aud"], "esia-link-oidc");
    assert!(verifies(id_token, &jwks(&idp).await));

    let access = tokens["access_token"].as_str().expect("access token");
    let info: Value = http()
        .get(format!("{}/oidc/userinfo", idp.base_url()))
        .bearer_auth(access)
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("json");
    assert_eq!(info["sub"], claims["sub"]);
    assert_eq!(info["family_name"], "ФЁДОРОВ");
    assert_eq!(info["snils"], "202-302-402 72");
    assert_eq!(info["tier"], "standard");

    idp.set_fault(Fault::UserinfoSubMismatch);
    let info: Value = http()
        .get(format!("{}/oidc/userinfo", idp.base_url()))
        .bearer_auth(access)
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("json");
    assert_ne!(info["sub"], claims["sub"]);

    idp.set_fault(Fault::WrongNonce);
    let code = oidc_code(&idp, verifier, "n-789").await;
    let tokens: Value = oidc_token(&idp, &code, verifier)
        .await
        .json()
        .await
        .expect("json");
    let (_, claims) = decode(tokens["id_token"].as_str().expect("id_token"));
    assert_ne!(claims["nonce"], "n-789");
}

#[tokio::test]
async fn pkce_is_required_for_clients_that_need_it() {
    let idp = mock().await;
    let url = url_with(
        &format!("{}/oidc/authorize", idp.base_url()),
        &[
            ("response_type".into(), "code".into()),
            ("client_id".into(), "esia-link-oidc".into()),
            ("redirect_uri".into(), OIDC_REDIRECT.into()),
            ("scope".into(), "openid".into()),
            ("state".into(), "s".into()),
        ],
    );
    let response = http().get(&url).send().await.expect("authorize");
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert_eq!(
        query_of(&location).get("error").map(String::as_str),
        Some("invalid_request")
    );
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .map(|keys| {
            keys.iter()
                .filter_map(|k| k["kid"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn key_rotation_changes_the_jwks() {
    let idp = mock().await;
    let before = kids(&jwks(&idp).await);
    assert_eq!(before.len(), 1);

    let rotated: Value = http()
        .post(format!("{}/admin/keys/rotate", idp.base_url()))
        .bearer_auth(idp.admin_token())
        .json(&json!({"alg": "ES256", "keep_old": true}))
        .send()
        .await
        .expect("rotate")
        .json()
        .await
        .expect("json");
    let new_kid = rotated["kid"].as_str().expect("kid").to_string();
    let during = kids(&jwks(&idp).await);
    assert!(
        during.contains(&new_kid) && during.contains(&before[0]),
        "grace period: {during:?}"
    );
    let set = jwks(&idp).await;
    let ec = set["keys"]
        .as_array()
        .and_then(|k| k.iter().find(|k| k["kid"] == new_kid.as_str()))
        .cloned();
    assert_eq!(ec.map(|k| k["kty"].clone()), Some(json!("EC")));

    let dropped = idp.rotate_key(mock_idp::Alg::Rs256, false);
    let after = kids(&jwks(&idp).await);
    assert_eq!(after, vec![dropped], "old keys dropped");

    // OIDC tokens are now signed by the new key.
    let verifier = "a-verifier-of-sufficient-length-0123456789abcdef";
    let code = oidc_code(&idp, verifier, "n-1").await;
    let tokens: Value = oidc_token(&idp, &code, verifier)
        .await
        .json()
        .await
        .expect("json");
    let id_token = tokens["id_token"].as_str().expect("id_token");
    assert_eq!(decode(id_token).0["kid"], json!(after[0]));
    assert!(verifies(id_token, &jwks(&idp).await));

    // The ESIA profile's keys are not in the JWKS and did not change.
    let certificates = idp.esia_certificates_pem();
    assert_eq!(certificates.matches("BEGIN CERTIFICATE").count(), 1);
    let code = esia_code(&idp, "ivanova").await;
    let tokens: esia_proto::EsiaTokenResponse = exchange(&idp, &token_form(&code))
        .await
        .json()
        .await
        .expect("json");
    let id_token = tokens.id_token.expect("id_token");
    assert!(!verifies(&id_token, &jwks(&idp).await));
    assert!(esia_verifies(&id_token, &certificates));
}
