//! Reading back what a printed sheet carries: the QR codes a PDF draws (as
//! the vector squares the invitations crate paints, rasterised here and
//! decoded with `rqrr`, the way a phone's camera would read the paper) and
//! the link annotations' addresses. Nothing is re-rendered from the data:
//! what is decoded is what the file contains.

use miniz_oxide::inflate::decompress_to_vec_zlib;

/// Each stream of `pdf`, inflated when it is Flate-compressed.
fn streams(pdf: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(start) = find(&pdf[at..], b"stream") {
        let keyword = at + start;
        let mut body = keyword + b"stream".len();
        // `endstream` contains `stream` too: skip it.
        if keyword >= 3 && &pdf[keyword - 3..keyword] == b"end" {
            at = body;
            continue;
        }
        if pdf.get(body) == Some(&b'\r') {
            body += 1;
        }
        if pdf.get(body) == Some(&b'\n') {
            body += 1;
        }
        let Some(len) = find(&pdf[body..], b"endstream") else {
            break;
        };
        let dict_start = pdf[..keyword]
            .windows(2)
            .rposition(|w| w == b"<<")
            .unwrap_or(0);
        // The end-of-line before `endstream` is not part of the data.
        let mut raw = &pdf[body..body + len];
        if let Some(rest) = raw.strip_suffix(b"\n") {
            raw = rest.strip_suffix(b"\r").unwrap_or(rest);
        }
        let flate = find(&pdf[dict_start..keyword], b"/FlateDecode").is_some();
        out.push(if flate {
            decompress_to_vec_zlib(raw).unwrap_or_default()
        } else {
            raw.to_vec()
        });
        at = body + len + b"endstream".len();
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One filled path made of many rectangles: a QR code's dark runs.
type Rects = Vec<[f32; 4]>;

/// The filled paths of many rectangles in a content stream, in order.
fn filled_rect_paths(content: &[u8]) -> Vec<Rects> {
    let text = String::from_utf8_lossy(content);
    let mut numbers: Vec<f32> = Vec::new();
    let mut path: Rects = Vec::new();
    let mut found = Vec::new();
    for token in text.split_ascii_whitespace() {
        if let Ok(n) = token.parse::<f32>() {
            numbers.push(n);
            continue;
        }
        match token {
            "re" if numbers.len() >= 4 => {
                let n = numbers.len();
                path.push([
                    numbers[n - 4],
                    numbers[n - 3],
                    numbers[n - 2],
                    numbers[n - 1],
                ]);
            }
            "f" | "f*" | "F" => {
                // Finder patterns alone make dozens of runs.
                if path.len() >= 20 {
                    found.push(std::mem::take(&mut path));
                }
                path.clear();
            }
            "n" | "S" | "s" | "B" | "B*" | "b" | "b*" => path.clear(),
            _ => {}
        }
        numbers.clear();
    }
    found
}

/// The module grid the rectangles cover (row 0 at the top).
fn grid(rects: &Rects) -> Vec<Vec<bool>> {
    let module = rects.iter().map(|r| r[3]).fold(f32::MAX, f32::min);
    let left = rects.iter().map(|r| r[0]).fold(f32::MAX, f32::min);
    let right = rects.iter().map(|r| r[0] + r[2]).fold(f32::MIN, f32::max);
    let top = rects.iter().map(|r| r[1] + r[3]).fold(f32::MIN, f32::max);
    let size = ((right - left) / module).round() as usize;
    let mut cells = vec![vec![false; size]; size];
    for [x, y, w, h] in rects {
        let row = ((top - (y + h)) / module).round() as usize;
        let first = ((x - left) / module).round() as usize;
        let count = (w / module).round() as usize;
        for column in first..(first + count).min(size) {
            if let Some(line) = cells.get_mut(row) {
                line[column] = true;
            }
        }
    }
    cells
}

/// Rasterises a module grid (8 px a module, a 4-module quiet zone) and
/// decodes it.
fn decode(cells: &[Vec<bool>]) -> Option<String> {
    const SCALE: usize = 8;
    const QUIET: usize = 4;
    let side = (cells.len() + 2 * QUIET) * SCALE;
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
        let (column, row) = (x / SCALE, y / SCALE);
        let dark = row >= QUIET
            && column >= QUIET
            && cells
                .get(row - QUIET)
                .and_then(|line| line.get(column - QUIET))
                .copied()
                .unwrap_or(false);
        if dark {
            0
        } else {
            255
        }
    });
    let grids = image.detect_grids();
    let (_, content) = grids.first()?.decode().ok()?;
    Some(content)
}

/// What each QR code drawn in `pdf` says, in the order of the pages.
pub fn qr_codes(pdf: &[u8]) -> Vec<String> {
    streams(pdf)
        .iter()
        .flat_map(|content| filled_rect_paths(content))
        .filter_map(|rects| decode(&grid(&rects)))
        .collect()
}

/// The addresses of the PDF's link annotations (`/URI (...)`).
pub fn link_uris(pdf: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(pdf);
    text.match_indices("/URI (")
        .filter_map(|(at, _)| {
            let rest = &text[at + "/URI (".len()..];
            rest.find(')').map(|end| rest[..end].replace("\\/", "/"))
        })
        .collect()
}
