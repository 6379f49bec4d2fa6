//! Reading uploaded rosters end to end. Every fixture is made here: real
//! workbooks with `rust_xlsxwriter`, hostile archives with `zip`.

// A test harness may panic: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod csv_files;
mod hostile;
mod limits;
mod messages;
mod xlsx_files;

use std::io::Write;
use std::sync::Mutex;

use esia_link_sheet::{open, Limits, Row, SheetError};

/// Tests that build large fixtures or measure memory run one at a time, so
/// that a peak measured in one is its own.
pub static HEAVY: Mutex<()> = Mutex::new(());

/// The header, and every item the iterator yields.
pub type Read = (Vec<String>, Vec<Result<Row, SheetError>>);

pub fn read_all(bytes: &[u8], limits: &Limits) -> Result<Read, SheetError> {
    let sheet = open(bytes, Some("roster"), limits)?;
    let header = sheet.header().to_vec();
    Ok((header, sheet.collect()))
}

/// Rows as (number, cells), failing the test on any error.
pub fn rows_ok(bytes: &[u8]) -> (Vec<String>, Vec<(u32, Vec<String>)>) {
    let (header, rows) = read_all(bytes, &Limits::default()).unwrap();
    let rows = rows
        .into_iter()
        .map(|row| {
            let row = row.unwrap();
            (row.number, row.cells)
        })
        .collect();
    (header, rows)
}

pub fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

/// A zip with the given entries, deflated.
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

pub const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>"#;

pub const PACKAGE_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;

/// The parts of a one-sheet workbook around a hand-written sheet; extra
/// entries (shared strings, styles, anything hostile) are added as given.
pub fn hand_xlsx(workbook_pr: &str, sheet_xml: &[u8], extra: &[(&str, &[u8])]) -> Vec<u8> {
    let workbook = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">{workbook_pr}<sheets><sheet name="Список" sheetId="1" r:id="rId1"/></sheets></workbook>"#
    );
    let rels = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#;
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("_rels/.rels", PACKAGE_RELS.as_bytes()),
        ("xl/workbook.xml", workbook.as_bytes()),
        ("xl/_rels/workbook.xml.rels", rels.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet_xml),
    ];
    entries.extend_from_slice(extra);
    zip_of(&entries)
}

/// `<worksheet>` around the given `<sheetData>` content.
pub fn sheet_xml(sheet_data: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{sheet_data}</sheetData></worksheet>"#
    )
    .into_bytes()
}

/// The process's memory now and its peak since the last reset, in bytes
/// (Linux).
pub fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .unwrap()
            * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Runs `work` and returns how far the process's peak memory rose above
/// what it used when `work` began.
pub fn peak_growth<T>(work: impl FnOnce() -> T) -> (T, u64) {
    // "5" resets the peak (VmHWM) to the current RSS.
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let (before, _) = memory();
    let result = work();
    let (_, peak) = memory();
    (result, peak.saturating_sub(before))
}
