//! Where a person may be sent after login: a path on this site, or a URL on
//! an allow-listed origin. Everything else (`//evil`, `https://evil`,
//! `/\evil`, `%2F%2Fevil`, `javascript:`) is refused.

/// Returns the target to use, or `None` when `raw` must not be followed.
pub fn safe_return_target(raw: &str, allowed_origins: &[String]) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > 2048 {
        return None;
    }
    if raw.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    // Decode repeatedly so that an encoded `//` or `\` cannot hide.
    let mut decoded = raw.to_string();
    for _ in 0..3 {
        let next = percent_decode(&decoded)?;
        if next == decoded {
            break;
        }
        decoded = next;
    }
    if decoded.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    if decoded.starts_with('/') {
        if decoded.starts_with("//") {
            return None;
        }
        return Some(raw.to_string());
    }
    let url = url::Url::parse(raw).ok()?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return None;
    }
    if url.username() != "" || url.password().is_some() {
        return None;
    }
    let origin = url.origin().ascii_serialization();
    allowed_origins
        .iter()
        .any(|allowed| allowed.trim_end_matches('/') == origin)
        .then(|| url.to_string())
}

fn percent_decode(input: &str) -> Option<String> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = input.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::safe_return_target;

    #[test]
    fn return_targets_table() {
        let allowed = vec!["https://diary.example.ru".to_string()];
        let cases: &[(&str, Option<&str>)] = &[
            ("/account", Some("/account")),
            ("/diary?week=2", Some("/diary?week=2")),
            (
                "https://diary.example.ru/home",
                Some("https://diary.example.ru/home"),
            ),
            ("//evil.example", None),
            ("https://evil.example/", None),
            ("/\\evil.example", None),
            ("%2F%2Fevil.example", None),
            ("/%2F%2Fevil.example", None),
            ("%252F%252Fevil.example", None),
            ("/%5Cevil.example", None),
            ("javascript:alert(1)", None),
            ("https://diary.example.ru.evil.example/", None),
            ("https://user@diary.example.ru/", None),
            ("http://diary.example.ru/", None),
            ("", None),
            ("/line\nbreak", None),
            ("relative/path", None),
        ];
        for (input, expected) in cases {
            assert_eq!(
                safe_return_target(input, &allowed).as_deref(),
                *expected,
                "{input:?}"
            );
        }
    }
}
