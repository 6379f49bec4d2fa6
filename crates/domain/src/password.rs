//! The password policy for diary accounts: long enough, not built from what
//! an attacker knows about the person (login, name, birth date), and not
//! one of the passwords every guessing tool tries first.
//!
//! [`check`] reports every problem at once, in a fixed order, so the
//! activation wizard can list them all instead of making the person retry
//! one rule at a time.

use std::collections::HashSet;
use std::sync::LazyLock;

use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;

/// Fewer characters than this is too short (characters, not bytes:
/// a Cyrillic letter counts once).
pub const MIN_CHARS: usize = 10;
/// More than this is refused, so a pasted novel does not reach argon2.
pub const MAX_CHARS: usize = 128;
/// Name parts (and logins) shorter than this are not looked for: "Ян" or
/// "Ли" would refuse half of all passwords.
const MIN_PART_CHARS: usize = 3;
/// A common password counts with a suffix of digits and "!" only when
/// what is left is at least this long, so "ab" + digits is not "common".
const MIN_COMMON_BASE_CHARS: usize = 4;

/// What we know about the person choosing the password; every field is
/// optional because the wizard may not know it yet.
#[derive(Debug, Clone, Copy, Default)]
pub struct PasswordContext<'a> {
    pub login: Option<&'a str>,
    pub surname: Option<&'a str>,
    pub given_name: Option<&'a str>,
    pub patronymic: Option<&'a str>,
    pub birth_date: Option<NaiveDate>,
}

/// One reason a password is refused; English text from `Display`, both
/// languages from [`PasswordProblem::message`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("The password must have at least {min} characters; it has {found}.")]
    TooShort { min: usize, found: usize },
    #[error("The password must have at most {max} characters; it has {found}.")]
    TooLong { max: usize, found: usize },
    #[error("The password must not contain your login.")]
    ContainsLogin,
    #[error("The password must not contain your surname.")]
    ContainsSurname,
    #[error("The password must not contain your first name.")]
    ContainsGivenName,
    #[error("The password must not contain your patronymic.")]
    ContainsPatronymic,
    #[error("The password must not contain your date of birth.")]
    ContainsBirthDate,
    #[error("This password is one of the most common ones and is guessed first; choose another.")]
    Common,
}

/// Checks `password` against the policy. `Ok(())`, or every problem found,
/// in the order of the enum (length first). A password over
/// [`MAX_CHARS`] reports only that, without looking further.
///
/// Comparisons are case-insensitive after NFKC normalisation, lower-casing
/// and ё → е, so "ИВАНОВ", "Иванов" and full-width digits all match. Names
/// and the login are also looked for transliterated to Latin and as typed
/// with the wrong keyboard layout ("bdfyjd" for "иванов").
pub fn check(password: &str, ctx: &PasswordContext<'_>) -> Result<(), Vec<PasswordProblem>> {
    let found = password.chars().count();
    if found > MAX_CHARS {
        return Err(vec![PasswordProblem::TooLong {
            max: MAX_CHARS,
            found,
        }]);
    }
    let mut problems = Vec::new();
    if found < MIN_CHARS {
        problems.push(PasswordProblem::TooShort {
            min: MIN_CHARS,
            found,
        });
    }
    let normalized = normalize(password);
    let personal = [
        (ctx.login.map(login_forms), PasswordProblem::ContainsLogin),
        (
            ctx.surname.map(name_forms),
            PasswordProblem::ContainsSurname,
        ),
        (
            ctx.given_name.map(name_forms),
            PasswordProblem::ContainsGivenName,
        ),
        (
            ctx.patronymic.map(name_forms),
            PasswordProblem::ContainsPatronymic,
        ),
        (
            ctx.birth_date.map(date_forms),
            PasswordProblem::ContainsBirthDate,
        ),
    ];
    for (forms, problem) in personal {
        if let Some(forms) = forms {
            if forms.iter().any(|form| normalized.contains(form.as_str())) {
                problems.push(problem);
            }
        }
    }
    if is_common(&normalized) {
        problems.push(PasswordProblem::Common);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// NFKC, lower case, ё → е: the form every comparison uses.
fn normalize(text: &str) -> String {
    text.nfkc()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ё' { 'е' } else { c })
        .collect()
}

fn long_enough(form: &str) -> bool {
    form.chars().count() >= MIN_PART_CHARS
}

/// The login as typed, and for an e-mail login also its local part.
fn login_forms(login: &str) -> Vec<String> {
    let login = normalize(login.trim());
    let mut bases = vec![login.clone()];
    if let Some((local, _domain)) = login.split_once('@') {
        bases.push(local.to_string());
    }
    spellings(bases)
}

/// The whole name and each part of a double name ("Римская-Корсакова").
fn name_forms(name: &str) -> Vec<String> {
    let name = normalize(name.trim());
    let mut bases = vec![name.clone()];
    bases.extend(
        name.split(|c: char| c == '-' || c == '\'' || c.is_whitespace())
            .map(str::to_string),
    );
    spellings(bases)
}

/// Each base of at least [`MIN_PART_CHARS`] characters as is, in Latin
/// (two common schemes) and through the other keyboard layout. The length
/// rule applies to the name, so "Ян" is skipped even though "yan" has three.
fn spellings(bases: Vec<String>) -> Vec<String> {
    let mut forms = Vec::new();
    for base in bases.into_iter().filter(|base| long_enough(base)) {
        for form in [
            transliterate(&base, Scheme::Passport),
            transliterate(&base, Scheme::Informal),
            swap_layout(&base),
            base,
        ] {
            if !form.is_empty() && !forms.contains(&form) {
                forms.push(form);
            }
        }
    }
    forms
}

#[derive(Clone, Copy)]
pub(crate) enum Scheme {
    /// As in Russian passports (ICAO): Михаил → mikhail, Юлия → iuliia.
    Passport,
    /// As people type it: Михаил → mihail, Юлия → yuliya.
    Informal,
}

pub(crate) fn transliterate(text: &str, scheme: Scheme) -> String {
    let informal = matches!(scheme, Scheme::Informal);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let latin = match c {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'е' | 'э' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' => "i",
            'й' if informal => "y",
            'й' => "i",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' if informal => "h",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' if informal => "sch",
            'щ' => "shch",
            'ъ' if informal => "",
            'ъ' => "ie",
            'ы' => "y",
            'ь' => "",
            'ю' if informal => "yu",
            'ю' => "iu",
            'я' if informal => "ya",
            'я' => "ia",
            other => {
                out.push(other);
                continue;
            }
        };
        out.push_str(latin);
    }
    out
}

const RUSSIAN_KEYS: &str = "йцукенгшщзхъфывапролджэячсмитьбю";
const LATIN_KEYS: &str = "qwertyuiop[]asdfghjkl;'zxcvbnm,.";

/// The same keys pressed with the other layout active: "пароль" ↔ "gfhjkm".
fn swap_layout(text: &str) -> String {
    text.chars()
        .map(|c| {
            if let Some(i) = RUSSIAN_KEYS.chars().position(|r| r == c) {
                LATIN_KEYS.chars().nth(i).unwrap_or(c)
            } else if let Some(i) = LATIN_KEYS.chars().position(|l| l == c) {
                RUSSIAN_KEYS.chars().nth(i).unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

/// The ways people write a birth date inside a password.
fn date_forms(date: NaiveDate) -> Vec<String> {
    [
        "%Y-%m-%d", "%d.%m.%Y", "%d%m%Y", "%Y%m%d", "%d.%m.%y", "%d%m%y", "%d/%m/%Y", "%d-%m-%Y",
    ]
    .iter()
    .map(|format| date.format(format).to_string())
    .collect()
}

static COMMON: LazyLock<HashSet<String>> = LazyLock::new(|| {
    include_str!("common-passwords.txt")
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(normalize)
        .collect()
});

/// In the list as is, or a listed password followed by digits and "!"
/// only ("qwerty2024!").
fn is_common(normalized: &str) -> bool {
    if COMMON.contains(normalized) {
        return true;
    }
    let mut base = normalized;
    while let Some(stripped) = base.strip_suffix(|c: char| c.is_ascii_digit() || c == '!') {
        base = stripped;
        if base.chars().count() < MIN_COMMON_BASE_CHARS {
            return false;
        }
        if COMMON.contains(base) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use PasswordProblem::*;

    fn maria() -> PasswordContext<'static> {
        PasswordContext {
            login: Some("mivanova"),
            surname: Some("Иванова"),
            given_name: Some("Мария"),
            patronymic: Some("Петровна"),
            birth_date: NaiveDate::from_ymd_opt(2009, 3, 7),
        }
    }

    #[test]
    fn policy_table() {
        let none = PasswordContext::default();
        let cases: Vec<(&str, PasswordContext, Vec<PasswordProblem>)> = vec![
            // Acceptable.
            ("Зелёный-Трамвай-42", maria(), vec![]),
            ("correct horse battery staple", none, vec![]),
            ("сапогикот1", maria(), vec![]),
            // Length counts characters, not bytes.
            ("Kx7!qz", none, vec![TooShort { min: 10, found: 6 }]),
            ("сапогикот", none, vec![TooShort { min: 10, found: 9 }]),
            ("", none, vec![TooShort { min: 10, found: 0 }]),
            // The login, also inside an e-mail address login.
            (
                "mivanova!Zq81x",
                PasswordContext {
                    surname: None,
                    ..maria()
                },
                vec![ContainsLogin],
            ),
            (
                "mivanova!Zq81x",
                maria(),
                vec![ContainsLogin, ContainsSurname],
            ),
            (
                "my-Kot-petya-77",
                PasswordContext {
                    login: Some("kot.petya@mail.ru"),
                    ..none
                },
                vec![],
            ),
            (
                "x!kot.petya77",
                PasswordContext {
                    login: Some("kot.petya@mail.ru"),
                    ..none
                },
                vec![ContainsLogin],
            ),
            // Names: any case, Latin, the wrong layout, ё as е.
            ("ИВАНОВАлучшая", maria(), vec![ContainsSurname]),
            (
                "ivanova-rocks-77",
                PasswordContext {
                    login: None,
                    ..maria()
                },
                vec![ContainsSurname],
            ),
            ("bdfyjdf!Xy7q", maria(), vec![ContainsSurname]),
            ("мария-солнце-77", maria(), vec![ContainsGivenName]),
            ("Mariya+Kot-2024", maria(), vec![ContainsGivenName]),
            ("Петровна#Kz81q", maria(), vec![ContainsPatronymic]),
            (
                "СЕМЕНОВ-на-даче",
                PasswordContext {
                    surname: Some("Семёнов"),
                    ..none
                },
                vec![ContainsSurname],
            ),
            (
                "Mikhail-na-dache",
                PasswordContext {
                    given_name: Some("Михаил"),
                    ..none
                },
                vec![ContainsGivenName],
            ),
            // Double names: each part; parts under three letters are ignored.
            (
                "корсакова-2024-Zq",
                PasswordContext {
                    surname: Some("Римская-Корсакова"),
                    ..none
                },
                vec![ContainsSurname],
            ),
            (
                "ян-и-его-кот-42",
                PasswordContext {
                    given_name: Some("Ян"),
                    ..none
                },
                vec![],
            ),
            (
                "Yan-i-ego-kot-42",
                PasswordContext {
                    given_name: Some("Ян"),
                    ..none
                },
                vec![],
            ),
            // The birth date in its usual spellings, full-width digits too.
            ("Kx!2009-03-07q", maria(), vec![ContainsBirthDate]),
            ("Kx!07.03.2009q", maria(), vec![ContainsBirthDate]),
            ("Kx!07032009q", maria(), vec![ContainsBirthDate]),
            ("Kx!20090307q", maria(), vec![ContainsBirthDate]),
            ("Kx!07.03.09qq", maria(), vec![ContainsBirthDate]),
            ("Kx!070309qqq", maria(), vec![ContainsBirthDate]),
            ("Kx!０７０３２００９q", maria(), vec![ContainsBirthDate]),
            ("Kx!08032009q", maria(), vec![]),
            // Common passwords, with digits and "!" appended too.
            ("qwertyuiop", none, vec![Common]),
            ("QWERTYUIOP", none, vec![Common]),
            ("йцукенгшщз", none, vec![Common]),
            ("1q2w3e4r5t", none, vec![Common]),
            ("zaq12wsx2024", none, vec![Common]),
            ("Password1234!", none, vec![Common]),
            ("пароль12345!", none, vec![Common]),
            ("gfhjkm123456", none, vec![Common]),
            ("1234567890", none, vec![Common]),
            ("qwerty", none, vec![TooShort { min: 10, found: 6 }, Common]),
            ("qwerty2024!x", none, vec![]),
            // Several at once, in the enum's order ("мария" is also a
            // common password, here with digits appended).
            (
                "Мария070309",
                maria(),
                vec![ContainsGivenName, ContainsBirthDate, Common],
            ),
            (
                "мария7",
                maria(),
                vec![TooShort { min: 10, found: 6 }, ContainsGivenName, Common],
            ),
            (
                "Мария!Петровна",
                maria(),
                vec![ContainsGivenName, ContainsPatronymic],
            ),
        ];
        for (password, ctx, expected) in cases {
            let got = check(password, &ctx).err().unwrap_or_default();
            assert_eq!(got, expected, "{password:?}");
        }
    }

    #[test]
    fn too_long_is_reported_alone() {
        let long = "я".repeat(129);
        assert_eq!(
            check(&long, &maria()),
            Err(vec![TooLong {
                max: 128,
                found: 129
            }])
        );
        assert_eq!(check(&"Zk7!".repeat(32), &maria()), Ok(()));
    }

    #[test]
    fn the_list_is_large_and_normalized() {
        assert!(COMMON.len() >= 1000, "{}", COMMON.len());
        for entry in [
            "пароль",
            "йцукен",
            "qwertyuiop",
            "1qaz2wsx",
            "123456",
            "gfhjkm",
        ] {
            assert!(COMMON.contains(entry), "{entry}");
        }
        assert!(COMMON.iter().all(|e| !e.is_empty() && normalize(e) == *e));
    }

    #[test]
    fn layout_and_transliteration() {
        assert_eq!(swap_layout("пароль"), "gfhjkm");
        assert_eq!(swap_layout("gfhjkm"), "пароль");
        assert_eq!(transliterate("юлия", Scheme::Passport), "iuliia");
        assert_eq!(transliterate("юлия", Scheme::Informal), "yuliya");
        assert_eq!(normalize("ЁЖИК Ｑ"), "ежик q");
    }
}
