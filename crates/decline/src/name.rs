//! A full Russian name (ФИО) and its forms in the cases.

use std::fmt;

use crate::gender::detect_gender;
use crate::rules::decline_word;
use crate::{Case, Gender, NamePart};

/// Surname, given name and (optional) patronymic, as the registry or the
/// school wrote them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FullName {
    pub surname: String,
    pub given: String,
    pub patronymic: Option<String>,
}

impl FullName {
    pub fn new(surname: &str, given: &str, patronymic: Option<&str>) -> FullName {
        FullName {
            surname: surname.to_owned(),
            given: given.to_owned(),
            patronymic: patronymic.map(str::to_owned),
        }
    }

    /// The person's gender: the registry's, when it gives one (ESIA's
    /// `gender`, see [`Gender::from_registry`]), else read from the name by
    /// [`detect_gender`].
    pub fn gender(&self, registry: Option<Gender>) -> Gender {
        match registry {
            Some(g @ (Gender::Male | Gender::Female)) => g,
            _ => detect_gender(&self.surname, &self.given, self.patronymic.as_deref()),
        }
    }

    /// Every part of the name in `case`.
    pub fn declined(&self, gender: Gender, case: Case) -> FullName {
        FullName {
            surname: decline_word(NamePart::Surname, &self.surname, gender, case),
            given: decline_word(NamePart::Given, &self.given, gender, case),
            patronymic: self
                .patronymic
                .as_deref()
                .map(|p| decline_word(NamePart::Patronymic, p, gender, case)),
        }
    }
}

/// «Фамилия Имя Отчество», skipping absent or empty parts.
impl fmt::Display for FullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts = [
            Some(self.surname.as_str()),
            Some(self.given.as_str()),
            self.patronymic.as_deref(),
        ];
        let mut first = true;
        for part in parts.into_iter().flatten().filter(|p| !p.is_empty()) {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(part)?;
            first = false;
        }
        Ok(())
    }
}
