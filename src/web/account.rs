//! `GET /account` and `POST /logout`: the logged-in person.

use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::lang::RequestLang;
use super::pages::{
    render, temporary_error, AccountLabels, AccountPage, Chrome, LinkRow, MessagePage,
};
use super::{cookies, AppState};
use crate::federation::mask_subject;
use crate::i18n::Lang;
use crate::login::session::{tokens_equal, SessionData, SESSION_COOKIE};
use crate::store::StoreError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(account))
        .route("/logout", post(logout))
}

/// The session behind the request's cookie, with its cookie value.
pub async fn current_session(
    state: &AppState,
    headers: &HeaderMap,
) -> Option<(String, SessionData)> {
    let id = cookies::get(headers, SESSION_COOKIE)?;
    match state.sessions.get(&id).await {
        Ok(Some(data)) => Some((id, data)),
        Ok(None) => None,
        Err(e) => {
            tracing::error!(error = %e, "session store unavailable");
            None
        }
    }
}

/// Who the session is: the JSON of `/api/v1/me` and the account page.
#[derive(Debug, Serialize)]
pub struct Me {
    pub account_id: Uuid,
    pub role: String,
    pub full_name: FullNameJson,
    pub school: Option<SchoolJson>,
    pub region: Option<RegionJson>,
    pub linked_identities: Vec<IdentityJson>,
}

#[derive(Debug, Serialize)]
pub struct FullNameJson {
    pub surname: String,
    pub given_name: String,
    pub patronymic: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SchoolJson {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct RegionJson {
    pub code: i64,
    pub name_ru: String,
    pub name_en: String,
}

#[derive(Debug, Serialize)]
pub struct IdentityJson {
    pub provider: String,
    pub subject_masked: String,
    pub tier: String,
    pub linked_at: chrono::DateTime<chrono::Utc>,
}

pub async fn load_me(state: &AppState, session: &SessionData) -> Result<Me, StoreError> {
    let account = state.store.get_account(session.account_id).await?;
    let school = match account.school_id {
        Some(id) => Some(state.store.get_school(id).await?),
        None => None,
    };
    let region = match &school {
        Some(s) => state
            .store
            .list_regions()
            .await?
            .into_iter()
            .find(|r| r.code == s.region_code),
        None => None,
    };
    let links = state.store.links_for_account(account.id).await?;
    Ok(Me {
        account_id: account.id,
        role: account.role.clone(),
        full_name: FullNameJson {
            surname: account.surname.clone(),
            given_name: account.given_name.clone(),
            patronymic: account.patronymic.clone(),
        },
        school: school.map(|s| SchoolJson {
            id: s.id,
            name: s.name,
        }),
        region: region.map(|r| RegionJson {
            code: r.code,
            name_ru: r.name_ru,
            name_en: r.name_en,
        }),
        linked_identities: links
            .into_iter()
            .map(|l| IdentityJson {
                provider: l.provider,
                subject_masked: mask_subject(&l.subject),
                tier: l.tier_at_link,
                linked_at: l.linked_at,
            })
            .collect(),
    })
}

pub fn role_label(role: &str, lang: Lang) -> String {
    match role {
        "pupil" => lang.pick("ученик", "pupil"),
        "parent" => lang.pick("родитель", "parent"),
        "teacher" => lang.pick("учитель", "teacher"),
        "school_admin" => lang.pick("администратор школы", "school administrator"),
        other => other,
    }
    .to_string()
}

async fn account(
    State(state): State<AppState>,
    headers: HeaderMap,
    RequestLang(lang): RequestLang,
) -> Response {
    let Some((_, session)) = current_session(&state, &headers).await else {
        let mut response = StatusCode::SEE_OTHER.into_response();
        response
            .headers_mut()
            .insert(header::LOCATION, HeaderValue::from_static("/"));
        return response;
    };
    let me = match load_me(&state, &session).await {
        Ok(me) => me,
        Err(e) => {
            tracing::error!(error = %e, "cannot load the account of a session");
            return temporary_error(lang, None);
        }
    };
    let full_name = [
        Some(me.full_name.surname.as_str()),
        Some(me.full_name.given_name.as_str()),
        me.full_name.patronymic.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let page = AccountPage {
        chrome: Chrome::new(lang, lang.pick("Учётная запись", "Account"), "/account"),
        heading: lang.pick("Вы вошли в дневник", "You are logged in").into(),
        labels: AccountLabels {
            name: lang.pick("ФИО", "Full name").into(),
            role: lang.pick("Роль", "Role").into(),
            school: lang.pick("Школа", "School").into(),
            region: lang.pick("Регион", "Region").into(),
            identities: lang
                .pick("Связанные учётные записи", "Linked identities")
                .into(),
            provider: lang.pick("Через", "Provider").into(),
            subject: lang.pick("Идентификатор", "Identifier").into(),
            tier: lang.pick("Уровень", "Tier").into(),
            linked_at: lang.pick("Связана", "Linked at").into(),
            logout: lang.pick("Выйти", "Log out").into(),
        },
        full_name,
        role: role_label(&me.role, lang),
        school: me
            .school
            .as_ref()
            .map(|s| s.name.clone())
            .unwrap_or_default(),
        region: me
            .region
            .as_ref()
            .map(|r| format!("{} — {}", r.code, lang.pick(&r.name_ru, &r.name_en)))
            .unwrap_or_default(),
        links: me
            .linked_identities
            .iter()
            .map(|l| LinkRow {
                provider: l.provider.clone(),
                subject: l.subject_masked.clone(),
                tier: crate::domain::tier::Tier::parse(&l.tier)
                    .map(|t| t.label(lang).to_string())
                    .unwrap_or_else(|| l.tier.clone()),
                linked_at: l.linked_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            })
            .collect(),
        csrf: session.csrf.clone(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    RequestLang(lang): RequestLang,
    Form(form): Form<LogoutForm>,
) -> Response {
    let secure = state.config.server.secure_cookies;
    let mut out = HeaderMap::new();
    if let Some((id, session)) = current_session(&state, &headers).await {
        if !tokens_equal(&form.csrf, &session.csrf) {
            let page = MessagePage::new(
                lang,
                lang.pick("Запрос отклонён", "Request refused"),
                lang.pick(
                    "Форма устарела или отправлена с другого сайта. Обновите страницу и попробуйте снова.",
                    "The form is stale or was sent from another site. Reload the page and try again.",
                ),
                None,
            );
            return render(StatusCode::FORBIDDEN, &page);
        }
        if let Err(e) = state.sessions.destroy(&id).await {
            tracing::error!(error = %e, "cannot end a session");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    cookies::remove(&mut out, SESSION_COOKIE, "/", secure);
    out.insert(header::LOCATION, HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, out).into_response()
}
