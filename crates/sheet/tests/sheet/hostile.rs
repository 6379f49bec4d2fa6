//! Files made to hurt: zip bombs, lying headers, huge declared sizes, and
//! documents that only look like spreadsheets.

use std::io::Write;
use std::time::{Duration, Instant};

use esia_link_sheet::{DocumentKind, Limits, SheetError};

use crate::{
    hand_xlsx, peak_growth, read_all, rows_ok, sheet_xml, zip_of, CONTENT_TYPES, HEAVY,
    PACKAGE_RELS,
};

const MIB: usize = 1024 * 1024;

/// Peak memory a read may add; a reader that held a part, or allocated by
/// a declared size, would need hundreds of megabytes here.
const FLAT: u64 = 32 * MIB as u64;

/// A one-sheet workbook whose `name` entry is `unit` repeated until it is
/// `total` bytes, streamed into the deflater (never held whole).
fn bomb(name: &str, prefix: &str, unit: &str, total: usize, suffix: &str) -> Vec<u8> {
    let small = hand_xlsx(
        "",
        &sheet_xml(r#"<row r="1"><c t="inlineStr"><is><t>Фамилия</t></is></c></row>"#),
        &[],
    );
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(small)).unwrap();
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for index in 0..archive.len() {
        let file = archive.by_index_raw(index).unwrap();
        if file.name().unwrap() != name {
            writer.raw_copy_file(file).unwrap();
        }
    }
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .large_file(total > 3 * 1024 * MIB);
    writer.start_file(name, options).unwrap();
    writer.write_all(prefix.as_bytes()).unwrap();
    let chunk = unit.repeat(MIB / unit.len());
    for _ in 0..total / chunk.len() {
        writer.write_all(chunk.as_bytes()).unwrap();
    }
    writer.write_all(suffix.as_bytes()).unwrap();
    writer.finish().unwrap().into_inner()
}

/// Text runs of half a megabyte between tags: few events to parse, so the
/// test measures the inflating, not the XML.
fn spacer() -> String {
    format!("<x/>{}", " ".repeat(MIB / 2 - 4))
}

#[test]
fn zip_bombs_stop_at_the_unpacked_limit_fast_and_in_flat_memory() {
    let _heavy = HEAVY.lock();
    let sheet_start = r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#;
    let cases = [
        (
            "a 600 MiB worksheet",
            bomb(
                "xl/worksheets/sheet1.xml",
                sheet_start,
                &spacer(),
                600 * MIB,
                "</sheetData></worksheet>",
            ),
        ),
        (
            "600 MiB of shared strings",
            bomb(
                "xl/sharedStrings.xml",
                "<sst>",
                &format!("<si><t>{}</t></si>", "а".repeat(MIB / 4 - 10)),
                600 * MIB,
                "</sst>",
            ),
        ),
    ];
    for (name, bytes) in cases {
        assert!(
            bytes.len() < 2 * MIB,
            "{name}: the fixture is {} bytes",
            bytes.len()
        );
        let started = Instant::now();
        let (result, growth) = peak_growth(|| read_all(&bytes, &Limits::default()).err());
        let elapsed = started.elapsed();
        assert_eq!(
            result,
            Some(SheetError::UnpackedTooLarge {
                limit: 200 * MIB as u64
            }),
            "{name}"
        );
        assert!(elapsed < Duration::from_secs(20), "{name}: {elapsed:?}");
        assert!(growth < FLAT, "{name}: peak memory grew by {growth} bytes");
        eprintln!(
            "{name}: refused in {elapsed:?}, peak memory +{} KiB",
            growth / 1024
        );
    }
}

#[test]
fn a_bomb_in_a_part_that_is_never_read_costs_nothing() {
    let _heavy = HEAVY.lock();
    let bytes = bomb("xl/media/image1.png", "", "\0", 600 * MIB, "");
    let (result, growth) = peak_growth(|| rows_ok(&bytes).0);
    assert_eq!(result, ["Фамилия"]);
    assert!(growth < FLAT, "peak memory grew by {growth} bytes");
}

/// Rewrites the uncompressed size an entry declares, in its local header
/// and in the central directory.
fn lie_about_size(zip: &mut [u8], name: &str, declared: u32) {
    let mut patched = 0;
    for (signature, name_at, size_at) in [(b"PK\x03\x04", 30, 22), (b"PK\x01\x02", 46, 24)] {
        let mut at = 0;
        while let Some(found) = zip[at..].windows(4).position(|w| w == signature) {
            let start = at + found;
            if zip[start + name_at..].starts_with(name.as_bytes()) {
                zip[start + size_at..start + size_at + 4].copy_from_slice(&declared.to_le_bytes());
                patched += 1;
            }
            at = start + 4;
        }
    }
    assert_eq!(patched, 2, "{name} not found");
}

#[test]
fn declared_sizes_are_not_believed() {
    let _heavy = HEAVY.lock();
    // Says 100 bytes, inflates to 600 MiB.
    let sheet_start = r#"<worksheet><sheetData>"#;
    let mut small_lie = bomb(
        "xl/worksheets/sheet1.xml",
        sheet_start,
        &spacer(),
        600 * MIB,
        "</sheetData></worksheet>",
    );
    lie_about_size(&mut small_lie, "xl/worksheets/sheet1.xml", 100);
    let (result, growth) = peak_growth(|| read_all(&small_lie, &Limits::default()).err());
    assert_eq!(
        result,
        Some(SheetError::UnpackedTooLarge {
            limit: 200 * MIB as u64
        })
    );
    assert!(growth < FLAT, "peak memory grew by {growth} bytes");

    // Says 4 GiB, holds a normal sheet: nothing is sized by the claim.
    let mut big_lie = hand_xlsx(
        "",
        &sheet_xml(
            r#"<row r="1"><c t="inlineStr"><is><t>Фамилия</t></is></c></row><row r="2"><c t="inlineStr"><is><t>Иванова</t></is></c></row>"#,
        ),
        &[],
    );
    lie_about_size(&mut big_lie, "xl/worksheets/sheet1.xml", u32::MAX);
    let ((header, rows), growth) = peak_growth(|| rows_ok(&big_lie));
    assert_eq!((header, rows.len()), (vec!["Фамилия".to_string()], 1));
    assert!(growth < FLAT, "peak memory grew by {growth} bytes");

    // A directory that claims 65,535 entries in 4 GiB: an error, and no
    // allocation by the claim.
    let mut lying_directory = big_lie.clone();
    let eocd = lying_directory.len() - 22;
    assert_eq!(&lying_directory[eocd..eocd + 4], b"PK\x05\x06");
    lying_directory[eocd + 8..eocd + 12].copy_from_slice(&[0xFF; 4]);
    lying_directory[eocd + 12..eocd + 16].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let (result, growth) = peak_growth(|| read_all(&lying_directory, &Limits::default()).err());
    assert!(
        matches!(result, Some(SheetError::Damaged { .. })),
        "{result:?}"
    );
    assert!(growth < FLAT, "peak memory grew by {growth} bytes");
}

#[test]
fn declared_dimensions_and_empty_rows_cost_no_memory() {
    let _heavy = HEAVY.lock();
    let cell = |row: u32, text: &str| {
        format!(r#"<row r="{row}"><c r="A{row}" t="inlineStr"><is><t>{text}</t></is></c></row>"#)
    };
    let declared = format!(
        r#"<worksheet><dimension ref="A1:XFD1048576"/><sheetData>{}{}</sheetData></worksheet>"#,
        cell(1, "Фамилия"),
        cell(2, "Иванова")
    );
    let mut million_empty_rows = format!(
        r#"<worksheet><dimension ref="A1:Z1000000"/><sheetData>{}"#,
        cell(1, "Фамилия")
    );
    for row in 2..=1_000_001 {
        million_empty_rows.push_str(&format!(r#"<row r="{row}" spans="1:26"/>"#));
    }
    million_empty_rows.push_str(&cell(1_000_002, "Петров"));
    million_empty_rows.push_str("</sheetData></worksheet>");
    for (name, xml, last_row) in [
        ("declared dimension", declared, 2),
        ("a million empty rows", million_empty_rows, 1_000_002),
    ] {
        let bytes = hand_xlsx("", xml.as_bytes(), &[]);
        drop(xml);
        let started = Instant::now();
        let ((_, rows), growth) = peak_growth(|| rows_ok(&bytes));
        assert_eq!(rows.last().map(|r| r.0), Some(last_row), "{name}");
        assert_eq!(rows.len(), 1, "{name}");
        assert!(growth < FLAT, "{name}: peak memory grew by {growth} bytes");
        eprintln!(
            "{name}: {} KiB file read in {:?}, peak +{} KiB",
            bytes.len() / 1024,
            started.elapsed(),
            growth / 1024
        );
    }
}

#[test]
fn an_oversized_xml_tag_is_refused_not_buffered() {
    let _heavy = HEAVY.lock();
    let huge = format!(
        r#"<row r="1"><c r="A1" t="inlineStr" x="{}"><is><t>x</t></is></c></row>"#,
        "a".repeat(8 * MIB)
    );
    let bytes = hand_xlsx("", &sheet_xml(&huge), &[]);
    let (result, growth) = peak_growth(|| read_all(&bytes, &Limits::default()).err());
    assert!(
        matches!(result, Some(SheetError::Damaged { .. })),
        "{result:?}"
    );
    assert!(
        growth < 8 * MIB as u64,
        "peak memory grew by {growth} bytes"
    );
}

/// The error as `read_all` reports it, with its file name.
fn named(error: impl Fn(Option<String>) -> SheetError) -> SheetError {
    error(Some("roster".into()))
}

fn other(kind: DocumentKind) -> impl Fn(Option<String>) -> SheetError {
    move |file_name| SheetError::OtherDocument { kind, file_name }
}

fn ole2(stream_names: &[&str]) -> Vec<u8> {
    let mut bytes = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    bytes.resize(512, 0);
    for name in stream_names {
        bytes.extend(name.encode_utf16().flat_map(u16::to_le_bytes));
        bytes.resize(bytes.len().next_multiple_of(128), 0);
    }
    bytes
}

#[test]
fn other_documents_are_recognised_by_content_not_name() {
    let workbook_rels_bin = r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.bin"/></Relationships>"#;
    let cases: Vec<(&str, Vec<u8>, SheetError)> = vec![
        (
            "Excel 97-2003",
            ole2(&["Workbook", "SummaryInformation"]),
            named(|file_name| SheetError::OldExcel { file_name }),
        ),
        (
            "encrypted xlsx",
            ole2(&["EncryptionInfo", "EncryptedPackage"]),
            named(|file_name| SheetError::PasswordProtected { file_name }),
        ),
        (
            "Word 97",
            ole2(&["WordDocument"]),
            named(other(DocumentKind::Word)),
        ),
        (
            "docx",
            zip_of(&[
                ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
                ("word/document.xml", b"<w:document/>"),
            ]),
            named(other(DocumentKind::Word)),
        ),
        (
            "ods",
            zip_of(&[
                (
                    "mimetype",
                    b"application/vnd.oasis.opendocument.spreadsheet",
                ),
                ("content.xml", b"<office:document-content/>"),
            ]),
            named(other(DocumentKind::Ods)),
        ),
        (
            "xlsb",
            zip_of(&[
                ("_rels/.rels", workbook_rels_bin.as_bytes()),
                ("xl/workbook.bin", b"\x83\x01\x00"),
            ]),
            named(other(DocumentKind::Xlsb)),
        ),
        (
            "a zip of photos",
            zip_of(&[("photo.jpg", b"\xFF\xD8\xFF\xE0")]),
            named(other(DocumentKind::Archive)),
        ),
        (
            "RAR",
            b"Rar!\x1A\x07\x01\x00".to_vec(),
            named(other(DocumentKind::Archive)),
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

#[test]
fn damaged_workbooks_are_errors_not_panics() {
    let good = hand_xlsx(
        "",
        &sheet_xml(r#"<row r="1"><c t="inlineStr"><is><t>Фамилия</t></is></c></row>"#),
        &[],
    );
    let broken_xml = hand_xlsx("", b"<worksheet><sheetData><row r=\"1\"><c t=\"inlineStr\"><is><t>x</t></is></c></row></sheetData", &[]);
    let bad_row = hand_xlsx(
        "",
        &sheet_xml(r#"<row r="-1"><c t="inlineStr"><is><t>x</t></is></c></row>"#),
        &[],
    );
    let missing_string = hand_xlsx(
        "",
        &sheet_xml(r#"<row r="1"><c t="s"><v>7</v></c></row>"#),
        &[],
    );
    let no_package = zip_of(&[
        ("_rels/.rels", PACKAGE_RELS.as_bytes()),
        ("xl/workbook.xml", b"<workbook><sheets>"),
    ]);
    for (name, bytes) in [
        ("cut in half", good[..good.len() / 2].to_vec()),
        ("only the zip signature", b"PK\x03\x04".to_vec()),
        ("an unclosed worksheet", broken_xml),
        ("a negative row number", bad_row),
        ("a shared string that is not there", missing_string),
        ("a workbook with no sheet part", no_package),
    ] {
        let result = read_all(&bytes, &Limits::default())
            .map(|(_, rows)| rows.into_iter().find_map(Result::err));
        let error = match result {
            Err(error) | Ok(Some(error)) => error,
            Ok(None) => panic!("{name}: read without an error"),
        };
        assert!(
            matches!(error, SheetError::Damaged { .. } | SheetError::Empty { .. }),
            "{name}: {error:?}"
        );
    }
}
