//! `/ops`: the operator console. Operators log in like everyone else (via
//! State Services) with an account whose role is `support` (masked view) or
//! `privileged_support` (may unmask); they type a reference code, a diary
//! login or a SNILS and see the attempts, the comparison and the remedy.
//! Every lookup is audited under `operator:{account id}`.

use axum::extract::{Form, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::error::WebError;
use super::lang::RequestLang;
use super::pages::{render, Chrome, MessagePage, OpsAccount, OpsAttempt, OpsPage};
use super::{cookies, query_param, AppState};
use crate::app::diagnose::OperatorRole;
use crate::app::AppError;
use crate::i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ops", get(console))
        .route("/ops/unlink", post(unlink))
}

async fn console(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    RequestLang(lang): RequestLang,
) -> Result<Response, WebError> {
    let cookie = cookies::get(&headers, cookies::SESSION);
    let session = match app.session(cookie.as_deref()).await {
        Ok(session) => session,
        Err(AppError::NotLoggedIn) => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            response.headers_mut().insert(
                header::LOCATION,
                HeaderValue::from_static("/?region=29&return_to=/ops"),
            );
            return Ok(response);
        }
        Err(e) => return Err(WebError::page(e, lang)),
    };
    let Some(role) = app
        .operator_role(&session)
        .await
        .map_err(|e| WebError::page(e, lang))?
    else {
        return Ok(forbidden(
            lang,
            lang.pick(
                "Консоль поддержки открыта только сотрудникам поддержки.",
                "The support console is for support staff only.",
            ),
        ));
    };
    let looked_up = query_param(query.as_deref(), "q").filter(|q| !q.trim().is_empty());
    let notice = query_param(query.as_deref(), "done")
        .filter(|done| done == "unlinked")
        .map(|_| {
            lang.pick(
                "Связь удалена; причина записана в журнал.",
                "The link was removed; the reason is in the audit log.",
            )
            .to_string()
        });
    let unmask = query_param(query.as_deref(), "unmask").is_some();
    if unmask && !role.may_unmask() {
        return Ok(forbidden(
            lang,
            lang.pick(
                "Показывать данные полностью может только старший сотрудник поддержки.",
                "Only privileged support may show the data in full.",
            ),
        ));
    }
    let actor = format!("operator:{}", session.data.account_id);
    let diagnosis = match &looked_up {
        Some(q) => Some(
            app.diagnose(q, &actor, unmask, lang)
                .await
                .map_err(|e| WebError::page(e, lang))?,
        ),
        None => None,
    };
    let page = OpsPage {
        chrome: Chrome::new(
            lang,
            lang.pick("Консоль поддержки", "Support console"),
            "/ops",
        ),
        query: looked_up.clone().unwrap_or_default(),
        may_unmask: role == OperatorRole::PrivilegedSupport,
        searched: diagnosis.is_some(),
        found: diagnosis.as_ref().is_some_and(|d| d.found),
        accounts: diagnosis
            .as_ref()
            .map(|d| {
                d.accounts
                    .iter()
                    .map(|a| OpsAccount {
                        id: a.id.to_string(),
                        summary: format!(
                            "{} — {} ({}), {}: {}",
                            a.id,
                            a.full_name,
                            a.role,
                            lang.pick("СНИЛС", "SNILS"),
                            a.snils.as_deref().unwrap_or("—")
                        ),
                        identities: a
                            .identities
                            .iter()
                            .map(|i| {
                                (
                                    i.provider.clone(),
                                    i.subject.clone(),
                                    i.linked_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                                )
                            })
                            .collect(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        csrf: session.data.csrf.clone(),
        notice,
        attempts: diagnosis
            .map(|d| {
                d.attempts
                    .into_iter()
                    .map(|a| OpsAttempt {
                        looked_up: a.looked_up,
                        at: a.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                        reference: a.reference,
                        provider: a.provider,
                        outcome: a.outcome,
                        error_code: a.error_code.unwrap_or_default(),
                        tier: match (a.tier, a.tier_known) {
                            (Some(t), Some(false)) => {
                                format!("{t} ({})", lang.pick("не известен точно", "inferred"))
                            }
                            (Some(t), _) => t,
                            (None, _) => "—".into(),
                        },
                        comparison: comparison_lines(&a.details),
                        side: a.remedy.side.label(lang).to_string(),
                        steps: a.remedy.steps,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        labels: [
            lang.pick(
                "Код обращения, логин или СНИЛС",
                "Reference code, login or SNILS",
            ),
            lang.pick("Найти", "Look up"),
            lang.pick("показать полностью", "show in full"),
            lang.pick("Ничего не найдено.", "Nothing found."),
            lang.pick("Что делать", "Remedy"),
            lang.pick("Кто исправляет", "Who fixes it"),
            lang.pick("Уровень", "Tier"),
            lang.pick("Отвязать", "Unlink"),
            lang.pick("Причина", "Reason"),
        ]
        .map(str::to_string),
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(serde::Deserialize)]
struct UnlinkForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    q: String,
}

/// `POST /ops/unlink`: remove an account's link with a provider, with a
/// reason (audited).
async fn unlink(
    State(app): State<AppState>,
    headers: HeaderMap,
    RequestLang(lang): RequestLang,
    Form(form): Form<UnlinkForm>,
) -> Result<Response, WebError> {
    let cookie = cookies::get(&headers, cookies::SESSION);
    let account = uuid::Uuid::parse_str(form.account.trim())
        .map_err(|_| WebError::page(AppError::NotFound, lang))?;
    app.operator_unlink(
        cookie.as_deref(),
        &form.csrf,
        account,
        &form.provider,
        &form.reason,
    )
    .await
    .map_err(|e| WebError::page(e, lang))?;
    let mut back = url::form_urlencoded::Serializer::new(String::new());
    back.append_pair("q", &form.q)
        .append_pair("done", "unlinked");
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/ops?{}", back.finish())) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

fn comparison_lines(details: &serde_json::Value) -> Vec<String> {
    let mut lines: Vec<String> = details
        .get("parts")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .map(|part| {
            let text = |key: &str| part.get(key).and_then(|v| v.as_str()).unwrap_or("?");
            let rules: Vec<&str> = part
                .get("rules")
                .and_then(|r| r.as_array())
                .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            if rules.is_empty() {
                format!("{}: {}", text("part"), text("comparison"))
            } else {
                format!(
                    "{}: {} ({})",
                    text("part"),
                    text("comparison"),
                    rules.join(", ")
                )
            }
        })
        .collect();
    if let Some(snils) = details.get("snils").and_then(|v| v.as_str()) {
        lines.push(format!("SNILS: {snils}"));
    } else if details.get("snils_from_idp").and_then(|v| v.as_bool()) == Some(false) {
        lines.push("SNILS: absent at the IdP".into());
    }
    lines
}

fn forbidden(lang: Lang, message: &str) -> Response {
    render(
        StatusCode::FORBIDDEN,
        &MessagePage::new(lang, lang.pick("Нет доступа", "No access"), message, None),
    )
}
