//! Whatever a roster or a provider sends, the pages must still render:
//! nothing panics, and what the rules cannot read comes back as it was.

use esia_link_decline::{decline, decline_part, detect_gender, Case, FullName, Gender, NamePart};
use proptest::prelude::*;

const GENDERS: [Gender; 3] = [Gender::Male, Gender::Female, Gender::Unknown];
const PARTS: [NamePart; 3] = [NamePart::Surname, NamePart::Given, NamePart::Patronymic];

#[test]
fn words_the_rules_cannot_read_come_back_unchanged() {
    let odd = [
        "",
        " ",
        "-",
        "--",
        "Ivanova",
        "Smith-Jones",
        "12345",
        "Иванoва", // Latin «o» typed into a Cyrillic name
        "Иванова ",
        "Иванова!",
        "\u{0}",
        "🙂",
        "İ",
        "Ǉ",
    ];
    for word in odd {
        for part in PARTS {
            for gender in GENDERS {
                for case in Case::ALL {
                    let got = decline_part(part, word, gender, case);
                    assert_eq!(got, word, "{part:?} {gender:?} {case:?}");
                }
            }
        }
    }
}

#[test]
fn a_latin_full_name_is_kept_whole() {
    let name = FullName::new("Smith", "Anna", Some("Petrovna"));
    for case in Case::ALL {
        assert_eq!(decline(&name, Gender::Female, case), name);
    }
    assert_eq!(FullName::new("", "", None).to_string(), "");
}

/// Only the part of a compound the rules can read is declined.
#[test]
fn a_compound_with_a_latin_part_declines_the_cyrillic_part_only() {
    let got = decline_part(
        NamePart::Surname,
        "Smith-Иванова",
        Gender::Female,
        Case::Genitive,
    );
    assert_eq!(got, "Smith-Ивановой");
}

fn any_gender() -> impl Strategy<Value = Gender> {
    prop::sample::select(GENDERS.to_vec())
}

fn any_case() -> impl Strategy<Value = Case> {
    prop::sample::select(Case::ALL.to_vec())
}

proptest! {
    #[test]
    fn never_panics_on_any_text(
        surname in any::<String>(),
        given in any::<String>(),
        patronymic in proptest::option::of(any::<String>()),
        gender in any_gender(),
        case in any_case(),
    ) {
        let name = FullName { surname, given, patronymic };
        let _ = decline(&name, gender, case);
        let _ = detect_gender(&name.surname, &name.given, name.patronymic.as_deref());
        prop_assert_eq!(decline(&name, gender, Case::Nominative), name);
    }

    /// Short Cyrillic words, in any capitalisation and with hyphens, reach
    /// every rule, including ones that cut more letters than a word has.
    #[test]
    fn never_panics_on_short_cyrillic_words(
        word in "[а-яёА-ЯЁ-]{0,6}",
        gender in any_gender(),
        case in any_case(),
    ) {
        for part in PARTS {
            let _ = decline_part(part, &word, gender, case);
        }
        let _ = detect_gender(&word, &word, Some(&word));
    }
}
