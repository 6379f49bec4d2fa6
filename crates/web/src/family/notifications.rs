//! The notification centre and the answers given from it.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::texts::{item_state_text, notice_text, t};
use super::{done_notice, form_session, page_session, parse_id, refusal_page, see_other};
use crate::error::WebError;
use crate::lang::RequestLang;
use crate::pages::{render, Chrome};
use crate::{query_param, AppState};
use app::AppError;
use domain::access::{Answer, InvitationAction};
use i18n::{local_time, Lang};

pub struct NotificationRow {
    pub id: String,
    pub kind: &'static str,
    pub unread: bool,
    pub text: String,
    pub state: Option<String>,
    pub when: String,
    pub answer_path: Option<String>,
}

pub struct NotificationLabels {
    pub new: String,
    pub accept: String,
    pub decline: String,
    pub mark_read: String,
    pub empty: String,
    pub family: String,
    pub account: String,
    pub state: String,
}

#[derive(Template)]
#[template(path = "notifications.html")]
pub struct NotificationsPage {
    pub chrome: Chrome,
    pub heading: String,
    pub unread_text: String,
    pub notice: Option<String>,
    pub labels: NotificationLabels,
    pub items: Vec<NotificationRow>,
    pub csrf: String,
}

pub(super) async fn notifications_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    RequestLang(lang): RequestLang,
) -> Result<Response, WebError> {
    let Some(session) = page_session(&app, &headers).await? else {
        return Ok(see_other("/"));
    };
    let centre = app.family().notifications(&session).await?;
    let items = centre
        .items
        .iter()
        .map(|n| NotificationRow {
            id: n.id.to_string(),
            kind: n.kind.code(),
            unread: !n.read,
            text: notice_text(n, centre.zone, lang),
            state: item_state_text(n, centre.zone, lang),
            when: local_time(n.created_at, centre.zone, lang),
            answer_path: n.answer.as_ref().map(|a| a.path.clone()),
        })
        .collect();
    let page = NotificationsPage {
        chrome: Chrome::new(
            lang,
            lang.pick("Уведомления", "Notifications"),
            "/notifications",
        ),
        heading: t(lang, "Центр уведомлений", "Notification centre"),
        unread_text: match lang {
            Lang::Ru => format!("Непрочитанных: {}", centre.unread),
            Lang::En => format!("Unread: {}", centre.unread),
        },
        notice: done_notice(query_param(uri.query(), "done"), lang),
        labels: NotificationLabels {
            new: t(lang, "Новое", "New"),
            accept: t(lang, "Принять", "Accept"),
            decline: t(lang, "Отклонить", "Decline"),
            mark_read: t(lang, "Прочитано", "Mark read"),
            empty: t(lang, "Уведомлений нет.", "No notifications."),
            family: t(
                lang,
                "Семья и доверенные лица",
                "Family and trusted persons",
            ),
            account: t(lang, "Учётная запись", "Account"),
            state: t(lang, "Состояние:", "State:"),
        },
        items,
        csrf: session.data.csrf.clone(),
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub(super) async fn read_form(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    let session = form_session(&app, &headers).await?;
    let id = parse_id(&id)?;
    app.family()
        .mark_notification_read(&session, &form.csrf, id)
        .await?;
    Ok(see_other("/notifications"))
}

pub(super) async fn answer_relationship(
    State(app): State<AppState>,
    headers: HeaderMap,
    RequestLang(lang): RequestLang,
    Path((id, answer)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    let session = form_session(&app, &headers).await?;
    let id = parse_id(&id)?;
    let answer = Answer::parse(&answer).ok_or(AppError::NotFound)?;
    match app
        .family()
        .answer_relationship(&session, &form.csrf, id, answer)
        .await?
    {
        Ok(_) => Ok(see_other(match answer {
            Answer::Accept => "/notifications?done=confirmed",
            Answer::Decline => "/notifications?done=declined",
        })),
        Err(refusal) => Ok(refusal_page(refusal, lang)),
    }
}

pub(super) async fn invitation_step(
    State(app): State<AppState>,
    headers: HeaderMap,
    RequestLang(lang): RequestLang,
    Path((id, step)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, WebError> {
    let session = form_session(&app, &headers).await?;
    let id = parse_id(&id)?;
    let (action, done) = match step.as_str() {
        "accept" => (InvitationAction::Accept, "/notifications?done=accepted"),
        "decline" => (InvitationAction::Decline, "/notifications?done=declined"),
        "revoke" => (InvitationAction::Revoke, "/family?done=revoked"),
        "reinvite" => {
            return match app.family().reinvite(&session, &form.csrf, id).await? {
                Ok(_) => Ok(see_other("/family?done=sent")),
                Err(refusal) => Ok(refusal_page(refusal, lang)),
            };
        }
        _ => return Err(AppError::NotFound.into()),
    };
    match app
        .family()
        .act_on_invitation(&session, &form.csrf, id, action)
        .await?
    {
        Ok(_) => Ok(see_other(done)),
        Err(refusal) => Ok(refusal_page(refusal, lang)),
    }
}
