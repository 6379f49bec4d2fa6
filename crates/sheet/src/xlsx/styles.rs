//! Which cells hold dates: a number's style points to a number format, and
//! the format decides how Excel shows it.

use std::collections::HashMap;

use quick_xml::events::Event;

use super::archive::{attr, local, xml_error, Archive};
use crate::error::SheetError;
use crate::value::{builtin_style, classify_format_code, NumberStyle};

/// Excel allows about 64,000 cell styles and 250 custom formats; past
/// these caps the rest are read as General.
const MAX_CELL_STYLES: usize = 100_000;
const MAX_FORMATS: usize = 10_000;

#[derive(Default)]
pub(crate) struct Styles {
    /// The style index of a cell (`s`) → an index into `styles`.
    by_cell_style: Vec<u16>,
    styles: Vec<NumberStyle>,
}

impl Styles {
    pub fn get(&self, cell_style: Option<u32>) -> &NumberStyle {
        const GENERAL: &NumberStyle = &NumberStyle::General;
        cell_style
            .and_then(|s| self.by_cell_style.get(s as usize))
            .and_then(|&i| self.styles.get(usize::from(i)))
            .unwrap_or(GENERAL)
    }

    pub fn read(archive: &mut Archive<'_>, path: &str) -> Result<Styles, SheetError> {
        let Some(mut xml) = archive.xml(path)? else {
            return Ok(Styles::default());
        };
        let mut custom: HashMap<u32, NumberStyle> = HashMap::new();
        let mut interned: HashMap<u32, u16> = HashMap::new();
        let mut styles = Styles::default();
        let mut in_cell_xfs = false;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            xml.get_mut().mark();
            let event = xml
                .read_event_into(&mut buf)
                .map_err(|e| xml_error(&archive.budget, path, e))?;
            let is_start = matches!(event, Event::Start(_));
            match event {
                Event::Start(e) | Event::Empty(e) => match local(&e).as_ref() {
                    "numFmt" if custom.len() < MAX_FORMATS => {
                        let id = attr(&e, "numFmtId").and_then(|v| v.parse().ok());
                        if let (Some(id), Some(code)) = (id, attr(&e, "formatCode")) {
                            custom.insert(id, classify_format_code(&code));
                        }
                    }
                    "cellXfs" => in_cell_xfs = is_start,
                    "xf" if in_cell_xfs && styles.by_cell_style.len() < MAX_CELL_STYLES => {
                        let id: u32 = attr(&e, "numFmtId")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        let index = match interned.get(&id) {
                            Some(&index) => index,
                            None => {
                                let style = custom
                                    .get(&id)
                                    .cloned()
                                    .unwrap_or_else(|| builtin_style(id));
                                let index = styles.intern(style);
                                interned.insert(id, index);
                                index
                            }
                        };
                        styles.by_cell_style.push(index);
                    }
                    _ => {}
                },
                Event::End(e) if e.local_name().as_ref() == "cellXfs" => break,
                Event::Eof => break,
                _ => {}
            }
        }
        Ok(styles)
    }

    fn intern(&mut self, style: NumberStyle) -> u16 {
        if let Some(i) = self.styles.iter().position(|s| *s == style) {
            return i as u16;
        }
        // Distinct styles are at most MAX_FORMATS + the built-ins.
        self.styles.push(style);
        (self.styles.len() - 1) as u16
    }
}
