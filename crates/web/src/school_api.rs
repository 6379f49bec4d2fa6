//! The school admin API: a school's own system (or its administrator's
//! script) loads the roster, lists its people, corrects their personal data
//! and issues activation codes, authenticated by a per-school bearer token
//! (`esia-link school token`). A token acts for one school; any other
//! school's path answers 403, and another school's person 404.
//!
//! `GET /api/v1/openapi.json` is generated from these handlers (utoipa).

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use super::error::WebError;
use super::lang::RequestLang;
use super::AppState;
use app::console::actions::{Corrected, Correction};
use app::school::roster::{
    row_labels, upload_limits, BytesSource, ImportOptions, RosterFormat, RosterSource, SheetSource,
};
use app::school::{CodeScope, IssuedCode};
use app::AppError;

/// The largest roster body accepted in one request (bigger files: the CLI).
const MAX_ROSTER_BYTES: usize = 64 * 1024 * 1024;

/// The media type of an Excel workbook (`.xlsx`).
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/schools/{school}/roster",
            post(import_roster).layer(DefaultBodyLimit::max(MAX_ROSTER_BYTES)),
        )
        .route("/api/v1/schools/{school}/people", get(people))
        .route(
            "/api/v1/schools/{school}/people/{person}",
            patch(correct_person),
        )
        .route("/api/v1/schools/{school}/codes", post(issue_codes))
        .route("/api/v1/openapi.json", get(openapi))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "esia-link school admin API",
        description = "Rosters, people and activation codes of one school, authenticated by the school's bearer token."
    ),
    paths(import_roster, people, correct_person, issue_codes),
    components(schemas(
        ImportQuery, CodesRequest, CodesResponse, CodeOut, PersonOut, CorrectionRequest,
        CorrectionResponse, ApiError
    )),
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

/// An error answer: a stable code, a message and, for failures the
/// service logs, the reference code to quote to support.
#[derive(Serialize, ToSchema)]
struct ApiError {
    error: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
}

/// A request the school must fix before anything is written: 422.
fn unprocessable(error: &'static str, message: String) -> Response {
    let body = ApiError {
        error,
        message,
        reference: None,
    };
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

/// The token must belong to the school in the path.
async fn authorize(app: &AppState, headers: &HeaderMap, school: Uuid) -> Result<(), WebError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| WebError::json(AppError::NotLoggedIn))?;
    let allowed = app
        .school()
        .school_for_token(token)
        .await
        .map_err(WebError::json)?;
    if allowed != school {
        return Err(WebError::json(AppError::Forbidden));
    }
    Ok(())
}

#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ImportQuery {
    /// Write the good rows even when some are bad.
    #[serde(default)]
    partial: bool,
    /// Check only.
    #[serde(default)]
    dry_run: bool,
}

/// Checks a roster (CSV with `Content-Type: text/csv`, JSON, or an Excel
/// workbook — XLSX, one sheet, values not formulas, within the `[uploads]`
/// limits, as the school console takes it) and writes it when every row is
/// good (or `partial`). 200 with the report when nothing was wrong, 422
/// with every problem (row as the spreadsheet numbers it, column, reason)
/// when something was.
#[utoipa::path(
    post,
    path = "/api/v1/schools/{school}/roster",
    params(("school" = Uuid, Path, description = "The school's id"), ImportQuery),
    request_body(
        description = "CSV (text/csv), JSON rows (application/json) or an XLSX workbook",
        content(
            (String = "text/csv"),
            (Object = "application/json"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        )
    ),
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
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let options = ImportOptions {
        partial: query.partial,
        dry_run: query.dry_run,
    };
    let actor = format!("school_token:{school}");
    // A workbook goes through the reader and limits the console uses, so
    // its rows are reported by the numbers the spreadsheet shows.
    let source: Box<dyn RosterSource + Send> =
        if content_type.starts_with(XLSX) || body.starts_with(b"PK\x03\x04") {
            Box::new(SheetSource {
                bytes: body,
                limits: upload_limits(app.config()),
            })
        } else {
            Box::new(BytesSource {
                bytes: body.to_vec(),
                format: if content_type.starts_with("application/json") {
                    RosterFormat::Json
                } else {
                    RosterFormat::Csv
                },
            })
        };
    let report = app
        .school()
        .import_roster(school, source.as_ref(), &options, &actor, &|_| {})
        .await
        .map_err(WebError::json)?;
    let status = if report.ok() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    // As the console's report: each problem row's key and name, and how
    // to fix it.
    let mut json = report.to_json(lang);
    let rows: BTreeSet<u64> = report.problems.iter().map(|p| p.row).collect();
    let labels = row_labels(source.as_ref(), &rows);
    if let Some(problems) = json.get_mut("problems").and_then(|p| p.as_array_mut()) {
        for (value, problem) in problems.iter_mut().zip(&report.problems) {
            if let Some(label) = labels.get(&problem.row) {
                value["key"] = label.key.clone().into();
                value["name"] = label.name.clone().into();
            }
            value["fix"] = ::texts::how_to_fix(&problem.problem, lang).into();
        }
    }
    Ok((status, Json(json)).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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
        .school()
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

/// What the school corrects; an absent field keeps its value. The name is
/// corrected as a whole, as written in the person's documents: once any
/// part is given, `surname` and `given_name` are required and an absent
/// `patronymic` means "none".
#[derive(Deserialize, ToSchema)]
struct CorrectionRequest {
    surname: Option<String>,
    given_name: Option<String>,
    patronymic: Option<String>,
    /// `YYYY-MM-DD`.
    birth_date: Option<String>,
    /// With or without the dashes: `112-233-445 95` or `11223344595`.
    snils: Option<String>,
    /// Why, for the audit log (at least 5 characters). Required.
    #[serde(default)]
    reason: String,
}

#[derive(Serialize, ToSchema)]
struct CorrectionResponse {
    /// The fields that changed (audited); empty when the record already
    /// said so.
    changed: Vec<&'static str>,
}

/// Corrects a person's name, birth date or SNILS, with a reason (audited
/// with the changed fields, masked). A person of another school is 404; a
/// field that does not parse, nothing to correct or no reason is 422, and
/// nothing changes.
#[utoipa::path(
    patch,
    path = "/api/v1/schools/{school}/people/{person}",
    params(("school" = Uuid, Path), ("person" = Uuid, Path, description = "The person's id from `people`")),
    request_body = CorrectionRequest,
    responses(
        (status = 200, body = CorrectionResponse),
        (status = 422, description = "A field does not parse, nothing to correct, or no reason", body = ApiError),
        (status = 404, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError)
    ),
    security(("school_token" = []))
)]
async fn correct_person(
    State(app): State<AppState>,
    RequestLang(lang): RequestLang,
    Path((school, person)): Path<(Uuid, Uuid)>,
    headers: HeaderMap,
    request: Result<Json<CorrectionRequest>, JsonRejection>,
) -> Result<Response, WebError> {
    authorize(&app, &headers, school).await?;
    let Json(request) = match request {
        Ok(request) => request,
        Err(rejection) => return Ok(unprocessable("request.invalid", rejection.body_text())),
    };
    // An absent field reads as the console's blank one: keep the value.
    let correction = match Correction::parse(
        request.surname.as_deref().unwrap_or_default(),
        request.given_name.as_deref().unwrap_or_default(),
        request.patronymic.as_deref().unwrap_or_default(),
        request.birth_date.as_deref().unwrap_or_default(),
        request.snils.as_deref().unwrap_or_default(),
    ) {
        Ok(correction) => correction,
        Err(e) => return Ok(unprocessable("correction.invalid", e.message(lang))),
    };
    let actor = format!("school_token:{school}");
    match app
        .console().correct_school_person(school, &actor, person, &correction, &request.reason)
        .await
    {
        Ok(corrected) => {
            let changed = match corrected {
                Corrected::Changed(fields) => fields,
                Corrected::Unchanged => Vec::new(),
            };
            Ok(Json(CorrectionResponse { changed }).into_response())
        }
        Err(AppError::ReasonRequired) => Ok(unprocessable(
            AppError::ReasonRequired.code(),
            lang.pick(
                "Укажите причину исправления (не короче 5 знаков): она записывается в журнал аудита.",
                "Give the reason for the correction (at least 5 characters): it goes to the audit log.",
            )
            .to_string(),
        )),
        Err(e) => Err(WebError::json(e)),
    }
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
        .school()
        .issue_codes(school, &scope, days, &actor, &mut sink)
        .await
        .map_err(WebError::json)?;
    Ok(Json(CodesResponse { issued, codes }))
}
