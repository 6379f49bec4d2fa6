//! The shared strings table: most text cells point into it by index.
//!
//! All strings live in one `String` with their end offsets beside it, so a
//! table costs its text plus four bytes per string — less than the XML
//! that declared it, which the unpacked limit already caps. (A table past
//! 4 GiB of text is refused as damaged rather than given wider offsets.) Each string is kept
//! to one character past the cell limit: enough to report the cell that
//! uses it as too long. The declared `count`/`uniqueCount` are ignored.

use quick_xml::events::Event;

use super::archive::{local, xml_error, Archive, BoundedText};
use crate::error::SheetError;
use crate::value::decode_ooxml_escapes;

#[derive(Default)]
pub(crate) struct SharedStrings {
    text: String,
    ends: Vec<u32>,
}

impl SharedStrings {
    pub fn get(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)? as usize;
        let start = match index {
            0 => 0,
            _ => *self.ends.get(index - 1)? as usize,
        };
        self.text.get(start..end)
    }

    pub fn read(
        archive: &mut Archive<'_>,
        path: &str,
        max_cell_chars: usize,
    ) -> Result<SharedStrings, SheetError> {
        let Some(mut xml) = archive.xml(path)? else {
            return Ok(SharedStrings::default());
        };
        let mut table = SharedStrings::default();
        let mut current = BoundedText::new(max_cell_chars);
        // Inside <t> of an <si>, and not inside a phonetic run (<rPh>),
        // whose <t> is a reading aid, not part of the text.
        let mut in_text = false;
        let mut in_phonetic = false;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            xml.get_mut().mark();
            let event = xml
                .read_event_into(&mut buf)
                .map_err(|e| xml_error(&archive.budget, path, e))?;
            match event {
                Event::Start(e) => match local(&e).as_ref() {
                    "si" => current.clear(),
                    "t" => in_text = !in_phonetic,
                    "rPh" => in_phonetic = true,
                    _ => {}
                },
                Event::Empty(e) if local(&e).as_ref() == "si" => table.push("", path)?,
                Event::End(e) => match e.local_name().as_ref() {
                    "si" => table.push(&decode_ooxml_escapes(&current.text), path)?,
                    "t" => in_text = false,
                    "rPh" => in_phonetic = false,
                    _ => {}
                },
                Event::Text(text) if in_text => current.push_text(&text),
                Event::CData(text) if in_text => current.push(&text.xml10_content()),
                Event::GeneralRef(reference) if in_text => current.push_ref(&reference),
                Event::Eof => break,
                _ => {}
            }
        }
        Ok(table)
    }

    fn push(&mut self, text: &str, path: &str) -> Result<(), SheetError> {
        self.text.push_str(text);
        let end = u32::try_from(self.text.len())
            .map_err(|_| SheetError::damaged(format!("{path}: over 4 GiB of shared strings")))?;
        self.ends.push(end);
        Ok(())
    }
}
