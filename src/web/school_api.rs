//! The school admin API: a school's own system (or its administrator's
//! script) loads the roster, lists its people and issues activation codes,
//! authenticated by a per-school bearer token (`esia-link school token`).
//! A token acts for one school; any other school's path answers 403.
//!
//! `GET /api/v1/openapi.json` is generated from these handlers (utoipa).

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use super::error::WebError;
use super::lang::RequestLang;
use super::AppState;
use crate::app::roster::{BytesSource, ImportOptions, RosterFormat};
use crate::app::school::{CodeScope, IssuedCode};
use crate::app::AppError;

/// The largest roster body accepted in one request (bigger files: the CLI).
const MAX_ROSTER_BYTES: usize = 64 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/schools/{school}/roster",
            post(import_roster).layer(DefaultBodyLimit::max(MAX_ROSTER_BYTES)),
        )
        .route("/api/v1/schools/{school}/people", get(people))
        .route("/api/v1/schools/{school}/codes", post(issue_codes))
        .route("/api/v1/openapi.json", get(openapi))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "esia-link school admin API",
        description = "Rosters, people and activation codes of one school, authenticated by the school's bearer token."
    ),
    paths(import_roster, people, issue_codes),
    components(schemas(ImportQuery, CodesRequest, CodesResponse, CodeOut, PersonOut, ApiError)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "school_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// An error answer: a stable code and a message.
#[derive(Serialize, ToSchema)]
struct ApiError {
    code: &'static str,
    message: String,
}

/// The token must belong to the school in the path.
async fn authorize(app: &AppState, headers: &HeaderMap, school: Uuid) -> Result<(), WebError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| WebError::json(AppError::NotLoggedIn))?;
    let allowed = app.school_for_token(token).await.map_err(WebError::json)?;
    if allowed != school {
        return Err(WebError::json(AppError::Forbidden));
    }
    Ok(())
}

#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
struct ImportQuery {
    /// Write the good rows even when some are bad.
    #[serde(default)]
    partial: bool,
    /// Check only.
    #[serde(default)]
    dry_run: bool,
}

/// Checks a roster (CSV with `Content-Type: text/csv`, or JSON) and writes
/// it when every row is good (or `partial`). 200 with the report when
/// nothing was wrong, 422 with every problem (row, column, reason) when
/// something was.
#[utoipa::path(
    post,
    path = "/api/v1/schools/{school}/roster",
    params(("school" = Uuid, Path, description = "The school's id"), ImportQuery),
    request_body(content = String, description = "CSV (text/csv) or JSON rows", content_type = "text/csv"),
    responses(
        (status = 200, description = "Every row good; written unless dry_run", body = Object),
        (status = 422, description = "Problems found; see `problems` and `file_problem`", body = Object),
        (status = 401, body = ApiError), (status = 403, body = ApiError)
    ),
    security(("school_token" = []))
)]
async fn import_roster(
    State(app): State<AppState>,
    RequestLang(lang): RequestLang,
    Path(school): Path<Uuid>,
    Query(query): Query<ImportQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    authorize(&app, &headers, school).await?;
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let source = BytesSource {
        bytes: body.to_vec(),
        format: if json {
            RosterFormat::Json
        } else {
            RosterFormat::Csv
        },
    };
    let options = ImportOptions {
        partial: query.partial,
        dry_run: query.dry_run,
    };
    let actor = format!("school_token:{school}");
    let report = app
        .import_roster(school, &source, &options, &actor, &|_| {})
        .await
        .map_err(WebError::json)?;
    let status = if report.ok() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(report.to_json(lang))).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
struct PeopleQuery {
    class: Option<String>,
    /// The last id of the previous page.
    after: Option<Uuid>,
    #[serde(default = "default_limit")]
    limit: i64,
}

fn default_limit() -> i64 {
    200
}

/// A person as the school entered them.
#[derive(Serialize, ToSchema)]
struct PersonOut {
    id: Uuid,
    key: Option<String>,
    role: String,
    surname: String,
    given_name: String,
    patronymic: Option<String>,
    birth_date: Option<chrono::NaiveDate>,
    snils: Option<String>,
    class_name: Option<String>,
    /// pending (not activated), active or blocked.
    status: String,
    login: Option<String>,
}

/// The school's people, in pages (`after` = last id of the previous page).
#[utoipa::path(
    get,
    path = "/api/v1/schools/{school}/people",
    params(("school" = Uuid, Path), PeopleQuery),
    responses((status = 200, body = [PersonOut]), (status = 401, body = ApiError), (status = 403, body = ApiError)),
    security(("school_token" = []))
)]
async fn people(
    State(app): State<AppState>,
    Path(school): Path<Uuid>,
    Query(query): Query<PeopleQuery>,
    headers: HeaderMap,
) -> Result<Json<Vec<PersonOut>>, WebError> {
    authorize(&app, &headers, school).await?;
    let people = app
        .school_people(school, query.class.as_deref(), query.after, query.limit)
        .await
        .map_err(WebError::json)?;
    Ok(Json(
        people
            .into_iter()
            .map(|p| PersonOut {
                id: p.id,
                key: p.key,
                role: p.role,
                surname: p.surname,
                given_name: p.given_name,
                patronymic: p.patronymic,
                birth_date: p.birth_date,
                snils: p.snils,
                class_name: p.class_name,
                status: p.status,
                login: p.login,
            })
            .collect(),
    ))
}

/// Whom to issue codes to: the whole school, one class or one account.
#[derive(Deserialize, ToSchema)]
struct CodesRequest {
    class: Option<String>,
    account: Option<Uuid>,
    /// Days until the codes expire (default 30).
    days: Option<u32>,
}

#[derive(Serialize, ToSchema)]
struct CodeOut {
    account_id: Uuid,
    key: Option<String>,
    full_name: String,
    class_name: Option<String>,
    /// The only copy of the code: it is stored hashed.
    code: String,
    activation_url: String,
}

#[derive(Serialize, ToSchema)]
struct CodesResponse {
    issued: u64,
    codes: Vec<CodeOut>,
}

/// Issues new codes to pending accounts; earlier codes of the same people
/// stop working. The response is the only place the codes appear.
#[utoipa::path(
    post,
    path = "/api/v1/schools/{school}/codes",
    params(("school" = Uuid, Path)),
    request_body = CodesRequest,
    responses((status = 200, body = CodesResponse), (status = 401, body = ApiError), (status = 403, body = ApiError)),
    security(("school_token" = []))
)]
async fn issue_codes(
    State(app): State<AppState>,
    Path(school): Path<Uuid>,
    headers: HeaderMap,
    Json(request): Json<CodesRequest>,
) -> Result<Json<CodesResponse>, WebError> {
    authorize(&app, &headers, school).await?;
    let base = app
        .config()
        .server
        .public_url
        .trim_end_matches('/')
        .to_string();
    let scope = CodeScope {
        class_name: request.class,
        account_id: request.account,
    };
    let mut codes = Vec::new();
    let mut sink = |batch: &[IssuedCode]| {
        codes.extend(batch.iter().map(|issued| CodeOut {
            account_id: issued.target.account_id,
            key: issued.target.roster_key.clone(),
            full_name: issued.full_name(),
            class_name: issued.target.class_name.clone(),
            code: issued.code.to_string(),
            activation_url: format!("{base}/activate?code={}", issued.code),
        }));
    };
    let actor = format!("school_token:{school}");
    let days = request.days.unwrap_or(app.config().activation.code_days);
    let issued = app
        .issue_codes(school, &scope, days, &actor, &mut sink)
        .await
        .map_err(WebError::json)?;
    Ok(Json(CodesResponse { issued, codes }))
}
