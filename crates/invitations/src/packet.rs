//! A packet of invitation sheets as the school console hands it out: for a
//! class, a cover page listing who receives which sheet with a column to
//! sign against, then one sheet per person in that order; for one person,
//! their sheet alone. Here rather than in the web layer so that the
//! benchmark (`esia-link bench school`) times the very same packet.

use app::school::IssuedCode;

use crate::pdf::{CoverLine, SheetsPdf, SheetsPdfError};

/// The packet's PDF. `public_url` is the service's address the sheets'
/// activation links and QR codes point to.
pub fn packet(
    school: &str,
    heading: &str,
    issued: &[IssuedCode],
    public_url: &str,
    cover: bool,
) -> Result<Vec<u8>, SheetsPdfError> {
    let mut pdf = SheetsPdf::new(school)?;
    if cover {
        let lines: Vec<CoverLine> = issued
            .iter()
            .map(|c| CoverLine {
                name: c.full_name(),
                receives: if c.children.is_empty() {
                    match c.target.role.as_str() {
                        "pupil" => "ученик".to_string(),
                        "parent" => "родитель".to_string(),
                        other => other.to_string(),
                    }
                } else {
                    format!("родитель: {}", c.children.join("; "))
                },
            })
            .collect();
        pdf.cover(heading, &lines);
    }
    let base = public_url.trim_end_matches('/');
    for code in issued {
        let url = format!("{base}/activate?code={}", code.code);
        pdf.add(code, school, &url);
    }
    pdf.finish()
}
