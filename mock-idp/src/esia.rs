//! The ESIA profile: `GET /aas/oauth2/v2/ac`, `POST /aas/oauth2/v3/te` and
//! the REST API under `/rs/prns/{oid}`, with ESIA's checks and error codes.

use std::collections::HashMap;

use axum::extract::{Form, Path, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Duration;
use esia_proto::{
    Collection, EsiaCode, EsiaContact, EsiaDocument, EsiaErrorResponse, EsiaKid, EsiaPerson,
    EsiaTokenResponse,
};
use serde_json::{json, Value};

use crate::keys::verify_client_secret;
use crate::pages::{error_page, error_redirect, login_page};
use crate::persons::{Person, Tier};
use crate::state::{lock, random_token, read, Client, Fault, Pending, Profile, State};
use crate::tokens::{issue_tokens, redeem_code, TOKEN_LIFETIME_SECS};

const TIME_WINDOW_MINUTES: i64 = 5;

fn is_uuid(text: &str) -> bool {
    uuid::Uuid::parse_str(text).is_ok() && text.len() == 36
}

/// Checks of ESIA's request time: format, then ±5 minutes.
fn check_timestamp(state: &State, timestamp: &str) -> Result<(), EsiaCode> {
    let parsed = chrono::DateTime::parse_from_str(timestamp, "%Y.%m.%d %H:%M:%S %z")
        .map_err(|_| EsiaCode::E007003)?;
    let skew = state.now().signed_duration_since(parsed);
    if skew.num_seconds().abs() > TIME_WINDOW_MINUTES * 60 {
        return Err(EsiaCode::E007015);
    }
    Ok(())
}

fn scopes_allowed(client: &Client, scope: &str) -> bool {
    scope
        .split_whitespace()
        .all(|s| client.allowed_scopes.iter().any(|a| a == s))
}

fn check_signature(
    client: &Client,
    hash: &str,
    message: &str,
    secret: &str,
) -> Result<(), EsiaCode> {
    if client.certificate_hash.as_deref() != Some(hash) {
        return Err(EsiaCode::E007053);
    }
    let key = client.public_key_pem.as_deref().ok_or(EsiaCode::E007053)?;
    if verify_client_secret(key, message, secret) {
        Ok(())
    } else {
        Err(EsiaCode::E007053)
    }
}

pub async fn authorize(
    AxState(state): AxState<State>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let required = [
        "client_id",
        "scope",
        "response_type",
        "state",
        "timestamp",
        "access_type",
        "redirect_uri",
        "client_certificate_hash",
        "client_secret",
    ];
    if let Some(missing) = required.iter().find(|k| get(k).is_none()) {
        return match (
            get("redirect_uri"),
            get("client_id").and_then(|c| state.client(c)),
        ) {
            (Some(uri), Some(client)) if client.redirect_uris.iter().any(|r| r == uri) => {
                error_redirect(
                    Profile::Esia,
                    uri,
                    get("state").unwrap_or(""),
                    EsiaCode::E007014,
                )
            }
            _ => error_page(
                StatusCode::BAD_REQUEST,
                &format!("{} ({missing})", EsiaCode::E007014.description()),
            ),
        };
    }
    let value = |k: &str| get(k).unwrap_or_default();
    let (client_id, redirect_uri, st) = (value("client_id"), value("redirect_uri"), value("state"));
    let Some(client) = state.client(client_id) else {
        return error_page(StatusCode::BAD_REQUEST, &EsiaCode::E007002.description());
    };
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return error_page(StatusCode::BAD_REQUEST, &EsiaCode::E007023.description());
    }
    let fail = |code| error_redirect(Profile::Esia, redirect_uri, st, code);
    if state.has_fault(Fault::Overload) {
        return fail(EsiaCode::E007008);
    }
    if value("response_type") != "code" {
        return fail(EsiaCode::E007005);
    }
    if !scopes_allowed(&client, value("scope")) {
        return fail(EsiaCode::E007006);
    }
    if !is_uuid(st) {
        return fail(EsiaCode::E007003);
    }
    if let Err(code) = check_timestamp(&state, value("timestamp")) {
        return fail(code);
    }
    let message = format!(
        "{client_id}{}{}{st}{redirect_uri}",
        value("scope"),
        value("timestamp")
    );
    if let Err(code) = check_signature(
        &client,
        value("client_certificate_hash"),
        &message,
        value("client_secret"),
    ) {
        return fail(code);
    }
    let pending_id = random_token();
    lock(&state.pending).insert(
        pending_id.clone(),
        Pending {
            profile: Profile::Esia,
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            scope: value("scope").to_string(),
            state: st.to_string(),
            nonce: get("nonce").map(str::to_string),
            code_challenge: None,
            oid: None,
            expires_at: state.now() + Duration::minutes(10),
        },
    );
    login_page(&pending_id, None)
}

fn token_error(code: EsiaCode, state: Option<&str>) -> Response {
    let status = match code {
        EsiaCode::E007008 => StatusCode::SERVICE_UNAVAILABLE,
        EsiaCode::E007007 => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    (
        status,
        Json(EsiaErrorResponse {
            error: code.oauth_error().to_string(),
            error_description: code.description(),
            state: state.map(str::to_string),
        }),
    )
        .into_response()
}

pub async fn token(
    AxState(state): AxState<State>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| f.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let st = get("state");
    match state.fault() {
        Some(Fault::Http500) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "<html>Internal Server Error</html>",
            )
                .into_response()
        }
        Some(Fault::Overload) => return token_error(EsiaCode::E007008, st),
        _ => {}
    }
    let required = [
        "client_id",
        "code",
        "grant_type",
        "redirect_uri",
        "scope",
        "state",
        "timestamp",
        "token_type",
        "client_certificate_hash",
        "client_secret",
    ];
    if required.iter().any(|k| get(k).is_none()) {
        return token_error(EsiaCode::E007014, st);
    }
    let value = |k: &str| get(k).unwrap_or_default();
    let Some(client) = state.client(value("client_id")) else {
        return token_error(EsiaCode::E007002, st);
    };
    if value("grant_type") != "authorization_code" || value("token_type") != "Bearer" {
        return token_error(EsiaCode::E007005, st);
    }
    if !client
        .redirect_uris
        .iter()
        .any(|r| r == value("redirect_uri"))
    {
        return token_error(EsiaCode::E007023, st);
    }
    if !is_uuid(value("state")) {
        return token_error(EsiaCode::E007003, st);
    }
    if let Err(code) = check_timestamp(&state, value("timestamp")) {
        return token_error(code, st);
    }
    let message = format!(
        "{}{}{}{}{}{}",
        value("client_id"),
        value("scope"),
        value("timestamp"),
        value("state"),
        value("redirect_uri"),
        value("code")
    );
    if let Err(code) = check_signature(
        &client,
        value("client_certificate_hash"),
        &message,
        value("client_secret"),
    ) {
        return token_error(code, st);
    }
    let Some(grant) = redeem_code(
        &state,
        value("code"),
        value("client_id"),
        value("redirect_uri"),
        Profile::Esia,
    ) else {
        return token_error(EsiaCode::E007011, st);
    };
    let tokens = issue_tokens(&state, &grant);
    let body = EsiaTokenResponse {
        access_token: tokens.access_token,
        id_token: Some(tokens.id_token),
        refresh_token: Some(random_token()),
        state: st.map(str::to_string),
        token_type: "Bearer".into(),
        expires_in: TOKEN_LIFETIME_SECS,
    };
    if state.has_fault(Fault::MalformedJson) {
        let text = serde_json::to_string(&body).unwrap_or_default();
        let cut: String = text.chars().take(text.chars().count() / 2).collect();
        return (StatusCode::OK, [("content-type", "application/json")], cut).into_response();
    }
    Json(body).into_response()
}

fn rest_error(status: StatusCode, code: Option<EsiaCode>, error: &str) -> Response {
    let description = code
        .map(EsiaCode::description)
        .unwrap_or_else(|| error.to_string());
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// Checks the bearer token for `oid`; the error is the response to send.
pub fn authorize_rest(state: &State, headers: &HeaderMap, oid: &str) -> Result<(), Response> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| rest_error(StatusCode::UNAUTHORIZED, None, "invalid_token"))?;
    let claims = read(&state.keys)
        .verify(token)
        .ok_or_else(|| rest_error(StatusCode::UNAUTHORIZED, None, "invalid_token"))?;
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp <= state.now().timestamp() {
        return Err(rest_error(
            StatusCode::UNAUTHORIZED,
            Some(EsiaCode::E005013),
            "invalid_token",
        ));
    }
    if claims.get("sub").and_then(Value::as_str) != Some(oid) {
        return Err(rest_error(
            StatusCode::FORBIDDEN,
            None,
            "insufficient_scope",
        ));
    }
    Ok(())
}

fn ddmmyyyy(date: chrono::NaiveDate) -> String {
    date.format("%d.%m.%Y").to_string()
}

fn contacts(person: &Person) -> Vec<EsiaContact> {
    person
        .contacts
        .iter()
        .map(|c| EsiaContact {
            kind: c.kind.clone(),
            value: c.value.clone(),
            vrf_stu: Some(
                if c.verified {
                    "VERIFIED"
                } else {
                    "NOT_VERIFIED"
                }
                .into(),
            ),
        })
        .collect()
}

fn documents(person: &Person) -> Vec<EsiaDocument> {
    vec![EsiaDocument {
        id: Some(1),
        kind: Some("RF_PASSPORT".into()),
        vrf_stu: Some(
            if person.tier == Tier::Simplified {
                "NOT_VERIFIED"
            } else {
                "VERIFIED"
            }
            .into(),
        ),
        vrf_val_stu: None,
        series: Some("1100".into()),
        number: Some(format!(
            "{:0>6}",
            person.oid.chars().rev().take(6).collect::<String>()
        )),
    }]
}

fn kids(person: &Person) -> Vec<EsiaKid> {
    person
        .kids
        .iter()
        .enumerate()
        .map(|(i, k)| EsiaKid {
            id: Some(format!("{}-{}", person.oid, i + 1)),
            first_name: k.given_name.clone(),
            last_name: k.surname.clone(),
            middle_name: k.patronymic.clone(),
            birth_date: ddmmyyyy(k.birth_date),
            gender: k.gender.clone(),
            snils: k.snils.clone(),
        })
        .collect()
}

fn embedded(query: &HashMap<String, String>) -> Vec<String> {
    query
        .get("embed")
        .map(|e| {
            e.trim_matches(|c| c == '(' || c == ')')
                .split(',')
                .map(|s| s.trim().to_string())
                .collect()
        })
        .unwrap_or_default()
}

pub async fn person(
    AxState(state): AxState<State>,
    Path(oid): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if state.has_fault(Fault::Http500) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
    }
    if let Err(response) = authorize_rest(&state, &headers, &oid) {
        return response;
    }
    let Some(p) = state.person(&oid) else {
        return rest_error(StatusCode::NOT_FOUND, None, "not_found");
    };
    let embed = embedded(&q);
    let wants = |name: &str| embed.iter().any(|e| e == &format!("{name}.elements"));
    let body = EsiaPerson {
        oid: Some(p.oid.clone()),
        first_name: Some(p.given_name.clone()),
        last_name: Some(p.surname.clone()),
        middle_name: p.patronymic.clone(),
        birth_date: Some(ddmmyyyy(p.birth_date)),
        gender: p.gender.clone(),
        snils: p.snils.clone().filter(|_| !state.has_fault(Fault::NoSnils)),
        trusted: p.tier == Tier::Verified,
        verifying: false,
        status: Some("REGISTERED".into()),
        updated_on: Some(1_700_000_000),
        r_id_doc: Some(1),
        contacts: wants("contacts").then(|| Collection::embedded(contacts(p))),
        documents: wants("documents").then(|| Collection::embedded(documents(p))),
        kids: wants("kids").then(|| Collection::embedded(kids(p))),
    };
    Json(body).into_response()
}

/// `/rs/prns/{oid}/{ctts|docs|kids}`: links, or objects with `?embed=(elements)`.
pub async fn collection(
    AxState(state): AxState<State>,
    Path((oid, which)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = authorize_rest(&state, &headers, &oid) {
        return response;
    }
    let Some(p) = state.person(&oid) else {
        return rest_error(StatusCode::NOT_FOUND, None, "not_found");
    };
    let embed = embedded(&q).iter().any(|e| e == "elements");
    let items: Vec<Value> = match which.as_str() {
        "ctts" => contacts(p).into_iter().map(|c| json!(c)).collect(),
        "docs" => documents(p).into_iter().map(|d| json!(d)).collect(),
        "kids" => kids(p).into_iter().map(|k| json!(k)).collect(),
        _ => return rest_error(StatusCode::NOT_FOUND, None, "not_found"),
    };
    let elements: Vec<Value> = if embed {
        items
    } else {
        (1..=items.len())
            .map(|i| json!(format!("{}/rs/prns/{oid}/{which}/{i}", state.base_url)))
            .collect()
    };
    Json(json!({"size": elements.len(), "elements": elements})).into_response()
}
