//! Test kit: a mock with the demo clients, a signing ESIA client, and a
//! cookie-keeping HTTP client that follows no redirects.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use mock_idp::{demo_esia_client, demo_oidc_client, MockIdp, MockIdpConfig};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer as _};
use rsa::RsaPrivateKey;
use serde_json::Value;
use sha2::Sha256;

pub const REDIRECT: &str = "http://127.0.0.1:9/auth/callback/esia";
pub const OIDC_REDIRECT: &str = "http://127.0.0.1:9/auth/callback/oidc";
pub const SCOPE: &str =
    "openid fullname birthdate gender snils id_doc contacts kid_fullname kid_birthdate kid_snils";
/// What the relying party asks for today.
pub const RP_SCOPE: &str = "openid fullname birthdate gender snils id_doc";
const CLIENT_KEY: &str = include_str!("../../demo/client-key.pem");

pub async fn mock() -> MockIdp {
    mock_with(MockIdpConfig::default()).await
}

/// A mock with `config`; the demo clients when it names none.
pub async fn mock_with(mut config: MockIdpConfig) -> MockIdp {
    if config.clients.is_empty() {
        config.clients = vec![
            demo_esia_client(vec![REDIRECT.into()]),
            demo_oidc_client(vec![OIDC_REDIRECT.into()]),
        ];
    }
    mock_idp::spawn(config).await.expect("mock starts")
}

/// How the test client signs `client_secret`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// PKCS#1 v1.5 SHA-256 with the demo RSA key (legacy test setups).
    Rsa,
    /// Raw GOST signature, CryptoPro byte order, with the demo GOST key.
    Gost,
}

pub fn sign_with(signer: Signer, message: &str) -> String {
    match signer {
        Signer::Rsa => sign(message),
        Signer::Gost => {
            mock_idp::gost_client_secret(&mock_idp::demo_gost_client_private_key(), message)
        }
    }
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
    authorize_params_for(state, SCOPE, Signer::Rsa)
}

pub fn authorize_params_for(state: &str, scope: &str, signer: Signer) -> Vec<(String, String)> {
    let timestamp = timestamp_at(0);
    let secret = sign_with(
        signer,
        &format!("ESIA-LINK-DEMO{scope}{timestamp}{state}{REDIRECT}"),
    );
    vec![
        ("client_id".into(), "ESIA-LINK-DEMO".into()),
        ("scope".into(), scope.into()),
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
    esia_code_for(idp, login, SCOPE, Signer::Rsa).await
}

pub async fn esia_code_for(idp: &MockIdp, login: &str, scope: &str, signer: Signer) -> String {
    let state = uuid::Uuid::new_v4().to_string();
    let url = url_with(
        &format!("{}/aas/oauth2/v2/ac", idp.base_url()),
        &authorize_params_for(&state, scope, signer),
    );
    let query = consent(idp, &http(), &url, login, "allow").await;
    assert_eq!(query.get("state"), Some(&state), "{query:?}");
    query.get("code").cloned().expect("code")
}

/// The whole ESIA flow for `login` with `scope`: the token response.
pub async fn esia_tokens(idp: &MockIdp, login: &str, scope: &str) -> esia_proto::EsiaTokenResponse {
    let code = esia_code_for(idp, login, scope, Signer::Rsa).await;
    let response = exchange(idp, &token_form_for(&code, scope, Signer::Rsa)).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("token JSON")
}

pub fn token_form(code: &str) -> Vec<(String, String)> {
    token_form_for(code, SCOPE, Signer::Rsa)
}

pub fn token_form_for(code: &str, scope: &str, signer: Signer) -> Vec<(String, String)> {
    let state = uuid::Uuid::new_v4().to_string();
    let timestamp = timestamp_at(0);
    let secret = sign_with(
        signer,
        &format!("ESIA-LINK-DEMO{scope}{timestamp}{state}{REDIRECT}{code}"),
    );
    vec![
        ("client_id".into(), "ESIA-LINK-DEMO".into()),
        ("code".into(), code.into()),
        ("grant_type".into(), "authorization_code".into()),
        ("redirect_uri".into(), REDIRECT.into()),
        ("scope".into(), scope.into()),
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

/// One TLV: (tag, content, the whole TLV, what follows).
fn tlv(bytes: &[u8]) -> (u8, &[u8], &[u8], &[u8]) {
    let (header, len) = if bytes[1] & 0x80 == 0 {
        (2, bytes[1] as usize)
    } else {
        let n = (bytes[1] & 0x7f) as usize;
        (
            2 + n,
            bytes[2..2 + n].iter().fold(0, |a, b| a * 256 + *b as usize),
        )
    };
    let end = header + len;
    (bytes[0], &bytes[header..end], &bytes[..end], &bytes[end..])
}

/// The TLVs inside a constructed value: (tag, content, whole).
fn children(mut content: &[u8]) -> Vec<(u8, &[u8], &[u8])> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (tag, inner, whole, rest) = tlv(content);
        out.push((tag, inner, whole));
        content = rest;
    }
    out
}

/// A published ESIA signing certificate, read the way a relying party would.
pub struct Certificate {
    pub signature_algorithm_oid: Vec<u8>,
    pub spki_algorithm_oid: Vec<u8>,
    /// The OIDs in a SEQUENCE of SPKI parameters (GOST), else empty.
    pub spki_parameter_oids: Vec<Vec<u8>>,
    /// (notBefore, notAfter) as UTCTime text.
    pub validity: (String, String),
    pub rsa: Option<rsa::RsaPublicKey>,
    pub gost: Option<esia_proto::gost::PublicKey>,
}

pub fn certificates(pem: &str) -> Vec<Certificate> {
    use base64::engine::general_purpose::STANDARD;
    use rsa::pkcs8::DecodePublicKey;
    pem.split("-----BEGIN CERTIFICATE-----")
        .skip(1)
        .map(|block| {
            let body: String = block
                .split("-----END CERTIFICATE-----")
                .next()
                .unwrap_or_default()
                .split_whitespace()
                .collect();
            let der = STANDARD.decode(body).expect("PEM base64");
            let (tag, content, _, rest) = tlv(&der);
            assert_eq!((tag, rest.len()), (0x30, 0), "one Certificate SEQUENCE");
            let parts = children(content);
            assert_eq!(parts.len(), 3, "tbs, algorithm, signature");
            let tbs = children(parts[0].1);
            assert_eq!(tbs[0].2, [0xa0, 0x03, 0x02, 0x01, 0x02], "X.509 v3");
            let validity = children(tbs[4].1);
            let text = |v: &[u8]| String::from_utf8(v.to_vec()).expect("UTCTime");
            let spki = tbs[6];
            let spki_parts = children(spki.1);
            let spki_algorithm = children(spki_parts[0].1);
            let spki_algorithm_oid = spki_algorithm[0].1.to_vec();
            let spki_parameter_oids = spki_algorithm
                .get(1)
                .filter(|p| p.0 == 0x30)
                .map(|p| children(p.1).iter().map(|c| c.1.to_vec()).collect())
                .unwrap_or_default();
            let (rsa, gost) =
                if spki_algorithm_oid == hex::decode("2a864886f70d010101").expect("hex") {
                    (
                        Some(rsa::RsaPublicKey::from_public_key_der(spki.2).expect("RSA SPKI")),
                        None,
                    )
                } else {
                    let bits = spki_parts[1].1;
                    assert_eq!(bits[0], 0, "no unused bits");
                    let (tag, key, _, _) = tlv(&bits[1..]);
                    assert_eq!((tag, key.len()), (0x04, 64), "OCTET STRING of X||Y");
                    let key = esia_proto::gost::PublicKey::from_le_bytes(
                        esia_proto::gost::Curve::cryptopro_a(),
                        key,
                    )
                    .expect("GOST key on CryptoPro-A");
                    (None, Some(key))
                };
            Certificate {
                signature_algorithm_oid: children(parts[1].1)[0].1.to_vec(),
                spki_algorithm_oid,
                spki_parameter_oids,
                validity: (text(validity[0].1), text(validity[1].1)),
                rsa,
                gost,
            }
        })
        .collect()
}

/// Verifies an ESIA token (no `kid`) against the published certificates.
pub fn esia_verifies(token: &str, pem: &str) -> bool {
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;
    let (header, _) = decode(token);
    let Some((input, signature)) = token.rsplit_once('.') else {
        return false;
    };
    let raw = URL_SAFE_NO_PAD.decode(signature).unwrap_or_default();
    certificates(pem)
        .into_iter()
        .any(|c| match header["alg"].as_str() {
            Some("RS256") => c.rsa.is_some_and(|key| {
                Signature::try_from(raw.as_slice()).is_ok_and(|s| {
                    VerifyingKey::<Sha256>::new(key)
                        .verify(input.as_bytes(), &s)
                        .is_ok()
                })
            }),
            Some("GOST3410_2012_256") => c
                .gost
                .is_some_and(|key| key.verify(input.as_bytes(), &raw).is_ok()),
            _ => false,
        })
}

pub async fn certificates_pem(idp: &MockIdp) -> String {
    let response = http()
        .get(format!("{}/esia/certificates.pem", idp.base_url()))
        .send()
        .await
        .expect("certificates");
    assert_eq!(response.status(), 200);
    response.text().await.expect("PEM")
}
