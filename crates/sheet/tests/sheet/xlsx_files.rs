//! Workbooks as Excel (here: rust_xlsxwriter) writes them.

use esia_link_sheet::{open, Format, Limits, SheetError, SheetInfo};
use rust_xlsxwriter::{ExcelDateTime, Format as CellFormat, Workbook};

use crate::{hand_xlsx, read_all, rows_ok, sheet_xml, strings};

#[test]
fn values_read_as_excel_shows_them() {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Класс 5А").unwrap();
    let date = CellFormat::new().set_num_format("dd.mm.yyyy");
    let russian_long_date = CellFormat::new().set_num_format("[$-419]d mmmm yyyy \"г.\"");
    let snils_mask = CellFormat::new().set_num_format("000-000-000 00");
    let header = [
        "Фамилия",
        "Имя",
        "Дата рождения",
        "СНИЛС",
        "Телефон",
        "Рост",
        "Согласие",
        "Дата 2",
    ];
    for (column, title) in header.iter().enumerate() {
        sheet.write_string(0, column as u16, *title).unwrap();
    }
    sheet.write_string(1, 0, "Ёлкина").unwrap();
    sheet.write_string(1, 1, "Анна").unwrap();
    sheet
        .write_datetime_with_format(1, 2, ExcelDateTime::from_ymd(2015, 9, 1).unwrap(), &date)
        .unwrap();
    sheet.write_number(1, 3, 12_345_678_964.0).unwrap(); // SNILS typed as a number
    sheet.write_number(1, 4, 89_161_234_567.0).unwrap(); // a phone too
    sheet.write_number(1, 5, 1.35).unwrap();
    sheet.write_boolean(1, 6, true).unwrap();
    sheet
        .write_datetime_with_format(
            1,
            7,
            ExcelDateTime::from_ymd(2016, 2, 29).unwrap(),
            &russian_long_date,
        )
        .unwrap();
    // The same shared string twice, a leading-zero SNILS shown by its mask.
    sheet.write_string(2, 0, "Ёлкина").unwrap();
    sheet.write_string(2, 1, "Мария").unwrap();
    sheet
        .write_number_with_format(2, 3, 1_234_567_890.0, &snils_mask)
        .unwrap();
    sheet.write_number(2, 5, 7.0).unwrap();
    sheet.write_boolean(2, 6, false).unwrap();
    let bytes = book.save_to_buffer().unwrap();

    let opened = open(&bytes, Some("5А.xlsx"), &Limits::default()).unwrap();
    assert_eq!(
        opened.format(),
        &Format::Xlsx {
            sheet: "Класс 5А".into()
        }
    );
    let (read_header, rows) = rows_ok(&bytes);
    assert_eq!(read_header, header);
    assert_eq!(
        rows,
        vec![
            (
                2,
                strings(&[
                    "Ёлкина",
                    "Анна",
                    "01.09.2015",
                    "12345678964",
                    "89161234567",
                    "1.35",
                    "TRUE",
                    "29.02.2016",
                ])
            ),
            (
                3,
                strings(&[
                    "Ёлкина",
                    "Мария",
                    "",
                    "012-345-678 90",
                    "",
                    "7",
                    "FALSE",
                    ""
                ])
            ),
        ]
    );
}

#[test]
fn inline_strings_rich_text_escapes_and_the_1904_date_system() {
    let shared = r#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3"><si><t>Фамилия</t></si><si><r><rPr><b/></rPr><t>Ив</t></r><r><t xml:space="preserve">анова </t></r><rPh><t>ignored</t></rPh></si><si><t>A &amp; B_x000D_</t></si></sst>"#;
    let styles = br#"<?xml version="1.0"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts><cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="14"/></cellXfs></styleSheet>"#;
    let sheet = sheet_xml(concat!(
        r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>Дата</t></is></c><c r="C1" t="inlineStr"><is><r><t>При</t></r><r><t>мечание</t></r></is></c></row>"#,
        r#"<row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2" s="1"><v>38717</v></c><c r="C2" t="s"><v>2</v></c></row>"#,
        // No r attributes: cells and rows follow on.
        r#"<row><c t="inlineStr"><is><t>Без &lt;номера&gt;</t></is></c><c s="2"><v>0</v></c><c t="str"><v>текст</v></c></row>"#,
    ));
    let bytes = hand_xlsx(
        r#"<workbookPr date1904="1"/>"#,
        &sheet,
        &[
            ("xl/sharedStrings.xml", shared.as_bytes()),
            ("xl/styles.xml", styles),
        ],
    );
    let (header, rows) = rows_ok(&bytes);
    assert_eq!(header, ["Фамилия", "Дата", "Примечание"]);
    assert_eq!(
        rows,
        vec![
            (2, strings(&["Иванова ", "01.01.2010", "A & B\r"])),
            (3, strings(&["Без <номера>", "01.01.1904", "текст"])),
        ]
    );
}

#[test]
fn empty_rows_keep_the_spreadsheet_numbering() {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let bold = CellFormat::new().set_bold();
    // Rows 1-2 empty (row 2 only formatted), header on row 3.
    sheet.write_blank(1, 0, &bold).unwrap();
    sheet.write_string(2, 0, "Фамилия").unwrap();
    sheet.write_string(2, 1, "Имя").unwrap();
    sheet.write_string(3, 0, "Иванова").unwrap();
    sheet.write_string(6, 1, "Анна").unwrap();
    sheet.write_string(7, 0, "   ").unwrap();
    sheet.write_blank(8, 100, &bold).unwrap();
    sheet.write_string(9, 0, "Петров").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let sheet = open(&bytes, None, &Limits::default()).unwrap();
    assert_eq!(sheet.header_row(), 3);
    let rows: Vec<(u32, Vec<String>)> = sheet
        .map(|r| r.map(|r| (r.number, r.cells)).unwrap())
        .collect();
    assert_eq!(
        rows,
        vec![
            (4, strings(&["Иванова", ""])),
            (7, strings(&["", "Анна"])),
            (10, strings(&["Петров", ""])),
        ]
    );
}

#[test]
fn one_sheet_with_data_among_empty_ones_is_read() {
    let mut book = Workbook::new();
    book.add_worksheet().set_name("Лист1").unwrap();
    let data = book.add_worksheet();
    data.set_name("Класс 5А").unwrap();
    data.write_string(0, 0, "Фамилия").unwrap();
    data.write_string(1, 0, "Иванова").unwrap();
    let empty = book.add_worksheet();
    empty.set_name("Лист3").unwrap();
    empty
        .write_blank(5, 5, &CellFormat::new().set_bold())
        .unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let sheet = open(&bytes, None, &Limits::default()).unwrap();
    assert_eq!(
        sheet.format(),
        &Format::Xlsx {
            sheet: "Класс 5А".into()
        }
    );
    assert_eq!(
        sheet.map(|r| r.unwrap().cells).collect::<Vec<_>>(),
        [strings(&["Иванова"])]
    );
}

#[test]
fn several_sheets_with_data_are_refused_by_name() {
    let mut book = Workbook::new();
    for (name, hidden) in [
        ("Класс 5А", false),
        ("Пустой", false),
        ("Лист2", false),
        ("Старый", true),
    ] {
        let sheet = book.add_worksheet();
        sheet.set_name(name).unwrap();
        if name != "Пустой" {
            sheet.write_string(0, 0, "x").unwrap();
        }
        if hidden {
            sheet.set_hidden(true);
        }
    }
    let bytes = book.save_to_buffer().unwrap();
    let sheet = |name: &str, hidden| SheetInfo {
        name: name.into(),
        hidden,
    };
    assert_eq!(
        read_all(&bytes, &Limits::default()).err(),
        Some(SheetError::SeveralSheets {
            sheets: vec![
                sheet("Класс 5А", false),
                sheet("Лист2", false),
                sheet("Старый", true)
            ]
        })
    );
}

#[test]
fn a_formula_is_reported_by_its_cell_and_other_rows_still_read() {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (row, values) in [
        ["Фамилия", "Имя", "Итог"],
        ["Иванова", "Анна", ""],
        ["Петров", "Пётр", ""],
    ]
    .iter()
    .enumerate()
    {
        for (column, value) in values.iter().enumerate() {
            if !value.is_empty() {
                sheet
                    .write_string(row as u32, column as u16, *value)
                    .unwrap();
            }
        }
    }
    sheet.write_formula(6, 2, "=1+1").unwrap();
    sheet.write_string(7, 0, "Сидоров").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let (_, items) = read_all(&bytes, &Limits::default()).unwrap();
    let summary: Vec<Result<u32, SheetError>> =
        items.into_iter().map(|r| r.map(|r| r.number)).collect();
    assert_eq!(
        summary,
        vec![
            Ok(2),
            Ok(3),
            Err(SheetError::Formula {
                row: 7,
                cell: "C7".into()
            }),
            Ok(8),
        ]
    );
}

#[test]
fn a_formula_in_the_header_fails_the_opening() {
    let bytes = hand_xlsx(
        "",
        &sheet_xml(
            r#"<row r="1"><c r="A1" t="str"><f>"Фа"&amp;"милия"</f><v>Фамилия</v></c></row>"#,
        ),
        &[],
    );
    assert_eq!(
        read_all(&bytes, &Limits::default()).err(),
        Some(SheetError::Formula {
            row: 1,
            cell: "A1".into()
        })
    );
}
