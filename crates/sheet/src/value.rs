//! A number cell as the secretary sees it in Excel: dates as `DD.MM.YYYY`,
//! whole numbers without `.0` (SNILS and phone numbers are often typed as
//! numbers), and zero-padded masks such as `000-000-000 00`, which schools
//! use to show a SNILS typed as a number with its leading zero.

/// What a cell's number format asks for, reduced to what matters here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NumberStyle {
    General,
    Date,
    Time {
        seconds: bool,
    },
    /// Digit placeholders and literal characters only.
    Mask(Vec<MaskToken>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MaskToken {
    /// `0` (always shown) or `#` (shown only when there is a digit).
    Digit {
        required: bool,
    },
    Literal(char),
}

/// Excel's built-in number formats that are dates or times (ids below 164
/// have no format code in the file).
pub(crate) fn builtin_style(id: u32) -> NumberStyle {
    match id {
        14..=17 | 22 | 27..=36 | 50..=58 => NumberStyle::Date,
        18 | 20 => NumberStyle::Time { seconds: false },
        19 | 21 | 45..=47 => NumberStyle::Time { seconds: true },
        _ => NumberStyle::General,
    }
}

/// Classifies a custom format code, e.g. `dd/mm/yyyy`, `[$-419]d mmmm yyyy`,
/// `h:mm`, `000\-000\-000\ 00`.
pub(crate) fn classify_format_code(code: &str) -> NumberStyle {
    if code.eq_ignore_ascii_case("general") {
        return NumberStyle::General;
    }
    let mut letters = String::new();
    let mut mask = Vec::new();
    let mut mask_possible = true;
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        match c {
            // The first section is for positive numbers, the only one used.
            ';' => break,
            '"' => {
                for quoted in chars.by_ref() {
                    if quoted == '"' {
                        break;
                    }
                    mask.push(MaskToken::Literal(quoted));
                }
            }
            '\\' => {
                if let Some(escaped) = chars.next() {
                    mask.push(MaskToken::Literal(escaped));
                }
            }
            // Padding and fill characters.
            '_' | '*' => {
                chars.next();
                mask_possible = false;
            }
            '[' => {
                let inside: String = chars.by_ref().take_while(|&c| c != ']').collect();
                let lower = inside.to_ascii_lowercase();
                if matches!(lower.as_str(), "h" | "hh" | "m" | "mm" | "s" | "ss") {
                    letters.push_str(&lower);
                }
                // Locale and colour tags are harmless; conditions such as
                // `[<=9999999]` pick between sections, so no simple mask.
                if lower.starts_with(['<', '>', '=']) {
                    mask_possible = false;
                }
            }
            '0' => mask.push(MaskToken::Digit { required: true }),
            '#' => mask.push(MaskToken::Digit { required: false }),
            // Digits other than 0 are shown as they are (`+7 (000)…`).
            '1'..='9' | '-' | ' ' | '(' | ')' | '+' | ':' => mask.push(MaskToken::Literal(c)),
            _ => {
                mask_possible = false;
                if c.is_alphabetic() {
                    letters.push(c.to_ascii_lowercase());
                }
            }
        }
    }
    let has = |c: char| letters.contains(c);
    if has('d') || has('y') || (has('m') && !has('h') && !has('s')) {
        return NumberStyle::Date;
    }
    if has('h') || has('s') {
        return NumberStyle::Time { seconds: has('s') };
    }
    let has_digit = mask.iter().any(|t| matches!(t, MaskToken::Digit { .. }));
    if mask_possible && has_digit {
        return NumberStyle::Mask(mask);
    }
    NumberStyle::General
}

/// A number cell's `<v>` text as Excel would show it in that style.
pub(crate) fn render_number(raw: &str, style: &NumberStyle, date1904: bool) -> String {
    let Ok(value) = raw.trim().parse::<f64>() else {
        return raw.to_string();
    };
    if !value.is_finite() {
        return raw.to_string();
    }
    match style {
        NumberStyle::Date => serial_to_date(value, date1904)
            .map(|(y, m, d)| format!("{d:02}.{m:02}.{y:04}"))
            .unwrap_or_else(|| general(value)),
        NumberStyle::Time { seconds } => time_of_day(value, *seconds),
        NumberStyle::Mask(tokens) => match whole(value) {
            Some(n) => apply_mask(n, tokens),
            None => general(value),
        },
        NumberStyle::General => general(value),
    }
}

/// An ISO 8601 date cell (`t="d"`, written by some non-Excel tools).
pub(crate) fn render_iso_date(raw: &str) -> String {
    let date = raw.trim().get(..10).unwrap_or("");
    let parts: Vec<&str> = date.split('-').collect();
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => format!("{d}.{m}.{y}"),
        _ => raw.to_string(),
    }
}

/// The value as an integer, if it is a whole number small enough to be
/// exact (Excel keeps 15 significant digits).
fn whole(value: f64) -> Option<i64> {
    (value.fract() == 0.0 && value.abs() < 1e15).then_some(value as i64)
}

/// Excel's General: whole numbers without a fraction, others rounded to
/// the 15 significant digits Excel keeps (so 0.1+0.2 shows as 0.3).
fn general(value: f64) -> String {
    if let Some(n) = whole(value) {
        return n.to_string();
    }
    let rounded: f64 = format!("{value:.14e}").parse().unwrap_or(value);
    if rounded == 0.0 {
        return "0".into();
    }
    rounded.to_string()
}

fn apply_mask(value: i64, tokens: &[MaskToken]) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut remaining: Vec<char> = if value == 0 {
        Vec::new()
    } else {
        digits.chars().collect()
    };
    let first_digit = tokens
        .iter()
        .position(|t| matches!(t, MaskToken::Digit { .. }));
    let mut out: Vec<char> = Vec::new();
    for (index, token) in tokens.iter().enumerate().rev() {
        match token {
            MaskToken::Literal(c) => out.push(*c),
            MaskToken::Digit { required } => {
                if Some(index) == first_digit {
                    // Digits that do not fit all go in front, as in Excel.
                    if remaining.is_empty() && *required {
                        out.push('0');
                    }
                    out.extend(remaining.drain(..).rev());
                } else if let Some(digit) = remaining.pop() {
                    out.push(digit);
                } else if *required {
                    out.push('0');
                }
            }
        }
    }
    if value < 0 {
        out.push('-');
    }
    out.iter().rev().collect()
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian
/// (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// An Excel date serial → (year, month, day); `None` outside the years
/// Excel shows (1900 or 1904 to 9999).
fn serial_to_date(serial: f64, date1904: bool) -> Option<(i64, u32, u32)> {
    // A hair above, so that 45000.9999999999 from a time is still that day.
    let days = (serial + 1e-9).floor();
    if !(0.0..2_958_466.0).contains(&days) {
        return None;
    }
    let days = days as i64;
    if date1904 {
        return Some(civil_from_days(days - 24_107));
    }
    match days {
        0 => None,
        // Lotus 1-2-3's 29 February 1900, which Excel keeps for
        // compatibility: serials from 61 on are one day ahead.
        60 => Some((1900, 2, 29)),
        1..=59 => Some(civil_from_days(days - 25_568)),
        _ => Some(civil_from_days(days - 25_569)),
    }
}

fn time_of_day(serial: f64, seconds: bool) -> String {
    let total = ((serial - serial.floor()) * 86_400.0).round() as i64 % 86_400;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if seconds {
        format!("{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}")
    }
}

/// OOXML strings escape characters XML cannot hold as `_xHHHH_` (Excel
/// writes a line break typed with Alt+Enter as `_x000D_` in places).
pub(crate) fn decode_ooxml_escapes(text: &str) -> String {
    if !text.contains("_x") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("_x") {
        out.push_str(&rest[..start]);
        let candidate = &rest[start..];
        let code = candidate
            .get(2..6)
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .filter(|_| candidate.as_bytes().get(6) == Some(&b'_'))
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .and_then(char::from_u32);
        match code {
            Some(c) => {
                out.push(c);
                rest = &candidate[7..];
            }
            None => {
                out.push_str("_x");
                rest = &candidate[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_codes_are_classified_like_excel_shows_them() {
        use MaskToken::{Digit, Literal};
        let zero = Digit { required: true };
        for (code, style) in [
            ("General", NumberStyle::General),
            ("dd/mm/yyyy", NumberStyle::Date),
            ("DD.MM.YYYY", NumberStyle::Date),
            ("[$-419]d mmmm yyyy \"г.\"", NumberStyle::Date),
            ("mmm-yy", NumberStyle::Date),
            ("dd/mm/yyyy\\ h:mm", NumberStyle::Date),
            ("h:mm", NumberStyle::Time { seconds: false }),
            ("[h]:mm:ss", NumberStyle::Time { seconds: true }),
            ("mm:ss", NumberStyle::Time { seconds: true }),
            ("0.00", NumberStyle::General),
            ("#,##0", NumberStyle::General),
            ("0%", NumberStyle::General),
            (
                "\"day\" 0",
                NumberStyle::Mask(vec![
                    Literal('d'),
                    Literal('a'),
                    Literal('y'),
                    Literal(' '),
                    zero,
                ]),
            ),
            ("[Red]0;-0", NumberStyle::Mask(vec![zero])),
            ("[<=9999999]###-####;(###) ###-####", NumberStyle::General),
            ("_-* #,##0 ₽_-", NumberStyle::General),
            ("@", NumberStyle::General),
        ] {
            assert_eq!(classify_format_code(code), style, "{code}");
        }
    }

    #[test]
    fn numbers_render_as_excel_shows_them() {
        let snils_mask = classify_format_code("000\\-000\\-000\\ 00");
        let eleven_zeros = classify_format_code("00000000000");
        // As Excel stores `+7 (000) 000-00-00` typed in the format dialog.
        let phone = classify_format_code("\\+7\\ \\(000\\)\\ 000\\-00\\-00");
        for (raw, style, date1904, shown) in [
            ("12345678901", &NumberStyle::General, false, "12345678901"),
            (
                "1.2345678901E10",
                &NumberStyle::General,
                false,
                "12345678901",
            ),
            ("89161234567", &NumberStyle::General, false, "89161234567"),
            ("5", &NumberStyle::General, false, "5"),
            ("-3", &NumberStyle::General, false, "-3"),
            ("3.5", &NumberStyle::General, false, "3.5"),
            ("0.30000000000000004", &NumberStyle::General, false, "0.3"),
            ("abc", &NumberStyle::General, false, "abc"),
            ("1234567890", &snils_mask, false, "012-345-678 90"),
            ("12345678901", &snils_mask, false, "123-456-789 01"),
            ("1234567890", &eleven_zeros, false, "01234567890"),
            ("9161234567", &phone, false, "+7 (916) 123-45-67"),
            (
                "9161234567",
                &classify_format_code("+7 (000) 000-00-00"),
                false,
                "+7 (916) 123-45-67",
            ),
            ("2.5", &snils_mask, false, "2.5"),
            ("40179", &NumberStyle::Date, false, "01.01.2010"),
            ("40179.75", &NumberStyle::Date, false, "01.01.2010"),
            ("1", &NumberStyle::Date, false, "01.01.1900"),
            ("59", &NumberStyle::Date, false, "28.02.1900"),
            ("60", &NumberStyle::Date, false, "29.02.1900"),
            ("61", &NumberStyle::Date, false, "01.03.1900"),
            ("2958465", &NumberStyle::Date, false, "31.12.9999"),
            ("2958466", &NumberStyle::Date, false, "2958466"),
            ("-5", &NumberStyle::Date, false, "-5"),
            ("0", &NumberStyle::Date, true, "01.01.1904"),
            ("38717", &NumberStyle::Date, true, "01.01.2010"),
            ("0.5", &NumberStyle::Time { seconds: false }, false, "12:00"),
            (
                "0.75001",
                &NumberStyle::Time { seconds: true },
                false,
                "18:00:01",
            ),
        ] {
            assert_eq!(
                render_number(raw, style, date1904),
                shown,
                "{raw} {style:?}"
            );
        }
    }

    #[test]
    fn iso_dates_and_escapes() {
        assert_eq!(render_iso_date("2010-05-17T00:00:00"), "17.05.2010");
        assert_eq!(render_iso_date("17 May"), "17 May");
        for (raw, text) in [
            ("a_x000D_b", "a\rb"),
            ("no escapes", "no escapes"),
            ("_x005F_x000D_", "_x000D_"),
            ("_x12", "_x12"),
            ("_xZZZZ_", "_xZZZZ_"),
        ] {
            assert_eq!(decode_ooxml_escapes(raw), text, "{raw}");
        }
    }
}
