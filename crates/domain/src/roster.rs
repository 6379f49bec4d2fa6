//! A school's roster, row by row: which columns a file may have, what makes
//! a row good, and the checks across the file (a key or SNILS twice, a
//! parent naming a child who is not in the file). Pure: the import use case
//! feeds rows in and writes what passes.
//!
//! The file-wide checks (`file_check`) look at a run of rows at a time
//! against what the earlier runs left: one 64-bit fingerprint per key,
//! SNILS and login, kept wherever the caller keeps it (the import keeps
//! it in the database, so memory does not grow with the file).

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::name::{clean, FullName, NameError};
use crate::snils::{Snils, SnilsError};

/// The longest key, class or contact a school may send.
pub const MAX_FIELD_CHARS: usize = 64;

/// Roles a roster may give; operators and school admins are granted apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RosterRole {
    Pupil,
    Parent,
    Teacher,
}

impl RosterRole {
    /// English codes and the Russian words schools' exports use.
    pub fn parse(text: &str) -> Option<RosterRole> {
        match clean(text).to_lowercase().as_str() {
            "pupil" | "student" | "ученик" | "ученица" | "учащийся" | "обучающийся" => {
                Some(RosterRole::Pupil)
            }
            "parent" | "родитель" | "законный представитель" => {
                Some(RosterRole::Parent)
            }
            "teacher" | "учитель" | "педагог" => Some(RosterRole::Teacher),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RosterRole::Pupil => "pupil",
            RosterRole::Parent => "parent",
            RosterRole::Teacher => "teacher",
        }
    }
}

/// The columns of a roster file (CSV header or JSON field names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    /// The school's own id for the person; re-imports update by it.
    Key,
    Role,
    Surname,
    GivenName,
    Patronymic,
    BirthDate,
    Snils,
    Class,
    /// A parent's children: their keys, separated by `;`, `,` or spaces.
    Children,
    /// A diary login the school already gave the person.
    Login,
}

impl Column {
    pub const ALL: [Column; 10] = [
        Column::Key,
        Column::Role,
        Column::Surname,
        Column::GivenName,
        Column::Patronymic,
        Column::BirthDate,
        Column::Snils,
        Column::Class,
        Column::Children,
        Column::Login,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Column::Key => "key",
            Column::Role => "role",
            Column::Surname => "surname",
            Column::GivenName => "given_name",
            Column::Patronymic => "patronymic",
            Column::BirthDate => "birth_date",
            Column::Snils => "snils",
            Column::Class => "class",
            Column::Children => "children",
            Column::Login => "login",
        }
    }

    /// The column whose [`Column::code`] this is, exactly.
    pub fn from_code(code: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.code() == code)
    }

    /// A header cell in English or Russian, any case, spaces or underscores.
    pub fn from_header(text: &str) -> Option<Column> {
        let text = clean(text.trim_start_matches('\u{feff}'))
            .to_lowercase()
            .replace(['_', '-'], " ");
        Some(match text.as_str() {
            "key" | "id" | "ключ" | "идентификатор" => Column::Key,
            "role" | "роль" => Column::Role,
            "surname" | "last name" | "фамилия" => Column::Surname,
            "given name" | "first name" | "name" | "имя" => Column::GivenName,
            "patronymic" | "middle name" | "отчество" => Column::Patronymic,
            "birth date" | "birthdate" | "date of birth" | "дата рождения" => {
                Column::BirthDate
            }
            "snils" | "снилс" => Column::Snils,
            "class" | "класс" => Column::Class,
            "children" | "дети" => Column::Children,
            "login" | "логин" => Column::Login,
            _ => return None,
        })
    }

    fn required(self) -> bool {
        matches!(
            self,
            Column::Key | Column::Role | Column::Surname | Column::GivenName | Column::BirthDate
        )
    }
}

/// One row as read: its number in the file (1 = first data row) and the
/// cells by column. Empty cells are absent.
#[derive(Clone, Default)]
pub struct RawRow {
    pub row: u64,
    cells: [Option<String>; Column::ALL.len()],
    /// Non-empty cells beyond the header's columns (often a delimiter
    /// inside an unquoted value).
    pub extra_cells: bool,
}

impl RawRow {
    pub fn new(row: u64) -> RawRow {
        RawRow {
            row,
            ..RawRow::default()
        }
    }

    pub fn set(&mut self, column: Column, value: &str) {
        let value = value.trim();
        self.cells[column as usize] = (!value.is_empty()).then(|| value.to_string());
    }

    pub fn with(mut self, column: Column, value: &str) -> RawRow {
        self.set(column, value);
        self
    }

    pub fn get(&self, column: Column) -> Option<&str> {
        self.cells[column as usize].as_deref()
    }
}

/// Rows hold names and SNILS: never print them through `{:?}`.
impl fmt::Debug for RawRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawRow({})", self.row)
    }
}

/// A row that passed its own checks.
#[derive(Clone)]
pub struct RosterPerson {
    pub row: u64,
    pub key: String,
    pub role: RosterRole,
    pub name: FullName,
    pub birth_date: NaiveDate,
    pub snils: Option<Snils>,
    pub class_name: Option<String>,
    pub children: Vec<String>,
    pub login: Option<String>,
}

impl fmt::Debug for RosterPerson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RosterPerson(row {}, {:?})", self.row, self.role)
    }
}

/// What is wrong with a cell or a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    Missing,
    TooLong,
    BadName {
        #[serde(skip)]
        error: NameError,
    },
    BadSnils {
        #[serde(skip)]
        error: SnilsError,
    },
    BadDate,
    DateOutOfRange,
    UnknownRole,
    /// A pupil needs a class.
    NoClass,
    /// Only parents list children.
    ChildrenOfNonParent,
    DuplicateKey {
        first_row: u64,
    },
    DuplicateSnils {
        first_row: u64,
    },
    /// The SNILS is on an existing account of a different person.
    SnilsTaken,
    UnknownChild {
        child: String,
    },
    ChildNotPupil {
        child: String,
    },
    /// The login is held by another account.
    LoginTaken,
    BadLogin,
    /// More cells than the header has columns.
    ExtraCells,
}

impl Problem {
    pub fn code(&self) -> &'static str {
        match self {
            Problem::Missing => "missing",
            Problem::TooLong => "too_long",
            Problem::BadName { .. } => "bad_name",
            Problem::BadSnils { error } => match error {
                SnilsError::Checksum { .. } => "bad_snils_checksum",
                _ => "bad_snils",
            },
            Problem::BadDate => "bad_date",
            Problem::DateOutOfRange => "date_out_of_range",
            Problem::UnknownRole => "unknown_role",
            Problem::NoClass => "no_class",
            Problem::ChildrenOfNonParent => "children_of_non_parent",
            Problem::DuplicateKey { .. } => "duplicate_key",
            Problem::DuplicateSnils { .. } => "duplicate_snils",
            Problem::SnilsTaken => "snils_taken",
            Problem::UnknownChild { .. } => "unknown_child",
            Problem::ChildNotPupil { .. } => "child_not_pupil",
            Problem::LoginTaken => "login_taken",
            Problem::BadLogin => "bad_login",
            Problem::ExtraCells => "extra_cells",
        }
    }
}

/// A problem found in one row, with the column it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    pub row: u64,
    pub column: Option<Column>,
    pub problem: Problem,
}

/// The keys in a `children` cell: separated by `;`, `,` or spaces.
pub fn split_children(text: &str) -> impl Iterator<Item = &str> {
    text.split([';', ',', ' '])
        .map(str::trim)
        .filter(|k| !k.is_empty())
}

/// `2014-09-01`, `01.09.2014` or `1.9.2014`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d.%m.%Y"))
        .ok()
}

/// Diary logins: Latin letters, digits, `.`, `-`, `_`; compared without case.
pub fn valid_login(login: &str) -> bool {
    (3..=MAX_FIELD_CHARS).contains(&login.len())
        && login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// The checks one row can make alone. All problems are reported, not the
/// first one.
pub fn validate_row(raw: &RawRow, today: NaiveDate) -> Result<RosterPerson, Vec<RowProblem>> {
    let mut problems = Vec::new();
    let mut report = |column: Option<Column>, problem: Problem| {
        problems.push(RowProblem {
            row: raw.row,
            column,
            problem,
        })
    };
    if raw.extra_cells {
        report(None, Problem::ExtraCells);
    }
    for column in Column::ALL {
        if column.required() && raw.get(column).is_none() {
            report(Some(column), Problem::Missing);
        }
        if let Some(value) = raw.get(column) {
            let limit = match column {
                Column::Children => 64 * MAX_FIELD_CHARS,
                Column::Surname | Column::GivenName | Column::Patronymic => usize::MAX,
                _ => MAX_FIELD_CHARS,
            };
            if value.chars().count() > limit {
                report(Some(column), Problem::TooLong);
            }
        }
    }
    let role = raw.get(Column::Role).and_then(|text| {
        let role = RosterRole::parse(text);
        if role.is_none() {
            report(Some(Column::Role), Problem::UnknownRole);
        }
        role
    });
    let name = match (raw.get(Column::Surname), raw.get(Column::GivenName)) {
        (Some(surname), Some(given)) => {
            match FullName::new(surname, given, raw.get(Column::Patronymic)) {
                Ok(name) => Some(name),
                Err(error) => {
                    let column = match &error {
                        NameError::InvalidCharacter { part, .. } | NameError::TooLong { part } => {
                            match *part {
                                "surname" => Column::Surname,
                                "given name" => Column::GivenName,
                                _ => Column::Patronymic,
                            }
                        }
                        NameError::EmptySurname => Column::Surname,
                        NameError::EmptyGiven => Column::GivenName,
                    };
                    report(Some(column), Problem::BadName { error });
                    None
                }
            }
        }
        _ => None,
    };
    let birth_date = raw
        .get(Column::BirthDate)
        .and_then(|text| match parse_date(text) {
            None => {
                report(Some(Column::BirthDate), Problem::BadDate);
                None
            }
            Some(date) if date > today || date.year_ce().1 < 1900 => {
                report(Some(Column::BirthDate), Problem::DateOutOfRange);
                None
            }
            Some(date) => Some(date),
        });
    let snils = raw
        .get(Column::Snils)
        .and_then(|text| match Snils::parse(text) {
            Ok(snils) => Some(snils),
            Err(error) => {
                report(Some(Column::Snils), Problem::BadSnils { error });
                None
            }
        });
    let class_name = raw.get(Column::Class).map(clean);
    if role == Some(RosterRole::Pupil) && class_name.is_none() {
        report(Some(Column::Class), Problem::NoClass);
    }
    let children: Vec<String> = raw
        .get(Column::Children)
        .map(|text| split_children(text).map(str::to_string).collect())
        .unwrap_or_default();
    if !children.is_empty() && role.is_some_and(|r| r != RosterRole::Parent) {
        report(Some(Column::Children), Problem::ChildrenOfNonParent);
    }
    let login = raw.get(Column::Login).map(str::to_lowercase);
    if login.as_deref().is_some_and(|l| !valid_login(l)) {
        report(Some(Column::Login), Problem::BadLogin);
    }
    match (raw.get(Column::Key), role, name, birth_date) {
        (Some(key), Some(role), Some(name), Some(birth_date)) if problems.is_empty() => {
            Ok(RosterPerson {
                row: raw.row,
                key: key.to_string(),
                role,
                name,
                birth_date,
                snils,
                class_name,
                children,
                login,
            })
        }
        _ => Err(problems),
    }
}

mod file_check;

pub use file_check::{ChunkCheck, ChunkVerdict, FileCheck, Mark, MarkKind, Reference};

#[cfg(test)]
mod tests;
