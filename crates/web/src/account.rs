//! `GET /account` and `POST /logout`: the logged-in person.

use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::error::WebError;
use super::lang::RequestLang;
use super::pages::{
    render, AccountLabels, AccountNext, AccountPage, Anchor, Chrome, InvitationToAnswer, LinkRow,
    SupportBlock,
};
use super::{cookies, AppState};
use ::texts::prelude::*;
use app::account::home::Home;
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
    let home = app.account().home(&session).await?;
    let me = &home.me;
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
        school: me.school.as_ref().map(|s| s.name.clone()),
        region: me
            .region
            .as_ref()
            .map(|r| format!("{} — {}", r.code, lang.pick(&r.name_ru, &r.name_en))),
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
        next: next_steps(&home, lang),
        csrf: session.data.csrf.clone(),
        support: Some(SupportBlock::new(lang, support.as_ref())),
    };
    Ok(render(StatusCode::OK, &page))
}

/// The ways forward from the account page.
fn next_steps(home: &Home, lang: Lang) -> AccountNext {
    let diaries = home
        .diaries
        .iter()
        .map(|d| {
            let place = [d.school.as_deref(), d.class_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ");
            let whose = if d.own {
                lang.pick("Ваш дневник", "Your diary").to_string()
            } else {
                format!("{}: {}", lang.pick("Дневник", "Diary"), d.full_name)
            };
            Anchor {
                id: format!("diary-{}", d.pupil_id),
                href: d.diary_url.clone(),
                text: if place.is_empty() {
                    whose
                } else {
                    format!("{whose} ({place})")
                },
            }
        })
        .collect();
    let upcoming = home
        .upcoming
        .iter()
        .map(|u| {
            let opens = local_time(u.opens_at, home.zone, lang);
            match lang {
                Lang::Ru => format!("Дневник: {} — откроется {opens}", u.full_name),
                Lang::En => format!("Diary: {} — opens {opens}", u.full_name),
            }
        })
        .collect();
    let invitations = home
        .invitations
        .iter()
        .map(|i| InvitationToAnswer {
            id: i.id.to_string(),
            text: match lang {
                Lang::Ru => format!(
                    "{} приглашает вас видеть дневник: {}. Примите приглашение, и доступ откроется после проверочного срока.",
                    i.inviter, i.pupil
                ),
                Lang::En => format!(
                    "{} invites you to see a diary: {}. Accept, and access opens after the waiting period.",
                    i.inviter, i.pupil
                ),
            },
        })
        .collect();
    let mut links = vec![Anchor {
        id: "to-notifications".into(),
        href: "/notifications".into(),
        text: match (lang, home.unread) {
            (Lang::Ru, 0) => "Уведомления".into(),
            (Lang::Ru, n) => format!("Уведомления: новых {n}"),
            (Lang::En, 0) => "Notifications".into(),
            (Lang::En, n) => format!("Notifications: {n} unread"),
        },
    }];
    if home.proposals > 0 {
        links.push(Anchor {
            id: "to-proposals".into(),
            href: "/notifications".into(),
            text: match lang {
                Lang::Ru => format!(
                    "Школа ждёт вашего подтверждения связи с ребёнком: {}",
                    home.proposals
                ),
                Lang::En => format!(
                    "Your school waits for you to confirm a child: {}",
                    home.proposals
                ),
            },
        });
    }
    if home.family_page {
        links.push(Anchor {
            id: "to-family".into(),
            href: "/family".into(),
            text: lang
                .pick(
                    "Семья: дети и доверенные лица",
                    "Family: children and trusted persons",
                )
                .into(),
        });
    }
    if home.console {
        links.push(Anchor {
            id: "to-console".into(),
            href: "/ops".into(),
            text: lang.pick("Консоль поддержки", "Support console").into(),
        });
    }
    let link_providers = home
        .unlinked
        .iter()
        .map(|p| Anchor {
            id: format!("link-{}", p.id),
            href: format!("/auth/start/{}?lang={}", p.id, lang.code()),
            text: format!(
                "{} {}",
                lang.pick("Связать с", "Link"),
                lang.pick(&p.display_name_ru, &p.display_name_en)
            ),
        })
        .collect();
    AccountNext {
        diaries_heading: lang.pick("Дневники", "Diaries").into(),
        diaries,
        upcoming,
        invitations_heading: lang
            .pick(
                "Приглашения ждут вашего ответа",
                "Invitations waiting for your answer",
            )
            .into(),
        invitations,
        accept: lang.pick("Принять", "Accept").into(),
        decline: lang.pick("Отклонить", "Decline").into(),
        links,
        link_providers,
        link_hint: lang
            .pick(
                "Свяжите учётную запись с Госуслугами, и входить можно будет без пароля.",
                "Link your account with State Services to log in without a password.",
            )
            .into(),
    }
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
