//! The workbook's map: where its parts are, its sheets, and its date
//! system. Every list here is bounded: these parts are small in any real
//! workbook, and a hostile one gets no more than the caps below.

use quick_xml::events::Event;

use super::archive::{attr, local, xml_error, Archive};
use crate::error::SheetError;

/// More sheets than a school workbook plausibly has.
const MAX_SHEETS: usize = 1000;
const MAX_RELATIONSHIPS: usize = 10_000;

pub(crate) struct Relationship {
    pub id: String,
    /// The type's last segment: `worksheet`, `sharedStrings`, `styles`…
    pub kind: String,
    /// The target's path inside the archive.
    pub path: String,
}

pub(crate) struct SheetEntry {
    pub name: String,
    pub hidden: bool,
    /// The part, and whether it is a worksheet (chart sheets are not).
    pub path: Option<String>,
    pub is_worksheet: bool,
}

pub(crate) struct Workbook {
    pub date1904: bool,
    pub sheets: Vec<SheetEntry>,
    pub shared_strings: Option<String>,
    pub styles: Option<String>,
}

/// The main part the package points to (`xl/workbook.xml` in practice).
pub(crate) fn main_part(archive: &mut Archive<'_>) -> Result<Option<String>, SheetError> {
    let rels = relationships(archive, "_rels/.rels", "")?;
    let main = rels
        .into_iter()
        .find(|r| r.kind == "officeDocument")
        .map(|r| r.path);
    Ok(main.or_else(|| {
        archive
            .has("xl/workbook.xml")
            .then(|| "xl/workbook.xml".into())
    }))
}

pub(crate) fn read(archive: &mut Archive<'_>, path: &str) -> Result<Workbook, SheetError> {
    let folder = path.rsplit_once('/').map_or("", |(folder, _)| folder);
    let rels_path = match path.rsplit_once('/') {
        Some((folder, file)) => format!("{folder}/_rels/{file}.rels"),
        None => format!("_rels/{path}.rels"),
    };
    let rels = relationships(archive, &rels_path, folder)?;
    let Some(mut xml) = archive.xml(path)? else {
        return Err(SheetError::damaged(format!("no {path}")));
    };
    let mut workbook = Workbook {
        date1904: false,
        sheets: Vec::new(),
        shared_strings: rels
            .iter()
            .find(|r| r.kind == "sharedStrings")
            .map(|r| r.path.clone()),
        styles: rels
            .iter()
            .find(|r| r.kind == "styles")
            .map(|r| r.path.clone()),
    };
    let mut buf = Vec::new();
    loop {
        buf.clear();
        xml.get_mut().mark();
        let event = xml
            .read_event_into(&mut buf)
            .map_err(|e| xml_error(&archive.budget, path, e))?;
        match event {
            Event::Start(e) | Event::Empty(e) => match local(&e).as_ref() {
                "workbookPr" => {
                    workbook.date1904 = attr(&e, "date1904")
                        .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
                }
                "sheet" => {
                    if workbook.sheets.len() >= MAX_SHEETS {
                        return Err(SheetError::damaged("too many sheets"));
                    }
                    let target = attr(&e, "id").and_then(|id| rels.iter().find(|r| r.id == id));
                    workbook.sheets.push(SheetEntry {
                        name: attr(&e, "name").unwrap_or_default(),
                        hidden: attr(&e, "state").is_some_and(|s| s != "visible"),
                        path: target.map(|r| r.path.clone()),
                        is_worksheet: target.is_some_and(|r| r.kind == "worksheet"),
                    });
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == "sheets" => break,
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(workbook)
}

/// A `.rels` part; targets are resolved against `folder`.
fn relationships(
    archive: &mut Archive<'_>,
    path: &str,
    folder: &str,
) -> Result<Vec<Relationship>, SheetError> {
    let Some(mut xml) = archive.xml(path)? else {
        return Ok(Vec::new());
    };
    let mut rels = Vec::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        xml.get_mut().mark();
        match xml
            .read_event_into(&mut buf)
            .map_err(|e| xml_error(&archive.budget, path, e))?
        {
            Event::Start(e) | Event::Empty(e) if local(&e).as_ref() == "Relationship" => {
                if rels.len() >= MAX_RELATIONSHIPS {
                    return Err(SheetError::damaged(format!(
                        "{path}: too many relationships"
                    )));
                }
                if attr(&e, "TargetMode").is_some_and(|m| m == "External") {
                    continue;
                }
                let (Some(id), Some(kind), Some(target)) =
                    (attr(&e, "Id"), attr(&e, "Type"), attr(&e, "Target"))
                else {
                    continue;
                };
                rels.push(Relationship {
                    id,
                    kind: kind.rsplit('/').next().unwrap_or_default().to_string(),
                    path: resolve(folder, &target),
                });
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(rels)
}

/// `worksheets/sheet1.xml` from `xl` → `xl/worksheets/sheet1.xml`;
/// `/xl/x.xml` is from the root; `..` goes up.
fn resolve(folder: &str, target: &str) -> String {
    let target = target.replace('\\', "/");
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        folder.split('/').filter(|p| !p.is_empty()).collect()
    };
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn targets_resolve_inside_the_archive() {
        for (folder, target, path) in [
            ("xl", "worksheets/sheet1.xml", "xl/worksheets/sheet1.xml"),
            (
                "xl",
                "/xl/worksheets/sheet1.xml",
                "xl/worksheets/sheet1.xml",
            ),
            ("", "xl/workbook.xml", "xl/workbook.xml"),
            (
                "xl/worksheets",
                "../sharedStrings.xml",
                "xl/sharedStrings.xml",
            ),
            ("xl", "../../../etc/passwd", "etc/passwd"),
            ("xl", "worksheets\\sheet1.xml", "xl/worksheets/sheet1.xml"),
        ] {
            assert_eq!(resolve(folder, target), path, "{folder} {target}");
        }
    }
}
