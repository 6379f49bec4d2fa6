//! The ESIA profile: `GET /aas/oauth2/v2/ac`, `POST /aas/oauth2/v3/te` and
//! the REST API under `/rs/prns/{oid}`, with ESIA's checks and error codes.

use std::collections::HashMap;

use axum::extract::{Form, Path, Query, State as AxState};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Duration;
use esia_proto::{
    Collection, EsiaCode, EsiaContact, EsiaDocument, EsiaErrorResponse, EsiaPerson, EsiaRestError,
    EsiaTokenResponse,
};
use serde_json::{json, Value};

use crate::esia_keys::verify_gost_client_secret;
use crate::keys::verify_client_secret;
use crate::pages::{error_page, error_redirect, error_redirect_text, login_or_consent};
use crate::persons::{Person, Tier};
use crate::state::{random_token, read, Calls, Client, ClientKey, Fault, Pending, Profile, State};
use crate::tokens::{issue_tokens, redeem_code, TOKEN_LIFETIME_SECS};
use crate::wording;

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
    let valid = match client.key.as_ref().ok_or(EsiaCode::E007053)? {
        ClientKey::Rsa { public_key_pem } => verify_client_secret(public_key_pem, message, secret),
        ClientKey::Gost { public_key_hex } => hex::decode(public_key_hex)
            .is_ok_and(|key| verify_gost_client_secret(&key, message, secret)),
    };
    if valid {
        Ok(())
    } else {
        Err(EsiaCode::E007053)
    }
}

pub async fn authorize(
    AxState(state): AxState<State>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
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
                error_redirect_text(
                    uri,
                    get("state").unwrap_or(""),
                    wording::oauth_error(EsiaCode::E007014),
                    &wording::missing_parameter(missing),
                )
            }
            _ => error_page(
                StatusCode::BAD_REQUEST,
                &wording::missing_parameter(missing),
            ),
        };
    }
    let value = |k: &str| get(k).unwrap_or_default();
    let (client_id, redirect_uri, st) = (value("client_id"), value("redirect_uri"), value("state"));
    let Some(client) = state.client(client_id) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            &wording::description(EsiaCode::E007002),
        );
    };
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return error_page(
            StatusCode::BAD_REQUEST,
            &wording::description(EsiaCode::E007023),
        );
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
    let pending = Pending {
        profile: Profile::Esia,
        client_id: client_id.to_string(),
        redirect_uri: redirect_uri.to_string(),
        scope: value("scope").to_string(),
        state: st.to_string(),
        nonce: get("nonce").map(str::to_string),
        code_challenge: None,
        oid: None,
        expires_at: state.now() + Duration::minutes(10),
    };
    login_or_consent(&state, &headers, pending)
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
            error: wording::oauth_error(code).to_string(),
            error_description: wording::description(code),
            state: state.map(str::to_string),
        }),
    )
        .into_response()
}

pub async fn token(
    AxState(state): AxState<State>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    Calls::count(&state.calls.token);
    let get = |k: &str| f.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let st = get("state");
    match state.fault() {
        Some(Fault::HugeToken) => return crate::hostile::huge_json("{\"token_type\":\"Bearer\","),
        Some(Fault::Http500) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "<html>Internal Server Error</html>",
            )
                .into_response()
        }
        Some(Fault::Overload) => return token_error(EsiaCode::E007008, st),
        Some(Fault::UnknownEsiaCode) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(EsiaErrorResponse {
                    error: "invalid_request".into(),
                    error_description: format!(
                        "{}: {}",
                        wording::UNKNOWN_CODE,
                        wording::UNKNOWN_TEXT
                    ),
                    state: st.map(str::to_string),
                }),
            )
                .into_response()
        }
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
    if let Some(missing) = required.iter().find(|k| get(k).is_none()) {
        return (
            StatusCode::BAD_REQUEST,
            Json(EsiaErrorResponse {
                error: wording::oauth_error(EsiaCode::E007014).to_string(),
                error_description: wording::missing_parameter(missing),
                state: st.map(str::to_string),
            }),
        )
            .into_response();
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
        id_token: Some(tokens.id_token).filter(|_| !state.has_fault(Fault::NoIdToken)),
        refresh_token: Some(random_token()),
        state: st
            .filter(|_| !state.has_fault(Fault::TokenWithoutState))
            .map(str::to_string),
        token_type: if state.has_fault(Fault::MacTokenType) {
            "mac".into()
        } else {
            "Bearer".into()
        },
        expires_in: TOKEN_LIFETIME_SECS,
    };
    if state.has_fault(Fault::MalformedJson) {
        let text = serde_json::to_string(&body).unwrap_or_default();
        let cut: String = text.chars().take(text.chars().count() / 2).collect();
        return (StatusCode::OK, [("content-type", "application/json")], cut).into_response();
    }
    Json(body).into_response()
}

fn rest_error(status: StatusCode, (code, message): (&str, &str)) -> Response {
    (
        status,
        Json(EsiaRestError {
            code: code.to_string(),
            message: message.to_string(),
        }),
    )
        .into_response()
}

/// The scopes an access token grants, without their `?oid=N` suffix.
pub struct Granted(Vec<String>);

impl Granted {
    fn from_claim(scope: &str) -> Granted {
        Granted(
            scope
                .split_whitespace()
                .map(|s| s.split('?').next().unwrap_or_default().to_string())
                .collect(),
        )
    }

    pub fn has(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    fn contacts(&self) -> bool {
        self.has("contacts") || self.has("email") || self.has("mobile")
    }

    fn kids(&self) -> bool {
        self.0.iter().any(|s| s.starts_with("kid_"))
    }
}

/// Checks the ESIA access token for `oid`: ours (the ESIA key ring),
/// unexpired, and `urn:esia:sbj_id` = `oid`. The error is ESIA's REST answer.
pub fn authorize_rest(state: &State, headers: &HeaderMap, oid: &str) -> Result<Granted, Response> {
    let invalid = || rest_error(StatusCode::UNAUTHORIZED, wording::rest::INVALID_TOKEN);
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(invalid)?;
    let claims = read(&state.esia_keys).verify(token).ok_or_else(invalid)?;
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if exp <= state.now().timestamp() {
        return Err(rest_error(
            StatusCode::UNAUTHORIZED,
            wording::rest::EXPIRED_TOKEN,
        ));
    }
    let subject = match claims.get("urn:esia:sbj_id") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => return Err(invalid()),
    };
    if subject != oid {
        return Err(rest_error(
            StatusCode::FORBIDDEN,
            wording::rest::SCOPE_NOT_ALLOWED,
        ));
    }
    Ok(Granted::from_claim(
        claims
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or_default(),
    ))
}

fn ddmmyyyy(date: chrono::NaiveDate) -> String {
    date.format("%d.%m.%Y").to_string()
}

/// Contacts the scopes let through: all with `contacts`, else e-mail with
/// `email` and mobile numbers with `mobile`.
fn contacts(person: &Person, granted: &Granted) -> Vec<EsiaContact> {
    person
        .contacts
        .iter()
        .filter(|c| {
            granted.has("contacts")
                || (c.kind == "EML" && granted.has("email"))
                || (c.kind == "MBT" && granted.has("mobile"))
        })
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
    person
        .documents()
        .into_iter()
        .map(|d| EsiaDocument {
            id: Some(d.id),
            kind: Some(d.kind),
            vrf_stu: d.vrf_stu,
            vrf_val_stu: d.vrf_val_stu,
            series: d.series,
            number: d.number,
        })
        .collect()
}

/// ESIA's collection shape: `{"stateFacts":["hasSize"],"size":N,"elements":[...]}`.
fn collection_json(elements: Vec<Value>) -> Value {
    json!({"stateFacts": ["hasSize"], "size": elements.len(), "elements": elements})
}

/// Kids as JSON: each field only with its scope (`kid_fullname`,
/// `kid_birthdate`, `kid_gender`, `kid_snils`).
fn kids(person: &Person, granted: &Granted) -> Vec<Value> {
    person
        .kids
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let mut kid = json!({
                "stateFacts": ["Identifiable"],
                "id": format!("{}-{}", person.oid, i + 1),
            });
            if granted.has("kid_fullname") {
                kid["firstName"] = json!(k.given_name);
                kid["lastName"] = json!(k.surname);
                if let Some(patronymic) = &k.patronymic {
                    kid["middleName"] = json!(patronymic);
                }
            }
            if granted.has("kid_birthdate") {
                kid["birthDate"] = json!(ddmmyyyy(k.birth_date));
            }
            if let Some(gender) = k.gender.as_ref().filter(|_| granted.has("kid_gender")) {
                kid["gender"] = json!(gender);
            }
            if let Some(snils) = k.snils.as_ref().filter(|_| granted.has("kid_snils")) {
                kid["snils"] = json!(snils);
            }
            kid
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

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"code": "not_found", "message": "no such person"})),
    )
        .into_response()
}

/// `GET /rs/prns/{oid}`: the fields the token's scopes allow.
pub async fn person(
    AxState(state): AxState<State>,
    Path(oid): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    Calls::count(&state.calls.person);
    if state.has_fault(Fault::HugePerson) {
        return crate::hostile::huge_json("{\"oid\":1,");
    }
    if state.has_fault(Fault::Http500) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
    }
    let granted = match authorize_rest(&state, &headers, &oid) {
        Ok(granted) => granted,
        Err(response) => return response,
    };
    let Some(p) = state.person(&oid) else {
        return not_found();
    };
    let embed = embedded(&q);
    let wants = |name: &str| embed.iter().any(|e| e == &format!("{name}.elements"));
    let fullname = granted.has("fullname");
    let id_doc = granted.has("id_doc");
    let body = EsiaPerson {
        oid: Some(p.oid.clone()),
        first_name: Some(p.given_name.clone()).filter(|_| fullname),
        last_name: Some(p.surname.clone()).filter(|_| fullname),
        middle_name: p.patronymic.clone().filter(|_| fullname),
        birth_date: Some(ddmmyyyy(p.birth_date)).filter(|_| granted.has("birthdate")),
        gender: p.gender.clone().filter(|_| granted.has("gender")),
        snils: p
            .snils
            .clone()
            .filter(|_| granted.has("snils") && !state.has_fault(Fault::NoSnils)),
        trusted: p.tier == Tier::Verified,
        verifying: false,
        status: Some("REGISTERED".into()),
        updated_on: Some(1_700_000_000),
        r_id_doc: p.current_document_id().filter(|_| id_doc),
        contacts: (wants("contacts") && granted.contacts())
            .then(|| Collection::embedded(contacts(p, &granted))),
        documents: (wants("documents") && id_doc).then(|| Collection::embedded(documents(p))),
        kids: None,
    };
    let mut body = json!(body);
    // ESIA sends the OID as a number.
    body["oid"] = crate::tokens::oid_json(&p.oid);
    if wants("kids") && granted.kids() && !state.has_fault(Fault::KidsRefused) {
        body["kids"] = collection_json(kids(p, &granted));
    }
    Json(body).into_response()
}

/// `/rs/prns/{oid}/{ctts|docs|kids}`: links, or objects with
/// `?embed=(elements)`, in ESIA's collection shape; 403 ESIA-005029
/// without the collection's scope (kids: any `kid_*` scope; each field of a
/// kid still needs its own) or under the `kids_refused` fault.
pub async fn collection(
    AxState(state): AxState<State>,
    Path((oid, which)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    Calls::count(&state.calls.person);
    if state.has_fault(Fault::Http500) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
    }
    let granted = match authorize_rest(&state, &headers, &oid) {
        Ok(granted) => granted,
        Err(response) => return response,
    };
    let Some(p) = state.person(&oid) else {
        return not_found();
    };
    let allowed = match which.as_str() {
        "ctts" => granted.contacts(),
        "docs" => granted.has("id_doc"),
        "kids" => granted.kids() && !state.has_fault(Fault::KidsRefused),
        _ => return not_found(),
    };
    if !allowed {
        return rest_error(StatusCode::FORBIDDEN, wording::rest::SCOPE_NOT_ALLOWED);
    }
    let embed = embedded(&q).iter().any(|e| e == "elements");
    let items: Vec<Value> = match which.as_str() {
        "ctts" => contacts(p, &granted)
            .into_iter()
            .map(|c| json!(c))
            .collect(),
        "docs" => documents(p).into_iter().map(|d| json!(d)).collect(),
        _ => kids(p, &granted),
    };
    let elements: Vec<Value> = if embed {
        items
    } else {
        (1..=items.len())
            .map(|i| json!(format!("{}/rs/prns/{oid}/{which}/{i}", state.base_url)))
            .collect()
    };
    Json(collection_json(elements)).into_response()
}

/// `GET /idp/ext/Logout?client_id=...&redirect_url=...`: ends the login
/// session of this browser and redirects to `redirect_url` when its origin is
/// the origin of one of the client's registered redirect URIs.
pub async fn logout(
    AxState(state): AxState<State>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let (Some(client_id), Some(redirect_url)) = (get("client_id"), get("redirect_url")) else {
        let missing = if get("client_id").is_none() {
            "client_id"
        } else {
            "redirect_url"
        };
        return error_page(
            StatusCode::BAD_REQUEST,
            &wording::missing_parameter(missing),
        );
    };
    let Some(client) = state.client(client_id) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            &wording::description(EsiaCode::E007002),
        );
    };
    let origin = |u: &str| url::Url::parse(u).ok().map(|u| u.origin());
    let target = origin(redirect_url).filter(|o| o.is_tuple());
    if target.is_none() || !client.redirect_uris.iter().any(|r| origin(r) == target) {
        return error_page(
            StatusCode::BAD_REQUEST,
            "redirect_url is not at the origin of a redirect URI registered for this client",
        );
    }
    crate::pages::end_session(&state, &headers);
    state
        .logouts
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, redirect_url.to_string()),
            (header::SET_COOKIE, crate::pages::clear_session_cookie()),
        ],
    )
        .into_response()
}
