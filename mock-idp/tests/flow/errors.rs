//! Each ESIA error code the mock produces, as ESIA answers it.

use crate::kit::*;

/// Sends an authorize request and returns (status, ESIA code seen).
async fn authorize_code(idp: &mock_idp::MockIdp, params: &[(String, String)]) -> (u16, String) {
    let url = url_with(&format!("{}/aas/oauth2/v2/ac", idp.base_url()), params);
    let response = http().get(&url).send().await.expect("authorize");
    let status = response.status().as_u16();
    if let Some(location) = response.headers().get("location") {
        let query = query_of(location.to_str().expect("location"));
        let description = query.get("error_description").cloned().unwrap_or_default();
        assert!(
            query.contains_key("error") && query.contains_key("state"),
            "{query:?}"
        );
        return (status, description[..11].to_string());
    }
    let body = response.text().await.expect("body");
    let code = body
        .find("ESIA-")
        .map(|i| body[i..i + 11].to_string())
        .unwrap_or_default();
    (status, code)
}

/// (why, authorize parameters, HTTP status, ESIA code)
type Case = (&'static str, Vec<(String, String)>, u16, &'static str);

#[tokio::test]
async fn authorize_errors() {
    let idp = mock().await;
    let state = uuid::Uuid::new_v4().to_string();
    let base = authorize_params(&state);
    let resign = |params: &mut Vec<(String, String)>| {
        let get = |k: &str| {
            params
                .iter()
                .find(|(x, _)| x == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let message = format!(
            "{}{}{}{}{}",
            get("client_id"),
            get("scope"),
            get("timestamp"),
            get("state"),
            get("redirect_uri")
        );
        set(params, "client_secret", &sign(&message));
    };
    let mut cases: Vec<Case> = Vec::new();

    let mut p = base.clone();
    p.retain(|(k, _)| k != "timestamp");
    cases.push(("missing parameter", p, 302, "ESIA-007014"));

    let mut p = base.clone();
    set(&mut p, "client_id", "UNKNOWN");
    cases.push(("unknown client", p, 400, "ESIA-007002"));

    let mut p = base.clone();
    set(&mut p, "redirect_uri", "https://evil.example/cb");
    cases.push(("redirect not registered", p, 400, "ESIA-007023"));

    let mut p = base.clone();
    set(&mut p, "response_type", "token");
    cases.push(("response type", p, 302, "ESIA-007005"));

    let mut p = base.clone();
    set(&mut p, "scope", "openid fullname usr_org");
    resign(&mut p);
    cases.push(("scope not allowed", p, 302, "ESIA-007006"));

    let mut p = base.clone();
    set(&mut p, "state", "not-a-uuid");
    resign(&mut p);
    cases.push(("state not a UUID", p, 302, "ESIA-007003"));

    let mut p = base.clone();
    set(&mut p, "timestamp", "22.11.2026 12:00");
    resign(&mut p);
    cases.push(("timestamp format", p, 302, "ESIA-007003"));

    let mut p = base.clone();
    set(&mut p, "timestamp", &timestamp_at(-10));
    resign(&mut p);
    cases.push(("timestamp too old", p, 302, "ESIA-007015"));

    let mut p = base.clone();
    set(&mut p, "client_secret", &sign("something else"));
    cases.push(("bad signature", p, 302, "ESIA-007053"));

    let mut p = base.clone();
    set(&mut p, "client_certificate_hash", &"0".repeat(64));
    cases.push(("bad certificate hash", p, 302, "ESIA-007053"));

    for (why, params, status, code) in cases {
        assert_eq!(
            authorize_code(&idp, &params).await,
            (status, code.to_string()),
            "{why}"
        );
    }
}

#[tokio::test]
async fn pressing_decline_sends_007004() {
    let idp = mock().await;
    let state = uuid::Uuid::new_v4().to_string();
    let url = url_with(
        &format!("{}/aas/oauth2/v2/ac", idp.base_url()),
        &authorize_params(&state),
    );
    let query = consent(&idp, &http(), &url, "ivanova", "deny").await;
    assert_eq!(
        query.get("error").map(String::as_str),
        Some("access_denied")
    );
    assert!(query["error_description"].starts_with("ESIA-007004"));
    assert_eq!(query.get("state"), Some(&state));
}

async fn token_code(idp: &mock_idp::MockIdp, form: &[(String, String)]) -> (u16, String) {
    let response = exchange(idp, form).await;
    let status = response.status().as_u16();
    let body: esia_proto::EsiaErrorResponse = response.json().await.expect("error JSON");
    assert!(body.state.is_some(), "state echoed");
    (status, body.error_description[..11].to_string())
}

#[tokio::test]
async fn token_errors_and_single_use_codes() {
    let idp = mock().await;
    let code = esia_code(&idp, "ivanova").await;

    let mut bad = token_form(&code);
    set(&mut bad, "client_secret", &sign("forged"));
    assert_eq!(token_code(&idp, &bad).await, (400, "ESIA-007053".into()));

    let mut missing = token_form(&code);
    missing.retain(|(k, _)| k != "scope");
    assert_eq!(
        token_code(&idp, &missing).await,
        (400, "ESIA-007014".into())
    );

    // The failed attempts above did not burn the code; the first use works.
    assert_eq!(exchange(&idp, &token_form(&code)).await.status(), 200);
    assert_eq!(
        token_code(&idp, &token_form(&code)).await,
        (400, "ESIA-007011".into()),
        "reuse"
    );

    let expiring = esia_code(&idp, "ivanova").await;
    idp.advance_clock(std::time::Duration::from_secs(6 * 60));
    // The request time is now 6 minutes behind the mock: refresh it too.
    let mut form = token_form(&expiring);
    let get = |f: &Vec<(String, String)>, k: &str| {
        f.iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    set(&mut form, "timestamp", &timestamp_at(6));
    let message = format!(
        "ESIA-LINK-DEMO{SCOPE}{}{}{REDIRECT}{expiring}",
        get(&form, "timestamp"),
        get(&form, "state")
    );
    set(&mut form, "client_secret", &sign(&message));
    assert_eq!(
        token_code(&idp, &form).await,
        (400, "ESIA-007011".into()),
        "expired"
    );
}

#[tokio::test]
async fn expired_access_tokens_get_005013() {
    let idp = mock().await;
    let code = esia_code(&idp, "ivanova").await;
    let tokens: esia_proto::EsiaTokenResponse = exchange(&idp, &token_form(&code))
        .await
        .json()
        .await
        .expect("json");
    idp.advance_clock(std::time::Duration::from_secs(2 * 3600));
    let response = http()
        .get(format!("{}/rs/prns/1000001", idp.base_url()))
        .bearer_auth(&tokens.access_token)
        .send()
        .await
        .expect("person");
    assert_eq!(response.status(), 401);
    let body: esia_proto::EsiaRestError = response.json().await.expect("ESIA REST error");
    assert_eq!(body.code, "ESIA-005013");
    assert_eq!(body.message, "SecurityErrorEnum.expiredToken");
    assert_eq!(body.esia_code(), Some(esia_proto::EsiaCode::E005013));
}

#[tokio::test]
async fn descriptions_are_in_english_as_esia_sends_them() {
    let idp = mock().await;
    let state = uuid::Uuid::new_v4().to_string();
    let mut params = authorize_params(&state);
    params.retain(|(k, _)| k != "client_certificate_hash");
    let url = url_with(&format!("{}/aas/oauth2/v2/ac", idp.base_url()), &params);
    let response = http().get(&url).send().await.expect("authorize");
    let query = query_of(response.headers()["location"].to_str().expect("location"));
    assert_eq!(query["error"], "invalid_request");
    assert_eq!(
        query["error_description"],
        "ESIA-007014: The request doesn't contain the mandatory parameter [client_certificate_hash]."
    );

    let mut params = authorize_params(&state);
    set(&mut params, "client_secret", &sign("something else"));
    let url = url_with(&format!("{}/aas/oauth2/v2/ac", idp.base_url()), &params);
    let response = http().get(&url).send().await.expect("authorize");
    let query = query_of(response.headers()["location"].to_str().expect("location"));
    assert_eq!(query["error"], "access_denied");
    assert_eq!(
        query["error_description"],
        "ESIA-007053: OAuthErrorEnum.clientSecretWrong"
    );

    let url = url_with(
        &format!("{}/aas/oauth2/v2/ac", idp.base_url()),
        &authorize_params(&state),
    );
    let query = consent(&idp, &http(), &url, "ivanova", "deny").await;
    assert_eq!(
        query["error_description"],
        "ESIA-007004: The resource owner or authorization server denied the request."
    );
}
