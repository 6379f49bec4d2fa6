//! Gender as the pages use it: from the registry, else from the name; and the
//! words that agree with it.

use esia_link_decline::{detect_gender, FullName, Gender};

use Gender::*;

#[test]
fn gender_from_the_name() {
    let cases: &[(&str, &str, Option<&str>, Gender)] = &[
        // The patronymic decides, whatever the rest says.
        ("Ким", "Саша", Some("Сергеевна"), Female),
        ("Ким", "Саша", Some("Сергеевич"), Male),
        ("Иванов", "Женя", Some("Петровна"), Female),
        ("Ким", "Женя", Some("Ильинична"), Female),
        ("Петров", "Илья", Some("Кузьмич"), Male),
        ("Алиев", "Гейдар", Some("Мамед оглы"), Male),
        ("Алиева", "Айгуль", Some("Рашид кызы"), Female),
        ("Алиева", "Айгуль", Some("Рашид гызы"), Female),
        ("Сатпаев", "Канат", Some("Ержан улы"), Male),
        // No patronymic: the given name…
        ("Смирнов", "Илья", None, Male),
        ("Смирнов", "Никита", None, Male),
        ("Смирнова", "Любовь", None, Female),
        ("Смирнова", "Нинель", None, Female),
        ("Смирнова", "Айгуль", None, Female),
        // …over the surname's ending, which misleads for «Цой».
        ("Цой", "Анна", None, Female),
        // Androgynous given names: the surname tells…
        ("Иванова", "Женя", None, Female),
        ("Иванов", "Саша", None, Male),
        ("Толстая", "Саша", Some(""), Female),
        // …or nothing does.
        ("Ким", "Саша", None, Unknown),
        ("Ким", "Женя", None, Unknown),
        ("Шевченко", "Саша", None, Unknown),
        // Not the rules' business: unknown, not a guess.
        ("", "", None, Unknown),
        ("Ivanova", "Anna", Some("Petrovna"), Unknown),
        ("123", "456", Some("789"), Unknown),
    ];
    for (surname, given, patronymic, want) in cases {
        let got = detect_gender(surname, given, *patronymic);
        assert_eq!(got, *want, "{surname} {given} {patronymic:?}");
    }
}

/// The state registry knows better than any ending: its answer wins, and an
/// absent or unusable one falls back to the name.
#[test]
fn registry_gender_overrides_the_name() {
    let cases: &[(FullName, Option<&str>, Gender)] = &[
        (FullName::new("Ким", "Саша", None), Some("F"), Female),
        (FullName::new("Ким", "Саша", None), Some("M"), Male),
        (FullName::new("Ким", "Саша", None), None, Unknown),
        (FullName::new("Ким", "Саша", None), Some("X"), Unknown),
        // Even against the patronymic: a typo at school is likelier than a
        // wrong registry entry.
        (
            FullName::new("Ким", "Саша", Some("Сергеевич")),
            Some("F"),
            Female,
        ),
        (
            FullName::new("Ким", "Саша", Some("Сергеевич")),
            Some(""),
            Male,
        ),
        (
            FullName::new("Ким", "Саша", Some("Сергеевна")),
            Some("female"),
            Female,
        ),
    ];
    for (name, registry, want) in cases {
        let hint = registry.and_then(Gender::from_registry);
        assert_eq!(name.gender(hint), *want, "{name} {registry:?}");
    }
    // An Unknown hint is no hint.
    let name = FullName::new("Фёдорова", "Алёна", Some("Сергеевна"));
    assert_eq!(name.gender(Some(Unknown)), Female);
}

#[test]
fn agreeing_words_pick_the_gender_form() {
    let cases: &[(Gender, &str, &str)] = &[
        (Male, "отозвал", "его дневник"),
        (Female, "отозвала", "её дневник"),
        (Unknown, "отозвал(а)", "дневник ученика"),
    ];
    for (gender, verb, diary) in cases {
        assert_eq!(gender.pick("отозвал", "отозвала", "отозвал(а)"), *verb);
        assert_eq!(
            gender.pick("его дневник", "её дневник", "дневник ученика"),
            *diary
        );
    }
    // Any type, not only text.
    assert_eq!(Female.pick(1, 2, 3), 2);
}
