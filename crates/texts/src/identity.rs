//! Identity data: SNILS, names, codes, tiers and passwords.

use domain::code::CodeError;
use domain::link::OutcomeCode;
use domain::name::{NameComparison, NameError, NamePart, NameRule, PartComparison, MAX_PART_CHARS};
use domain::password::PasswordProblem;
use domain::snils::SnilsError;
use domain::tier::Tier;
use i18n::Lang;

use crate::{Describe, ErrorText, Label};

impl ErrorText for SnilsError {
    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (SnilsError::Empty, Lang::Ru) => "СНИЛС не указан".into(),
            (SnilsError::Length { found }, Lang::Ru) => {
                format!("в СНИЛС должно быть 11 цифр, а указано {found}")
            }
            (SnilsError::NonDigit { character }, Lang::Ru) => {
                format!("в СНИЛС допустимы только цифры, пробелы и дефисы, а встретился символ «{character}»")
            }
            (SnilsError::Checksum { expected, found }, Lang::Ru) => format!(
                "контрольное число СНИЛС {found} не совпадает с вычисленным по первым девяти цифрам {expected}: проверьте номер"
            ),
            (error, Lang::En) => error.to_string(),
        }
    }
}
impl ErrorText for CodeError {
    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (CodeError::Length { expected, found }, Lang::Ru) => {
                format!("в коде должно быть {expected} символов, а введено {found}")
            }
            (CodeError::Character { character }, Lang::Ru) => {
                format!("в коде не может быть символа «{character}»")
            }
            (error, Lang::En) => error.to_string(),
        }
    }
}
impl ErrorText for NameError {
    fn message(&self, lang: Lang) -> String {
        let ru_part = |part: &str| match part {
            "surname" => "фамилии",
            "given name" => "имени",
            _ => "отчестве",
        };
        match (self, lang) {
            (NameError::EmptySurname, Lang::Ru) => "не указана фамилия".into(),
            (NameError::EmptyGiven, Lang::Ru) => "не указано имя".into(),
            (NameError::InvalidCharacter { part, character }, Lang::Ru) => {
                format!("в {} недопустимый символ «{character}»", ru_part(part))
            }
            (NameError::TooLong { part }, Lang::Ru) => {
                format!(
                    "слишком длинное значение в {} (больше {MAX_PART_CHARS} символов)",
                    ru_part(part)
                )
            }
            (error, Lang::En) => error.to_string(),
        }
    }
}
impl ErrorText for PasswordProblem {
    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (PasswordProblem::TooShort { min, found }, Lang::Ru) => {
                format!("Пароль должен быть не короче {min} символов, а в нём {found}.")
            }
            (PasswordProblem::TooLong { max, found }, Lang::Ru) => {
                format!("Пароль должен быть не длиннее {max} символов, а в нём {found}.")
            }
            (PasswordProblem::ContainsLogin, Lang::Ru) => {
                "Пароль не должен содержать ваш логин".into()
            }
            (PasswordProblem::ContainsSurname, Lang::Ru) => {
                "Пароль не должен содержать вашу фамилию".into()
            }
            (PasswordProblem::ContainsGivenName, Lang::Ru) => {
                "Пароль не должен содержать ваше имя".into()
            }
            (PasswordProblem::ContainsPatronymic, Lang::Ru) => {
                "Пароль не должен содержать ваше отчество".into()
            }
            (PasswordProblem::ContainsBirthDate, Lang::Ru) => {
                "Пароль не должен содержать вашу дату рождения".into()
            }
            (PasswordProblem::Common, Lang::Ru) => {
                "Это один из самых распространённых паролей, его подбирают первым: выберите другой"
                    .into()
            }
            (problem, Lang::En) => problem.to_string(),
        }
    }
}
impl Label for Tier {
    fn label(self, lang: Lang) -> &'static str {
        match self {
            Tier::Simplified => lang.pick("упрощённая", "simplified"),
            Tier::Standard => lang.pick("стандартная", "standard"),
            Tier::Verified => lang.pick("подтверждённая", "verified"),
        }
    }
}
impl Label for OutcomeCode {
    fn label(self, lang: Lang) -> &'static str {
        match self {
            OutcomeCode::LoggedIn => lang.pick("вход выполнен", "logged in"),
            OutcomeCode::Linked => lang.pick("учётные записи связаны", "accounts linked"),
            OutcomeCode::SnilsMissing => {
                lang.pick("на Госуслугах нет СНИЛС", "no SNILS at State Services")
            }
            OutcomeCode::NoAccount => {
                lang.pick("нет учётной записи в дневнике", "no e-diary account")
            }
            OutcomeCode::NameMismatch => lang.pick("ФИО не совпадает", "name mismatch"),
            OutcomeCode::Ambiguous => lang.pick(
                "несколько учётных записей с этим СНИЛС",
                "several accounts with this SNILS",
            ),
            OutcomeCode::LinkedElsewhere => lang.pick(
                "связана с другой учётной записью",
                "linked to another account",
            ),
            OutcomeCode::TierTooLow => lang.pick(
                "учётная запись Госуслуг не подтверждена",
                "State Services account not verified enough",
            ),
            OutcomeCode::RegionDisabled => lang.pick(
                "вход через Госуслуги в регионе не подключён",
                "region not enabled",
            ),
            OutcomeCode::AccountBlocked => {
                lang.pick("учётная запись заблокирована", "account blocked")
            }
            OutcomeCode::IdpError => {
                lang.pick("ошибка на стороне Госуслуг", "identity provider error")
            }
            OutcomeCode::Rejected => {
                lang.pick("ответ Госуслуг отклонён", "provider answer rejected")
            }
        }
    }
}
impl Label for NamePart {
    fn label(self, lang: Lang) -> &'static str {
        match self {
            NamePart::Surname => lang.pick("фамилия", "surname"),
            NamePart::Given => lang.pick("имя", "given name"),
            NamePart::Patronymic => lang.pick("отчество", "patronymic"),
        }
    }
}
impl Describe for NameRule {
    fn describe(self, lang: Lang) -> &'static str {
        match self {
            NameRule::Unicode => lang.pick("запись символов Unicode", "Unicode composition"),
            NameRule::Invisible => lang.pick(
                "невидимые символы (мягкий перенос, пробел нулевой ширины)",
                "invisible characters (soft hyphen, zero-width space)",
            ),
            NameRule::Whitespace => lang.pick("лишние пробелы", "extra spaces"),
            NameRule::Apostrophe => lang.pick("вид апострофа", "apostrophe variant"),
            NameRule::Hyphen => lang.pick(
                "вид дефиса и пробелы вокруг него",
                "hyphen variant and spaces around it",
            ),
            NameRule::LatinLookalike => lang.pick(
                "латинская буква вместо похожей русской",
                "a Latin letter instead of a similar Cyrillic one",
            ),
            NameRule::Case => lang.pick("регистр букв", "letter case"),
            NameRule::YoToYe => lang.pick("ё/е", "ё/е"),
        }
    }
}

/// One line per part, for people (the CLI, operator pages).
pub fn render_comparison(cmp: &NameComparison, lang: Lang) -> String {
    let mut out = String::new();
    for (part, c) in cmp.parts() {
        let verdict = match c {
            PartComparison::Equal => lang.pick("совпадает", "equal").to_string(),
            PartComparison::EqualAfterNormalization(rules) => format!(
                "{} ({})",
                lang.pick("совпадает после нормализации", "equal after normalization"),
                rules
                    .iter()
                    .map(|r| r.describe(lang))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            PartComparison::Differs => lang.pick("различается", "differs").to_string(),
            PartComparison::MissingLeft => lang
                .pick("нет в первом имени", "missing in the first name")
                .to_string(),
            PartComparison::MissingRight => lang
                .pick("нет во втором имени", "missing in the second name")
                .to_string(),
        };
        out.push_str(&format!("{}: {verdict}\n", part.label(lang)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::name::{compare, FullName};
    use domain::password::PasswordProblem::*;
    use domain::snils::Snils;

    fn name(text: &str) -> FullName {
        FullName::parse(text).expect("a valid name")
    }

    #[test]
    fn name_comparisons_read_as_sentences() {
        let cmp = compare(&name("Фёдоров Пётр Ильич"), &name("ФЕДОРОВ  ПЕТР ИЛЬИЧ"));
        let text = render_comparison(&cmp, Lang::Ru);
        assert!(
            text.contains("фамилия: совпадает после нормализации (регистр букв, ё/е)"),
            "{text}"
        );
        let missing = compare(&name("Иванов Пётр"), &name("Иванов Пётр Ильич"));
        assert!(
            render_comparison(&missing, Lang::En).contains("patronymic: missing in the first name")
        );
        assert!(NameError::EmptyGiven.message(Lang::Ru).contains("имя"));
    }
    #[test]
    fn messages_in_both_languages() {
        let all = [
            TooShort { min: 10, found: 6 },
            TooLong {
                max: 128,
                found: 200,
            },
            ContainsLogin,
            ContainsSurname,
            ContainsGivenName,
            ContainsPatronymic,
            ContainsBirthDate,
            Common,
        ];
        for problem in &all {
            let ru = problem.message(Lang::Ru);
            let en = problem.message(Lang::En);
            assert!(ru.chars().any(|c| ('а'..='я').contains(&c)), "{ru}");
            assert!(
                en.is_ascii() && (en.starts_with("The ") || en.starts_with("This ")),
                "{en}"
            );
        }
        assert_eq!(
            ContainsSurname.message(Lang::Ru),
            "Пароль не должен содержать вашу фамилию"
        );
        assert_eq!(
            TooShort { min: 10, found: 6 }.message(Lang::Ru),
            "Пароль должен быть не короче 10 символов, а в нём 6."
        );
    }

    #[test]
    fn messages_exist_in_both_languages() {
        let error = Snils::parse("112-233-445 96").expect_err("checksum");
        assert!(error.message(Lang::Ru).contains("контрольное число"));
        assert!(error.message(Lang::En).contains("check number"));
    }
}
