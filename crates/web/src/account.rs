//! `GET /account` and `POST /logout`: the logged-in person.

use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::error::WebError;
use super::lang::RequestLang;
use super::pages::{render, AccountLabels, AccountPage, Chrome, LinkRow, SupportBlock};
use super::{cookies, AppState};
use ::texts::prelude::*;
use app::AppError;
use i18n::{local_time, Lang};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(account))
        .route("/logout", post(logout))
        .route("/logout/everywhere", post(logout_everywhere))
}

pub fn role_label(role: &str, lang: Lang) -> String {
    match role {
        "pupil" => lang.pick("ученик", "pupil"),
        "parent" => lang.pick("родитель", "parent"),
        "teacher" => lang.pick("учитель", "teacher"),
        "school_admin" => lang.pick("администратор школы", "school administrator"),
        "trusted" => lang.pick("доверенное лицо", "trusted person"),
        other => other,
    }
    .to_string()
}

fn redirect(location: &'static str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    response
        .headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(location));
    response
}

async fn account(
    State(app): State<AppState>,
    headers: HeaderMap,
    RequestLang(lang): RequestLang,
) -> Result<Response, WebError> {
    let cookie = cookies::get(&headers, cookies::SESSION);
    let session = match app.account().session(cookie.as_deref()).await {
        Ok(session) => session,
        Err(AppError::NotLoggedIn) => return Ok(redirect("/")),
        Err(e) => return Err(e.into()),
    };
    let me = app.account().me(&session).await?;
    let just_linked = app.account().take_link_notice(&session).await?;
    let notice = just_linked.then(|| {
        let provider = me
            .linked_identities
            .iter()
            .find(|l| l.provider == session.data.provider)
            .map(|l| lang.pick(&l.provider_name_ru, &l.provider_name_en).to_string())
            .unwrap_or_else(|| session.data.provider.clone());
        match lang {
            Lang::Ru => format!(
                "Ваша учётная запись «{provider}» теперь связана с учётной записью дневника {}. В следующий раз вход будет сразу.",
                me.full_name.display()
            ),
            Lang::En => format!(
                "Your {provider} account is now linked to the e-diary account of {}. Next time you will be logged in directly.",
                me.full_name.display()
            ),
        }
    });
    // Times by the clock of the account's region, the zone named.
    let region_code = me.region.as_ref().map(|r| r.code);
    let zone = app.account().time_zone(region_code);
    let support = app
        .account()
        .support_for(me.school.as_ref().map(|s| s.id), region_code);
    let page = AccountPage {
        chrome: Chrome::new(lang, lang.pick("Учётная запись", "Account"), "/account"),
        heading: lang.pick("Вы вошли в дневник", "You are logged in").into(),
        notice,
        labels: AccountLabels {
            name: lang.pick("ФИО", "Full name").into(),
            role: lang.pick("Роль", "Role").into(),
            school: lang.pick("Школа", "School").into(),
            region: lang.pick("Регион", "Region").into(),
            identities: lang
                .pick("Связанные учётные записи", "Linked identities")
                .into(),
            provider: lang.pick("Через", "Provider").into(),
            tier: lang.pick("Уровень", "Tier").into(),
            linked_at: lang.pick("Связана", "Linked at").into(),
            logout: lang.pick("Выйти", "Log out").into(),
            logout_everywhere: lang
                .pick("Выйти на всех устройствах", "Log out everywhere")
                .into(),
        },
        full_name: me.full_name.display(),
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
                provider: lang
                    .pick(&l.provider_name_ru, &l.provider_name_en)
                    .to_string(),
                tier: l
                    .tier
                    .map(|t| t.label(lang).to_string())
                    .unwrap_or_default(),
                linked_at: local_time(l.linked_at, zone, lang),
            })
            .collect(),
        csrf: session.data.csrf.clone(),
        support: Some(SupportBlock::new(lang, support.as_ref())),
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(app): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Result<Response, WebError> {
    let cookie = cookies::get(&headers, cookies::SESSION);
    let next = app.account().logout(cookie.as_deref(), &form.csrf).await?;
    Ok(logged_out(&app, &next))
}

async fn logout_everywhere(
    State(app): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Result<Response, WebError> {
    let cookie = cookies::get(&headers, cookies::SESSION);
    let next = app
        .account()
        .logout_everywhere(cookie.as_deref(), &form.csrf)
        .await?;
    Ok(logged_out(&app, &next))
}

/// 303 to `next` with the session cookie removed.
fn logged_out(app: &AppState, next: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(next) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    cookies::remove(
        response.headers_mut(),
        cookies::SESSION,
        "/",
        app.config().server.secure_cookies,
    );
    response
}
