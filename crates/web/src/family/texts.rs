//! The family pages' wording in Russian and English: invitation states, notices.

use chrono_tz::Tz;

use crate::grammar::{pupil_in, Person};
use ::texts::prelude::*;
use app::family::{NoticeKind, NotificationItem, Side};
use decline::Case;
use domain::access::InvitationState;
use domain::roster::Column;
use i18n::{local_time, Lang};

pub(super) fn t(lang: Lang, ru: &str, en: &str) -> String {
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
    // Russian: names declined, words agreeing with each person's gender.
    let child = Person::read(&pupil);
    let actor = Person::read(&other);
    let pupil_gen = pupil_in(&pupil, Case::Genitive);
    let pupil_dat = pupil_in(&pupil, Case::Dative);
    let other_gen = actor.case(Case::Genitive);
    let their = child.pick("его", "её", "его (её)");
    match (n.kind, lang) {
        (NoticeKind::RelationshipInvitation, Lang::Ru) => format!(
            "Школа «{school}» указала вас родителем {pupil_gen}. Подтвердите, что это ваш ребёнок, — тогда {their} дневник будет виден в вашей учётной записи."
        ),
        (NoticeKind::RelationshipInvitation, Lang::En) => format!(
            "The school \"{school}\" lists you as a parent of {pupil}. Confirm that this is your child to see their diary in your account."
        ),
        (NoticeKind::RelationshipConfirmed, Lang::Ru) if n.side == Some(Side::Pupil) => {
            format!(
                "{} {other} {} связь с вами и теперь видит ваш дневник.",
                actor.pick("Отец", "Мама", "Родитель"),
                actor.pick("подтвердил", "подтвердила", "подтвердил(а)")
            )
        }
        (NoticeKind::RelationshipConfirmed, Lang::En) if n.side == Some(Side::Pupil) => {
            format!("Parent {other} confirmed the link to you and now sees your diary.")
        }
        (NoticeKind::RelationshipConfirmed, Lang::Ru) => format!(
            "Связь с ребёнком ({pupil}) подтверждена: {their} дневник виден в вашей учётной записи."
        ),
        (NoticeKind::RelationshipConfirmed, Lang::En) => format!(
            "Your link to {pupil} is confirmed: their diary is visible in your account."
        ),
        (NoticeKind::TrustedInvitation, Lang::Ru) => format!(
            "{other} приглашает вас доверенным лицом {pupil_gen}: {services}. Приглашение действует до {expires}."
        ),
        (NoticeKind::TrustedInvitation, Lang::En) => format!(
            "{other} invites you as a trusted person of {pupil}: {services}. The invitation is valid until {expires}."
        ),
        (NoticeKind::InvitationSent, Lang::Ru) => format!(
            "Приглашение отправлено: {other}, {} ({services}). Оно действует до {expires}; {} его после входа через Госуслуги.",
            pupil_in(&pupil, Case::Nominative),
            actor.pick("приглашённый увидит", "приглашённая увидит", "приглашённый человек увидит")
        ),
        (NoticeKind::InvitationSent, Lang::En) => format!(
            "Invitation sent: {other}, pupil {pupil} ({services}). It is valid until {expires}; the invitee sees it after logging in via State Services."
        ),
        (NoticeKind::InvitationAccepted, Lang::Ru) if parent_side => format!(
            "{other} {} приглашение для {pupil_gen}. Доступ откроется {opens}.",
            actor.pick("принял", "приняла", "принял(а)")
        ),
        (NoticeKind::InvitationAccepted, Lang::En) if parent_side => format!(
            "{other} accepted the invitation for {pupil}. Access opens at {opens}."
        ),
        (NoticeKind::InvitationAccepted, Lang::Ru) => format!(
            "Вы приняли приглашение. Доступ к {pupil_dat} ({services}) откроется {opens}."
        ),
        (NoticeKind::InvitationAccepted, Lang::En) => format!(
            "You accepted the invitation. Access to {pupil} ({services}) opens at {opens}."
        ),
        (NoticeKind::InvitationDeclined, Lang::Ru) if parent_side => {
            format!(
                "{other} {} приглашение для {pupil_gen}.",
                actor.pick("отклонил", "отклонила", "отклонил(а)")
            )
        }
        (NoticeKind::InvitationDeclined, Lang::En) if parent_side => {
            format!("{other} declined the invitation for {pupil}.")
        }
        (NoticeKind::InvitationDeclined, Lang::Ru) => {
            format!("Вы отклонили приглашение {other_gen} для {pupil_gen}.")
        }
        (NoticeKind::InvitationDeclined, Lang::En) => {
            format!("You declined the invitation from {other} for {pupil}.")
        }
        (NoticeKind::InvitationExpired, Lang::Ru) => format!(
            "Приглашение для {other_gen} ({pupil_gen}) не принято вовремя и больше не действует. Его можно отправить снова на странице «Семья»."
        ),
        (NoticeKind::InvitationExpired, Lang::En) => format!(
            "The invitation of {other} for {pupil} was not accepted in time and no longer works. You can send it again on the Family page."
        ),
        (NoticeKind::AccessOpened, Lang::Ru) if parent_side => {
            format!("Доступ {other_gen} к {pupil_dat} открыт: {services}.")
        }
        (NoticeKind::AccessOpened, Lang::En) if parent_side => {
            format!("Access of {other} to {pupil} is open: {services}.")
        }
        (NoticeKind::AccessOpened, Lang::Ru) => {
            format!("Доступ к {pupil_dat} открыт: {services}.")
        }
        (NoticeKind::AccessOpened, Lang::En) => {
            format!("Your access to {pupil} is open: {services}.")
        }
        (NoticeKind::AccessRevoked, Lang::Ru) if parent_side => {
            format!("Вы отозвали доступ {other_gen} к {pupil_dat}.")
        }
        (NoticeKind::AccessRevoked, Lang::En) if parent_side => {
            format!("You revoked the access of {other} to {pupil}.")
        }
        (NoticeKind::AccessRevoked, Lang::Ru) => {
            format!(
                "{other} {} ваш доступ к {pupil_dat}.",
                actor.pick("отозвал", "отозвала", "отозвал(а)")
            )
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
pub(super) fn corrected_fields(fields: &[Column], lang: Lang) -> String {
    fields
        .iter()
        .map(|c| c.label(lang))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn item_state_text(n: &NotificationItem, zone: Tz, lang: Lang) -> Option<String> {
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
