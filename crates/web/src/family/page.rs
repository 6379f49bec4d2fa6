//! The family page: children, invitations sent and received, what this session sees, the invitation form.

use askama::Template;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono_tz::Tz;
use serde::Deserialize;
use uuid::Uuid;

use super::texts::{state_text, t};
use super::{done_notice, form_session, page_session, refusal_page, refusal_status, see_other};
use crate::error::WebError;
use crate::lang::RequestLang;
use crate::pages::{render, Chrome};
use crate::{query_param, AppState};
use ::texts::prelude::*;
use app::family::{FamilyOverview, InvitationView, InviteForm};
use domain::access::{FamilyRefusal, InvitationState, Service, ServiceSet};
use i18n::{local_time, Lang};

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

pub(super) fn invitation_row(
    v: &InvitationView,
    zone: Tz,
    lang: Lang,
    received: bool,
) -> InvitationRow {
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

pub(super) fn family_labels(lang: Lang, overview: &FamilyOverview) -> FamilyLabels {
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
        since: t(lang, "Открыт с", "Open since"),
        upcoming_heading: t(lang, "Откроется позже", "Opens later"),
        school: t(lang, "Школа", "School"),
        notifications: t(lang, "Центр уведомлений", "Notification centre"),
    }
}

pub(super) fn family_view(
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

pub(super) fn blank_form() -> FormValues {
    FormValues {
        surname: String::new(),
        snils: String::new(),
        phone: String::new(),
        diary: true,
        attendance_meals: false,
    }
}

pub(super) async fn family_page(
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
pub(super) struct InviteIn {
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

pub(super) async fn invite(
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
