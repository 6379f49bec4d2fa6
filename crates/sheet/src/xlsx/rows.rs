//! A worksheet's rows, one at a time, straight from the XML stream.
//!
//! Nothing the sheet declares is used to size anything: `<dimension>` is
//! ignored, empty rows and cells cost no memory, and a row holds at most
//! `max_columns` cells of at most `max_cell_chars` characters.

use quick_xml::events::{BytesStart, Event};

use super::archive::{attr, local, xml_error, Archive, BoundedText, Budget, Xml};
use super::strings::SharedStrings;
use super::styles::Styles;
use crate::cells::{cell_ref, parse_cell_ref, RawRow, RowBuilder};
use crate::error::SheetError;
use crate::value::{decode_ooxml_escapes, render_iso_date, render_number};
use crate::Limits;

use std::sync::Arc;

pub(crate) struct SheetRows<'a> {
    xml: Xml<'a>,
    buf: Vec<u8>,
    part: String,
    budget: Arc<Budget>,
    strings: SharedStrings,
    styles: Styles,
    date1904: bool,
    limits: Limits,
    in_sheet_data: bool,
    done: bool,
    last_row: u32,
    value: BoundedText,
}

/// What a `<c>` element's attributes say.
struct CellStart {
    column: u32,
    kind: CellKind,
    style: Option<u32>,
}

#[derive(Clone, Copy)]
enum CellKind {
    Number,
    Shared,
    Inline,
    Text,
    Bool,
    Error,
    IsoDate,
}

impl<'a> SheetRows<'a> {
    pub fn new(
        xml: Xml<'a>,
        part: String,
        budget: Arc<Budget>,
        strings: SharedStrings,
        styles: Styles,
        date1904: bool,
        limits: &Limits,
    ) -> SheetRows<'a> {
        SheetRows {
            xml,
            buf: Vec::new(),
            part,
            budget,
            strings,
            styles,
            date1904,
            limits: *limits,
            in_sheet_data: false,
            done: false,
            last_row: 0,
            value: BoundedText::new(limits.max_cell_chars),
        }
    }

    pub fn next_raw(&mut self) -> Result<Option<RawRow>, SheetError> {
        let result = self.read_next();
        if !matches!(result, Ok(Some(_))) {
            self.done = true;
        }
        result
    }

    fn read_next(&mut self) -> Result<Option<RawRow>, SheetError> {
        while !self.done {
            let (number, empty) =
                match next_event(&mut self.xml, &mut self.buf, &self.budget, &self.part)? {
                    Event::Start(e) if local(&e).as_ref() == "sheetData" => {
                        self.in_sheet_data = true;
                        continue;
                    }
                    Event::Start(e) if self.in_sheet_data && local(&e).as_ref() == "row" => {
                        (row_number(&e, self.last_row)?, false)
                    }
                    Event::Empty(e) if self.in_sheet_data && local(&e).as_ref() == "row" => {
                        (row_number(&e, self.last_row)?, true)
                    }
                    Event::Empty(e) if local(&e).as_ref() == "sheetData" => return Ok(None),
                    Event::End(e) if e.local_name().as_ref() == "sheetData" => return Ok(None),
                    Event::Eof => return Ok(None),
                    _ => continue,
                };
            self.last_row = number;
            if !empty {
                return self.read_row(number).map(Some);
            }
        }
        Ok(None)
    }

    fn read_row(&mut self, number: u32) -> Result<RawRow, SheetError> {
        let mut row = RowBuilder::new(number, &self.limits);
        let mut next_column = 0u32;
        loop {
            let cell = match next_event(&mut self.xml, &mut self.buf, &self.budget, &self.part)? {
                Event::Start(e) if local(&e).as_ref() == "c" => cell_start(&e, next_column),
                Event::Empty(e) if local(&e).as_ref() == "c" => {
                    next_column = cell_start(&e, next_column).column.saturating_add(1);
                    continue;
                }
                Event::End(e) if e.local_name().as_ref() == "row" => return Ok(row.finish()),
                Event::Eof => {
                    return Err(SheetError::damaged(format!(
                        "{}: row {number} not closed",
                        self.part
                    )))
                }
                _ => continue,
            };
            next_column = cell.column.saturating_add(1);
            let formula = self.read_cell_value()?;
            if formula {
                row.fail(SheetError::Formula {
                    row: number,
                    cell: cell_ref(cell.column, number),
                });
                continue;
            }
            if row.has_problem() || self.value.text.is_empty() {
                continue;
            }
            let text = self.render(&cell)?;
            row.put(cell.column, text);
        }
    }

    /// Reads up to `</c>`, leaving the value's text in `self.value`;
    /// returns whether the cell has a formula.
    fn read_cell_value(&mut self) -> Result<bool, SheetError> {
        self.value.clear();
        let mut formula = false;
        let mut in_value = false;
        let mut in_inline = false;
        let mut in_phonetic = false;
        loop {
            match next_event(&mut self.xml, &mut self.buf, &self.budget, &self.part)? {
                Event::Start(e) => match local(&e).as_ref() {
                    "v" => in_value = true,
                    "t" => in_value = in_inline && !in_phonetic,
                    "is" => in_inline = true,
                    "rPh" => in_phonetic = true,
                    "f" => formula = true,
                    _ => {}
                },
                Event::Empty(e) if local(&e).as_ref() == "f" => formula = true,
                Event::End(e) => match e.local_name().as_ref() {
                    "v" | "t" => in_value = false,
                    "is" => in_inline = false,
                    "rPh" => in_phonetic = false,
                    "c" => return Ok(formula),
                    _ => {}
                },
                Event::Text(text) if in_value => self.value.push_text(&text),
                Event::CData(text) if in_value => self.value.push(&text.xml10_content()),
                Event::GeneralRef(reference) if in_value => self.value.push_ref(&reference),
                Event::Eof => {
                    return Err(SheetError::damaged(format!(
                        "{}: cell not closed",
                        self.part
                    )))
                }
                _ => {}
            }
        }
    }

    fn render(&self, cell: &CellStart) -> Result<String, SheetError> {
        let raw = self.value.text.as_str();
        Ok(match cell.kind {
            CellKind::Number => render_number(raw, self.styles.get(cell.style), self.date1904),
            CellKind::Shared => {
                let text = raw
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .and_then(|index| self.strings.get(index))
                    .ok_or_else(|| {
                        SheetError::damaged(format!("{}: no shared string {raw}", self.part))
                    })?;
                text.to_string()
            }
            CellKind::Inline => decode_ooxml_escapes(raw),
            CellKind::Text | CellKind::Error => raw.to_string(),
            CellKind::Bool => match raw.trim() {
                "1" | "true" => "TRUE".into(),
                "0" | "false" => "FALSE".into(),
                other => other.to_string(),
            },
            CellKind::IsoDate => render_iso_date(raw),
        })
    }
}

/// The next XML event; the fields are passed apart so that the event can
/// borrow the buffer while the rest of the reader is used.
fn next_event<'b>(
    xml: &mut Xml<'_>,
    buf: &'b mut Vec<u8>,
    budget: &Budget,
    part: &str,
) -> Result<Event<'b>, SheetError> {
    buf.clear();
    xml.get_mut().mark();
    xml.read_event_into(buf)
        .map_err(|error| xml_error(budget, part, error))
}

/// `r="7"`, or the row after the last one when a writer leaves it out.
fn row_number(element: &BytesStart<'_>, last: u32) -> Result<u32, SheetError> {
    match attr(element, "r") {
        Some(r) => r
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| SheetError::damaged("bad row number")),
        None => last
            .checked_add(1)
            .ok_or_else(|| SheetError::damaged("bad row number")),
    }
}

fn cell_start(element: &BytesStart<'_>, next_column: u32) -> CellStart {
    let mut cell = CellStart {
        column: next_column,
        kind: CellKind::Number,
        style: None,
    };
    for attribute in element.attributes().flatten() {
        let value = attribute.value.as_ref();
        match attribute.key.local_name().as_ref() {
            "r" => {
                if let Some((column, _)) = parse_cell_ref(value) {
                    cell.column = column;
                }
            }
            "t" => {
                cell.kind = match value {
                    "s" => CellKind::Shared,
                    "inlineStr" => CellKind::Inline,
                    "str" => CellKind::Text,
                    "b" => CellKind::Bool,
                    "e" => CellKind::Error,
                    "d" => CellKind::IsoDate,
                    _ => CellKind::Number,
                }
            }
            "s" => cell.style = value.parse().ok(),
            _ => {}
        }
    }
    cell
}

/// Whether a worksheet has any value or formula at all (to let a workbook
/// keep Excel's empty «Лист2» and «Лист3»). Stops at the first one.
pub(crate) fn has_values(archive: &mut Archive<'_>, path: &str) -> Result<bool, SheetError> {
    let Some(mut xml) = archive.xml(path)? else {
        return Ok(false);
    };
    let mut buf = Vec::new();
    let mut in_cell = false;
    loop {
        buf.clear();
        xml.get_mut().mark();
        match xml
            .read_event_into(&mut buf)
            .map_err(|e| xml_error(&archive.budget, path, e))?
        {
            Event::Start(e) => match local(&e).as_ref() {
                "c" => in_cell = true,
                "v" | "is" | "f" if in_cell => return Ok(true),
                _ => {}
            },
            Event::Empty(e) if in_cell && local(&e).as_ref() == "f" => return Ok(true),
            Event::End(e) if e.local_name().as_ref() == "c" => in_cell = false,
            Event::End(e) if e.local_name().as_ref() == "sheetData" => return Ok(false),
            Event::Eof => return Ok(false),
            _ => {}
        }
    }
}
