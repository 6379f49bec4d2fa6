//! The hostile-IdP faults and switches of issue 12, seen on the wire.

use mock_idp::Fault;
use serde_json::{json, Value};

use crate::kit::*;

async fn id_token_claims(idp: &mock_idp::MockIdp) -> Value {
    let code = esia_code(idp, "ivanova").await;
    let tokens: esia_proto::EsiaTokenResponse = exchange(idp, &token_form(&code))
        .await
        .json()
        .await
        .expect("json");
    decode(&tokens.id_token.expect("id_token")).1
}

#[tokio::test]
async fn claim_faults_and_the_missing_state() {
    let idp = mock().await;
    idp.set_fault(Fault::ExtraAudience);
    assert_eq!(
        id_token_claims(&idp).await["aud"],
        json!(["ESIA-LINK-DEMO", "another-client"])
    );
    idp.set_fault(Fault::WrongAzp);
    assert_eq!(id_token_claims(&idp).await["azp"], "another-client");
    idp.set_fault(Fault::OldIat);
    let claims = id_token_claims(&idp).await;
    let now = chrono::Utc::now().timestamp();
    assert!(claims["iat"].as_i64().unwrap_or(now) <= now - 19 * 60);
    assert!(claims["exp"].as_i64().unwrap_or(0) > now);

    idp.set_fault(Fault::TokenWithoutState);
    let code = esia_code(&idp, "ivanova").await;
    let tokens: esia_proto::EsiaTokenResponse = exchange(&idp, &token_form(&code))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(tokens.state, None);
    assert_eq!(idp.token_calls(), 4);
    assert_eq!(idp.person_calls(), 0);
}

#[tokio::test]
async fn huge_answers_are_streamed_without_a_length() {
    let idp = mock().await;
    idp.set_fault(Fault::HugeDiscovery);
    let response = http()
        .get(format!(
            "{}/.well-known/openid-configuration",
            idp.base_url()
        ))
        .send()
        .await
        .expect("discovery");
    assert_eq!(response.status(), 200);
    assert_eq!(response.content_length(), None, "no Content-Length");
    let body = response.bytes().await.expect("body");
    assert!(body.len() >= 20 * 1024 * 1024);
    assert!(
        serde_json::from_slice::<Value>(&body).is_ok(),
        "valid JSON, only large"
    );
}

#[tokio::test]
async fn the_iss_parameter_is_advertised_sent_left_out_or_wrong() {
    let idp = mock().await;
    let discovery = || async {
        http()
            .get(format!(
                "{}/.well-known/openid-configuration",
                idp.base_url()
            ))
            .send()
            .await
            .expect("discovery")
            .json::<Value>()
            .await
            .expect("json")
    };
    assert!(discovery()
        .await
        .get("authorization_response_iss_parameter_supported")
        .is_none());
    let authorize = url_with(
        &format!("{}/aas/oauth2/v2/ac", idp.base_url()),
        &authorize_params(&uuid::Uuid::new_v4().to_string()),
    );
    let query = consent(&idp, &http(), &authorize, "ivanova", "allow").await;
    assert!(!query.contains_key("iss"), "off by default");

    idp.set_iss_parameter(true);
    assert_eq!(
        discovery().await["authorization_response_iss_parameter_supported"],
        true
    );
    for (fault, expected) in [
        (None, Some(idp.issuer())),
        (Some(Fault::MissingIssParameter), None),
        (
            Some(Fault::WrongIssParameter),
            Some(format!("{}/other-issuer", idp.issuer())),
        ),
    ] {
        if let Some(fault) = fault.clone() {
            idp.set_fault(fault);
        }
        for decision in ["allow", "deny"] {
            let authorize = url_with(
                &format!("{}/aas/oauth2/v2/ac", idp.base_url()),
                &authorize_params(&uuid::Uuid::new_v4().to_string()),
            );
            let query = consent(&idp, &http(), &authorize, "ivanova", decision).await;
            assert_eq!(query.get("iss"), expected.as_ref(), "{fault:?} {decision}");
        }
        idp.clear_faults();
    }
}
