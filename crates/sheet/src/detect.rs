//! What a file is, from its first bytes: browsers send whatever name and
//! type the user's system gave it, so neither is trusted.

use crate::error::{DocumentKind, SheetError};

pub(crate) enum Detected {
    Empty,
    /// A zip archive: an XLSX, or some other document to refuse.
    Zip,
    /// Anything else is taken for text and checked as it is decoded.
    Text,
    Refused(SheetError),
}

/// OLE2 compound files: Excel 97-2003, old Word, and — easy to mistake for
/// an old workbook — any password-protected Office file.
const OLE2_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

pub(crate) fn detect(bytes: &[u8]) -> Detected {
    if bytes.is_empty() {
        return Detected::Empty;
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Detected::Zip;
    }
    if bytes.starts_with(OLE2_MAGIC) {
        return Detected::Refused(ole2_kind(bytes));
    }
    let other = |kind| {
        Detected::Refused(SheetError::OtherDocument {
            kind,
            file_name: None,
        })
    };
    if bytes.starts_with(b"%PDF") {
        return other(DocumentKind::Pdf);
    }
    // RAR, 7-Zip, gzip.
    if bytes.starts_with(b"Rar!")
        || bytes.starts_with(b"7z\xBC\xAF")
        || bytes.starts_with(b"\x1F\x8B")
    {
        return other(DocumentKind::Archive);
    }
    Detected::Text
}

/// The stream names in an OLE2 directory are UTF-16; their presence tells
/// the kind of document without parsing the container.
fn ole2_kind(bytes: &[u8]) -> SheetError {
    if contains_utf16(bytes, "EncryptedPackage") {
        return SheetError::PasswordProtected { file_name: None };
    }
    for (stream, kind) in [
        ("WordDocument", DocumentKind::Word),
        ("PowerPoint Document", DocumentKind::Presentation),
    ] {
        if contains_utf16(bytes, stream) {
            return SheetError::OtherDocument {
                kind,
                file_name: None,
            };
        }
    }
    SheetError::OldExcel { file_name: None }
}

fn contains_utf16(haystack: &[u8], name: &str) -> bool {
    let needle: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
