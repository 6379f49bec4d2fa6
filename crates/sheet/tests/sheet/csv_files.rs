//! CSV as Excel and people write it.

use esia_link_sheet::{open, DocumentKind, Encoding, Format, Limits, SheetError};

use crate::{read_all, rows_ok, strings};

fn cp1251(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1251.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

#[test]
fn excel_csv_variants_read_the_same_roster() {
    let semicolons = "Фамилия;Имя;Дата рождения;СНИЛС\r\nЁлкина;Анна;01.09.2015;123-456-789 64\r\nПетров;Пётр;;\r\n";
    let commas = semicolons.replace(';', ",");
    let cases: Vec<(&str, Vec<u8>, Encoding, char)> = vec![
        (
            "UTF-8 ;",
            semicolons.as_bytes().to_vec(),
            Encoding::Utf8,
            ';',
        ),
        (
            "UTF-8 BOM ;",
            [b"\xEF\xBB\xBF".as_slice(), semicolons.as_bytes()].concat(),
            Encoding::Utf8Bom,
            ';',
        ),
        (
            "Windows-1251 ;",
            cp1251(semicolons),
            Encoding::Windows1251,
            ';',
        ),
        (
            "Windows-1251 ,",
            cp1251(&commas),
            Encoding::Windows1251,
            ',',
        ),
        ("UTF-8 ,", commas.as_bytes().to_vec(), Encoding::Utf8, ','),
        (
            "UTF-16 tabs",
            [0xFF, 0xFE]
                .into_iter()
                .chain(
                    semicolons
                        .replace(';', "\t")
                        .encode_utf16()
                        .flat_map(u16::to_le_bytes),
                )
                .collect(),
            Encoding::Utf16,
            '\t',
        ),
    ];
    for (name, bytes, encoding, delimiter) in cases {
        let sheet = open(&bytes, Some("5А.csv"), &Limits::default()).unwrap();
        assert_eq!(
            sheet.format(),
            &Format::Csv {
                encoding,
                delimiter
            },
            "{name}"
        );
        assert_eq!(
            sheet.header(),
            ["Фамилия", "Имя", "Дата рождения", "СНИЛС"],
            "{name}"
        );
        let rows: Vec<_> = sheet.map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 2, "{name}");
        assert_eq!((rows[0].number, rows[1].number), (2, 3), "{name}");
        assert_eq!(
            rows[0].cells,
            strings(&["Ёлкина", "Анна", "01.09.2015", "123-456-789 64"]),
            "{name}"
        );
        assert_eq!(
            rows[1].cells,
            strings(&["Петров", "Пётр", "", ""]),
            "{name}"
        );
    }
}

#[test]
fn quoted_cells_keep_delimiters_quotes_and_line_breaks() {
    let text = "Фамилия;Адрес;Примечание\n\
                \"Иванова; Анна\";\"ул. Ленина, 5\";\"Класс \"\"5А\"\"\"\n\
                Петров;\"две\nстроки\";x\n\
                Сидоров;;y\n";
    let (header, rows) = rows_ok(text.as_bytes());
    assert_eq!(header, ["Фамилия", "Адрес", "Примечание"]);
    assert_eq!(
        rows,
        vec![
            (
                2,
                strings(&["Иванова; Анна", "ул. Ленина, 5", "Класс \"5А\""])
            ),
            (3, strings(&["Петров", "две\nстроки", "x"])),
            // Excel shows a cell's line break inside the cell: the next
            // record is still row 4.
            (4, strings(&["Сидоров", "", "y"])),
        ]
    );
}

#[test]
fn empty_rows_are_skipped_but_keep_the_numbering() {
    for (name, text) in [
        (
            "delimiters only",
            "Фамилия;Имя\n;\nИванова;Анна\n;;;\n  ;  \nПетров;Пётр\n",
        ),
        (
            "blank lines",
            "Фамилия;Имя\n\nИванова;Анна\n\n\nПетров;Пётр\n",
        ),
        (
            "CRLF blank lines",
            "Фамилия;Имя\r\n\r\nИванова;Анна\r\n\r\n\r\nПетров;Пётр\r\n",
        ),
    ] {
        let (_, rows) = rows_ok(text.as_bytes());
        let numbers: Vec<u32> = rows.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, [3, 6], "{name}");
    }
}

#[test]
fn header_below_empty_lines_and_excel_sep_line() {
    let sheet = open(
        ";;\n;;\nФамилия;Имя\nИванова;Анна\n".as_bytes(),
        None,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(sheet.header_row(), 3);
    assert_eq!(sheet.map(|r| r.unwrap().number).collect::<Vec<_>>(), [4]);

    // Excel hides its own `sep=` line: the header is row 1 on screen.
    let sheet = open(b"sep=,\r\nA,B\r\n1,2\r\n", None, &Limits::default()).unwrap();
    assert_eq!(
        (sheet.header_row(), sheet.format().clone()),
        (
            1,
            Format::Csv {
                encoding: Encoding::Utf8,
                delimiter: ','
            }
        )
    );
    assert_eq!(sheet.map(|r| r.unwrap().number).collect::<Vec<_>>(), [2]);
}

#[test]
fn header_cells_are_trimmed_and_data_cells_kept() {
    let (header, rows) = rows_ok(" Фамилия ;\tИмя\t;\n  Иванова ;Анна\n".as_bytes());
    assert_eq!(header, ["Фамилия", "Имя"]);
    assert_eq!(rows[0].1, strings(&["  Иванова ", "Анна"]));
}

#[test]
fn not_text_or_empty_files_are_refused() {
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let cases: Vec<(&str, Vec<u8>, SheetError)> = vec![
        ("binary garbage", garbage, SheetError::NotText { file_name: Some("roster".into()) }),
        ("empty", Vec::new(), SheetError::Empty { file_name: Some("roster".into()) }),
        ("blank", b"\r\n \n;;;\n\t\n".to_vec(), SheetError::Empty { file_name: Some("roster".into()) }),
        (
            "web page named .xls",
            b"<html><body><table><tr><td>1</td></tr></table></body></html>".to_vec(),
            SheetError::OtherDocument { kind: DocumentKind::WebPage, file_name: Some("roster".into()) },
        ),
        (
            "Excel 2003 XML",
            b"\xEF\xBB\xBF<?xml version=\"1.0\"?><Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\"/>".to_vec(),
            SheetError::OtherDocument { kind: DocumentKind::WebPage, file_name: Some("roster".into()) },
        ),
        (
            "PDF",
            b"%PDF-1.7\n...".to_vec(),
            SheetError::OtherDocument { kind: DocumentKind::Pdf, file_name: Some("roster".into()) },
        ),
    ];
    for (name, bytes, expected) in cases {
        assert_eq!(
            read_all(&bytes, &Limits::default()).err(),
            Some(expected),
            "{name}"
        );
    }
}
