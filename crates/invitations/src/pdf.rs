//! Invitation sheets as PDF: one A4 page per person saying what the HTML
//! sheet says ([`crate::sheets`]), with the QR code drawn as vector squares.
//!
//! Russian needs a Unicode font, so Liberation Sans (assets/fonts, SIL OFL)
//! is embedded; each file carries only the glyphs its pages use. Glyphs are
//! numbered in the subset as they are first met, so a page is written as
//! soon as it is added and only the fonts wait for the end.

use std::collections::BTreeMap;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use qrcode::{Color, QrCode};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

use crate::sheets::{school_line, CODE_INTRO, STEPS, TITLE, URL_INTRO, WARNING};
use app::school::IssuedCode;

const REGULAR: &[u8] = include_bytes!("../../../assets/fonts/LiberationSans-Regular.ttf");
const BOLD: &[u8] = include_bytes!("../../../assets/fonts/LiberationSans-Bold.ttf");

/// A4 in points.
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
/// 2 cm, as the HTML sheet's padding.
const MARGIN: f32 = 56.7;
const TEXT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
/// The QR code's side without its quiet zone: about 4.5 cm, easy for a
/// phone's camera at arm's length.
const QR_SIDE: f32 = 128.0;
/// Where the text of a numbered step starts, right of its number.
const STEP_INDENT: f32 = 18.0;
/// How hard the streams are deflated (miniz's default level).
const COMPRESSION: u8 = 6;

#[derive(Debug, thiserror::Error)]
pub enum SheetsPdfError {
    #[error("the embedded font {0} does not parse")]
    Font(&'static str),
    #[error("cannot subset the embedded font {font}: {reason}")]
    Subset { font: &'static str, reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Regular,
    Bold,
}

/// One embedded font: its metrics, the glyphs the pages used (numbered in
/// the subset) and the text each glyph stands for, for copy and search.
struct EmbeddedFont {
    data: &'static [u8],
    face: Face<'static>,
    /// The PostScript name, after the subset tag.
    name: &'static str,
    /// Six capitals naming this subset (PDF 32000-1, 9.6.4).
    tag: &'static str,
    resource: Name<'static>,
    glyphs: GlyphRemapper,
    text: BTreeMap<u16, char>,
    type0: Ref,
    cid: Ref,
    descriptor: Ref,
    file: Ref,
    to_unicode: Ref,
}

impl EmbeddedFont {
    fn new(
        data: &'static [u8],
        name: &'static str,
        tag: &'static str,
        resource: &'static [u8],
        refs: &mut Refs,
    ) -> Result<EmbeddedFont, SheetsPdfError> {
        let face = Face::parse(data, 0).map_err(|_| SheetsPdfError::Font(name))?;
        Ok(EmbeddedFont {
            data,
            face,
            name,
            tag,
            resource: Name(resource),
            glyphs: GlyphRemapper::new(),
            text: BTreeMap::new(),
            type0: refs.next(),
            cid: refs.next(),
            descriptor: refs.next(),
            file: refs.next(),
            to_unicode: refs.next(),
        })
    }

    /// The font's glyph for `c`; `.notdef` (an empty box) when it has none.
    fn glyph(&self, c: char) -> GlyphId {
        self.face.glyph_index(c).unwrap_or(GlyphId(0))
    }

    /// `text` as a string of the subset's glyph ids (Identity-H: two bytes
    /// each), taking the glyphs into the subset.
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let glyph = self.glyph(c);
            let id = self.glyphs.remap(glyph.0);
            if glyph.0 != 0 {
                self.text.entry(id).or_insert(c);
            }
            bytes.extend_from_slice(&id.to_be_bytes());
        }
        bytes
    }

    /// How wide `text` is at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text
            .chars()
            .map(|c| u32::from(self.face.glyph_hor_advance(self.glyph(c)).unwrap_or(0)))
            .sum();
        units as f32 * size / f32::from(self.face.units_per_em())
    }

    /// Font units in the thousandths of an em PDF measures glyphs in.
    fn per_mille(&self, units: i16) -> f32 {
        f32::from(units) * 1000.0 / f32::from(self.face.units_per_em())
    }

    /// The font's objects: the composite font, its CID font with the
    /// subset's widths, the descriptor, the subset itself and the map back
    /// to Unicode.
    fn write(&self, pdf: &mut Pdf) -> Result<(), SheetsPdfError> {
        let subset =
            subsetter::subset(self.data, 0, &self.glyphs).map_err(|e| SheetsPdfError::Subset {
                font: self.name,
                reason: e.to_string(),
            })?;
        let base_font = format!("{}+{}", self.tag, self.name);
        let base_font = Name(base_font.as_bytes());
        let system_info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };

        pdf.type0_font(self.type0)
            .base_font(base_font)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(self.cid)
            .to_unicode(self.to_unicode);

        let widths: Vec<f32> = self
            .glyphs
            .remapped_gids()
            .map(|old| {
                let advance = self.face.glyph_hor_advance(GlyphId(old)).unwrap_or(0);
                self.per_mille(i16::try_from(advance).unwrap_or(i16::MAX))
            })
            .collect();
        let mut cid = pdf.cid_font(self.cid);
        cid.subtype(CidFontType::Type2)
            .base_font(base_font)
            .system_info(system_info)
            .font_descriptor(self.descriptor)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        cid.widths().consecutive(0, widths);
        cid.finish();

        let bbox = self.face.global_bounding_box();
        let ascent = self.per_mille(self.face.ascender());
        pdf.font_descriptor(self.descriptor)
            .name(base_font)
            // Outside the standard Latin set: symbolic, as PDF asks.
            .flags(FontFlags::SYMBOLIC)
            .bbox(Rect::new(
                self.per_mille(bbox.x_min),
                self.per_mille(bbox.y_min),
                self.per_mille(bbox.x_max),
                self.per_mille(bbox.y_max),
            ))
            .italic_angle(0.0)
            .ascent(ascent)
            .descent(self.per_mille(self.face.descender()))
            .cap_height(
                self.face
                    .capital_height()
                    .map(|h| self.per_mille(h))
                    .unwrap_or(ascent),
            )
            .stem_v(if self.name.ends_with("Bold") {
                120.0
            } else {
                80.0
            })
            .font_file2(self.file);

        let compressed = deflate(&subset);
        pdf.stream(self.file, &compressed)
            .filter(Filter::FlateDecode)
            .pair(
                Name(b"Length1"),
                i32::try_from(subset.len()).unwrap_or(i32::MAX),
            );

        let mut cmap = UnicodeCmap::new(Name(b"Custom"), system_info);
        for (glyph, c) in &self.text {
            cmap.pair(*glyph, *c);
        }
        let cmap = deflate(&cmap.finish());
        pdf.stream(self.to_unicode, &cmap)
            .filter(Filter::FlateDecode);
        Ok(())
    }
}

/// Object numbers, handed out once each.
struct Refs(i32);

impl Refs {
    fn next(&mut self) -> Ref {
        self.0 += 1;
        Ref::new(self.0)
    }
}

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, COMPRESSION)
}

/// A PDF of invitation sheets, built a page at a time.
pub struct SheetsPdf {
    pdf: Pdf,
    refs: Refs,
    catalog: Ref,
    page_tree: Ref,
    pages: Vec<Ref>,
    regular: EmbeddedFont,
    bold: EmbeddedFont,
    title: String,
    /// One bookmark per page (who the sheet is for), so a packet can be
    /// navigated and searched by name.
    bookmarks: Vec<(Ref, String)>,
}

/// A line of a class packet's cover page: who receives which sheet.
pub struct CoverLine {
    pub name: String,
    /// «ученик» or «родитель: Иванов Пётр, 5А».
    pub receives: String,
}

/// Cover lines per page (the first page also has the heading).
const COVER_LINES_PER_PAGE: usize = 34;

impl SheetsPdf {
    pub fn new(school: &str) -> Result<SheetsPdf, SheetsPdfError> {
        let mut refs = Refs(0);
        let catalog = refs.next();
        let page_tree = refs.next();
        let regular = EmbeddedFont::new(REGULAR, "LiberationSans", "ELKSRG", b"F1", &mut refs)?;
        let bold = EmbeddedFont::new(BOLD, "LiberationSans-Bold", "ELKSBD", b"F2", &mut refs)?;
        Ok(SheetsPdf {
            pdf: Pdf::new(),
            refs,
            catalog,
            page_tree,
            pages: Vec::new(),
            regular,
            bold,
            title: format!("Приглашения — {school}"),
            bookmarks: Vec::new(),
        })
    }

    /// How many sheets so far.
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// Adds one person's page.
    pub fn add(&mut self, issued: &IssuedCode, school: &str, url: &str) {
        let mut page = PageWriter {
            content: Content::new(),
            regular: &mut self.regular,
            bold: &mut self.bold,
            y: PAGE_HEIGHT - MARGIN,
        };
        page.paragraph(Style::Bold, 22.0, TITLE, MARGIN, TEXT_WIDTH);
        page.gap(4.0);
        page.paragraph(
            Style::Regular,
            12.0,
            &school_line(issued, school),
            MARGIN,
            TEXT_WIDTH,
        );
        page.gap(10.0);
        page.paragraph(Style::Bold, 18.0, &issued.full_name(), MARGIN, TEXT_WIDTH);
        let children = children_line(issued);
        if let Some(children) = &children {
            page.gap(2.0);
            page.paragraph(Style::Regular, 12.0, children, MARGIN, TEXT_WIDTH);
        }
        page.gap(14.0);
        page.paragraph(Style::Regular, 12.0, CODE_INTRO, MARGIN, TEXT_WIDTH);
        page.gap(6.0);
        page.code(&issued.code.to_string());
        page.gap(14.0);
        page.paragraph(Style::Regular, 12.0, URL_INTRO, MARGIN, TEXT_WIDTH);
        page.paragraph(Style::Regular, 11.0, url, MARGIN, TEXT_WIDTH);
        page.gap(8.0);
        let qr_top = page.y;
        page.qr(url);
        page.gap(10.0);
        for (number, step) in STEPS.iter().enumerate() {
            page.step(number + 1, step);
            page.gap(3.0);
        }
        page.gap(8.0);
        page.paragraph(Style::Bold, 11.0, WARNING, MARGIN, TEXT_WIDTH);
        let content = page.content.finish();
        let bookmark = match children {
            Some(children) => format!("{} — {children}", issued.full_name()),
            None => issued.full_name(),
        };
        // The QR code is also a link: a click in a PDF viewer opens the
        // activation page.
        let link = (
            Rect::new(MARGIN, qr_top - QR_SIDE, MARGIN + QR_SIDE, qr_top),
            url,
        );
        self.push_page(content, bookmark, Some(link));
    }

    /// Cover pages of a class packet: a heading, then a numbered table of
    /// who receives which sheet with a column to sign against, in the order
    /// the sheets follow.
    pub fn cover(&mut self, heading: &str, lines: &[CoverLine]) {
        let chunks: Vec<&[CoverLine]> = if lines.is_empty() {
            vec![&[]]
        } else {
            lines.chunks(COVER_LINES_PER_PAGE).collect()
        };
        let mut number = 0;
        for (index, chunk) in chunks.into_iter().enumerate() {
            let mut page = PageWriter {
                content: Content::new(),
                regular: &mut self.regular,
                bold: &mut self.bold,
                y: PAGE_HEIGHT - MARGIN,
            };
            if index == 0 {
                page.paragraph(Style::Bold, 16.0, heading, MARGIN, TEXT_WIDTH);
                page.paragraph(Style::Regular, 10.0, COVER_INTRO, MARGIN, TEXT_WIDTH);
                page.gap(6.0);
            }
            page.cover_row(Style::Bold, "№", "ФИО", "Кому лист", "Подпись, дата");
            for line in chunk {
                number += 1;
                page.cover_row(
                    Style::Regular,
                    &number.to_string(),
                    &line.name,
                    &line.receives,
                    "______________",
                );
            }
            let content = page.content.finish();
            self.push_page(content, format!("{heading} ({})", index + 1), None);
        }
    }

    fn push_page(
        &mut self,
        content: pdf_writer::Buf,
        bookmark: String,
        link: Option<(Rect, &str)>,
    ) {
        let content = deflate(&content);
        let page_ref = self.refs.next();
        let annotation = link.map(|(rect, url)| {
            let annotation = self.refs.next();
            let mut written = self.pdf.annotation(annotation);
            written
                .subtype(pdf_writer::types::AnnotationType::Link)
                .rect(rect)
                .border(0.0, 0.0, 0.0, None);
            written
                .action()
                .action_type(pdf_writer::types::ActionType::Uri)
                .uri(Str(url.as_bytes()));
            written.finish();
            annotation
        });
        let content_ref = self.refs.next();
        self.pdf
            .stream(content_ref, &content)
            .filter(Filter::FlateDecode);
        let mut pdf_page = self.pdf.page(page_ref);
        pdf_page
            .media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .parent(self.page_tree)
            .contents(content_ref);
        if let Some(annotation) = annotation {
            pdf_page.annotations([annotation]);
        }
        pdf_page
            .resources()
            .fonts()
            .pair(self.regular.resource, self.regular.type0)
            .pair(self.bold.resource, self.bold.type0);
        pdf_page.finish();
        self.pages.push(page_ref);
        self.bookmarks.push((page_ref, bookmark));
    }

    /// The finished file.
    pub fn finish(mut self) -> Result<Vec<u8>, SheetsPdfError> {
        self.regular.write(&mut self.pdf)?;
        self.bold.write(&mut self.pdf)?;
        let outline = self.write_outline();
        let mut catalog = self.pdf.catalog(self.catalog);
        catalog.pages(self.page_tree);
        if let Some(outline) = outline {
            catalog.outlines(outline);
        }
        catalog.finish();
        let count = i32::try_from(self.pages.len()).unwrap_or(i32::MAX);
        self.pdf
            .pages(self.page_tree)
            .kids(self.pages.iter().copied())
            .count(count);
        let info = self.refs.next();
        self.pdf
            .document_info(info)
            .title(TextStr(&self.title))
            .producer(TextStr("esia-link"));
        Ok(self.pdf.finish())
    }
}

impl SheetsPdf {
    /// The bookmarks, one per page; `None` without pages.
    fn write_outline(&mut self) -> Option<Ref> {
        if self.bookmarks.is_empty() {
            return None;
        }
        let outline = self.refs.next();
        let items: Vec<Ref> = self.bookmarks.iter().map(|_| self.refs.next()).collect();
        for (index, ((page, title), item)) in self.bookmarks.iter().zip(&items).enumerate() {
            let mut entry = self.pdf.outline_item(*item);
            entry.title(TextStr(title)).parent(outline);
            if index > 0 {
                entry.prev(items[index - 1]);
            }
            if let Some(next) = items.get(index + 1) {
                entry.next(*next);
            }
            entry.dest().page(*page).fit();
        }
        let count = i32::try_from(items.len()).unwrap_or(i32::MAX);
        let mut root = self.pdf.outline(outline);
        if let (Some(first), Some(last)) = (items.first(), items.last()) {
            root.first(*first).last(*last);
        }
        root.count(count);
        Some(outline)
    }
}

/// «Для родителя: Иванов Пётр Сергеевич, 5А» on a parent's sheet.
fn children_line(issued: &IssuedCode) -> Option<String> {
    if issued.children.is_empty() {
        return None;
    }
    Some(format!("{PARENT_OF} {}", issued.children.join("; ")))
}

/// What a cover page says under its heading.
const COVER_INTRO: &str = "Листы с кодами активации выдаются лично в руки под подпись. \
                           Листы в пакете идут в том же порядке, что и строки таблицы.";
/// Before the children on a parent's sheet.
pub const PARENT_OF: &str = "Родитель ученика:";

/// Writes one page top down; `y` is the top of the next line.
struct PageWriter<'a> {
    content: Content,
    regular: &'a mut EmbeddedFont,
    bold: &'a mut EmbeddedFont,
    y: f32,
}

impl PageWriter<'_> {
    fn font(&mut self, style: Style) -> &mut EmbeddedFont {
        match style {
            Style::Regular => &mut *self.regular,
            Style::Bold => &mut *self.bold,
        }
    }

    fn gap(&mut self, points: f32) {
        self.y -= points;
    }

    /// One line of text with its baseline under `y`.
    fn line(&mut self, style: Style, size: f32, text: &str, x: f32) {
        let baseline = self.y - size;
        let font = self.font(style);
        let resource = font.resource;
        let encoded = font.encode(text);
        self.content
            .begin_text()
            .set_font(resource, size)
            .next_line(x, baseline)
            .show(Str(&encoded))
            .end_text();
        self.y -= size * 1.3;
    }

    /// `text` wrapped at spaces to `width` (a word longer than a line, such
    /// as an address, breaks anywhere).
    fn paragraph(&mut self, style: Style, size: f32, text: &str, x: f32, width: f32) {
        for line in wrap(self.font(style), text, size, width) {
            self.line(style, size, &line, x);
        }
    }

    /// A row of the cover table: number, name, which sheet, signature.
    fn cover_row(&mut self, style: Style, number: &str, name: &str, receives: &str, sign: &str) {
        const SIZE: f32 = 10.0;
        let columns = [
            (MARGIN, 22.0),
            (MARGIN + 22.0, 170.0),
            (MARGIN + 192.0, 180.0),
            (MARGIN + 372.0, TEXT_WIDTH - 372.0),
        ];
        let top = self.y;
        let mut lowest = top;
        for (text, (x, width)) in [number, name, receives, sign].into_iter().zip(columns) {
            self.y = top;
            self.paragraph(style, SIZE, text, x, width - 4.0);
            lowest = lowest.min(self.y);
        }
        self.y = lowest - 4.0;
        self.content
            .set_line_width(0.5)
            .move_to(MARGIN, self.y + 2.0)
            .line_to(MARGIN + TEXT_WIDTH, self.y + 2.0)
            .stroke();
    }

    fn step(&mut self, number: usize, text: &str) {
        let top = self.y;
        self.line(Style::Regular, 11.0, &format!("{number}."), MARGIN);
        self.y = top;
        self.paragraph(
            Style::Regular,
            11.0,
            text,
            MARGIN + STEP_INDENT,
            TEXT_WIDTH - STEP_INDENT,
        );
    }

    /// The code in large type in a frame, as the eye looks for it first.
    fn code(&mut self, code: &str) {
        const SIZE: f32 = 30.0;
        const SPACING: f32 = 2.0;
        const PADDING: f32 = 10.0;
        let letters = code.chars().count() as f32;
        let width = self.bold.width(code, SIZE) + SPACING * letters + 2.0 * PADDING;
        let height = SIZE + 2.0 * PADDING;
        self.content
            .set_line_width(1.0)
            .rect(MARGIN, self.y - height, width, height)
            .stroke();
        let encoded = self.bold.encode(code);
        self.content
            .begin_text()
            .set_font(self.bold.resource, SIZE)
            .set_char_spacing(SPACING)
            .next_line(MARGIN + PADDING, self.y - PADDING - SIZE * 0.8)
            .show(Str(&encoded))
            .set_char_spacing(0.0)
            .end_text();
        self.y -= height;
    }

    /// The QR code of `url` as filled squares (one rectangle per run of dark
    /// modules in a row); nothing if the address is too long for one.
    fn qr(&mut self, url: &str) {
        let Ok(code) = QrCode::new(url.as_bytes()) else {
            return;
        };
        let modules = code.width();
        if modules == 0 {
            return;
        }
        let module = QR_SIDE / modules as f32;
        let top = self.y;
        let colors = code.to_colors();
        for (row, line) in colors.chunks(modules).enumerate() {
            let y = top - (row as f32 + 1.0) * module;
            let mut column = 0;
            while column < modules {
                if line[column] != Color::Dark {
                    column += 1;
                    continue;
                }
                let start = column;
                while column < modules && line[column] == Color::Dark {
                    column += 1;
                }
                self.content.rect(
                    MARGIN + start as f32 * module,
                    y,
                    (column - start) as f32 * module,
                    module,
                );
            }
        }
        self.content.set_fill_gray(0.0).fill_nonzero();
        self.y -= QR_SIDE;
    }
}

/// Greedy line breaking by the font's advances.
fn wrap(font: &EmbeddedFont, text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if font.width(&candidate, size) <= width {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        for c in word.chars() {
            line.push(c);
            if font.width(&line, size) > width && line.chars().count() > 1 {
                line.pop();
                lines.push(std::mem::replace(&mut line, c.to_string()));
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests;
