use super::*;
use proptest::prelude::*;

fn name(text: &str) -> FullName {
    FullName::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn one_case_per_rule() {
    use NameRule::*;
    let cases: &[(&str, &str, &[NameRule])] = &[
        ("Фёдоров", "Фе\u{308}доров", &[Unicode]),
        ("Петров-Водкин", "Петров - Водкин", &[Hyphen]),
        ("Петров-Водкин", "Петров—Водкин", &[Hyphen]),
        ("Иванов", "Иванoв", &[LatinLookalike]),
        ("Смирнов", "Cмирнов", &[LatinLookalike]),
        ("Иванов", "ИВАНОВ", &[Case]),
        ("Фёдоров", "Федоров", &[YoToYe]),
        ("ФЁДОРОВ", "Федоров", &[Case, YoToYe]),
    ];
    for (left, right, rules) in cases {
        assert_eq!(
            compare_part(Some(left), Some(right)),
            PartComparison::EqualAfterNormalization(rules.to_vec()),
            "{left} vs {right}"
        );
    }
    assert_eq!(
        compare_part(Some("Иван  Петрович"), Some("Иван Петрович")),
        PartComparison::EqualAfterNormalization(vec![Whitespace])
    );
}

#[test]
fn differences_and_missing_parts() {
    assert_eq!(
        compare_part(Some("Соколов"), Some("Сокалов")),
        PartComparison::Differs
    );
    assert_eq!(
        compare_part(Some("Smith"), Some("Smith")),
        PartComparison::Equal
    );
    // A wholly Latin word is not "corrected" into Cyrillic.
    assert_eq!(
        compare_part(Some("Oleg"), Some("Олег")),
        PartComparison::Differs
    );
    assert_eq!(
        compare_part(None, Some("Ильич")),
        PartComparison::MissingLeft
    );
    assert_eq!(
        compare_part(Some("Ильич"), None),
        PartComparison::MissingRight
    );
    assert_eq!(compare_part(None, None), PartComparison::Equal);
}

#[test]
fn the_cli_examples() {
    let cmp = compare(&name("Фёдоров Пётр Ильич"), &name("ФЕДОРОВ  ПЕТР ИЛЬИЧ"));
    assert!(cmp.matches());
    assert_eq!(
        cmp.surname,
        PartComparison::EqualAfterNormalization(vec![NameRule::Case, NameRule::YoToYe])
    );
    assert_eq!(
        cmp.patronymic,
        PartComparison::EqualAfterNormalization(vec![NameRule::Case])
    );

    let latin = compare(&name("Иванов Пётр"), &name("Иванoв Пётр"));
    assert_eq!(
        latin.surname,
        PartComparison::EqualAfterNormalization(vec![NameRule::LatinLookalike])
    );

    let missing = compare(&name("Иванов Пётр"), &name("Иванов Пётр Ильич"));
    assert_eq!(missing.patronymic, PartComparison::MissingLeft);
    assert_eq!(missing.mismatched_parts(), vec![NamePart::Patronymic]);
}

#[test]
fn pasted_characters_are_forgiven() {
    let cases: &[(&str, &str, &[NameRule])] = &[
        ("Д’Артаньян", "Д'Артаньян", &[NameRule::Apostrophe]),
        (
            "Дʼартаньян",
            "Д'Артаньян",
            &[NameRule::Apostrophe, NameRule::Case],
        ),
        ("Ива\u{ad}нов", "Иванов", &[NameRule::Invisible]),
        ("\u{feff}Иванов\u{200b}", "Иванов", &[NameRule::Invisible]),
        ("Ё\u{308}лкин", "Елкин", &[NameRule::Case, NameRule::YoToYe]),
    ];
    for (left, right, rules) in cases {
        let (l, used) = normalize_traced(left);
        assert_eq!(l, normalize(right), "{left:?}");
        for rule in *rules {
            assert!(used.contains(rule), "{left:?}: {used:?} lacks {rule:?}");
        }
    }
    assert_eq!(clean(" Ива\u{ad}нов\u{a0} "), "Иванов");
    assert_eq!(clean("О’Коннор"), "О'Коннор");
    let n = FullName::new("Ива\u{200b}нова", "Мари\u{ad}я", Some("\u{feff}")).expect("ok");
    assert_eq!(n.patronymic(), None);
    assert_eq!(normalize(n.surname()), "иванова");
    assert_eq!(
        FullName::new("\u{200b}", "Мария", None),
        Err(NameError::EmptySurname)
    );
}

#[test]
fn parsing_and_validation() {
    let n = name("  Мамедов   Ахмед Гусейн оглы ");
    assert_eq!(n.surname(), "Мамедов");
    assert_eq!(n.patronymic(), Some("Гусейн оглы"));
    let n = name("Петров - Водкин Кузьма Сергеевич");
    assert_eq!(n.surname(), "Петров - Водкин");
    assert_eq!(n.given(), "Кузьма");
    assert_eq!(FullName::parse("Иванов"), Err(NameError::EmptyGiven));
    assert_eq!(FullName::parse(""), Err(NameError::EmptySurname));
    assert!(matches!(
        FullName::new("Иванов1", "Пётр", None),
        Err(NameError::InvalidCharacter { character: '1', .. })
    ));
    assert_eq!(
        FullName::new("Иванов", "Пётр", Some("  "))
            .expect("ok")
            .patronymic(),
        None
    );
    assert_eq!(
        format!("{:?}", name("Иванов Пётр Ильич")),
        "FullName(И***** П. И.)"
    );
}

/// The shortcut in [`already_clean`] and [`check_part`] relies on this.
#[test]
fn plain_letters_are_composed_letters_that_combine_with_nothing() {
    let plain: Vec<char> = ('\0'..='\u{ffff}')
        .filter(|c| is_plain_letter(*c))
        .collect();
    assert_eq!(plain.len(), 26 * 2 + 32 * 2 + 2);
    for c in plain {
        assert!(c.is_alphabetic(), "{c:?}");
        assert_eq!(unicode_normalization::char::canonical_combining_class(c), 0);
        assert_eq!(is_nfc_quick(std::iter::once(c)), IsNormalized::Yes, "{c:?}");
    }
}

proptest! {
    #[test]
    fn normalization_is_idempotent(text in "[а-яёА-ЯЁa-zA-Z \\-–—]{0,24}") {
        let once = normalize(&text);
        prop_assert_eq!(normalize(&once), once.clone());
    }

    /// What people paste from documents: apostrophe variants, soft
    /// hyphens, zero-width characters, combining marks after letters
    /// that already carry one (Ё + U+0308), non-breaking spaces.
    #[test]
    fn normalization_and_cleaning_reach_a_fixed_point(
        text in "[аеиоёЁЕеЙйAaOo'’ʼ‘` \u{a0}\u{ad}\u{200b}\u{200c}\u{200d}\u{2060}\u{feff}\u{308}\u{306}\\-–]{0,24}"
    ) {
        let once = normalize(&text);
        prop_assert_eq!(normalize(&once), once.clone());
        let cleaned = clean(&text);
        prop_assert_eq!(clean(&cleaned), cleaned.clone());
        // Cleaning never changes what the comparison sees.
        prop_assert_eq!(normalize(&cleaned), once);
    }

    /// The shortcut for names that need no cleaning gives what the
    /// rules give.
    #[test]
    fn cleaning_shortcut_agrees_with_the_rules(
        text in "[аеиоёЁЕеЙйAaOo'’ʼ‘` \t\u{a0}\u{ad}\u{200b}\u{2060}\u{feff}\u{301}\u{308}\u{306}\\-–]{0,16}"
    ) {
        prop_assert_eq!(clean(&text), apply_until_fixed(&text, &CLEANING).0);
    }

    #[test]
    fn equal_after_normalization_is_symmetric(a in "[а-яА-ЯёЁaoceOCE]{1,10}", b in "[а-яА-ЯёЁaoceOCE]{1,10}") {
        let ab = compare_part(Some(&a), Some(&b)).is_match();
        let ba = compare_part(Some(&b), Some(&a)).is_match();
        prop_assert_eq!(ab, ba);
    }
}
