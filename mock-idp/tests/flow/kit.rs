//! Test kit: a mock with the demo clients, a signing ESIA client, and a
//! cookie-keeping HTTP client that follows no redirects.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use mock_idp::{demo_esia_client, demo_oidc_client, MockIdp, MockIdpConfig};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde_json::Value;
use sha2::Sha256;

pub const REDIRECT: &str = "http://127.0.0.1:9/auth/callback/esia";
pub const OIDC_REDIRECT: &str = "http://127.0.0.1:9/auth/callback/oidc";
pub const SCOPE: &str = "openid fullname birthdate snils contacts kid_fullname";
const CLIENT_KEY: &str = include_str!("../../demo/client-key.pem");

pub async fn mock() -> MockIdp {
    mock_idp::spawn(MockIdpConfig {
        clients: vec![
            demo_esia_client(vec![REDIRECT.into()]),
            demo_oidc_client(vec![OIDC_REDIRECT.into()]),
        ],
        ..MockIdpConfig::default()
    })
    .await
    .expect("mock starts")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub fn sign(message: &str) -> String {
    let key = RsaPrivateKey::from_pkcs8_pem(CLIENT_KEY).expect("demo key");
    let signature = SigningKey::<Sha256>::new(key).sign(message.as_bytes());
    URL_SAFE_NO_PAD.encode(signature.to_vec())
}

pub fn timestamp_at(offset_minutes: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::minutes(offset_minutes))
        .format("%Y.%m.%d %H:%M:%S %z")
        .to_string()
}

/// Parameters of a valid ESIA authorize request; tests break one at a time.
pub fn authorize_params(state: &str) -> Vec<(String, String)> {
    let timestamp = timestamp_at(0);
    let secret = sign(&format!(
        "ESIA-LINK-DEMO{SCOPE}{timestamp}{state}{REDIRECT}"
    ));
    vec![
        ("client_id".into(), "ESIA-LINK-DEMO".into()),
        ("scope".into(), SCOPE.into()),
        ("response_type".into(), "code".into()),
        ("state".into(), state.into()),
        ("timestamp".into(), timestamp),
        ("access_type".into(), "online".into()),
        ("redirect_uri".into(), REDIRECT.into()),
        (
            "client_certificate_hash".into(),
            mock_idp::demo_certificate_hash(),
        ),
        ("client_secret".into(), secret),
    ]
}

pub fn set(params: &mut Vec<(String, String)>, key: &str, value: &str) {
    params.retain(|(k, _)| k != key);
    params.push((key.into(), value.into()));
}

pub fn url_with(base: &str, params: &[(String, String)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        query.append_pair(k, v);
    }
    format!("{base}?{}", query.finish())
}

/// The value of hidden input `name` in a page.
pub fn hidden(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html.find(&needle).expect("hidden field") + needle.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

pub fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    let url = url::Url::parse(location).expect("location URL");
    url.query_pairs().into_owned().collect()
}

/// authorize → login → consent; returns the redirect's query.
pub async fn consent(
    idp: &MockIdp,
    client: &reqwest::Client,
    authorize_url: &str,
    login: &str,
    decision: &str,
) -> std::collections::HashMap<String, String> {
    let page = client.get(authorize_url).send().await.expect("authorize");
    assert_eq!(page.status(), 200, "login page");
    let html = page.text().await.expect("html");
    assert!(html.contains("name=\"login\"") && html.contains("name=\"password\""));
    let pending = hidden(&html, "pending");
    let consent = client
        .post(format!("{}/aas/login", idp.base_url()))
        .form(&[
            ("pending", pending.as_str()),
            ("login", login),
            ("password", "demo"),
        ])
        .send()
        .await
        .expect("login");
    let html = consent.text().await.expect("consent page");
    assert!(
        html.contains("Предоставить") && html.contains("Отказать"),
        "{html}"
    );
    let answer = client
        .post(format!("{}/aas/consent", idp.base_url()))
        .form(&[("pending", pending.as_str()), ("decision", decision)])
        .send()
        .await
        .expect("consent");
    assert_eq!(answer.status(), 302);
    let location = answer.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    query_of(&location)
}

/// A valid code for `login` through the ESIA profile.
pub async fn esia_code(idp: &MockIdp, login: &str) -> String {
    let state = uuid::Uuid::new_v4().to_string();
    let url = url_with(
        &format!("{}/aas/oauth2/v2/ac", idp.base_url()),
        &authorize_params(&state),
    );
    let query = consent(idp, &http(), &url, login, "allow").await;
    assert_eq!(query.get("state"), Some(&state));
    query.get("code").cloned().expect("code")
}

pub fn token_form(code: &str) -> Vec<(String, String)> {
    let state = uuid::Uuid::new_v4().to_string();
    let timestamp = timestamp_at(0);
    let secret = sign(&format!(
        "ESIA-LINK-DEMO{SCOPE}{timestamp}{state}{REDIRECT}{code}"
    ));
    vec![
        ("client_id".into(), "ESIA-LINK-DEMO".into()),
        ("code".into(), code.into()),
        ("grant_type".into(), "authorization_code".into()),
        ("redirect_uri".into(), REDIRECT.into()),
        ("scope".into(), SCOPE.into()),
        ("state".into(), state),
        ("timestamp".into(), timestamp),
        ("token_type".into(), "Bearer".into()),
        (
            "client_certificate_hash".into(),
            mock_idp::demo_certificate_hash(),
        ),
        ("client_secret".into(), secret),
    ]
}

pub async fn exchange(idp: &MockIdp, form: &[(String, String)]) -> reqwest::Response {
    http()
        .post(format!("{}/aas/oauth2/v3/te", idp.base_url()))
        .form(form)
        .send()
        .await
        .expect("token")
}

/// Header and claims of a JWT, unverified.
pub fn decode(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut part = || -> Value {
        let text = parts.next().expect("part");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(text).expect("base64url")).expect("json")
    };
    (part(), part())
}

/// Verifies an RS256 token against a JWKS.
pub fn verifies(token: &str, jwks: &Value) -> bool {
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;
    let (header, _) = decode(token);
    let Some((input, signature)) = token.rsplit_once('.') else {
        return false;
    };
    let kid = header["kid"].as_str().unwrap_or_default();
    let Some(key) = jwks["keys"]
        .as_array()
        .and_then(|k| k.iter().find(|k| k["kid"] == kid))
    else {
        return false;
    };
    let n = URL_SAFE_NO_PAD
        .decode(key["n"].as_str().unwrap_or_default())
        .unwrap_or_default();
    let e = URL_SAFE_NO_PAD
        .decode(key["e"].as_str().unwrap_or_default())
        .unwrap_or_default();
    let Ok(public) = rsa::RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(&n),
        rsa::BigUint::from_bytes_be(&e),
    ) else {
        return false;
    };
    let raw = URL_SAFE_NO_PAD.decode(signature).unwrap_or_default();
    Signature::try_from(raw.as_slice()).is_ok_and(|s| {
        VerifyingKey::<Sha256>::new(public)
            .verify(input.as_bytes(), &s)
            .is_ok()
    })
}

pub async fn jwks(idp: &MockIdp) -> Value {
    http()
        .get(format!("{}/jwks", idp.base_url()))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json")
}
