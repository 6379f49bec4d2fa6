//! Excel workbooks (.xlsx), read part by part from the zip with `quick-xml`.
//!
//! Not through `calamine`: its `Xlsx::new` reads the whole shared strings
//! table up front, reserving whatever `uniqueCount` the file declares, and
//! inflates parts through `zip` with no cap of ours on the bytes — a zip
//! bomb or a lying header would cost memory before any row is read.

mod archive;
mod rows;
mod strings;
mod styles;
mod workbook;

pub(crate) use rows::SheetRows;

use archive::Archive;
use strings::SharedStrings;
use styles::Styles;
use workbook::{SheetEntry, Workbook};

use crate::error::{DocumentKind, SheetError, SheetInfo};
use crate::format::Format;
use crate::Limits;

pub(crate) fn open<'a>(
    bytes: &'a [u8],
    limits: &Limits,
) -> Result<(Format, SheetRows<'a>), SheetError> {
    let mut archive = Archive::open(bytes, limits.max_unpacked_bytes)?;
    if let Some(kind) = other_document(&mut archive)? {
        return Err(SheetError::OtherDocument {
            kind,
            file_name: None,
        });
    }
    let Some(main) = workbook::main_part(&mut archive)? else {
        return Err(SheetError::OtherDocument {
            kind: DocumentKind::Archive,
            file_name: None,
        });
    };
    if main.ends_with(".bin") {
        return Err(SheetError::OtherDocument {
            kind: DocumentKind::Xlsb,
            file_name: None,
        });
    }
    let book = workbook::read(&mut archive, &main)?;
    let sheet = choose_sheet(&mut archive, &book)?;
    let Some(path) = sheet.path.clone() else {
        return Err(SheetError::damaged(format!(
            "sheet {} has no part",
            sheet.name
        )));
    };
    let styles = match &book.styles {
        Some(styles) => Styles::read(&mut archive, styles)?,
        None => Styles::default(),
    };
    let strings = match &book.shared_strings {
        Some(strings) => SharedStrings::read(&mut archive, strings, limits.max_cell_chars)?,
        None => SharedStrings::default(),
    };
    let Some(xml) = archive.xml(&path)? else {
        return Err(SheetError::damaged(format!("no {path}")));
    };
    let rows = SheetRows::new(
        xml,
        path,
        std::sync::Arc::clone(&archive.budget),
        strings,
        styles,
        book.date1904,
        limits,
    );
    Ok((
        Format::Xlsx {
            sheet: sheet.name.clone(),
        },
        rows,
    ))
}

/// Other zip-based documents people upload by mistake.
fn other_document(archive: &mut Archive<'_>) -> Result<Option<DocumentKind>, SheetError> {
    if let Some(mimetype) = archive.read_small("mimetype", 200)? {
        return Ok(Some(if mimetype.contains("opendocument.spreadsheet") {
            DocumentKind::Ods
        } else if mimetype.contains("opendocument.text") {
            DocumentKind::Word
        } else if mimetype.contains("opendocument.presentation") {
            DocumentKind::Presentation
        } else {
            DocumentKind::Archive
        }));
    }
    for (part, kind) in [
        ("word/document.xml", DocumentKind::Word),
        ("ppt/presentation.xml", DocumentKind::Presentation),
        ("xl/workbook.bin", DocumentKind::Xlsb),
    ] {
        if archive.has(part) {
            return Ok(Some(kind));
        }
    }
    Ok(None)
}

/// The one sheet with data. Sheets with nothing in them (Excel's «Лист2»
/// and «Лист3» of older templates) are let through; chart sheets count as
/// content, since they are not empty either.
fn choose_sheet<'b>(
    archive: &mut Archive<'_>,
    book: &'b Workbook,
) -> Result<&'b SheetEntry, SheetError> {
    if let [only] = book.sheets.as_slice() {
        return Ok(only);
    }
    let mut with_data = Vec::new();
    for sheet in &book.sheets {
        let has_data = match (&sheet.path, sheet.is_worksheet) {
            (Some(_), false) => true,
            (Some(path), true) => rows::has_values(archive, path)?,
            (None, _) => false,
        };
        if has_data {
            with_data.push(sheet);
        }
    }
    match with_data.as_slice() {
        [] => Err(SheetError::Empty { file_name: None }),
        [only] => Ok(only),
        several => Err(SheetError::SeveralSheets {
            sheets: several
                .iter()
                .map(|sheet| SheetInfo {
                    name: sheet.name.clone(),
                    hidden: sheet.hidden,
                })
                .collect(),
        }),
    }
}
