//! Rows as both readers assemble them, and the checks every row passes
//! through on its way out: the header, empty rows, and the limits.

use crate::{Limits, Row, SheetError};

/// A row as read, before the header and the row limit are applied.
pub(crate) struct RawRow {
    pub number: u32,
    pub cells: Vec<String>,
    /// The first thing wrong with one of its cells; the row is reported
    /// instead of returned.
    pub problem: Option<SheetError>,
}

impl RawRow {
    fn is_blank(&self) -> bool {
        self.cells.iter().all(|cell| cell.trim().is_empty())
    }
}

/// Collects a row's cells, checking each against the limits as it comes,
/// so that a cell far to the right or a huge one is never stored.
pub(crate) struct RowBuilder {
    row: RawRow,
    max_columns: u32,
    max_cell_chars: usize,
}

impl RowBuilder {
    pub fn new(number: u32, limits: &Limits) -> RowBuilder {
        RowBuilder {
            row: RawRow {
                number,
                cells: Vec::new(),
                problem: None,
            },
            max_columns: limits.max_columns,
            max_cell_chars: limits.max_cell_chars,
        }
    }

    pub fn has_problem(&self) -> bool {
        self.row.problem.is_some()
    }

    /// Records the first problem of the row; later ones would only repeat
    /// the advice.
    pub fn fail(&mut self, problem: SheetError) {
        self.row.problem.get_or_insert(problem);
    }

    /// Puts a cell's text in its column (0 = A).
    pub fn put(&mut self, column: u32, text: String) {
        // Blank cells never widen a row: Excel leaves formatted but empty
        // cells far to the right, and CSV exports pad with delimiters.
        if self.has_problem() || text.trim().is_empty() {
            return;
        }
        let number = self.row.number;
        if column >= self.max_columns {
            self.fail(SheetError::TooManyColumns {
                row: number,
                cell: cell_ref(column, number),
                limit: self.max_columns,
                delimiter: None,
            });
            return;
        }
        if exceeds_chars(&text, self.max_cell_chars) {
            self.fail(SheetError::CellTooLong {
                row: number,
                cell: cell_ref(column, number),
                limit: self.max_cell_chars,
            });
            return;
        }
        let index = column as usize;
        if index >= self.row.cells.len() {
            self.row.cells.resize(index + 1, String::new());
        }
        self.row.cells[index] = text;
    }

    pub fn finish(self) -> RawRow {
        self.row
    }
}

/// Whether the text has more than `limit` characters, without counting
/// all of a long one.
pub(crate) fn exceeds_chars(text: &str, limit: usize) -> bool {
    text.len() > limit && text.chars().nth(limit).is_some()
}

/// Decides what each assembled row becomes: the header, nothing (an empty
/// row), a row of data, or an error.
pub(crate) struct Gate {
    max_rows: u32,
    data_rows: u32,
}

impl Gate {
    pub fn new(limits: &Limits) -> Gate {
        Gate {
            max_rows: limits.max_rows,
            data_rows: 0,
        }
    }

    /// The first non-empty row is the header.
    pub fn header(&mut self, raw: RawRow) -> Result<Option<Row>, SheetError> {
        if let Some(problem) = raw.problem {
            return Err(problem);
        }
        if raw.is_blank() {
            return Ok(None);
        }
        let mut cells: Vec<String> = raw.cells.iter().map(|c| c.trim().to_string()).collect();
        while cells.last().is_some_and(String::is_empty) {
            cells.pop();
        }
        Ok(Some(Row {
            number: raw.number,
            cells,
        }))
    }

    /// A row after the header; `None` for an empty one.
    pub fn data(&mut self, raw: RawRow, width: usize) -> Option<Result<Row, SheetError>> {
        if raw.problem.is_none() && raw.is_blank() {
            return None;
        }
        self.data_rows = self.data_rows.saturating_add(1);
        if self.data_rows > self.max_rows {
            return Some(Err(SheetError::TooManyRows {
                row: raw.number,
                limit: self.max_rows,
            }));
        }
        if let Some(problem) = raw.problem {
            return Some(Err(problem));
        }
        let mut cells = raw.cells;
        if cells.len() < width {
            cells.resize(width, String::new());
        }
        Some(Ok(Row {
            number: raw.number,
            cells,
        }))
    }
}

/// A cell's name as Excel shows it: column 0, row 7 → `A7`.
pub(crate) fn cell_ref(column: u32, row: u32) -> String {
    format!("{}{row}", column_name(column))
}

/// Column 0 → `A`, 25 → `Z`, 26 → `AA`.
pub(crate) fn column_name(column: u32) -> String {
    let mut letters = Vec::new();
    let mut n = u64::from(column) + 1;
    while n > 0 {
        let digit = ((n - 1) % 26) as u8;
        letters.push(char::from(b'A' + digit));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// `BC12` → (column 54, row 12); the column alone (`BC`) gives row `None`.
pub(crate) fn parse_cell_ref(text: &str) -> Option<(u32, Option<u32>)> {
    let letters = text.bytes().take_while(u8::is_ascii_alphabetic).count();
    if letters == 0 || letters > 3 {
        return None;
    }
    let (column_part, row_part) = text.split_at(letters);
    let mut column: u32 = 0;
    for byte in column_part.bytes() {
        column = column * 26 + u32::from(byte.to_ascii_uppercase() - b'A') + 1;
    }
    let row = if row_part.is_empty() {
        None
    } else {
        Some(row_part.parse::<u32>().ok()?)
    };
    Some((column - 1, row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_names_match_excel() {
        for (column, row, name) in [
            (0, 1, "A1"),
            (2, 7, "C7"),
            (25, 3, "Z3"),
            (26, 3, "AA3"),
            (63, 10, "BL10"),
            (701, 1, "ZZ1"),
            (702, 1, "AAA1"),
            (16383, 1_048_576, "XFD1048576"),
        ] {
            assert_eq!(cell_ref(column, row), name);
            assert_eq!(parse_cell_ref(name), Some((column, Some(row))), "{name}");
        }
    }

    #[test]
    fn odd_references_are_not_cells() {
        for text in ["", "12", "ABCD1", "A-1", "A1x", "A99999999999"] {
            assert_eq!(parse_cell_ref(text), None, "{text}");
        }
        assert_eq!(parse_cell_ref("c"), Some((2, None)));
    }

    #[test]
    fn character_limit_counts_characters_not_bytes() {
        for (text, limit, over) in [
            ("ёжик", 4, false),
            ("ёжик", 3, true),
            ("", 0, false),
            ("a", 0, true),
        ] {
            assert_eq!(exceeds_chars(text, limit), over, "{text} {limit}");
        }
    }
}
