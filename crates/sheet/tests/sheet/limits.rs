//! The limits, checked the same way in every format while rows stream.

use esia_link_sheet::{Limits, SheetError};
use rust_xlsxwriter::Workbook;

use crate::{hand_xlsx, read_all, sheet_xml, HEAVY};

type Grid<'a> = &'a [&'a [&'a str]];

fn as_csv(grid: Grid) -> Vec<u8> {
    grid.iter()
        .map(|row| row.join(";") + "\r\n")
        .collect::<String>()
        .into_bytes()
}

/// Shared strings, as Excel writes text.
fn as_xlsx(grid: Grid) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (row, cells) in grid.iter().enumerate() {
        for (column, text) in cells.iter().enumerate() {
            if !text.is_empty() {
                sheet
                    .write_string(row as u32, column as u16, *text)
                    .unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

/// Inline strings, as some export tools write text.
fn as_inline_xlsx(grid: Grid) -> Vec<u8> {
    let mut xml = String::new();
    for (row, cells) in grid.iter().enumerate() {
        xml.push_str(&format!(r#"<row r="{}">"#, row + 1));
        for text in cells.iter() {
            // No `r`: each cell follows the previous one, empty ones too.
            xml.push_str(&format!(r#"<c t="inlineStr"><is><t>{text}</t></is></c>"#));
        }
        xml.push_str("</row>");
    }
    hand_xlsx("", &sheet_xml(&xml), &[])
}

/// Each row's number, or its error.
fn outcome(bytes: &[u8], limits: &Limits) -> Result<Vec<Result<u32, SheetError>>, SheetError> {
    let (_, rows) = read_all(bytes, limits)?;
    Ok(rows.into_iter().map(|r| r.map(|r| r.number)).collect())
}

/// A format's name, its writer, and the delimiter its errors name.
type Writer = (&'static str, fn(Grid) -> Vec<u8>, Option<char>);

fn formats() -> [Writer; 3] {
    [
        ("CSV", as_csv, Some(';')),
        ("XLSX", as_xlsx, None),
        ("XLSX inline", as_inline_xlsx, None),
    ]
}

#[test]
fn too_many_rows_stops_at_the_first_row_past_the_limit() {
    let grid: Grid = &[
        &["Фамилия", "Имя"],
        &["Иванова", "Анна"],
        &["Петров", "Пётр"],
        &["", ""],
        &["Сидоров", "Иван"],
        &["Кузнецова", "Ольга"],
        &["Смирнов", "Олег"],
    ];
    let limits = Limits {
        max_rows: 3,
        ..Limits::default()
    };
    for (name, write, _) in formats() {
        assert_eq!(
            outcome(&write(grid), &limits),
            // Empty row 4 does not count; nothing is read after the error.
            Ok(vec![
                Ok(2),
                Ok(3),
                Ok(5),
                Err(SheetError::TooManyRows { row: 6, limit: 3 })
            ]),
            "{name}"
        );
    }
}

#[test]
fn too_many_columns_names_the_cell_and_reading_goes_on() {
    let grid: Grid = &[
        &["Фамилия", "Имя", "Класс"],
        &["Иванова", "Анна", "5А", "лишнее"],
        &["Петров", "Пётр", "5А", "", "", ""],
    ];
    let limits = Limits {
        max_columns: 3,
        ..Limits::default()
    };
    for (name, write, delimiter) in formats() {
        assert_eq!(
            outcome(&write(grid), &limits),
            Ok(vec![
                Err(SheetError::TooManyColumns {
                    row: 2,
                    cell: "D2".into(),
                    limit: 3,
                    delimiter
                }),
                Ok(3),
            ]),
            "{name}"
        );
    }
    let wide_header: Grid = &[&["Фамилия", "Имя", "Класс", "СНИЛС"], &["Иванова"]];
    for (name, write, delimiter) in formats() {
        assert_eq!(
            outcome(&write(wide_header), &limits),
            Err(SheetError::TooManyColumns {
                row: 1,
                cell: "D1".into(),
                limit: 3,
                delimiter
            }),
            "{name}"
        );
    }
}

#[test]
fn too_long_cells_name_the_cell() {
    let grid: Grid = &[&["Фамилия", "Имя"], &["Ёж", "Александра"], &["Ёж", "Анна"]];
    // Characters, not bytes: «Анна» is 8 bytes in UTF-8 and fits in 7.
    let limits = Limits {
        max_cell_chars: 7,
        ..Limits::default()
    };
    for (name, write, _) in formats() {
        assert_eq!(
            outcome(&write(grid), &limits),
            Ok(vec![
                Err(SheetError::CellTooLong {
                    row: 2,
                    cell: "B2".into(),
                    limit: 7
                }),
                Ok(3)
            ]),
            "{name}"
        );
    }
}

#[test]
fn a_file_over_the_size_limit_is_not_looked_at() {
    let limits = Limits {
        max_file_bytes: 1000,
        ..Limits::default()
    };
    for (name, write, _) in formats() {
        let bytes = write(&[&["Фамилия"], &["Иванова"]]);
        let big = [bytes.as_slice(), &[b' '; 1000]].concat();
        assert_eq!(
            outcome(&big, &limits),
            Err(SheetError::FileTooLarge {
                bytes: big.len() as u64,
                limit: 1000
            }),
            "{name}"
        );
    }
}

#[test]
fn a_hundred_thousand_rows_read_within_the_default_limits() {
    // Its fixture and rows take memory the hostile tests would count.
    let _heavy = HEAVY.lock();
    let mut csv = String::from("Фамилия;Имя;СНИЛС\n");
    for row in 0..100_000 {
        csv.push_str(&format!("Иванова{row};Анна;{:011}\n", row));
    }
    let (_, rows) = read_all(csv.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(rows.len(), 100_000);
    assert_eq!(rows.last().unwrap().as_ref().unwrap().number, 100_001);
    csv.push_str("Лишний;Ученик;\n");
    let (_, rows) = read_all(csv.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(
        rows.last().unwrap().as_ref().err(),
        Some(&SheetError::TooManyRows {
            row: 100_002,
            limit: 100_000
        })
    );
}
