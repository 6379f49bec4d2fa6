//! Spelling helpers shared by the case and gender rules: which words the
//! rules may touch, compound names, and keeping the writer's capitalisation.

/// Hyphen look-alikes that schools and registries type in double surnames;
/// the one given is kept in the output.
fn is_hyphen(c: char) -> bool {
    matches!(c, '-' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}')
}

/// The rules are written for Cyrillic words only: a word with Latin
/// look-alikes, digits or punctuation is left alone rather than half-declined.
pub(crate) fn is_cyrillic_word(word: &str) -> bool {
    !word.is_empty()
        && word
            .chars()
            .all(|c| ('\u{0400}'..='\u{04FF}').contains(&c) && c.is_alphabetic())
}

/// Lower case for matching against the rules. Cyrillic letters map one to
/// one, so character counts (used to cut endings) stay the same.
pub(crate) fn lower(word: &str) -> String {
    word.chars().flat_map(char::to_lowercase).collect()
}

/// Applies `f(part, is_first_of_compound)` to each part of a hyphenated name
/// and joins the results with the original hyphens.
pub(crate) fn map_parts(word: &str, mut f: impl FnMut(&str, bool) -> String) -> String {
    let parts: Vec<&str> = word.split(is_hyphen).collect();
    let compound = parts.len() > 1;
    let mut hyphens = word.matches(is_hyphen);
    let mut out = String::with_capacity(word.len() + 8);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(hyphens.next().unwrap_or("-"));
        }
        out.push_str(&f(part, compound && i == 0));
    }
    out
}

/// Cuts `cut` characters from the end of `word` and appends `ending`,
/// in capitals when the word is written in capitals (ФЁДОРОВА → ФЁДОРОВОЙ).
pub(crate) fn replace_ending(word: &str, cut: usize, ending: &str) -> String {
    let count = word.chars().count();
    let mut out: String = word.chars().take(count.saturating_sub(cut)).collect();
    if is_all_caps(word) {
        out.extend(ending.chars().flat_map(char::to_uppercase));
    } else {
        out.push_str(ending);
    }
    out
}

/// One capital letter is just a capitalised word («А»), not a shouted one.
fn is_all_caps(word: &str) -> bool {
    word.chars().count() > 1 && word.chars().all(char::is_uppercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compound_parts_keep_their_hyphens() {
        let cases: &[(&str, &str)] = &[
            ("Римская-Корсакова", "<Римская>1-<Корсакова>0"),
            ("Римская–Корсакова", "<Римская>1–<Корсакова>0"),
            ("Иванов", "<Иванов>0"),
            ("", "<>0"),
            ("-", "<>1-<>0"),
        ];
        for (input, want) in cases {
            let got = map_parts(input, |p, first| format!("<{p}>{}", u8::from(first)));
            assert_eq!(&got, want, "{input}");
        }
    }

    #[test]
    fn endings_follow_the_word_capitalisation() {
        let cases: &[(&str, usize, &str, &str)] = &[
            ("Фёдорова", 1, "ой", "Фёдоровой"),
            ("ФЁДОРОВА", 1, "ой", "ФЁДОРОВОЙ"),
            ("фёдорова", 1, "ой", "фёдоровой"),
            ("Лев", 2, "ьва", "Льва"),
            ("а", 5, "ы", "ы"),
        ];
        for (word, cut, ending, want) in cases {
            assert_eq!(&replace_ending(word, *cut, ending), want, "{word}");
        }
    }

    #[test]
    fn only_cyrillic_words_are_for_the_rules() {
        let cases: &[(&str, bool)] = &[
            ("Алёна", true),
            ("Alena", false),
            ("Иванoва", false), // Latin «o» inside
            ("123", false),
            ("", false),
            ("Иван Петрович", false),
        ];
        for (word, want) in cases {
            assert_eq!(is_cyrillic_word(word), *want, "{word}");
        }
    }
}
