//! Where roster rows come from: a CSV or JSON file or body, read again for
//! each pass, as numbered raw rows.

use std::io::{BufRead, BufReader, Read};

use domain::roster::{Column, RawRow};

use super::{FileProblem, RosterFormat};

/// A roster that can be read more than once (a file, or a body in memory).
pub trait RosterSource: Sync {
    fn open(&self) -> std::io::Result<Box<dyn Read + Send + '_>>;
    fn format(&self) -> RosterFormat;
    /// A spreadsheet's bytes and limits ([`RosterFormat::Sheet`] only).
    fn sheet(&self) -> Option<(&[u8], &sheet::Limits)> {
        None
    }
}

/// An uploaded spreadsheet (XLSX, or CSV in UTF-8 or Windows-1251), read
/// through the `sheet` crate within `limits`; rows carry the numbers the
/// spreadsheet shows. The bytes may be shared with the kept upload.
pub struct SheetSource {
    pub bytes: bytes::Bytes,
    pub limits: sheet::Limits,
}

impl RosterSource for SheetSource {
    fn open(&self) -> std::io::Result<Box<dyn Read + Send + '_>> {
        Ok(Box::new(&self.bytes[..]))
    }
    fn format(&self) -> RosterFormat {
        RosterFormat::Sheet
    }
    fn sheet(&self) -> Option<(&[u8], &sheet::Limits)> {
        Some((&self.bytes, &self.limits))
    }
}

/// A roster held in memory (an API request body).
pub struct BytesSource {
    pub bytes: Vec<u8>,
    pub format: RosterFormat,
}

impl RosterSource for BytesSource {
    fn open(&self) -> std::io::Result<Box<dyn Read + Send + '_>> {
        Ok(Box::new(self.bytes.as_slice()))
    }
    fn format(&self) -> RosterFormat {
        self.format
    }
}

/// A roster file, opened anew for each pass.
pub struct FileSource {
    pub path: std::path::PathBuf,
    pub format: RosterFormat,
}

impl RosterSource for FileSource {
    fn open(&self) -> std::io::Result<Box<dyn Read + Send + '_>> {
        Ok(Box::new(std::fs::File::open(&self.path)?))
    }
    fn format(&self) -> RosterFormat {
        self.format
    }
}

pub(super) type Rows<'a> = Box<dyn Iterator<Item = Result<RawRow, FileProblem>> + Send + 'a>;

/// The rows of a source, in order, numbered as a spreadsheet shows them
/// (the header is row 1); a JSON array's items from 1.
pub(super) fn rows<'a>(source: &'a dyn RosterSource) -> Result<Rows<'a>, FileProblem> {
    if let Some((bytes, limits)) = source.sheet() {
        return sheet_rows(bytes, limits);
    }
    let reader = source.open().map_err(|e| FileProblem::Syntax {
        row: 0,
        detail: e.to_string(),
    })?;
    match source.format() {
        RosterFormat::Csv => csv_rows(reader),
        RosterFormat::Json => json_rows(reader),
        RosterFormat::Sheet => Err(FileProblem::NoHeader),
    }
}

fn sheet_problem(error: &sheet::SheetError) -> FileProblem {
    FileProblem::Sheet {
        row: error.row().map(u64::from),
        ru: error.text(true),
        en: error.text(false),
    }
}

/// An uploaded spreadsheet's rows. Any problem the reader finds (a formula,
/// a row too wide, too many rows) stops the import as a file problem:
/// nothing is written from a file that is not plain data.
fn sheet_rows<'a>(bytes: &'a [u8], limits: &sheet::Limits) -> Result<Rows<'a>, FileProblem> {
    let sheet = sheet::open(bytes, None, limits).map_err(|e| sheet_problem(&e))?;
    let columns = columns_of(sheet.header().iter().map(String::as_str))?;
    let iter = sheet.map(move |row| {
        let row = row.map_err(|e| sheet_problem(&e))?;
        let mut raw = RawRow::new(u64::from(row.number));
        for (column, value) in columns.iter().zip(row.cells.iter()) {
            raw.set(*column, value);
        }
        raw.extra_cells = row
            .cells
            .iter()
            .skip(columns.len())
            .any(|v| !v.trim().is_empty());
        Ok(raw)
    });
    Ok(Box::new(iter))
}

fn csv_rows<'a>(reader: Box<dyn Read + Send + 'a>) -> Result<Rows<'a>, FileProblem> {
    let mut reader = BufReader::new(reader);
    // The header decides the delimiter: Excel in Russian locales writes `;`.
    let mut header = Vec::new();
    reader
        .read_until(b'\n', &mut header)
        .map_err(|_| FileProblem::NotUtf8 { row: 0 })?;
    let header_text = std::str::from_utf8(&header).map_err(|_| FileProblem::NotUtf8 { row: 0 })?;
    if header_text.trim().is_empty() {
        return Err(FileProblem::NoHeader);
    }
    let delimiter = if header_text.matches(';').count() > header_text.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(std::io::Cursor::new(header).chain(reader));
    let names = csv
        .headers()
        .map_err(|e| FileProblem::Syntax {
            row: 0,
            detail: e.to_string(),
        })?
        .clone();
    let columns = columns_of(names.iter())?;
    let iter = csv.into_records().enumerate().map(move |(index, record)| {
        // The line the record starts on, as a spreadsheet numbers it (the
        // header is line 1); a quoted cell may span lines.
        let row = match &record {
            Ok(record) => record.position().map_or(index as u64 + 2, |p| p.line()),
            Err(error) => error.position().map_or(index as u64 + 2, |p| p.line()),
        };
        let record = record.map_err(|error| match error.kind() {
            csv::ErrorKind::Utf8 { .. } => FileProblem::NotUtf8 { row },
            _ => FileProblem::Syntax {
                row,
                detail: error.to_string(),
            },
        })?;
        let mut raw = RawRow::new(row);
        for (column, value) in columns.iter().zip(record.iter()) {
            raw.set(*column, value);
        }
        raw.extra_cells = record
            .iter()
            .skip(columns.len())
            .any(|v| !v.trim().is_empty());
        Ok(raw)
    });
    Ok(Box::new(iter))
}

fn columns_of<'h>(names: impl Iterator<Item = &'h str>) -> Result<Vec<Column>, FileProblem> {
    let mut columns = Vec::new();
    for name in names {
        let column = Column::from_header(name).ok_or_else(|| FileProblem::UnknownColumn {
            name: name.trim().chars().take(64).collect(),
        })?;
        if columns.contains(&column) {
            return Err(FileProblem::DuplicateColumn { column });
        }
        columns.push(column);
    }
    for required in [
        Column::Key,
        Column::Role,
        Column::Surname,
        Column::GivenName,
        Column::BirthDate,
    ] {
        if !columns.contains(&required) {
            return Err(FileProblem::MissingColumn { column: required });
        }
    }
    Ok(columns)
}

/// `[{"key": ..., "role": ...}, ...]` or `{"rows": [...]}`; values are
/// strings (numbers are taken as written).
fn json_rows<'a>(reader: Box<dyn Read + Send + 'a>) -> Result<Rows<'a>, FileProblem> {
    let value: serde_json::Value =
        serde_json::from_reader(reader).map_err(|e| FileProblem::Json {
            detail: e.to_string(),
        })?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(mut map) => match map.remove("rows") {
            Some(serde_json::Value::Array(items)) => items,
            _ => {
                return Err(FileProblem::Json {
                    detail: "expected an array of rows or {\"rows\": [...]}".into(),
                })
            }
        },
        _ => {
            return Err(FileProblem::Json {
                detail: "expected an array of rows".into(),
            })
        }
    };
    let iter = items.into_iter().enumerate().map(|(index, item)| {
        let row = index as u64 + 1;
        let serde_json::Value::Object(map) = item else {
            return Err(FileProblem::Json {
                detail: format!("row {row} is not an object"),
            });
        };
        let mut raw = RawRow::new(row);
        for (name, value) in map {
            let column = Column::from_header(&name)
                .ok_or(FileProblem::UnknownColumn { name: name.clone() })?;
            let text = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => String::new(),
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    })
                    .collect::<Vec<_>>()
                    .join(";"),
                other => other.to_string(),
            };
            raw.set(column, &text);
        }
        Ok(raw)
    });
    Ok(Box::new(iter))
}
