//! A login proposed to a person whose school gave none: the surname in
//! Latin letters and the initials ("Иванова Мария Алексеевна" → `ivanova.ma`),
//! numbered when taken (`ivanova.ma2`). The person may keep or change it.

use crate::password::{transliterate, Scheme};
use crate::roster::valid_login;

/// Logins are at most this long; the numbered forms stay under it too.
const MAX_BASE_CHARS: usize = 48;

/// The first login to offer; always a valid login.
pub fn proposed_login(surname: &str, given_name: &str, patronymic: Option<&str>) -> String {
    let latin = |text: &str| -> String {
        let lower = text.trim().to_lowercase().replace('ё', "е");
        transliterate(&lower, Scheme::Informal)
            .chars()
            .map(|c| if c == ' ' || c == '\'' { '-' } else { c })
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect::<String>()
            .trim_matches('-')
            .to_string()
    };
    let mut base: String = latin(surname).chars().take(MAX_BASE_CHARS).collect();
    if base.is_empty() {
        base.push_str("user");
    }
    let initials: String = [Some(given_name), patronymic]
        .into_iter()
        .flatten()
        .filter_map(|part| latin(part).chars().next())
        .collect();
    let login = if initials.is_empty() {
        base
    } else {
        format!("{base}.{initials}")
    };
    if valid_login(&login) {
        login
    } else {
        format!("{login}.user")
    }
}

/// The `n`-th alternative when the proposal is taken (`n` from 2).
pub fn numbered(login: &str, n: u32) -> String {
    format!("{login}{n}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposals_read_as_the_name() {
        for (surname, given, patronymic, expected) in [
            ("Иванова", "Мария", Some("Алексеевна"), "ivanova.ma"),
            ("Фёдорова", "Алёна", Some("Сергеевна"), "fedorova.as"),
            ("Римская-Корсакова", "Юлия", None, "rimskaya-korsakova.y"),
            ("Д'Арк", "Жанна", None, "d-ark.z"),
            ("Ким", "Ли", None, "kim.l"),
            ("Ли", "", None, "li.user"),
        ] {
            let login = proposed_login(surname, given, patronymic);
            assert_eq!(login, expected, "{surname} {given}");
            assert!(valid_login(&login), "{login}");
        }
        assert_eq!(numbered("ivanova.ma", 2), "ivanova.ma2");
    }
}
