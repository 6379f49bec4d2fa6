//! Who may see whose diary, over HTTP.
//!
//! | path | what |
//! | --- | --- |
//! | `GET /notifications` | the notification centre: invitations (accept/decline), notices |
//! | `POST /notifications/{id}/read` | mark one read |
//! | `POST /family/relationships/{id}/{accept,decline}` | answer a school's parent-child link |
//! | `GET /family` | children, invitations sent and received, what this session sees |
//! | `POST /family/invitations` | invite a trusted person (surname + SNILS or phone, services, child) |
//! | `POST /family/invitations/{id}/{accept,decline,revoke,reinvite}` | the invitation's steps |
//! | `GET /api/v1/me/notifications`, `POST /api/v1/me/notifications/{id}/read` | the same as JSON (`X-CSRF-Token` header) |
//! | `GET /api/v1/me/access` | pupils this session may see, with basis, services, since/until |
//! | `GET /api/v1/access?viewer=&pupil=&service=` | service-to-service check, school API bearer token |
//!
//! Plain HTML forms carrying the session's CSRF token; no JavaScript.

use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::error::WebError;
use super::lang::RequestLang;
use super::pages::{render, Chrome};
use super::{cookies, query_param, AppState};
use app::family::{FamilyOverview, InvitationView, InviteForm, NoticeKind, NotificationItem, Side};
use app::shared::Session;
use app::AppError;
use domain::access::{
    Answer, FamilyRefusal, InvitationAction, InvitationState, Service, ServiceSet,
};
use domain::roster::Column;
use i18n::{local_time, Lang};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(notifications_page))
        .route("/notifications/{id}/read", post(read_form))
        .route("/family", get(family_page))
        .route(
            "/family/relationships/{id}/{answer}",
            post(answer_relationship),
        )
        .route("/family/invitations", post(invite))
        .route("/family/invitations/{id}/{action}", post(invitation_step))
        .route("/api/v1/me/notifications", get(notifications_json))
        .route("/api/v1/me/notifications/{id}/read", post(read_json))
        .route("/api/v1/me/access", get(my_access))
        .route("/api/v1/access", get(check_access))
}

// ---------------------------------------------------------------------------
// Texts.

fn t(lang: Lang, ru: &str, en: &str) -> String {
    lang.pick(ru, en).to_string()
}

/// What an invitation's state reads like.
pub fn state_text(state: InvitationState, zone: Tz, lang: Lang) -> String {
    match state {
        InvitationState::Pending { expires_at } => match lang {
            Lang::Ru => format!("ждёт ответа до {}", local_time(expires_at, zone, lang)),
            Lang::En => format!(
                "awaiting an answer until {}",
                local_time(expires_at, zone, lang)
            ),
        },
        InvitationState::Expired => t(lang, "срок истёк", "expired"),
        InvitationState::Declined => t(lang, "отклонено", "declined"),
        InvitationState::Waiting { opens_at } => match lang {
            Lang::Ru => format!(
                "принято, доступ откроется {}",
                local_time(opens_at, zone, lang)
            ),
            Lang::En => format!(
                "accepted, access opens at {}",
                local_time(opens_at, zone, lang)
            ),
        },
        InvitationState::Open { since } => match lang {
            Lang::Ru => format!("доступ открыт с {}", local_time(since, zone, lang)),
            Lang::En => format!("access open since {}", local_time(since, zone, lang)),
        },
        InvitationState::Revoked => t(lang, "отозвано", "revoked"),
    }
}

/// The sentence a notification shows.
pub fn notice_text(n: &NotificationItem, zone: Tz, lang: Lang) -> String {
    let pupil = n.pupil.clone().unwrap_or_default();
    let other = n.other.clone().unwrap_or_default();
    let school = n.school.clone().unwrap_or_default();
    let services = n.services.labels(lang);
    let opens = n
        .opens_at
        .map(|o| local_time(o, zone, lang))
        .unwrap_or_default();
    let expires = n
        .expires_at
        .map(|o| local_time(o, zone, lang))
        .unwrap_or_default();
    let parent_side = n.side != Some(Side::Invitee) && n.side != Some(Side::Pupil);
    match (n.kind, lang) {
        (NoticeKind::RelationshipInvitation, Lang::Ru) => format!(
            "Школа «{school}» указала вас родителем ученика {pupil}. Подтвердите, что это ваш ребёнок, — тогда его дневник будет виден в вашей учётной записи."
        ),
        (NoticeKind::RelationshipInvitation, Lang::En) => format!(
            "The school \"{school}\" lists you as a parent of {pupil}. Confirm that this is your child to see their diary in your account."
        ),
        (NoticeKind::RelationshipConfirmed, Lang::Ru) if n.side == Some(Side::Pupil) => {
            format!("Родитель {other} подтвердил связь с вами и теперь видит ваш дневник.")
        }
        (NoticeKind::RelationshipConfirmed, Lang::En) if n.side == Some(Side::Pupil) => {
            format!("Parent {other} confirmed the link to you and now sees your diary.")
        }
        (NoticeKind::RelationshipConfirmed, Lang::Ru) => format!(
            "Связь с ребёнком {pupil} подтверждена: его дневник виден в вашей учётной записи."
        ),
        (NoticeKind::RelationshipConfirmed, Lang::En) => format!(
            "Your link to {pupil} is confirmed: their diary is visible in your account."
        ),
        (NoticeKind::TrustedInvitation, Lang::Ru) => format!(
            "{other} приглашает вас доверенным лицом ученика {pupil}: {services}. Приглашение действует до {expires}."
        ),
        (NoticeKind::TrustedInvitation, Lang::En) => format!(
            "{other} invites you as a trusted person of {pupil}: {services}. The invitation is valid until {expires}."
        ),
        (NoticeKind::InvitationSent, Lang::Ru) => format!(
            "Приглашение отправлено: {other}, ученик {pupil} ({services}). Оно действует до {expires}; приглашённый увидит его после входа через Госуслуги."
        ),
        (NoticeKind::InvitationSent, Lang::En) => format!(
            "Invitation sent: {other}, pupil {pupil} ({services}). It is valid until {expires}; the invitee sees it after logging in via State Services."
        ),
        (NoticeKind::InvitationAccepted, Lang::Ru) if parent_side => format!(
            "{other} принял(а) приглашение для ученика {pupil}. Доступ откроется {opens}."
        ),
        (NoticeKind::InvitationAccepted, Lang::En) if parent_side => format!(
            "{other} accepted the invitation for {pupil}. Access opens at {opens}."
        ),
        (NoticeKind::InvitationAccepted, Lang::Ru) => format!(
            "Вы приняли приглашение. Доступ к ученику {pupil} ({services}) откроется {opens}."
        ),
        (NoticeKind::InvitationAccepted, Lang::En) => format!(
            "You accepted the invitation. Access to {pupil} ({services}) opens at {opens}."
        ),
        (NoticeKind::InvitationDeclined, Lang::Ru) if parent_side => {
            format!("{other} отклонил(а) приглашение для ученика {pupil}.")
        }
        (NoticeKind::InvitationDeclined, Lang::En) if parent_side => {
            format!("{other} declined the invitation for {pupil}.")
        }
        (NoticeKind::InvitationDeclined, Lang::Ru) => {
            format!("Вы отклонили приглашение {other} для ученика {pupil}.")
        }
        (NoticeKind::InvitationDeclined, Lang::En) => {
            format!("You declined the invitation from {other} for {pupil}.")
        }
        (NoticeKind::InvitationExpired, Lang::Ru) => format!(
            "Приглашение {other} для ученика {pupil} не принято вовремя и больше не действует. Его можно отправить снова на странице «Семья»."
        ),
        (NoticeKind::InvitationExpired, Lang::En) => format!(
            "The invitation of {other} for {pupil} was not accepted in time and no longer works. You can send it again on the Family page."
        ),
        (NoticeKind::AccessOpened, Lang::Ru) if parent_side => {
            format!("Доступ {other} к ученику {pupil} открыт: {services}.")
        }
        (NoticeKind::AccessOpened, Lang::En) if parent_side => {
            format!("Access of {other} to {pupil} is open: {services}.")
        }
        (NoticeKind::AccessOpened, Lang::Ru) => {
            format!("Доступ к ученику {pupil} открыт: {services}.")
        }
        (NoticeKind::AccessOpened, Lang::En) => {
            format!("Your access to {pupil} is open: {services}.")
        }
        (NoticeKind::AccessRevoked, Lang::Ru) if parent_side => {
            format!("Вы отозвали доступ {other} к ученику {pupil}.")
        }
        (NoticeKind::AccessRevoked, Lang::En) if parent_side => {
            format!("You revoked the access of {other} to {pupil}.")
        }
        (NoticeKind::AccessRevoked, Lang::Ru) => {
            format!("{other} отозвал(а) ваш доступ к ученику {pupil}.")
        }
        (NoticeKind::AccessRevoked, Lang::En) => {
            format!("{other} revoked your access to {pupil}.")
        }
        (NoticeKind::DataCorrected, _) if n.corrected.is_empty() => t(
            lang,
            "Школа исправила ваши данные в дневнике.",
            "The school corrected your data in the diary.",
        ),
        (NoticeKind::DataCorrected, Lang::Ru) => format!(
            "Школа исправила ваши данные в дневнике: {}. Если вход через Госуслуги не удавался из-за расхождения данных, попробуйте войти снова.",
            corrected_fields(&n.corrected, lang)
        ),
        (NoticeKind::DataCorrected, Lang::En) => format!(
            "The school corrected your data in the diary: {}. If logging in via State Services failed because the data differed, try again.",
            corrected_fields(&n.corrected, lang)
        ),
        (NoticeKind::Other, lang) => t(lang, "Уведомление", "Notification"),
    }
}

/// `фамилия, дата рождения`.
fn corrected_fields(fields: &[Column], lang: Lang) -> String {
    fields
        .iter()
        .map(|c| c.label(lang))
        .collect::<Vec<_>>()
        .join(", ")
}

fn item_state_text(n: &NotificationItem, zone: Tz, lang: Lang) -> Option<String> {
    let state = n.state.as_deref()?;
    Some(match state {
        "confirmed" => t(lang, "подтверждено", "confirmed"),
        "declined" => t(lang, "отклонено", "declined"),
        "revoked" => t(lang, "отозвано", "revoked"),
        "proposed" | "pending" => t(lang, "ждёт вашего ответа", "awaiting your answer"),
        "expired" => t(lang, "срок истёк", "expired"),
        "waiting" => match (n.opens_at, lang) {
            (Some(o), Lang::Ru) => {
                format!("принято, доступ откроется {}", local_time(o, zone, lang))
            }
            (Some(o), Lang::En) => {
                format!("accepted, access opens at {}", local_time(o, zone, lang))
            }
            _ => t(lang, "принято", "accepted"),
        },
        "open" => t(lang, "доступ открыт", "access open"),
        _ => return None,
    })
}

fn refusal_status(refusal: FamilyRefusal) -> StatusCode {
    match refusal {
        FamilyRefusal::NotAddressedToYou
        | FamilyRefusal::NotYourInvitation
        | FamilyRefusal::TrustedCannotInvite
        | FamilyRefusal::NotConfirmedParent
        | FamilyRefusal::SelfInvitation => StatusCode::FORBIDDEN,
        r if r.is_input() => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::CONFLICT,
    }
}

// ---------------------------------------------------------------------------
// Pages.

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

pub struct ChildOption {
    pub id: String,
    pub name: String,
    pub school: String,
    pub class_name: String,
    pub selected: bool,
}

pub struct InvitationRow {
    pub id: String,
    pub pupil: String,
    pub person: String,
    pub services: String,
    pub state: String,
    pub state_code: &'static str,
    pub can_revoke: bool,
    pub can_reinvite: bool,
    pub can_answer: bool,
}

pub struct AccessRow {
    pub name: String,
    pub school: String,
    pub basis: String,
    pub services: String,
    pub since: String,
}

pub struct FamilyLabels {
    pub children: String,
    pub no_children: String,
    pub proposals: Option<String>,
    pub invite_heading: String,
    pub invite_intro: String,
    pub child: String,
    pub surname: String,
    pub snils: String,
    pub phone: String,
    pub contact_hint: String,
    pub services: String,
    pub diary: String,
    pub attendance_meals: String,
    pub send: String,
    pub trusted_note: String,
    pub sent_heading: String,
    pub received_heading: String,
    pub person: String,
    pub pupil: String,
    pub state: String,
    pub revoke: String,
    pub reinvite: String,
    pub accept: String,
    pub decline: String,
    pub access_heading: String,
    pub nobody: String,
    pub basis: String,
    pub since: String,
    pub upcoming_heading: String,
    pub school: String,
    pub notifications: String,
}

pub struct FormValues {
    pub surname: String,
    pub snils: String,
    pub phone: String,
    pub diary: bool,
    pub attendance_meals: bool,
}

#[derive(Template)]
#[template(path = "family.html")]
pub struct FamilyPage {
    pub chrome: Chrome,
    pub heading: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub labels: FamilyLabels,
    pub can_invite: bool,
    pub children: Vec<ChildOption>,
    pub sent: Vec<InvitationRow>,
    pub received: Vec<InvitationRow>,
    pub access: Vec<AccessRow>,
    pub upcoming: Vec<AccessRow>,
    pub form: FormValues,
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "family_message.html")]
pub struct FamilyMessagePage {
    pub chrome: Chrome,
    pub message: String,
    pub code: &'static str,
    pub notifications: String,
    pub family: String,
}

fn refusal_page(refusal: FamilyRefusal, lang: Lang) -> Response {
    let page = FamilyMessagePage {
        chrome: Chrome::new(
            lang,
            lang.pick("Действие не выполнено", "Not done"),
            "/family",
        ),
        message: refusal.message(lang).to_string(),
        code: refusal.code(),
        notifications: t(lang, "Центр уведомлений", "Notification centre"),
        family: t(
            lang,
            "Семья и доверенные лица",
            "Family and trusted persons",
        ),
    };
    render(refusal_status(refusal), &page)
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// The session, or `None` (the page sends the browser to the login page).
async fn page_session(app: &AppState, headers: &HeaderMap) -> Result<Option<Session>, WebError> {
    let cookie = cookies::get(headers, cookies::SESSION);
    match app.account().session(cookie.as_deref()).await {
        Ok(session) => Ok(Some(session)),
        Err(AppError::NotLoggedIn) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn form_session(app: &AppState, headers: &HeaderMap) -> Result<Session, WebError> {
    let cookie = cookies::get(headers, cookies::SESSION);
    Ok(app.account().session(cookie.as_deref()).await?)
}

fn parse_id(text: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(text).map_err(|_| AppError::NotFound)
}

fn done_notice(done: Option<String>, lang: Lang) -> Option<String> {
    Some(match done?.as_str() {
        "accepted" => t(lang, "Приглашение принято.", "Invitation accepted."),
        "declined" => t(lang, "Приглашение отклонено.", "Invitation declined."),
        "confirmed" => t(
            lang,
            "Связь с ребёнком подтверждена.",
            "The link to the child is confirmed.",
        ),
        "sent" => t(
            lang,
            "Приглашение отправлено. Приглашённый увидит его в центре уведомлений после входа через Госуслуги.",
            "Invitation sent. The invitee sees it in the notification centre after logging in via State Services.",
        ),
        "revoked" => t(
            lang,
            "Доступ отозван. Он закрыт сразу.",
            "Access revoked. It is closed at once.",
        ),
        _ => return None,
    })
}

async fn notifications_page(
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
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn read_form(
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

async fn answer_relationship(
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

async fn invitation_step(
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

fn invitation_row(v: &InvitationView, zone: Tz, lang: Lang, received: bool) -> InvitationRow {
    InvitationRow {
        id: v.id.to_string(),
        pupil: v.pupil.clone(),
        person: if received {
            v.inviter.clone()
        } else {
            v.grantee.clone().unwrap_or_else(|| v.invitee.clone())
        },
        services: v.services.labels(lang),
        state: state_text(v.state, zone, lang),
        state_code: v.state.code(),
        can_revoke: v.can_revoke,
        can_reinvite: v.can_reinvite,
        can_answer: received && matches!(v.state, InvitationState::Pending { .. }),
    }
}

fn family_labels(lang: Lang, overview: &FamilyOverview) -> FamilyLabels {
    FamilyLabels {
        children: t(lang, "Ваши дети", "Your children"),
        no_children: t(
            lang,
            "Подтверждённых связей с детьми нет. Когда школа укажет вас родителем, приглашение появится в центре уведомлений.",
            "No confirmed links to children. When a school lists you as a parent, the invitation appears in the notification centre.",
        ),
        proposals: (overview.proposals > 0).then(|| match lang {
            Lang::Ru => format!(
                "Ждут вашего подтверждения в центре уведомлений: {}.",
                overview.proposals
            ),
            Lang::En => format!(
                "Waiting for your confirmation in the notification centre: {}.",
                overview.proposals
            ),
        }),
        invite_heading: t(lang, "Пригласить доверенное лицо", "Invite a trusted person"),
        invite_intro: match lang {
            Lang::Ru => format!(
                "Бабушка, няня или другой взрослый увидит выбранные сервисы ребёнка через {} ч после того, как примет приглашение. Доступ можно отозвать в любой момент.",
                overview.opening_delay_hours
            ),
            Lang::En => format!(
                "A grandparent, nanny or other adult sees the chosen services of the child {} hours after accepting the invitation. You can revoke access at any time.",
                overview.opening_delay_hours
            ),
        },
        child: t(lang, "Ребёнок", "Child"),
        surname: t(lang, "Фамилия приглашаемого", "Invitee's surname"),
        snils: t(lang, "СНИЛС", "SNILS"),
        phone: t(lang, "или мобильный телефон", "or mobile phone"),
        contact_hint: t(
            lang,
            "Как в учётной записи Госуслуг приглашаемого. Номер хранится только в виде хеша.",
            "As in the invitee's State Services account. The number is stored only as a hash.",
        ),
        services: t(lang, "Сервисы", "Services"),
        diary: Service::Diary.label(lang).to_string(),
        attendance_meals: Service::AttendanceMeals.label(lang).to_string(),
        send: t(lang, "Отправить приглашение", "Send invitation"),
        trusted_note: t(
            lang,
            "Вы доверенное лицо: приглашать других может только родитель.",
            "You are a trusted person: only a parent can invite others.",
        ),
        sent_heading: t(lang, "Отправленные приглашения", "Invitations you sent"),
        received_heading: t(lang, "Приглашения вам", "Invitations to you"),
        person: t(lang, "Кто", "Who"),
        pupil: t(lang, "Ученик", "Pupil"),
        state: t(lang, "Состояние", "State"),
        revoke: t(lang, "Отозвать", "Revoke"),
        reinvite: t(lang, "Пригласить снова", "Invite again"),
        accept: t(lang, "Принять", "Accept"),
        decline: t(lang, "Отклонить", "Decline"),
        access_heading: t(lang, "Чьи дневники вы видите", "Whose diaries you see"),
        nobody: t(lang, "Пока ничьи.", "None yet."),
        basis: t(lang, "Основание", "Basis"),
        since: t(lang, "С", "Since"),
        upcoming_heading: t(lang, "Откроется позже", "Opens later"),
        school: t(lang, "Школа", "School"),
        notifications: t(lang, "Центр уведомлений", "Notification centre"),
    }
}

fn family_view(
    lang: Lang,
    overview: &FamilyOverview,
    csrf: &str,
    notice: Option<String>,
    error: Option<String>,
    form: FormValues,
    selected: Option<Uuid>,
) -> FamilyPage {
    let zone = overview.zone;
    FamilyPage {
        chrome: Chrome::new(lang, lang.pick("Семья", "Family"), "/family"),
        heading: t(
            lang,
            "Семья и доверенные лица",
            "Family and trusted persons",
        ),
        notice,
        error,
        labels: family_labels(lang, overview),
        can_invite: overview.can_invite,
        children: overview
            .children
            .iter()
            .map(|c| ChildOption {
                id: c.pupil_id.to_string(),
                name: c.full_name.clone(),
                school: c.school.clone().unwrap_or_default(),
                class_name: c.class_name.clone().unwrap_or_default(),
                selected: selected == Some(c.pupil_id),
            })
            .collect(),
        sent: overview
            .sent
            .iter()
            .map(|v| invitation_row(v, zone, lang, false))
            .collect(),
        received: overview
            .received
            .iter()
            .map(|v| invitation_row(v, zone, lang, true))
            .collect(),
        access: overview
            .access
            .pupils
            .iter()
            .map(|p| AccessRow {
                name: p.full_name.clone(),
                school: p.school.clone().unwrap_or_default(),
                basis: p.basis.label(lang).to_string(),
                services: p.services.labels(lang),
                since: p
                    .since
                    .map(|s| local_time(s, zone, lang))
                    .unwrap_or_default(),
            })
            .collect(),
        upcoming: overview
            .access
            .upcoming
            .iter()
            .map(|u| AccessRow {
                name: u.full_name.clone(),
                school: String::new(),
                basis: domain::access::Basis::Trusted.label(lang).to_string(),
                services: u.services.labels(lang),
                since: local_time(u.opens_at, zone, lang),
            })
            .collect(),
        form,
        csrf: csrf.to_string(),
    }
}

fn blank_form() -> FormValues {
    FormValues {
        surname: String::new(),
        snils: String::new(),
        phone: String::new(),
        diary: true,
        attendance_meals: false,
    }
}

async fn family_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    RequestLang(lang): RequestLang,
) -> Result<Response, WebError> {
    let Some(session) = page_session(&app, &headers).await? else {
        return Ok(see_other("/"));
    };
    let overview = app.family().overview(&session).await?;
    let notice = done_notice(query_param(uri.query(), "done"), lang);
    let page = family_view(
        lang,
        &overview,
        &session.data.csrf,
        notice,
        None,
        blank_form(),
        None,
    );
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
struct InviteIn {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pupil: String,
    #[serde(default)]
    surname: String,
    #[serde(default)]
    snils: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    service_diary: Option<String>,
    #[serde(default)]
    service_attendance_meals: Option<String>,
}

async fn invite(
    State(app): State<AppState>,
    headers: HeaderMap,
    RequestLang(lang): RequestLang,
    Form(form): Form<InviteIn>,
) -> Result<Response, WebError> {
    let session = form_session(&app, &headers).await?;
    let mut services = Vec::new();
    if form.service_diary.is_some() {
        services.push(Service::Diary);
    }
    if form.service_attendance_meals.is_some() {
        services.push(Service::AttendanceMeals);
    }
    let pupil = Uuid::parse_str(form.pupil.trim()).ok();
    let request = InviteForm {
        pupil_id: pupil,
        surname: form.surname.chars().take(200).collect(),
        snils: form.snils.chars().take(64).collect(),
        phone: form.phone.chars().take(64).collect(),
        services: ServiceSet::of(services),
    };
    let refusal = match app
        .family()
        .invite_trusted(&session, &form.csrf, &request)
        .await?
    {
        Ok(_) => return Ok(see_other("/family?done=sent")),
        Err(refusal) => refusal,
    };
    if !refusal.is_input() && refusal != FamilyRefusal::AlreadyInvited {
        return Ok(refusal_page(refusal, lang));
    }
    // The form again, as typed, with what to fix.
    let overview = app.family().overview(&session).await?;
    let values = FormValues {
        surname: request.surname,
        snils: request.snils,
        phone: request.phone,
        diary: request.services.contains(Service::Diary),
        attendance_meals: request.services.contains(Service::AttendanceMeals),
    };
    let page = family_view(
        lang,
        &overview,
        &session.data.csrf,
        None,
        Some(refusal.message(lang).to_string()),
        values,
        pupil,
    );
    Ok(render(refusal_status(refusal), &page))
}

// ---------------------------------------------------------------------------
// JSON.

#[derive(Serialize)]
struct NotificationJson {
    #[serde(flatten)]
    item: NotificationItem,
    text: String,
}

async fn json_session(app: &AppState, headers: &HeaderMap) -> Result<Session, WebError> {
    let cookie = cookies::get(headers, cookies::SESSION);
    app.account()
        .session(cookie.as_deref())
        .await
        .map_err(WebError::json)
}

async fn notifications_json(
    State(app): State<AppState>,
    headers: HeaderMap,
    RequestLang(lang): RequestLang,
) -> Result<Response, WebError> {
    let session = json_session(&app, &headers).await?;
    let centre = app
        .family()
        .notifications(&session)
        .await
        .map_err(WebError::json)?;
    let zone = centre.zone;
    let items: Vec<NotificationJson> = centre
        .items
        .into_iter()
        .map(|item| NotificationJson {
            text: notice_text(&item, zone, lang),
            item,
        })
        .collect();
    Ok(Json(json!({ "unread": centre.unread, "items": items })).into_response())
}

async fn read_json(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let session = json_session(&app, &headers).await?;
    let csrf = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let id = parse_id(&id).map_err(WebError::json)?;
    app.family()
        .mark_notification_read(&session, &csrf, id)
        .await
        .map_err(WebError::json)?;
    Ok(Json(json!({ "id": id, "read": true })).into_response())
}

async fn my_access(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, WebError> {
    let session = json_session(&app, &headers).await?;
    let list = app
        .family()
        .my_access(&session)
        .await
        .map_err(WebError::json)?;
    Ok(Json(list).into_response())
}

fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": "access.bad_request", "message": message })),
    )
        .into_response()
}

/// Service to service: the school's system asks with its API bearer token
/// (`esia-link school token`) whether `viewer` may see `service` of
/// `pupil` (one of that school's pupils). 200 with `allowed` and, when
/// denied, a `reason` code; 401 without a token, 403 with a bad one.
async fn check_access(
    State(app): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| WebError::json(AppError::NotLoggedIn))?;
    let query = uri.query();
    let uuid = |name: &str| query_param(query, name).and_then(|v| Uuid::parse_str(v.trim()).ok());
    let (Some(viewer), Some(pupil)) = (uuid("viewer"), uuid("pupil")) else {
        return Ok(bad_request("viewer and pupil must be account ids (UUID)"));
    };
    let Some(service) = query_param(query, "service").and_then(|s| Service::parse(&s)) else {
        return Ok(bad_request("service must be diary or attendance_meals"));
    };
    let answer = app
        .family()
        .check_access(token, viewer, pupil, service)
        .await
        .map_err(WebError::json)?;
    Ok(Json(answer).into_response())
}
