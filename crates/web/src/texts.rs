//! What the outcome page says, in Russian and English: what happened, who
//! can fix it, what to do next. Kept in one place so the wording of every
//! outcome can be reviewed together.

use ::texts::prelude::*;
use app::login::OutcomeReport;
use domain::link::OutcomeCode;
use domain::name::PartVerdict;
use domain::tier::Tier;
use i18n::Lang;

pub struct OutcomeText {
    pub title: String,
    pub summary: String,
    /// "Who can fix it" line.
    pub fixer: String,
    pub steps: Vec<String>,
    /// One line per name part that matters.
    pub details: Vec<String>,
    pub success: bool,
}

pub fn outcome_text(report: &OutcomeReport, lang: Lang) -> OutcomeText {
    let t = |ru: &str, en: &str| lang.pick(ru, en).to_string();
    let school = t(
        "школа (администратор электронного дневника)",
        "the school (the e-diary administrator)",
    );
    let you_esia = t(
        "вы сами — в профиле на Госуслугах",
        "you — in your State Services profile",
    );
    let support = t("служба поддержки", "support");
    let credentials_later = t(
        "Или свяжите учётные записи сами (кнопки ниже): логином и паролем от дневника или кодом активации с листа-приглашения от школы.",
        "Or link the accounts yourself (the buttons below): with your e-diary login and password, or with the activation code from your school's invitation sheet.",
    );
    // Exhaustive: an outcome without wording does not compile.
    match report.outcome {
        OutcomeCode::LoggedIn | OutcomeCode::Linked => OutcomeText {
            title: t("Вход выполнен", "You are logged in"),
            summary: t(
                "Учётная запись Госуслуг связана с вашей учётной записью в дневнике.",
                "Your State Services account is linked to your e-diary account.",
            ),
            fixer: String::new(),
            steps: vec![],
            details: vec![],
            success: true,
        },
        OutcomeCode::SnilsMissing => OutcomeText {
            title: t("В профиле Госуслуг нет СНИЛС", "Your State Services profile has no SNILS"),
            summary: t(
                "Госуслуги не передали ваш СНИЛС, поэтому мы не можем найти вашу учётную запись в дневнике.",
                "State Services did not send your SNILS, so we cannot find your e-diary account.",
            ),
            fixer: you_esia,
            steps: vec![
                t(
                    "Добавьте СНИЛС в профиль на Госуслугах (Профиль → Документы и данные) и дождитесь его проверки, затем войдите снова.",
                    "Add your SNILS to your State Services profile (Profile → Documents) and wait for it to be checked, then log in again.",
                ),
                credentials_later,
            ],
            details: vec![],
            success: false,
        },
        OutcomeCode::NoAccount => OutcomeText {
            title: t("Учётная запись в дневнике не найдена", "No e-diary account found"),
            summary: t(
                "В дневнике нет учётной записи с вашим СНИЛС. Скорее всего, школа не внесла ваш СНИЛС или внесла его с ошибкой.",
                "No e-diary account has your SNILS. Most likely the school has not recorded your SNILS, or recorded it with a mistake.",
            ),
            fixer: school.clone(),
            steps: vec![
                t(
                    "Обратитесь к администратору дневника в школе и назовите код обращения: школа проверит ваш СНИЛС.",
                    "Contact the e-diary administrator at your school and give them the reference code: the school will check your SNILS.",
                ),
                credentials_later,
            ],
            details: vec![],
            success: false,
        },
        OutcomeCode::NameMismatch => name_mismatch(report, lang, school, you_esia),
        OutcomeCode::Ambiguous => OutcomeText {
            title: t("Найдено несколько учётных записей", "Several accounts found"),
            summary: t(
                "Ваш СНИЛС записан в дневнике у нескольких учётных записей. Это ошибка в данных школы, и выбрать за вас мы не можем.",
                "Your SNILS is recorded on several e-diary accounts. This is an error in the school's data, and we cannot choose for you.",
            ),
            fixer: school,
            steps: vec![t(
                "Сообщите администратору дневника в школе код обращения: школа исправит СНИЛС в лишних записях.",
                "Give the e-diary administrator at your school the reference code: the school will correct the SNILS on the wrong records.",
            )],
            details: vec![],
            success: false,
        },
        OutcomeCode::LinkedElsewhere => OutcomeText {
            title: t(
                "Дневник уже связан с другой учётной записью Госуслуг",
                "The e-diary account is linked to another State Services account",
            ),
            summary: t(
                "Похоже, у вас две учётные записи на Госуслугах: дневник связан с той, через которую вы вошли в первый раз.",
                "It looks like you have two State Services accounts: the e-diary is linked to the one you used the first time.",
            ),
            fixer: support,
            steps: vec![
                t(
                    "Войдите через ту учётную запись Госуслуг, которой пользовались раньше.",
                    "Log in with the State Services account you used before.",
                ),
                t(
                    "Если её больше нет — обратитесь в службу поддержки с кодом обращения: связь можно перенести.",
                    "If you no longer have it, contact support with the reference code: the link can be moved.",
                ),
            ],
            details: vec![],
            success: false,
        },
        OutcomeCode::TierTooLow => {
            let required = report.required_tier.unwrap_or(Tier::Standard);
            let actual = report.actual_tier.unwrap_or(Tier::Simplified);
            OutcomeText {
                title: t(
                    "Нужна стандартная или подтверждённая учётная запись",
                    "A standard or verified account is needed",
                ),
                summary: match lang {
                    Lang::Ru => format!(
                        "В вашем возрасте для входа нужна учётная запись уровня «{}» или выше, а у вас — «{}».",
                        required.label(lang),
                        actual.label(lang)
                    ),
                    Lang::En => format!(
                        "At your age logging in needs an account of the “{}” tier or higher; yours is “{}”.",
                        required.label(lang),
                        actual.label(lang)
                    ),
                },
                fixer: you_esia,
                steps: vec![t(
                    "Подтвердите учётную запись на Госуслугах: укажите паспорт и СНИЛС в профиле и дождитесь проверки (или подтвердите личность в центре обслуживания), затем войдите снова.",
                    "Upgrade your State Services account: enter your passport and SNILS in the profile and wait for the check (or confirm your identity at a service centre), then log in again.",
                )],
                details: vec![],
                success: false,
            }
        }
        OutcomeCode::RegionDisabled => OutcomeText {
            title: t(
                "Вход через Госуслуги в вашем регионе не подключён",
                "State Services login is not enabled in your region",
            ),
            summary: t(
                "Ваша школа находится в регионе, где вход в дневник через Госуслуги пока не подключён.",
                "Your school is in a region where e-diary login via State Services is not enabled yet.",
            ),
            fixer: t(
                "вы сами — войдите по логину и паролю дневника или активируйте учётную запись кодом (кнопки ниже)",
                "you — log in with your e-diary login and password, or activate your account with a code (the buttons below)",
            ),
            steps: vec![t(
                "Войдите логином и паролем дневника. Ещё не активировали учётную запись? Активируйте её кодом с листа-приглашения от школы.",
                "Log in with your e-diary login and password. Not activated yet? Activate your account with the code from your school's invitation sheet.",
            )],
            details: vec![],
            success: false,
        },
        OutcomeCode::AccountBlocked => OutcomeText {
            title: t("Учётная запись заблокирована", "The account is blocked"),
            summary: t(
                "Учётная запись заблокирована: войти в дневник с ней сейчас нельзя ни через Госуслуги, ни по логину и паролю.",
                "The account is blocked: it cannot be used to log in to the e-diary now, neither via State Services nor with a login and password.",
            ),
            fixer: t(
                "школа (администратор электронного дневника) или служба поддержки",
                "the school (the e-diary administrator) or support",
            ),
            steps: vec![t(
                "Обратитесь к администратору дневника в школе или в службу поддержки и назовите код обращения: вам скажут, почему запись заблокирована, и разблокируют её, когда причина отпадёт.",
                "Contact the e-diary administrator at your school or support and give them the reference code: they will tell you why the account is blocked and unblock it once the reason is gone.",
            )],
            details: vec![],
            success: false,
        },
        OutcomeCode::IdpError | OutcomeCode::Rejected => {
            failure_text(report.idp_error.as_deref().unwrap_or(""), lang)
        }
    }
}

fn name_mismatch(
    report: &OutcomeReport,
    lang: Lang,
    school: String,
    you_esia: String,
) -> OutcomeText {
    let t = |ru: &str, en: &str| lang.pick(ru, en).to_string();
    let mut details = Vec::new();
    for part in report.parts.iter().filter(|p| !p.comparison.is_match()) {
        let label = part.part.label(lang);
        let what = match part.comparison {
            PartVerdict::MissingLeft => t(
                "нет в профиле Госуслуг, но есть в дневнике",
                "missing in the State Services profile but present in the e-diary",
            ),
            PartVerdict::MissingRight => t(
                "есть в профиле Госуслуг, но нет в дневнике",
                "present in the State Services profile but missing in the e-diary",
            ),
            PartVerdict::Differs | PartVerdict::Equal | PartVerdict::EqualNormalized => {
                t("отличается", "differs")
            }
        };
        let mut line = format!("{label}: {what}");
        if let Some(value) = &part.school_value {
            line.push_str(&format!(
                " ({} «{value}»)",
                t("в дневнике записано", "the e-diary has")
            ));
        }
        details.push(line);
    }
    let verified = report
        .actual_tier
        .is_some_and(|tier| tier >= Tier::Standard);
    let (fixer, first_step) = if verified {
        (
            school,
            t(
                "Данные вашей учётной записи Госуслуг проверены по государственным реестрам, поэтому ошибка, скорее всего, в дневнике. Исправить данные дневника может только школа: обратитесь к администратору дневника и назовите код обращения.",
                "Your State Services data was checked against the state registries, so the mistake is most likely in the e-diary. Only the school can correct e-diary data: contact the e-diary administrator with the reference code.",
            ),
        )
    } else {
        (
            format!("{school}; {you_esia}"),
            t(
                "Если ошибка в профиле Госуслуг — исправьте профиль сами. Если ошибка в дневнике — её исправляет только школа: назовите администратору код обращения.",
                "If the mistake is in your State Services profile, correct it yourself. If it is in the e-diary, only the school can correct it: give the administrator the reference code.",
            ),
        )
    };
    OutcomeText {
        title: t("Данные не совпадают", "The data does not match"),
        summary: t(
            "Учётная запись с вашим СНИЛС в дневнике найдена, но ФИО отличается от ФИО на Госуслугах.",
            "An e-diary account with your SNILS was found, but the full name differs from the one at State Services.",
        ),
        fixer,
        steps: vec![first_step],
        details,
        success: false,
    }
}

/// Pages for IdP and flow failures, chosen by the machine code.
fn failure_text(code: &str, lang: Lang) -> OutcomeText {
    let t = |ru: &str, en: &str| lang.pick(ru, en).to_string();
    let retry = t("Начните вход заново.", "Start the login again.");
    let (title, summary, fixer, steps) = match code {
        "ESIA-007004" | "oauth.access_denied" => (
            t("Вы отказались предоставить данные", "You declined to share your data"),
            t(
                "На Госуслугах была нажата кнопка «Отказать», поэтому дневник не получил ваши данные.",
                "The “Decline” button was pressed at State Services, so the e-diary did not receive your data.",
            ),
            t("вы сами", "you"),
            vec![t(
                "Начните вход заново и нажмите «Предоставить» на странице Госуслуг.",
                "Start again and press “Allow” on the State Services page.",
            )],
        ),
        "ESIA-007008" | "idp.http_503" | "idp.http_500" | "idp.http_502" | "idp.http_504"
        | "idp.unreachable" => (
            t("Госуслуги сейчас не отвечают", "State Services is not responding"),
            t(
                "Сервис Госуслуг перегружен или недоступен. Ваши данные не изменились.",
                "The State Services system is overloaded or unavailable. Nothing was changed.",
            ),
            t("никто: повторите попытку через несколько минут", "nobody: try again in a few minutes"),
            vec![retry],
        ),
        "ESIA-007011" | "state.unknown" | "state.missing" => (
            t("Ссылка входа устарела", "The login link has expired"),
            t(
                "Этот вход уже завершён или прошло больше 10 минут. Повторно использовать его нельзя.",
                "This login was already completed or is more than 10 minutes old; it cannot be used again.",
            ),
            t("вы сами", "you"),
            vec![retry],
        ),
        "state.other_browser" => (
            t("Вход начат в другом браузере", "The login was started in another browser"),
            t(
                "Ответ Госуслуг пришёл не в тот браузер, в котором начинался вход (или браузер не сохранил cookie).",
                "The State Services answer arrived in a different browser from the one that started the login (or cookies are blocked).",
            ),
            t("вы сами", "you"),
            vec![t(
                "Начните вход заново в этом браузере и не блокируйте cookie для этого сайта.",
                "Start again in this browser and allow cookies for this site.",
            )],
        ),
        "ESIA-007055" => (
            t("Нужна подтверждённая учётная запись", "A verified account is needed"),
            t(
                "Госуслуги не разрешают вход с неподтверждённой учётной записью.",
                "State Services does not allow logging in with an unconfirmed account.",
            ),
            t("вы сами — в профиле на Госуслугах", "you — in your State Services profile"),
            vec![t(
                "Подтвердите учётную запись на Госуслугах и войдите снова.",
                "Confirm your State Services account and log in again.",
            )],
        ),
        "flow.repeated_parameter" => (
            t("Ссылка входа повреждена", "The login link is damaged"),
            t(
                "В адресе, по которому вы вернулись с Госуслуг, один параметр повторён. Такой ответ мы не принимаем: ссылку могли изменить. Ваши данные не изменились.",
                "A parameter is repeated in the address you came back from State Services with. We do not accept such an answer: the link may have been altered. Nothing was changed.",
            ),
            t("вы сами", "you"),
            vec![retry],
        ),
        "flow.rate_limited" => (
            t("Слишком много попыток входа", "Too many login attempts"),
            t(
                "С вашего адреса начато слишком много входов за минуту.",
                "Too many logins were started from your address within a minute.",
            ),
            t("никто: подождите минуту", "nobody: wait a minute"),
            vec![retry],
        ),
        "flow.unknown_provider" => (
            t("Неизвестный способ входа", "Unknown login method"),
            t("Такого способа входа нет.", "There is no such login method."),
            t("вы сами", "you"),
            vec![retry],
        ),
        c if c.starts_with("token.") || c.starts_with("userinfo.") || c == "idp.bad_response" => (
            t("Ответ Госуслуг не прошёл проверку", "The State Services answer failed our checks"),
            t(
                "Ответ сервера входа не прошёл проверку безопасности, поэтому мы его не приняли. Ваши данные не изменились.",
                "The identity provider's answer failed a security check, so we did not accept it. Nothing was changed.",
            ),
            t("служба поддержки", "support"),
            vec![t(
                "Попробуйте войти ещё раз. Если ошибка повторяется — сообщите код обращения в службу поддержки.",
                "Try again. If it happens again, give support the reference code.",
            )],
        ),
        _ => (
            t("Не удалось выполнить вход", "Login failed"),
            t(
                "Ошибка на стороне подключения к Госуслугам. Ваши данные не изменились.",
                "Something went wrong in the connection to State Services. Nothing was changed.",
            ),
            t("служба поддержки", "support"),
            vec![t(
                "Сообщите код обращения в службу поддержки.",
                "Give support the reference code.",
            )],
        ),
    };
    OutcomeText {
        title,
        summary,
        fixer,
        steps,
        details: vec![],
        success: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::login::OutcomeReport;
    use domain::code::ReferenceCode;

    /// Every outcome has a title, a summary and (when it failed) someone
    /// who can fix it, in both languages, and the two languages differ.
    #[test]
    fn every_outcome_has_wording_in_both_languages() {
        let reference = ReferenceCode::generate();
        for code in OutcomeCode::ALL {
            let mut report = OutcomeReport::flow_error(
                &reference,
                "esia",
                &app::AppError::StateUnknown,
                Lang::Ru,
            );
            report.outcome = code;
            let ru = outcome_text(&report, Lang::Ru);
            let en = outcome_text(&report, Lang::En);
            for text in [&ru, &en] {
                assert!(
                    !text.title.is_empty() && !text.summary.is_empty(),
                    "{code:?}"
                );
                assert_eq!(text.success, code.is_success(), "{code:?}");
                assert!(
                    text.success || !text.fixer.is_empty(),
                    "{code:?} names a fixer"
                );
            }
            assert_ne!(ru.title, en.title, "{code:?}");
        }
    }
}
