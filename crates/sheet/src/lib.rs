//! A school's roster as uploaded from a browser: an Excel workbook (XLSX) or
//! a CSV file in UTF-8 or Windows-1251, read row by row.
//!
//! The file comes from outside, so nothing in it is trusted: its size, the
//! sizes its archive declares, the sheet's declared dimensions and the number
//! of rows it claims. Memory stays flat whatever the file holds — rows are
//! produced one at a time, and everything that is unpacked is counted against
//! [`Limits::max_unpacked_bytes`] as it is inflated.
//!
//! Rows carry the number the spreadsheet shows (the header is row 1 when it
//! is the first line), so a school secretary can find the row a message is
//! about; every [`SheetError`] explains itself in plain Russian or English
//! with [`SheetError::text`].
//!
//! ```
//! let file = "Фамилия;Имя\nИванова;Анна\n".as_bytes();
//! let mut sheet = esia_link_sheet::open(file, Some("5А.csv"), &Default::default()).unwrap();
//! assert_eq!(sheet.header(), ["Фамилия", "Имя"]);
//! let row = sheet.next().unwrap().unwrap();
//! assert_eq!((row.number, row.cells[0].as_str()), (2, "Иванова"));
//! ```

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod cells;
mod detect;
mod error;
mod format;
mod message;
mod text;
mod value;
mod words;
mod xlsx;

use std::fmt;

pub use error::{DocumentKind, SheetError, SheetInfo};
pub use format::{Encoding, Format};

use cells::{Gate, RawRow};

/// How much of a file is read before it is refused. The defaults fit a
/// whole school's roster with room to spare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The uploaded file itself.
    pub max_file_bytes: u64,
    /// Rows of data, after the header; empty rows do not count.
    pub max_rows: u32,
    /// The widest row (filled cells only: formatting far to the right is
    /// ignored).
    pub max_columns: u32,
    /// Characters in one cell.
    pub max_cell_chars: usize,
    /// All the parts of an XLSX file together, as inflated: a zip bomb
    /// stops here, whatever sizes its headers declare.
    pub max_unpacked_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: 10 * 1024 * 1024,
            max_rows: 100_000,
            max_columns: 64,
            max_cell_chars: 1000,
            max_unpacked_bytes: 200 * 1024 * 1024,
        }
    }
}

/// One non-empty row of data.
#[derive(Clone, PartialEq, Eq)]
pub struct Row {
    /// The row's number as the spreadsheet shows it (the first line is 1).
    pub number: u32,
    /// The cells from column A on, at least as many as the header has;
    /// cells are not trimmed.
    pub cells: Vec<String>,
}

/// Rows hold names and SNILS: `{:?}` shows only where the row is.
impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Row({}, {} cells)", self.number, self.cells.len())
    }
}

/// An opened file: its header, then its rows as an iterator.
///
/// Problems with one row ([`SheetError::is_row_problem`]) are yielded in the
/// row's place and reading goes on; any other error is the last item.
pub struct Sheet<'a> {
    format: Format,
    header: Vec<String>,
    header_row: u32,
    gate: Gate,
    source: Source<'a>,
    finished: bool,
}

enum Source<'a> {
    Csv(text::CsvRows<'a>),
    Xlsx(xlsx::SheetRows<'a>),
}

impl Source<'_> {
    fn next_raw(&mut self) -> Result<Option<RawRow>, SheetError> {
        match self {
            Source::Csv(rows) => rows.next_raw(),
            Source::Xlsx(rows) => rows.next_raw(),
        }
    }
}

impl<'a> Sheet<'a> {
    /// What the file turned out to be (for the import report).
    pub fn format(&self) -> &Format {
        &self.format
    }

    /// The header's cells, trimmed; empty header cells stay as `""`.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The row the header is on (1 unless the table starts lower).
    pub fn header_row(&self) -> u32 {
        self.header_row
    }

    fn new(
        format: Format,
        mut source: Source<'a>,
        limits: &Limits,
    ) -> Result<Sheet<'a>, SheetError> {
        let mut gate = Gate::new(limits);
        loop {
            let Some(raw) = source.next_raw()? else {
                return Err(SheetError::Empty { file_name: None });
            };
            if let Some(header) = gate.header(raw)? {
                return Ok(Sheet {
                    format,
                    header_row: header.number,
                    header: header.cells,
                    gate,
                    source,
                    finished: false,
                });
            }
        }
    }
}

impl Iterator for Sheet<'_> {
    type Item = Result<Row, SheetError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.finished {
            match self.source.next_raw() {
                Ok(None) => self.finished = true,
                Ok(Some(raw)) => {
                    let Some(item) = self.gate.data(raw, self.header.len()) else {
                        continue;
                    };
                    if let Err(error) = &item {
                        self.finished = !error.is_row_problem();
                    }
                    return Some(item);
                }
                Err(error) => {
                    self.finished = true;
                    return Some(Err(error));
                }
            }
        }
        None
    }
}

/// Opens an uploaded file: detects what it is from its bytes, checks its
/// size, reads up to the header and returns the rest as an iterator.
///
/// `file_name` is what the browser sent; it is only used in messages.
pub fn open<'a>(
    bytes: &'a [u8],
    file_name: Option<&str>,
    limits: &Limits,
) -> Result<Sheet<'a>, SheetError> {
    let named = |error: SheetError| error.with_file_name(file_name);
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(SheetError::FileTooLarge {
            bytes: bytes.len() as u64,
            limit: limits.max_file_bytes,
        });
    }
    let sheet = match detect::detect(bytes) {
        detect::Detected::Empty => Err(SheetError::Empty { file_name: None }),
        detect::Detected::Zip => xlsx::open(bytes, limits)
            .and_then(|(format, rows)| Sheet::new(format, Source::Xlsx(rows), limits)),
        detect::Detected::Text => text::open(bytes, limits)
            .and_then(|(format, rows)| Sheet::new(format, Source::Csv(rows), limits)),
        detect::Detected::Refused(error) => Err(error),
    };
    sheet.map_err(named)
}

#[cfg(test)]
mod tests {
    /// The roster import hands its row iterator across threads.
    #[test]
    fn a_sheet_can_move_between_threads() {
        fn assert_send<T: Send>() {}
        assert_send::<super::Sheet<'static>>();
        assert_send::<super::SheetError>();
    }
}
