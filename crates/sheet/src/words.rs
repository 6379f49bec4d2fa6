//! Numbers and sizes in a sentence: Russian nouns agree with the number
//! before them, and digits are grouped as Russian text groups them.

/// 1 лист, 2 листа, 5 листов, 21 лист.
pub(crate) fn plural(
    n: u64,
    one: &'static str,
    few: &'static str,
    many: &'static str,
) -> &'static str {
    match (n % 10, n % 100) {
        (_, 11..=14) => many,
        (1, _) => one,
        (2..=4, _) => few,
        _ => many,
    }
}

/// After «больше»: больше 1 символа, больше 5 символов, больше 21 символа.
pub(crate) fn genitive(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n % 10 == 1 && n % 100 != 11 {
        one
    } else {
        many
    }
}

/// 100000 → «100 000» (with a no-break space, as Russian text groups digits).
pub(crate) fn number(n: u64) -> String {
    let digits = n.to_string();
    if digits.len() <= 4 {
        return digits;
    }
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{a0}');
        }
        out.push(digit);
    }
    out
}

pub(crate) fn size(bytes: u64, russian: bool) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes < KIB {
        return if russian {
            format!("{bytes} {}", plural(bytes, "байт", "байта", "байт"))
        } else {
            format!("{bytes} bytes")
        };
    }
    if bytes < MIB {
        let kib = bytes.div_ceil(KIB);
        return if russian {
            format!("{kib} КБ")
        } else {
            format!("{kib} KB")
        };
    }
    let tenths = (bytes * 10).div_ceil(MIB);
    let whole = tenths / 10;
    let text = match (tenths % 10, russian) {
        (0, _) => whole.to_string(),
        (tenth, true) => format!("{whole},{tenth}"),
        (tenth, false) => format!("{whole}.{tenth}"),
    };
    if russian {
        format!("{text} МБ")
    } else {
        format!("{text} MB")
    }
}

pub(crate) fn delimiter_instrumental(delimiter: char) -> String {
    match delimiter {
        ';' => "точкой с запятой".into(),
        ',' => "запятой".into(),
        '\t' => "табуляцией".into(),
        other => format!("знаком «{other}»"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_plurals_agree_with_the_number() {
        for (n, word) in [
            (1, "лист"),
            (2, "листа"),
            (4, "листа"),
            (5, "листов"),
            (11, "листов"),
            (12, "листов"),
            (21, "лист"),
            (22, "листа"),
            (111, "листов"),
        ] {
            assert_eq!(plural(n, "лист", "листа", "листов"), word, "{n}");
        }
        for (n, word) in [
            (1, "символа"),
            (11, "символов"),
            (1000, "символов"),
            (1001, "символа"),
        ] {
            assert_eq!(genitive(n, "символа", "символов"), word, "{n}");
        }
    }

    #[test]
    fn numbers_and_sizes_read_naturally() {
        for (n, text) in [
            (7, "7"),
            (1000, "1000"),
            (100_000, "100\u{a0}000"),
            (1_234_567, "1\u{a0}234\u{a0}567"),
        ] {
            assert_eq!(number(n), text);
        }
        for (bytes, ru, en) in [
            (3, "3 байта", "3 bytes"),
            (1500, "2 КБ", "2 KB"),
            (10 * 1024 * 1024, "10 МБ", "10 MB"),
            (12 * 1024 * 1024 + 400 * 1024, "12,4 МБ", "12.4 MB"),
        ] {
            assert_eq!(
                (size(bytes, true).as_str(), size(bytes, false).as_str()),
                (ru, en)
            );
        }
    }
}
