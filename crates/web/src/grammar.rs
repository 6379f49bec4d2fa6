//! Names on Russian pages, declined by case and with the words around them
//! agreeing with the person's gender, through the petrovich rules of the
//! `decline` crate. A name arrives as the pages show it: «Фамилия Имя
//! [Отчество]», a surname alone, or either followed by a bracketed contact
//! («Лебедев (***-***-407 31)»), which is kept as it is.

use decline::{Case, FullName, Gender};

/// A displayed name, ready to be declined.
pub struct Person {
    name: Option<FullName>,
    raw: String,
    /// « (***-***-407 31)» after the name, if any.
    tail: String,
    pub gender: Gender,
}

impl Person {
    pub fn read(display: &str) -> Person {
        let display = display.trim();
        let (head, tail) = match display.find(" (") {
            Some(at) => display.split_at(at),
            None => (display, ""),
        };
        let words: Vec<&str> = head.split_whitespace().collect();
        let cyrillic = |w: &&str| {
            w.chars()
                .all(|c| matches!(c, 'А'..='я' | 'Ё' | 'ё' | '-' | '\''))
        };
        let name = match words.as_slice() {
            [surname] if cyrillic(surname) => Some(FullName::new(surname, "", None)),
            [surname, given] if words.iter().all(cyrillic) => {
                Some(FullName::new(surname, given, None))
            }
            [surname, given, patronymic] if words.iter().all(cyrillic) => {
                Some(FullName::new(surname, given, Some(patronymic)))
            }
            _ => None,
        };
        let gender = name.as_ref().map_or(Gender::Unknown, |n| n.gender(None));
        Person {
            name,
            raw: head.to_string(),
            tail: tail.to_string(),
            gender,
        }
    }

    /// The name in `case`, the contact after it unchanged.
    pub fn case(&self, case: Case) -> String {
        let Some(name) = &self.name else {
            return format!("{}{}", self.raw, self.tail);
        };
        let declined = name.declined(self.gender, case);
        let words: Vec<&str> = [
            Some(declined.surname.as_str()),
            Some(declined.given.as_str()),
            declined.patronymic.as_deref(),
        ]
        .into_iter()
        .flatten()
        .filter(|w| !w.is_empty())
        .collect();
        format!("{}{}", words.join(" "), self.tail)
    }

    /// The word that agrees: `pick("отозвал", "отозвала", "отозвал(а)")`.
    pub fn pick<'a>(&self, male: &'a str, female: &'a str, unknown: &'a str) -> &'a str {
        self.gender.pick(male, female, unknown)
    }
}

/// «ученика Иванова Петра» / «ученицы Фёдоровой Алёны» in `case`.
pub fn pupil_in(display: &str, case: Case) -> String {
    let pupil = Person::read(display);
    let noun = match case {
        Case::Nominative => pupil.pick("ученик", "ученица", "ученик"),
        Case::Genitive | Case::Accusative => pupil.pick("ученика", "ученицы", "ученика"),
        Case::Dative => pupil.pick("ученику", "ученице", "ученику"),
        Case::Instrumental => pupil.pick("учеником", "ученицей", "учеником"),
        Case::Prepositional => pupil.pick("ученике", "ученице", "ученике"),
    };
    format!("{noun} {}", pupil.case(case))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_declined_and_words_agree() {
        assert_eq!(
            pupil_in("Фёдорова Алёна Сергеевна", Case::Genitive),
            "ученицы Фёдоровой Алёны Сергеевны"
        );
        assert_eq!(
            pupil_in("Иванов Пётр Сергеевич", Case::Dative),
            "ученику Иванову Петру Сергеевичу"
        );
        let invitee = Person::read("Лебедева (***-***-407 31)");
        assert_eq!(invitee.case(Case::Genitive), "Лебедевой (***-***-407 31)");
        let grandmother = Person::read("Зайцева Нина Петровна");
        assert_eq!(
            grandmother.pick("принял", "приняла", "принял(а)"),
            "приняла"
        );
        let unknown = Person::read("Smith John");
        assert_eq!(unknown.case(Case::Genitive), "Smith John");
        assert_eq!(unknown.pick("принял", "приняла", "принял(а)"), "принял(а)");
    }
}
