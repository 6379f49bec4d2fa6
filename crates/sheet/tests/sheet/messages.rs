//! What the school secretary reads.

use esia_link_sheet::{DocumentKind, SheetError, SheetInfo};

fn every_error() -> Vec<SheetError> {
    let file = || Some("Список 5А.xls".to_string());
    let mut errors = vec![
        SheetError::Empty { file_name: file() },
        SheetError::FileTooLarge {
            bytes: 13 * 1024 * 1024,
            limit: 10 * 1024 * 1024,
        },
        SheetError::OldExcel { file_name: file() },
        SheetError::PasswordProtected { file_name: file() },
        SheetError::NotText { file_name: file() },
        SheetError::Damaged {
            detail: "zip: invalid".into(),
            file_name: file(),
        },
        SheetError::UnpackedTooLarge {
            limit: 200 * 1024 * 1024,
        },
        SheetError::SeveralSheets {
            sheets: vec![
                SheetInfo {
                    name: "Класс 5А".into(),
                    hidden: false,
                },
                SheetInfo {
                    name: "Лист2".into(),
                    hidden: true,
                },
            ],
        },
        SheetError::Formula {
            row: 7,
            cell: "C7".into(),
        },
        SheetError::TooManyRows {
            row: 100_002,
            limit: 100_000,
        },
        SheetError::TooManyColumns {
            row: 5,
            cell: "BM5".into(),
            limit: 64,
            delimiter: Some(','),
        },
        SheetError::CellTooLong {
            row: 12,
            cell: "D12".into(),
            limit: 1000,
        },
    ];
    for kind in [
        DocumentKind::Ods,
        DocumentKind::Word,
        DocumentKind::Presentation,
        DocumentKind::Xlsb,
        DocumentKind::Pdf,
        DocumentKind::WebPage,
        DocumentKind::Archive,
    ] {
        errors.push(SheetError::OtherDocument {
            kind,
            file_name: file(),
        });
    }
    errors
}

#[test]
fn every_message_is_a_plain_sentence_in_each_language() {
    let latin_word = |text: &str| {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().all(|c| c.is_ascii_alphabetic()) && w.len() > 1)
            // Excel's own names of things, which a Russian Excel shows too.
            .filter(|w| {
                ![
                    "Excel",
                    "CSV",
                    "UTF",
                    "xls",
                    "xlsx",
                    "xlsb",
                    "ods",
                    "PDF",
                    "Word",
                    "LibreOffice",
                    "OpenDocument",
                    "XML",
                    "BL",
                ]
                .contains(w)
            })
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    for error in every_error() {
        let ru = error.text(true);
        let en = error.text(false);
        assert!(ru.ends_with('.') && en.ends_with('.'), "{error:?}");
        assert!(
            latin_word(&ru).is_empty(),
            "{error:?}: English words in «{ru}»: {:?}",
            latin_word(&ru)
        );
        assert!(
            !en.chars().any(|c| matches!(c, 'а'..='я' | 'А'..='Я'))
                || en.contains("5А")
                || en.contains("Класс"),
            "{en}"
        );
        for text in [&ru, &en] {
            assert!(
                !text.contains("Some(") && !text.contains('{') && !text.contains("  "),
                "{text}"
            );
            assert!(
                !text.contains("zip: invalid"),
                "a technical detail reached the user: {text}"
            );
        }
        if let SheetError::Formula { cell, .. }
        | SheetError::TooManyColumns { cell, .. }
        | SheetError::CellTooLong { cell, .. } = &error
        {
            assert!(
                ru.contains(cell.as_str()) && en.contains(cell.as_str()),
                "{ru}"
            );
        }
    }
}

#[test]
fn messages_read_as_a_person_wrote_them() {
    let sheets = |names: &[(&str, bool)]| SheetError::SeveralSheets {
        sheets: names
            .iter()
            .map(|(name, hidden)| SheetInfo {
                name: name.to_string(),
                hidden: *hidden,
            })
            .collect(),
    };
    for (error, russian) in [
        (
            sheets(&[("Класс 5А", false), ("Лист2", false), ("Лист3", true)]),
            "В файле 3 листа с данными: «Класс 5А», «Лист2» и «Лист3» (скрытый). Загрузить можно книгу только с одним листом: удалите лишние листы или сохраните нужный лист как «CSV UTF-8».",
        ),
        (
            sheets(&[("А", false), ("Б", false), ("В", false), ("Г", false), ("Д", false)]),
            "В файле 5 листов с данными: «А», «Б», «В», «Г» и «Д». Загрузить можно книгу только с одним листом: удалите лишние листы или сохраните нужный лист как «CSV UTF-8».",
        ),
        (
            SheetError::Formula { row: 7, cell: "C7".into() },
            "В ячейке C7 стоит формула, а нужно само значение. Выделите таблицу, скопируйте её и вставьте на то же место через «Специальная вставка» → «Значения», затем сохраните файл и загрузите снова.",
        ),
        (
            SheetError::TooManyRows { row: 100_002, limit: 100_000 },
            "В таблице слишком много строк: за один раз можно загрузить не больше 100\u{a0}000 строк с данными, а строка 100\u{a0}002 уже лишняя. Разделите список на несколько файлов, например по классам, и загрузите их по очереди.",
        ),
        (
            SheetError::CellTooLong { row: 12, cell: "D12".into(), limit: 1000 },
            "В ячейке D12 слишком длинный текст: больше 1000 символов. Проверьте, не попал ли в неё текст из соседних ячеек, и сократите его.",
        ),
        (
            SheetError::TooManyColumns { row: 5, cell: "BM5".into(), limit: 64, delimiter: None },
            "В строке 5 заполнена ячейка BM5, а таблица может занимать не больше 64 столбцов (до столбца BL). Удалите лишние столбцы справа от таблицы или очистите эту ячейку.",
        ),
        (
            SheetError::OldExcel { file_name: Some("5А.xls".into()) },
            "Файл «5А.xls» сохранён в старом формате Excel 97–2003 (.xls), такой файл прочитать не получится. Откройте его в Excel, выберите «Файл» → «Сохранить как» и тип файла «Книга Excel (*.xlsx)» (подойдёт и «CSV UTF-8»), затем загрузите новый файл.",
        ),
        (
            SheetError::FileTooLarge { bytes: 13 * 1024 * 1024, limit: 10 * 1024 * 1024 },
            "Файл слишком большой: 13 МБ, а загрузить можно не больше 10 МБ. Удалите из книги лишние листы и картинки или разделите список на несколько файлов, например по классам.",
        ),
    ] {
        assert_eq!(error.text(true), russian);
    }
    assert_eq!(
        sheets(&[("Класс 5А", false), ("Лист2", true)]).text(false),
        "The file has 2 sheets with data: \"Класс 5А\" and \"Лист2\" (hidden). Only a workbook with one sheet can be uploaded: delete the other sheets, or save the sheet you need as \"CSV UTF-8\"."
    );
}

#[test]
fn row_problems_are_told_from_file_problems() {
    for error in every_error() {
        let row_problem = matches!(
            error,
            SheetError::Formula { .. }
                | SheetError::TooManyColumns { .. }
                | SheetError::CellTooLong { .. }
        );
        assert_eq!(error.is_row_problem(), row_problem, "{error:?}");
        assert_eq!(
            error.row().is_some(),
            row_problem || matches!(error, SheetError::TooManyRows { .. }),
            "{error:?}"
        );
    }
}
