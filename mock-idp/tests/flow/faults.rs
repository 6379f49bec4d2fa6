//! Every fault, switched through the admin API, observed on the wire.

use std::time::{Duration, Instant};

use mock_idp::Fault;
use serde_json::{json, Value};

use crate::kit::*;

async fn set_fault(idp: &mock_idp::MockIdp, body: Value) -> u16 {
    http()
        .put(format!("{}/admin/faults", idp.base_url()))
        .bearer_auth(idp.admin_token())
        .json(&body)
        .send()
        .await
        .expect("admin")
        .status()
        .as_u16()
}

/// Runs the ESIA flow to the token response under `fault`.
async fn token_under(fault: &str) -> (mock_idp::MockIdp, reqwest::Response) {
    let idp = mock().await;
    let code = esia_code(&idp, "ivanova").await;
    assert_eq!(set_fault(&idp, json!({"fault": fault})).await, 200);
    let response = exchange(&idp, &token_form(&code)).await;
    (idp, response)
}

async fn id_token_under(fault: &str) -> (mock_idp::MockIdp, String) {
    let (idp, response) = token_under(fault).await;
    assert_eq!(response.status(), 200, "{fault}");
    let tokens: esia_proto::EsiaTokenResponse = response.json().await.expect("json");
    (idp, tokens.id_token.expect("id_token"))
}

#[tokio::test]
async fn the_admin_api_needs_its_token() {
    let idp = mock().await;
    let status = http()
        .put(format!("{}/admin/faults", idp.base_url()))
        .json(&json!({"fault": "http_500"}))
        .send()
        .await
        .expect("admin")
        .status();
    assert_eq!(status, 401);
    let status = http()
        .post(format!("{}/admin/keys/rotate", idp.base_url()))
        .bearer_auth("wrong")
        .json(&json!({}))
        .send()
        .await
        .expect("admin")
        .status();
    assert_eq!(status, 401);
}

#[tokio::test]
async fn transport_faults() {
    let (_, response) = token_under("http_500").await;
    assert_eq!(response.status(), 500);

    let (_, response) = token_under("overload").await;
    assert_eq!(response.status(), 503);
    let body: esia_proto::EsiaErrorResponse = response.json().await.expect("json");
    assert!(body.error_description.starts_with("ESIA-007008"));

    let (_, response) = token_under("malformed_json").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("body");
    assert!(
        serde_json::from_str::<Value>(&text).is_err(),
        "not valid JSON: {text}"
    );
}

#[tokio::test]
async fn token_faults() {
    // ESIA tokens have no kid: an unknown key is one no published certificate holds.
    let (idp, token) = id_token_under("unknown_key").await;
    assert!(decode(&token).0.get("kid").is_none());
    assert!(!esia_verifies(&token, &idp.esia_certificates_pem()));
    assert_eq!(decode(&token).0["alg"], "RS256", "same alg, another key");

    let (idp, token) = id_token_under("bad_signature").await;
    assert!(!esia_verifies(&token, &idp.esia_certificates_pem()));

    let (idp, token) = id_token_under("wrong_issuer").await;
    assert!(esia_verifies(&token, &idp.esia_certificates_pem()));
    assert_ne!(decode(&token).1["iss"], Value::String(idp.issuer()));

    let (_, token) = id_token_under("wrong_audience").await;
    assert_ne!(decode(&token).1["aud"], "ESIA-LINK-DEMO");

    let (_, token) = id_token_under("expired_token").await;
    let exp = decode(&token).1["exp"].as_i64().unwrap_or(i64::MAX);
    assert!(exp < chrono::Utc::now().timestamp());

    let (_, token) = id_token_under("alg_none").await;
    assert_eq!(decode(&token).0["alg"], "none");
    assert_eq!(decode(&token).0["sbt"], "id");
    assert!(token.ends_with('.'), "no signature");

    let (idp, token) = id_token_under("oid_mismatch").await;
    assert!(esia_verifies(&token, &idp.esia_certificates_pem()));
    let claims = decode(&token).1;
    assert_eq!(claims["sub"], 1000001);
    assert_ne!(claims["urn:esia:sbj"]["urn:esia:sbj:oid"], claims["sub"]);
    assert!(claims["urn:esia:sbj"]["urn:esia:sbj:oid"].is_u64());

    // wrong_nonce is a no-op for ESIA: the token is fine.
    let (idp, token) = id_token_under("wrong_nonce").await;
    assert!(esia_verifies(&token, &idp.esia_certificates_pem()));
}

#[tokio::test]
async fn an_unknown_esia_code_keeps_its_number() {
    let (_, response) = token_under("unknown_esia_code").await;
    assert_eq!(response.status(), 400);
    let body: esia_proto::EsiaErrorResponse = response.json().await.expect("json");
    assert!(
        body.error_description.starts_with("ESIA-007099: "),
        "{body:?}"
    );
    assert_eq!(body.esia_code(), None, "not a code anyone maps");
    assert!(body.state.is_some());
}

#[tokio::test]
async fn person_faults_and_latency() {
    let idp = mock().await;
    let code = esia_code(&idp, "ivanova").await;
    let tokens: esia_proto::EsiaTokenResponse = exchange(&idp, &token_form(&code))
        .await
        .json()
        .await
        .expect("json");
    idp.set_fault(Fault::NoSnils);
    let person: esia_proto::EsiaPerson = http()
        .get(format!("{}/rs/prns/1000001", idp.base_url()))
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .expect("person")
        .json()
        .await
        .expect("json");
    assert_eq!(person.snils, None);
    assert_eq!(person.last_name.as_deref(), Some("Иванова"));

    idp.clear_faults();
    assert_eq!(set_fault(&idp, json!({"latency_ms": 300})).await, 200);
    let started = Instant::now();
    let _ = http()
        .get(format!("{}/jwks", idp.base_url()))
        .send()
        .await
        .expect("jwks");
    assert!(started.elapsed() >= Duration::from_millis(300));
    let cleared = http()
        .delete(format!("{}/admin/faults", idp.base_url()))
        .bearer_auth(idp.admin_token())
        .send()
        .await
        .expect("clear");
    assert_eq!(cleared.status(), 204);
}
