//! Diary access: services, bases, family refusals and denials.

use domain::access::{moscow, Basis, DenyReason, FamilyRefusal, Service, ServiceSet};
use i18n::Lang;

use crate::{DenyText, Label, ServicesText, StaticMessage};

impl Label for Service {
    fn label(self, lang: Lang) -> &'static str {
        match self {
            Service::Diary => lang.pick("дневник (оценки, задания)", "diary (marks, homework)"),
            Service::AttendanceMeals => lang.pick("посещаемость и питание", "attendance and meals"),
        }
    }
}
impl ServicesText for ServiceSet {
    fn labels(self, lang: Lang) -> String {
        self.iter()
            .map(|s| s.label(lang))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
impl Label for Basis {
    fn label(self, lang: Lang) -> &'static str {
        match self {
            Basis::SelfPupil => lang.pick("это вы", "yourself"),
            Basis::Parent => lang.pick("родитель", "parent"),
            Basis::Trusted => lang.pick("доверенное лицо", "trusted person"),
        }
    }
}
impl StaticMessage for FamilyRefusal {
    fn message(self, lang: Lang) -> &'static str {
        let t = |ru, en| lang.pick(ru, en);
        match self {
            FamilyRefusal::NotAddressedToYou => t(
                "Это приглашение адресовано другому человеку. Принять его может только тот, чьи фамилия и СНИЛС (или телефон) в нём указаны.",
                "This invitation is addressed to someone else. Only the person whose surname and SNILS (or phone) it names can accept it.",
            ),
            FamilyRefusal::NotYourInvitation => t(
                "Отозвать приглашение может только родитель, который его отправил.",
                "Only the parent who sent the invitation can revoke it.",
            ),
            FamilyRefusal::Expired => t(
                "Срок приглашения истёк. Попросите родителя отправить новое.",
                "The invitation has expired. Ask the parent to send a new one.",
            ),
            FamilyRefusal::AlreadyAnswered => t(
                "На это приглашение уже ответили.",
                "This invitation has been answered already.",
            ),
            FamilyRefusal::Revoked => t(
                "Приглашение или доступ отозваны.",
                "The invitation or access has been revoked.",
            ),
            FamilyRefusal::NotConfirmedParent => t(
                "Приглашать доверенных лиц может только родитель, чья связь с ребёнком подтверждена. Примите приглашение школы в центре уведомлений или обратитесь в школу.",
                "Only a parent whose link to the child is confirmed can invite trusted persons. Accept the school's invitation in the notification centre or contact the school.",
            ),
            FamilyRefusal::TrustedCannotInvite => t(
                "Доверенное лицо не может приглашать других. Приглашает только родитель.",
                "A trusted person cannot invite others. Only a parent can.",
            ),
            FamilyRefusal::NoServices => t(
                "Выберите хотя бы один сервис: дневник или посещаемость и питание.",
                "Choose at least one service: the diary, or attendance and meals.",
            ),
            FamilyRefusal::SurnameMissing => t(
                "Укажите фамилию приглашаемого, как в его учётной записи Госуслуг.",
                "Enter the invitee's surname as in their State Services account.",
            ),
            FamilyRefusal::ContactMissing => t(
                "Укажите СНИЛС или номер мобильного телефона приглашаемого.",
                "Enter the invitee's SNILS or mobile phone number.",
            ),
            FamilyRefusal::BadSnils => t(
                "СНИЛС указан неверно: 11 цифр, например 123-456-789 01.",
                "The SNILS is invalid: 11 digits, e.g. 123-456-789 01.",
            ),
            FamilyRefusal::BadPhone => t(
                "Укажите номер мобильного телефона: +7 9XX XXX-XX-XX.",
                "Enter a mobile phone number: +7 9XX XXX-XX-XX.",
            ),
            FamilyRefusal::AlreadyInvited => t(
                "Этот человек уже приглашён для этого ребёнка. Чтобы изменить сервисы, отзовите приглашение и пригласите снова.",
                "This person is invited for this child already. To change the services, revoke it and invite again.",
            ),
            FamilyRefusal::SelfInvitation => t(
                "Нельзя пригласить самого себя.",
                "You cannot invite yourself.",
            ),
        }
    }
}
impl DenyText for DenyReason {
    fn message(self, lang: Lang) -> String {
        match self {
            DenyReason::NotYetOpen { opens_at } => match lang {
                Lang::Ru => format!("доступ откроется {} МСК", moscow(opens_at)),
                Lang::En => format!("access opens at {} Moscow time", moscow(opens_at)),
            },
            other => {
                let (ru, en) = match other {
                    DenyReason::NotAPupil => ("такого ученика нет", "there is no such pupil"),
                    DenyReason::NoRelationship => ("нет связи с учеником", "no link to the pupil"),
                    DenyReason::NotConfirmed => (
                        "связь с ребёнком не подтверждена родителем",
                        "the parent has not confirmed the link to the child",
                    ),
                    DenyReason::NotAccepted => {
                        ("приглашение не принято", "the invitation is not accepted")
                    }
                    DenyReason::Revoked => ("доступ отозван", "access was revoked"),
                    DenyReason::Expired => ("срок приглашения истёк", "the invitation expired"),
                    DenyReason::Declined => {
                        ("приглашение отклонено", "the invitation was declined")
                    }
                    DenyReason::ServiceNotGranted => (
                        "этот сервис не открыт доверенному лицу",
                        "this service is not granted to the trusted person",
                    ),
                    DenyReason::ParentLinkEnded => (
                        "родитель, открывший доступ, больше не связан с ребёнком",
                        "the parent who granted access is no longer linked to the child",
                    ),
                    DenyReason::OutsideSchool => (
                        "ученик не из школы, от имени которой задан вопрос",
                        "the pupil is not at the school that asked",
                    ),
                    DenyReason::ViewerBlocked => (
                        "учётная запись того, кто смотрит, заблокирована",
                        "the viewer's account is blocked",
                    ),
                    DenyReason::NotYetOpen { .. } => ("", ""),
                };
                lang.pick(ru, en).to_string()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 9, 1, 9, 0, 0)
            .single()
            .expect("time")
    }
    #[test]
    fn deny_messages_exist_in_both_languages() {
        let reasons = [
            DenyReason::NotAPupil,
            DenyReason::NoRelationship,
            DenyReason::NotConfirmed,
            DenyReason::NotYetOpen { opens_at: t0() },
            DenyReason::NotAccepted,
            DenyReason::Revoked,
            DenyReason::Expired,
            DenyReason::Declined,
            DenyReason::ServiceNotGranted,
            DenyReason::ParentLinkEnded,
            DenyReason::OutsideSchool,
            DenyReason::ViewerBlocked,
        ];
        for r in reasons {
            assert!(
                !r.message(Lang::Ru).is_empty() && !r.message(Lang::En).is_empty(),
                "{r:?}"
            );
        }
        assert_eq!(
            DenyReason::NotYetOpen { opens_at: t0() }.message(Lang::Ru),
            "доступ откроется 01.09.2025 12:00 МСК"
        );
    }

    #[test]
    fn refusals_have_codes_and_messages_in_both_languages() {
        use FamilyRefusal::*;
        let all = [
            NotAddressedToYou,
            NotYourInvitation,
            Expired,
            AlreadyAnswered,
            Revoked,
            NotConfirmedParent,
            TrustedCannotInvite,
            NoServices,
            SurnameMissing,
            ContactMissing,
            BadSnils,
            BadPhone,
            AlreadyInvited,
            SelfInvitation,
        ];
        for r in all {
            assert!(r.code().starts_with("family."), "{r:?}");
            assert_ne!(r.message(Lang::Ru), r.message(Lang::En), "{r:?}");
        }
    }
}
