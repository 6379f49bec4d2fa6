//! The standard OIDC profile on the same server and keys: discovery, JWKS,
//! authorize (PKCE S256, nonce), token, userinfo.

use std::collections::HashMap;

use axum::extract::{Form, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::Duration;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::pages::{error_page, login_or_consent, redirect_to};
use crate::persons::Tier;
use crate::state::{read, Calls, Fault, Pending, Profile, State};
use crate::tokens::{issue_tokens, redeem_code, TOKEN_LIFETIME_SECS};

pub async fn discovery(AxState(state): AxState<State>) -> Response {
    let base = &state.base_url;
    if state.has_fault(Fault::HugeDiscovery) {
        return crate::hostile::huge_json(&format!(
            "{{\"issuer\":\"{}\",\"jwks_uri\":\"{base}/jwks\",",
            state.issuer
        ));
    }
    let algs = read(&state.keys).algs();
    let mut document = json!({
        "issuer": state.issuer,
        "authorization_endpoint": format!("{base}/oidc/authorize"),
        "token_endpoint": format!("{base}/oidc/token"),
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "profile", "snils", "birthdate", "email", "phone"],
        "claims_supported": ["sub", "family_name", "given_name", "middle_name", "birthdate", "snils", "tier", "email", "email_verified", "phone_number"],
    });
    if state
        .iss_parameter
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        document["authorization_response_iss_parameter_supported"] = json!(true);
    }
    Json(document).into_response()
}

pub async fn jwks(AxState(state): AxState<State>) -> Json<Value> {
    Json(read(&state.keys).jwks())
}

pub async fn authorize(
    AxState(state): AxState<State>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let (Some(client_id), Some(redirect_uri)) = (get("client_id"), get("redirect_uri")) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "client_id and redirect_uri are required",
        );
    };
    let Some(client) = state.client(client_id) else {
        return error_page(StatusCode::BAD_REQUEST, "unknown client_id");
    };
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return error_page(
            StatusCode::BAD_REQUEST,
            "redirect_uri is not registered for this client",
        );
    }
    let st = get("state").unwrap_or("");
    let fail = |error: &str| redirect_to(redirect_uri, &[("error", error), ("state", st)]);
    if state.has_fault(Fault::Overload) {
        return fail("temporarily_unavailable");
    }
    if get("response_type") != Some("code") {
        return fail("unsupported_response_type");
    }
    let scope = get("scope").unwrap_or("");
    if !scope.split_whitespace().any(|s| s == "openid") {
        return fail("invalid_scope");
    }
    let challenge = get("code_challenge").map(str::to_string);
    if client.require_pkce && (challenge.is_none() || get("code_challenge_method") != Some("S256"))
    {
        return fail("invalid_request");
    }
    let pending = Pending {
        profile: Profile::Oidc,
        client_id: client_id.to_string(),
        redirect_uri: redirect_uri.to_string(),
        scope: scope.to_string(),
        state: st.to_string(),
        nonce: get("nonce").map(str::to_string),
        code_challenge: challenge,
        oid: None,
        expires_at: state.now() + Duration::minutes(10),
    };
    login_or_consent(&state, &headers, pending)
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// client_secret_basic, or client_secret_post.
fn client_credentials(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Option<(String, String)> {
    if let Some(basic) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = String::from_utf8(STANDARD.decode(basic.trim()).ok()?).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        let unescape = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        return Some((unescape(id), unescape(secret)));
    }
    Some((
        form.get("client_id")?.clone(),
        form.get("client_secret")?.clone(),
    ))
}

pub async fn token(
    AxState(state): AxState<State>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    Calls::count(&state.calls.token);
    match state.fault() {
        Some(Fault::Http500) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
        }
        Some(Fault::HugeToken) => return crate::hostile::huge_json("{\"token_type\":\"Bearer\","),
        Some(Fault::Overload) => {
            return oauth_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "overloaded",
            )
        }
        _ => {}
    }
    let Some((client_id, secret)) = client_credentials(&headers, &f) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication required",
        );
    };
    let client = state.client(&client_id);
    if client.as_ref().and_then(|c| c.secret.as_deref()) != Some(secret.as_str()) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    }
    if f.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "authorization_code only",
        );
    }
    let code = f.get("code").cloned().unwrap_or_default();
    let redirect_uri = f.get("redirect_uri").cloned().unwrap_or_default();
    let Some(grant) = redeem_code(&state, &code, &client_id, &redirect_uri, Profile::Oidc) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "code invalid, expired or used",
        );
    };
    if let Some(challenge) = &grant.code_challenge {
        let verifier = f.get("code_verifier").cloned().unwrap_or_default();
        let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        if &computed != challenge {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "PKCE verifier does not match",
            );
        }
    }
    let tokens = issue_tokens(&state, &grant);
    let mut body = json!({
        "access_token": tokens.access_token,
        "id_token": tokens.id_token,
        "token_type": if state.has_fault(Fault::MacTokenType) { "mac" } else { "Bearer" },
        "expires_in": TOKEN_LIFETIME_SECS,
    });
    if state.has_fault(Fault::NoIdToken) {
        if let Some(fields) = body.as_object_mut() {
            fields.remove("id_token");
        }
    }
    if state.has_fault(Fault::MalformedJson) {
        let text = body.to_string();
        let cut: String = text.chars().take(text.len() / 2).collect();
        return (StatusCode::OK, [("content-type", "application/json")], cut).into_response();
    }
    Json(body).into_response()
}

pub async fn userinfo(AxState(state): AxState<State>, headers: HeaderMap) -> Response {
    Calls::count(&state.calls.userinfo);
    if state.has_fault(Fault::HugeUserinfo) {
        return crate::hostile::huge_json("{\"sub\":\"x\",");
    }
    if state.has_fault(Fault::Http500) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
    }
    let claims = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|t| read(&state.keys).verify(t));
    let Some(claims) = claims else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "bearer token required",
        );
    };
    if claims.get("exp").and_then(Value::as_i64).unwrap_or(0) <= state.now().timestamp() {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "ESIA-005013: token expired",
        );
    }
    let oid = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(p) = state.person(&oid) else {
        return oauth_error(StatusCode::NOT_FOUND, "not_found", "unknown subject");
    };
    let sub = if state.has_fault(Fault::UserinfoSubMismatch) {
        format!("{oid}-other")
    } else {
        oid
    };
    let mut body = json!({
        "sub": sub,
        "family_name": p.surname,
        "given_name": p.given_name,
        "birthdate": p.birth_date.format("%Y-%m-%d").to_string(),
        "tier": p.tier.as_str(),
        "trusted": p.tier == Tier::Verified,
    });
    if let Some(patronymic) = &p.patronymic {
        body["middle_name"] = json!(patronymic);
    }
    if let Some(snils) = p
        .snils
        .as_ref()
        .filter(|_| !state.has_fault(Fault::NoSnils))
    {
        body["snils"] = json!(snils);
    }
    if let Some(email) = p.contacts.iter().find(|c| c.kind == "EML") {
        body["email"] = json!(email.value);
        body["email_verified"] = json!(email.verified);
    }
    if let Some(phone) = p.contacts.iter().find(|c| c.kind == "MBT") {
        body["phone_number"] = json!(phone.value);
    }
    Json(body).into_response()
}
