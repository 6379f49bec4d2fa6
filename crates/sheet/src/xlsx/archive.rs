//! The zip container of an XLSX, read without trusting it: the directory
//! comes from the `zip` crate, but each part is inflated here, straight
//! from the uploaded bytes, through a counter that stops at the unpacked
//! limit — the sizes an archive declares can be lies.

use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use quick_xml::events::{BytesRef, BytesStart, BytesText};
use quick_xml::XmlVersion;
use zip::CompressionMethod;

use crate::error::SheetError;

/// More entries than any workbook has; the directory itself is bounded by
/// the file size, this keeps name lookups cheap.
const MAX_ENTRIES: usize = 10_000;

/// The largest piece of XML (one tag, one run of text) held at once; real
/// workbooks stay far below, a hostile one cannot make a parser buffer grow
/// past it.
const MAX_XML_EVENT_BYTES: u64 = 1024 * 1024;

/// The unpacked bytes allowed for the whole file, shared by its parts.
pub(crate) struct Budget {
    limit: u64,
    used: AtomicU64,
}

impl Budget {
    pub fn exceeded(&self) -> bool {
        self.used.load(Ordering::Relaxed) > self.limit
    }
}

pub(crate) type Xml<'a> = quick_xml::Reader<Guard<BufReader<Counted<Box<dyn Read + Send + 'a>>>>>;

pub(crate) struct Archive<'a> {
    bytes: &'a [u8],
    zip: zip::ZipArchive<Cursor<&'a [u8]>>,
    pub budget: Arc<Budget>,
}

impl<'a> Archive<'a> {
    pub fn open(bytes: &'a [u8], max_unpacked_bytes: u64) -> Result<Archive<'a>, SheetError> {
        let zip = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| SheetError::damaged(format!("zip: {e}")))?;
        if zip.len() > MAX_ENTRIES {
            return Err(SheetError::damaged(format!("{} zip entries", zip.len())));
        }
        Ok(Archive {
            bytes,
            zip,
            budget: Arc::new(Budget {
                limit: max_unpacked_bytes,
                used: AtomicU64::new(0),
            }),
        })
    }

    /// The entry's exact name, or one differing only in case (some
    /// writers are careless about it).
    pub fn find(&self, name: &str) -> Option<usize> {
        let name = name.trim_start_matches('/');
        self.zip.index_for_name(name).or_else(|| {
            self.zip
                .file_names()
                .position(|n| n.is_ok_and(|n| n.eq_ignore_ascii_case(name)))
        })
    }

    pub fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// A part as XML, or `None` if the archive has no such entry.
    pub fn xml(&mut self, name: &str) -> Result<Option<Xml<'a>>, SheetError> {
        let Some(index) = self.find(name) else {
            return Ok(None);
        };
        let entry = self
            .zip
            .by_index_raw(index)
            .map_err(|e| SheetError::damaged(format!("{name}: {e}")))?;
        if entry.encrypted() {
            return Err(SheetError::PasswordProtected { file_name: None });
        }
        let method = entry.compression();
        let data = entry
            .data_start()
            .and_then(|start| {
                let end = start.checked_add(entry.compressed_size())?;
                self.bytes
                    .get(usize::try_from(start).ok()?..usize::try_from(end).ok()?)
            })
            .ok_or_else(|| SheetError::damaged(format!("{name}: data outside the file")))?;
        let inflated: Box<dyn Read + Send + 'a> = if method == CompressionMethod::STORE {
            Box::new(data)
        } else if method == CompressionMethod::DEFLATE {
            Box::new(flate2::read::DeflateDecoder::new(data))
        } else {
            return Err(SheetError::damaged(format!("{name}: compression {method}")));
        };
        let counted = Counted {
            inner: inflated,
            budget: Arc::clone(&self.budget),
        };
        let mut xml = quick_xml::Reader::from_reader(Guard {
            inner: BufReader::with_capacity(64 * 1024, counted),
            since_mark: 0,
        });
        let config = xml.config_mut();
        config.trim_text(false);
        // Matching end names keeps a stack of every open element: a
        // deeply nested file would grow it without bound.
        config.check_end_names = false;
        config.allow_dangling_amp = true;
        Ok(Some(xml))
    }

    pub fn read_small(&mut self, name: &str, max: usize) -> Result<Option<String>, SheetError> {
        let Some(mut xml) = self.xml(name)? else {
            return Ok(None);
        };
        let mut text = Vec::new();
        xml.get_mut()
            .take(max as u64)
            .read_to_end(&mut text)
            .map_err(|e| SheetError::damaged(format!("{name}: {e}")))?;
        Ok(Some(String::from_utf8_lossy(&text).into_owned()))
    }
}

/// Counts the bytes inflated against the shared budget and fails the read
/// that goes past it.
pub(crate) struct Counted<R> {
    inner: R,
    budget: Arc<Budget>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.budget.exceeded() {
            return Err(io::Error::other("unpacked limit reached"));
        }
        let n = self.inner.read(buf)?;
        self.budget.used.fetch_add(n as u64, Ordering::Relaxed);
        if self.budget.exceeded() {
            return Err(io::Error::other("unpacked limit reached"));
        }
        Ok(n)
    }
}

/// Caps how much the XML parser may consume for one event: its buffer
/// holds a whole tag or text run, so this is what bounds the buffer.
pub(crate) struct Guard<R> {
    inner: R,
    since_mark: u64,
}

impl<R> Guard<R> {
    /// Called before each event is read.
    pub fn mark(&mut self) {
        self.since_mark = 0;
    }
}

impl<R: BufRead> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Guard<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.since_mark > MAX_XML_EVENT_BYTES {
            return Err(io::Error::other("an XML element over 1 MiB"));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.since_mark += amount as u64;
        self.inner.consume(amount);
    }
}

/// What went wrong in a part, told apart from a zip bomb.
pub(crate) fn xml_error(budget: &Budget, part: &str, error: impl std::fmt::Display) -> SheetError {
    if budget.exceeded() {
        SheetError::UnpackedTooLarge {
            limit: budget.limit,
        }
    } else {
        SheetError::damaged(format!("{part}: {error}"))
    }
}

/// An attribute by its local name (`r:id` is `id`), unescaped.
pub(crate) fn attr(element: &BytesStart<'_>, name: &str) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

pub(crate) fn local<'e>(element: &'e BytesStart<'_>) -> quick_xml::name::LocalName<'e> {
    element.local_name()
}

/// Appends text to a cell's value, up to one character past `max_chars`
/// (enough to tell that it is too long, without storing all of it).
pub(crate) struct BoundedText {
    pub text: String,
    chars: usize,
    max_chars: usize,
}

impl BoundedText {
    pub fn new(max_chars: usize) -> BoundedText {
        BoundedText {
            text: String::new(),
            chars: 0,
            max_chars,
        }
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.chars = 0;
    }

    pub fn push(&mut self, piece: &str) {
        for c in piece.chars() {
            if self.chars > self.max_chars {
                return;
            }
            self.text.push(c);
            self.chars += 1;
        }
    }

    pub fn push_text(&mut self, text: &BytesText<'_>) {
        self.push(&text.xml10_content());
    }

    /// `&amp;`, `&#1040;` and the like, which the parser hands over apart.
    pub fn push_ref(&mut self, reference: &BytesRef<'_>) {
        if let Ok(Some(c)) = reference.resolve_char_ref() {
            self.push(c.encode_utf8(&mut [0; 4]));
            return;
        }
        let named = match reference.xml10_content().as_ref() {
            "amp" => "&",
            "lt" => "<",
            "gt" => ">",
            "quot" => "\"",
            "apos" => "'",
            _ => "",
        };
        self.push(named);
    }
}
