//! CSV as Excel writes it in Russian locales: Windows-1251 or UTF-8 (with a
//! BOM for «CSV UTF-8»), usually `;`-separated, sometimes with Excel's own
//! `sep=` line; and UTF-16 tab-separated «Unicode text».
//!
//! The whole file is decoded at once: it is already in memory and at most
//! [`Limits::max_file_bytes`] long, so the decoded copy is bounded too
//! (twice the size for Cyrillic in Windows-1251, none for valid UTF-8).

use std::borrow::Cow;
use std::io::Cursor;

use crate::cells::{RawRow, RowBuilder};
use crate::error::{DocumentKind, SheetError};
use crate::format::{Encoding, Format};
use crate::Limits;

pub(crate) struct CsvRows<'a> {
    reader: csv::Reader<Cursor<Cow<'a, [u8]>>>,
    record: csv::StringRecord,
    limits: Limits,
    delimiter: char,
    /// Line breaks before `scanned` in the text, and those of them inside
    /// quoted cells (Excel keeps those in the cell, not as rows).
    scanned: usize,
    newlines: u64,
    embedded: u64,
}

pub(crate) fn open<'a>(
    bytes: &'a [u8],
    limits: &Limits,
) -> Result<(Format, CsvRows<'a>), SheetError> {
    let (text, encoding) = decode(bytes)?;
    check_is_table_text(&text)?;
    // Excel hides its `sep=` line: the line after it is row 1.
    let (delimiter, skip) = match sep_line(&text) {
        Some((delimiter, length)) => (delimiter, length),
        None => (detect_delimiter(&text), 0),
    };
    let bytes: Cow<'_, [u8]> = match text {
        Cow::Borrowed(text) => Cow::Borrowed(&text.as_bytes()[skip..]),
        Cow::Owned(mut text) => {
            text.drain(..skip);
            Cow::Owned(text.into_bytes())
        }
    };
    // `delimiter` is one of the ASCII characters `detect_delimiter` or the
    // `sep=` line allow.
    let reader = csv::ReaderBuilder::new()
        .delimiter(delimiter as u8)
        .has_headers(false)
        .flexible(true)
        .from_reader(Cursor::new(bytes));
    Ok((
        Format::Csv {
            encoding,
            delimiter,
        },
        CsvRows {
            reader,
            record: csv::StringRecord::new(),
            limits: *limits,
            delimiter,
            scanned: 0,
            newlines: 0,
            embedded: 0,
        },
    ))
}

impl CsvRows<'_> {
    pub fn next_raw(&mut self) -> Result<Option<RawRow>, SheetError> {
        match self.reader.read_record(&mut self.record) {
            Ok(false) => Ok(None),
            Ok(true) => Ok(Some(self.assemble())),
            Err(error) => Err(SheetError::damaged(format!("CSV: {error}"))),
        }
    }

    fn assemble(&mut self) -> RawRow {
        // The reader skips blank lines, which Excel shows as empty rows,
        // and gives a record's position from before them: count the line
        // breaks up to where the record's text really starts.
        let text: &[u8] = self.reader.get_ref().get_ref();
        let mut start = self.record.position().map_or(0, |p| p.byte()) as usize;
        while text.get(start).is_some_and(|&b| b == b'\r' || b == b'\n') {
            start += 1;
        }
        if let Some(skipped) = text.get(self.scanned..start) {
            self.newlines += skipped.iter().filter(|&&b| b == b'\n').count() as u64;
            self.scanned = start;
        }
        let number = (self.newlines + 1).saturating_sub(self.embedded);
        self.embedded += self
            .record
            .iter()
            .map(|field| field.bytes().filter(|&b| b == b'\n').count() as u64)
            .sum::<u64>();
        let mut row = RowBuilder::new(u32::try_from(number).unwrap_or(u32::MAX), &self.limits);
        for (column, field) in self.record.iter().enumerate() {
            row.put(u32::try_from(column).unwrap_or(u32::MAX), field.to_string());
        }
        let mut raw = row.finish();
        if let Some(SheetError::TooManyColumns { delimiter, .. }) = &mut raw.problem {
            *delimiter = Some(self.delimiter);
        }
        raw
    }
}

/// UTF-8 if the bytes are valid UTF-8 (Cyrillic in Windows-1251 never is),
/// UTF-16 if marked so, otherwise Windows-1251.
fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, Encoding), SheetError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return match std::str::from_utf8(rest) {
            Ok(text) => Ok((Cow::Borrowed(text), Encoding::Utf8Bom)),
            Err(_) => Err(SheetError::NotText { file_name: None }),
        };
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        let (text, _, malformed) = encoding_rs::UTF_16LE.decode(bytes);
        if malformed {
            return Err(SheetError::NotText { file_name: None });
        }
        return Ok((text, Encoding::Utf16));
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((Cow::Borrowed(text), Encoding::Utf8));
    }
    let (text, _) = encoding_rs::WINDOWS_1251.decode_without_bom_handling(bytes);
    Ok((text, Encoding::Windows1251))
}

/// Text files that are not tables: binary data decoded as Windows-1251
/// (control characters) and web pages saved as `.xls`.
fn check_is_table_text(text: &str) -> Result<(), SheetError> {
    if text.trim_start().starts_with('<') {
        return Err(SheetError::OtherDocument {
            kind: DocumentKind::WebPage,
            file_name: None,
        });
    }
    let control =
        |c: char| (c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}')) || c == '\u{fffd}';
    if text.chars().any(control) {
        return Err(SheetError::NotText { file_name: None });
    }
    Ok(())
}

/// Excel's `sep=;` first line: the delimiter and the line's length.
fn sep_line(text: &str) -> Option<(char, usize)> {
    let rest = text.strip_prefix("sep=")?;
    let mut chars = rest.chars();
    let delimiter = chars.next()?;
    let after = chars.as_str();
    let ending = if after.starts_with("\r\n") {
        2
    } else if after.starts_with('\n') {
        1
    } else {
        return None;
    };
    matches!(delimiter, ';' | ',' | '\t' | '|').then_some((delimiter, 4 + 1 + ending))
}

/// The delimiter the header line uses most, outside quotes; `;` on a tie,
/// since that is what Excel writes in Russian locales.
fn detect_delimiter(text: &str) -> char {
    let mut counts = [(';', 0usize), ('\t', 0), (',', 0)];
    let mut in_quotes = false;
    let mut seen_content = false;
    for c in text.chars() {
        match c {
            '"' => in_quotes = !in_quotes,
            '\n' if !in_quotes && seen_content => break,
            _ if in_quotes => {}
            _ => {
                if let Some(slot) = counts.iter_mut().find(|(d, _)| *d == c) {
                    slot.1 += 1;
                }
            }
        }
        seen_content |= !c.is_whitespace();
    }
    let mut best = counts[0];
    for candidate in counts {
        if candidate.1 > best.1 {
            best = candidate;
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_comes_from_the_header_outside_quotes() {
        for (text, delimiter) in [
            ("Фамилия;Имя;Класс\n", ';'),
            ("Фамилия,Имя,Класс\n", ','),
            ("Фамилия\tИмя\tКласс\n", '\t'),
            ("\"Фамилия, имя\";Класс\n", ';'),
            ("\"a;b;c\",d,e\n", ','),
            ("Фамилия;Имя,Отчество\n", ';'),
            ("\n\nФамилия,Имя\n", ','),
            ("Фамилия\nИванова;Анна;5А\n", ';'),
            ("a,b\nc;d;e;f\n", ','),
        ] {
            assert_eq!(detect_delimiter(text), delimiter, "{text:?}");
        }
    }

    #[test]
    fn excel_sep_line_sets_the_delimiter() {
        for (text, expected) in [
            ("sep=;\r\nA;B", Some((';', 7))),
            ("sep=,\nA,B", Some((',', 6))),
            ("sep=;A", None),
            ("Фамилия;Имя", None),
        ] {
            assert_eq!(sep_line(text), expected, "{text:?}");
        }
    }

    #[test]
    fn encodings_are_told_apart() {
        let cp1251 = encoding_rs::WINDOWS_1251.encode("Ёлкина;Анна").0;
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("Ёлкина\tАнна".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        for (bytes, text, encoding) in [
            (
                "Ёлкина;Анна".as_bytes().to_vec(),
                "Ёлкина;Анна",
                Encoding::Utf8,
            ),
            (b"\xEF\xBB\xBFA;B".to_vec(), "A;B", Encoding::Utf8Bom),
            (cp1251.into_owned(), "Ёлкина;Анна", Encoding::Windows1251),
            (utf16, "Ёлкина\tАнна", Encoding::Utf16),
        ] {
            let (decoded, found) = decode(&bytes).unwrap();
            assert_eq!((decoded.as_ref(), found), (text, encoding));
        }
    }
}
