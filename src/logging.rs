//! Logging with `tracing`. Personal data is kept out of logs in two ways:
//! domain types (`Snils`, `FullName`, codes) print masked in `Debug`, and
//! every formatted line passes through [`scrub_snils`] before it is written,
//! so a SNILS that slips into a message by another path is masked anyway.

use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use config::LogConfig;

/// Installs the global subscriber (once; later calls are ignored).
pub fn init(config: &LogConfig) {
    let filter = EnvFilter::try_from_env("RUST_LOG")
        .or_else(|_| EnvFilter::try_new(&config.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(ScrubbingWriter)
        .with_target(true);
    let result = if config.json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    // Already installed (tests, or `demo` calling `serve`): keep the first.
    drop(result);
}

/// Writes log lines to stderr after masking SNILS-shaped numbers.
#[derive(Clone, Copy)]
pub struct ScrubbingWriter;

impl<'a> MakeWriter<'a> for ScrubbingWriter {
    type Writer = LineScrubber;

    fn make_writer(&'a self) -> Self::Writer {
        LineScrubber { buffer: Vec::new() }
    }
}

pub struct LineScrubber {
    buffer: Vec<u8>,
}

impl Write for LineScrubber {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.buffer);
        let clean = scrub_snils(&text);
        self.buffer.clear();
        io::stderr().write_all(clean.as_bytes())
    }
}

impl Drop for LineScrubber {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Masks every SNILS-shaped number (`123-456-789 01`, `12345678901`,
/// `123 456 789 01`) to `***-***-789 01`, leaving other text untouched.
pub fn scrub_snils(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let starts_number = chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_digit());
        if starts_number {
            if let Some((end, digits)) = match_snils_at(&chars, i) {
                out.push_str(&format!("***-***-{} {}", &digits[6..9], &digits[9..11]));
                i = end;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Groups of 3, 3, 3, 2 digits, each optionally preceded by one `-` or space,
/// not followed by another digit.
fn match_snils_at(chars: &[char], start: usize) -> Option<(usize, String)> {
    let mut i = start;
    let mut digits = String::with_capacity(11);
    for (group, len) in [3usize, 3, 3, 2].into_iter().enumerate() {
        if group > 0 && i < chars.len() && (chars[i] == '-' || chars[i] == ' ') {
            i += 1;
        }
        for _ in 0..len {
            let c = *chars.get(i)?;
            if !c.is_ascii_digit() {
                return None;
            }
            digits.push(c);
            i += 1;
        }
    }
    if chars.get(i).is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((i, digits))
}

#[cfg(test)]
mod tests {
    use super::scrub_snils;

    #[test]
    fn snils_shapes_are_masked_and_other_numbers_kept() {
        let cases = [
            ("snils=112-233-445 95 ok", "snils=***-***-445 95 ok"),
            ("11223344595", "***-***-445 95"),
            ("x 112 233 445 95", "x ***-***-445 95"),
            ("port 8080, id 1000001", "port 8080, id 1000001"),
            ("phone 79000000001", "phone ***-***-000 01"),
            ("123456789012 twelve digits", "123456789012 twelve digits"),
            ("2026-11-22 12:00:00", "2026-11-22 12:00:00"),
        ];
        for (input, expected) in cases {
            assert_eq!(scrub_snils(input), expected, "{input}");
        }
    }
}
