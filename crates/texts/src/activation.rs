//! Activation: refused codes and contact problems.

use domain::activation::{CodeRefusal, ContactProblem};
use i18n::Lang;

use crate::StaticMessage;

impl StaticMessage for CodeRefusal {
    fn message(self, lang: Lang) -> &'static str {
        match self {
            CodeRefusal::Unknown => lang.pick(
                "Такого кода нет. Проверьте, что код введён с листа-приглашения без ошибок.",
                "There is no such code. Check that you typed the code from the invitation sheet correctly.",
            ),
            CodeRefusal::Expired => lang.pick(
                "Срок действия кода истёк. Попросите в школе новый код.",
                "The code has expired. Ask your school for a new code.",
            ),
            CodeRefusal::Used => lang.pick(
                "Этот код уже использован: учётная запись активирована. Войдите с логином и паролем или через Госуслуги.",
                "This code has been used: the account is activated. Log in with your login and password or via State Services.",
            ),
            CodeRefusal::Revoked => lang.pick(
                "Школа выдала вам новый код, этот больше не действует. Используйте код с последнего листа-приглашения.",
                "Your school has issued a newer code, so this one no longer works. Use the code from the latest invitation sheet.",
            ),
            CodeRefusal::AccountActive => lang.pick(
                "Учётная запись уже активна. Войдите с логином и паролем или через Госуслуги.",
                "The account is active already. Log in with your login and password or via State Services.",
            ),
            CodeRefusal::AccountBlocked => lang.pick(
                "Учётная запись заблокирована, поэтому код сейчас не действует. Обратитесь к администратору дневника в школе.",
                "The account is blocked, so the code does not work now. Contact the e-diary administrator at your school.",
            ),
        }
    }
}
impl StaticMessage for ContactProblem {
    fn message(self, lang: Lang) -> &'static str {
        match self {
            ContactProblem::BadEmail => lang.pick(
                "Адрес электронной почты указан неверно (пример: ivanova@mail.ru).",
                "The e-mail address is not valid (example: ivanova@mail.ru).",
            ),
            ContactProblem::BadPhone => lang.pick(
                "Укажите номер мобильного телефона: +7 9XX XXX-XX-XX.",
                "Enter a mobile phone number: +7 9XX XXX-XX-XX.",
            ),
        }
    }
}
