//! Roster rows: column names and what is wrong with a cell.

use domain::roster::{Column, Problem, RowProblem, MAX_FIELD_CHARS};
use i18n::Lang;

use crate::{ErrorText, Label, RowText};

impl Label for Column {
    fn label(self, lang: Lang) -> &'static str {
        match self {
            Column::Key => lang.pick("ключ", "key"),
            Column::Role => lang.pick("роль", "role"),
            Column::Surname => lang.pick("фамилия", "surname"),
            Column::GivenName => lang.pick("имя", "given name"),
            Column::Patronymic => lang.pick("отчество", "patronymic"),
            Column::BirthDate => lang.pick("дата рождения", "birth date"),
            Column::Snils => lang.pick("СНИЛС", "SNILS"),
            Column::Class => lang.pick("класс", "class"),
            Column::Children => lang.pick("дети", "children"),
            Column::Login => lang.pick("логин", "login"),
        }
    }
}
impl ErrorText for Problem {
    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Problem::Missing, Lang::Ru) => "не заполнено".into(),
            (Problem::Missing, Lang::En) => "is empty".into(),
            (Problem::TooLong, Lang::Ru) => format!("длиннее {MAX_FIELD_CHARS} символов"),
            (Problem::TooLong, Lang::En) => format!("is longer than {MAX_FIELD_CHARS} characters"),
            (Problem::BadName { error }, lang) => error.message(lang),
            (Problem::BadSnils { error }, lang) => error.message(lang),
            (Problem::BadDate, Lang::Ru) => {
                "дата не распознана: пишите ГГГГ-ММ-ДД или ДД.ММ.ГГГГ".into()
            }
            (Problem::BadDate, Lang::En) => {
                "is not a date: write YYYY-MM-DD or DD.MM.YYYY".into()
            }
            (Problem::DateOutOfRange, Lang::Ru) => {
                "дата рождения в будущем или раньше 1900 года".into()
            }
            (Problem::DateOutOfRange, Lang::En) => {
                "the birth date is in the future or before 1900".into()
            }
            (Problem::UnknownRole, Lang::Ru) => {
                "неизвестная роль: ожидается ученик, родитель или учитель".into()
            }
            (Problem::UnknownRole, Lang::En) => {
                "unknown role: expected pupil, parent or teacher".into()
            }
            (Problem::NoClass, Lang::Ru) => "у ученика не указан класс".into(),
            (Problem::NoClass, Lang::En) => "a pupil needs a class".into(),
            (Problem::ChildrenOfNonParent, Lang::Ru) => {
                "детей указывают только у родителей".into()
            }
            (Problem::ChildrenOfNonParent, Lang::En) => "only parents list children".into(),
            (Problem::DuplicateKey { first_row }, Lang::Ru) => {
                format!("этот ключ уже встречался в строке {first_row}")
            }
            (Problem::DuplicateKey { first_row }, Lang::En) => {
                format!("this key was used in row {first_row} already")
            }
            (Problem::DuplicateSnils { first_row }, Lang::Ru) => {
                format!("этот СНИЛС уже встречался в строке {first_row}")
            }
            (Problem::DuplicateSnils { first_row }, Lang::En) => {
                format!("this SNILS is in row {first_row} already")
            }
            (Problem::SnilsTaken, Lang::Ru) => {
                "этот СНИЛС уже указан у другого человека (другие ФИО или дата рождения)".into()
            }
            (Problem::SnilsTaken, Lang::En) => {
                "this SNILS belongs to another person's account (different name or birth date)"
                    .into()
            }
            (Problem::UnknownChild { child }, Lang::Ru) => {
                format!("ребёнка с ключом «{child}» нет в файле")
            }
            (Problem::UnknownChild { child }, Lang::En) => {
                format!("no row has the child's key \"{child}\"")
            }
            (Problem::ChildNotPupil { child }, Lang::Ru) => {
                format!("«{child}» в файле не ученик")
            }
            (Problem::ChildNotPupil { child }, Lang::En) => {
                format!("\"{child}\" is not a pupil in the file")
            }
            (Problem::LoginTaken, Lang::Ru) => "этот логин уже занят".into(),
            (Problem::LoginTaken, Lang::En) => "this login is taken".into(),
            (Problem::BadLogin, Lang::Ru) => {
                "логин: латинские буквы, цифры, точка, дефис и подчёркивание, 3–64 символа".into()
            }
            (Problem::ExtraCells, Lang::Ru) => {
                "в строке больше значений, чем столбцов в заголовке: если разделитель встречается внутри значения, возьмите значение в кавычки".into()
            }
            (Problem::ExtraCells, Lang::En) => {
                "the row has more values than the header has columns: quote values that contain the delimiter".into()
            }
            (Problem::BadLogin, Lang::En) => {
                "a login has 3-64 Latin letters, digits, dots, hyphens or underscores".into()
            }
        }
    }
}
/// What the school does in its spreadsheet about a problem, in plain words.
pub fn how_to_fix(problem: &Problem, lang: Lang) -> &'static str {
    let t = |ru, en| lang.pick(ru, en);
    match problem {
        Problem::Missing => t("Заполните ячейку.", "Fill in the cell."),
        Problem::TooLong => t("Сократите значение.", "Shorten the value."),
        Problem::BadName { .. } => t(
            "Впишите ФИО буквами, как в документе, без цифр и лишних знаков.",
            "Write the name in letters as in the document, without digits or signs.",
        ),
        Problem::BadSnils { .. } => t(
            "Перепишите СНИЛС из документа: 11 цифр, например 123-456-789 01.",
            "Copy the SNILS from the document: 11 digits, e.g. 123-456-789 01.",
        ),
        Problem::BadDate | Problem::DateOutOfRange => t(
            "Впишите дату рождения как ДД.ММ.ГГГГ, например 01.09.2014.",
            "Write the birth date as DD.MM.YYYY, e.g. 01.09.2014.",
        ),
        Problem::UnknownRole => t(
            "Впишите в столбец «роль» одно из слов: ученик, родитель, учитель.",
            "Write pupil, parent or teacher in the role column.",
        ),
        Problem::NoClass => t(
            "Впишите класс ученика, например 5А.",
            "Write the pupil's class, e.g. 5A.",
        ),
        Problem::ChildrenOfNonParent => t(
            "Очистите ячейку «дети» или поставьте роль «родитель».",
            "Empty the children cell or set the role to parent.",
        ),
        Problem::DuplicateKey { .. } => t(
            "Дайте каждому человеку свой ключ или удалите повторную строку.",
            "Give each person their own key or delete the repeated row.",
        ),
        Problem::DuplicateSnils { .. } | Problem::SnilsTaken => t(
            "Сверьте СНИЛС с документом: у двух людей он не может совпадать.",
            "Check the SNILS against the document: two people cannot share one.",
        ),
        Problem::UnknownChild { .. } | Problem::ChildNotPupil { .. } => t(
            "Впишите в «дети» ключи учеников из этого же файла.",
            "List the keys of pupils from this same file as children.",
        ),
        Problem::LoginTaken => t(
            "Выберите другой логин или оставьте ячейку пустой.",
            "Choose another login or leave the cell empty.",
        ),
        Problem::BadLogin => t(
            "Оставьте в логине только латинские буквы, цифры, точку, дефис и подчёркивание.",
            "Keep only Latin letters, digits, dots, hyphens and underscores in the login.",
        ),
        Problem::ExtraCells => t(
            "Удалите лишние значения правее последнего столбца.",
            "Delete the values right of the last column.",
        ),
    }
}

impl RowText for RowProblem {
    /// `строка 7, СНИЛС: …`
    fn describe(&self, lang: Lang) -> String {
        let row = lang.pick("строка", "row");
        match self.column {
            Some(column) => format!(
                "{row} {}, {}: {}",
                self.row,
                column.label(lang),
                self.problem.message(lang)
            ),
            None => format!("{row} {}: {}", self.row, self.problem.message(lang)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_problem_names_its_row_and_column() {
        let cases = [
            (
                Some(Column::Snils),
                Lang::Ru,
                "строка 3, СНИЛС: не заполнено",
            ),
            (Some(Column::Surname), Lang::En, "row 3, surname: is empty"),
            (None, Lang::Ru, "строка 3: не заполнено"),
        ];
        for (column, lang, expected) in cases {
            let problem = RowProblem {
                row: 3,
                column,
                problem: Problem::Missing,
            };
            assert_eq!(problem.describe(lang), expected);
        }
    }
}
