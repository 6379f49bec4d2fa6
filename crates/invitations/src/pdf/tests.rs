use super::*;
use domain::code::ActivationCode;
use store::CodeTarget;
use uuid::Uuid;

fn person(surname: &str, given: &str, patronymic: Option<&str>) -> IssuedCode {
    IssuedCode {
        children: Vec::new(),
        target: CodeTarget {
            account_id: Uuid::new_v4(),
            roster_key: None,
            surname: surname.into(),
            given_name: given.into(),
            patronymic: patronymic.map(str::to_string),
            class_name: Some("5А".into()),
            role: "pupil".into(),
        },
        code: ActivationCode::generate(),
    }
}

/// `/Type /Page` objects, not the `/Type /Pages` tree.
fn pages(pdf: &[u8]) -> usize {
    let needle = b"/Type /Page";
    pdf.windows(needle.len() + 1)
        .filter(|w| w.starts_with(needle) && !w[needle.len()].is_ascii_alphanumeric())
        .count()
}

fn contains(pdf: &[u8], text: &str) -> bool {
    pdf.windows(text.len()).any(|w| w == text.as_bytes())
}

#[test]
fn one_page_per_person_with_the_font_embedded() {
    let school = "Школа № 7 г. Архангельска";
    let mut sheets = SheetsPdf::new(school).expect("fonts parse");
    let people = [
        person("Новиков", "Максим", Some("Андреевич")),
        person("Д’Артаньян-Королёва", "Алёна", None),
        person("O'Brien", "Шон", Some("Пётрович")),
    ];
    for issued in &people {
        let url = format!("https://diary.example/activate?code={}", issued.code);
        sheets.add(issued, school, &url);
    }
    assert_eq!(sheets.len(), 3);
    let pdf = sheets.finish().expect("pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(pages(&pdf), 3);
    assert!(contains(&pdf, "/FontFile2"));
    assert!(contains(&pdf, "+LiberationSans"));
    assert!(contains(&pdf, "/FlateDecode"));
    // A subset, not the 400 KB fonts.
    assert!(pdf.len() < 120_000, "{} bytes", pdf.len());
}

#[test]
fn cyrillic_apostrophes_and_yo_are_in_the_font() {
    let mut sheets = SheetsPdf::new("Школа").expect("fonts parse");
    for c in "Ёё’'ЙйЪъ№—«»".chars() {
        assert_ne!(sheets.regular.glyph(c).0, 0, "regular has {c}");
        assert_ne!(sheets.bold.glyph(c).0, 0, "bold has {c}");
    }
    let bytes = sheets.regular.encode("Королёв");
    assert_eq!(bytes.len(), 14, "two bytes a letter");
    assert!(sheets.regular.text.values().any(|c| *c == 'ё'));
}

#[test]
fn long_words_and_addresses_wrap_within_the_text_width() {
    let sheets = SheetsPdf::new("Школа").expect("fonts parse");
    let url = format!("https://diary.example/activate?code={}", "X".repeat(200));
    let lines = wrap(&sheets.regular, &url, 11.0, TEXT_WIDTH);
    assert!(lines.len() > 1);
    assert_eq!(lines.concat(), url);
    for line in &lines {
        assert!(sheets.regular.width(line, 11.0) <= TEXT_WIDTH);
    }
    let step = wrap(&sheets.regular, STEPS[1], 11.0, TEXT_WIDTH - STEP_INDENT);
    assert_eq!(step.join(" "), STEPS[1]);
    assert!(wrap(&sheets.regular, "  ", 11.0, TEXT_WIDTH).is_empty());
}

#[test]
fn a_long_cover_list_takes_more_pages_and_each_sheet_links_its_address() {
    let school = "Школа № 7";
    let mut sheets = SheetsPdf::new(school).expect("fonts parse");
    let lines: Vec<CoverLine> = (0..COVER_LINES_PER_PAGE + 1)
        .map(|i| CoverLine {
            name: format!("Ученик {i}"),
            receives: "ученик".into(),
        })
        .collect();
    sheets.cover("Класс 5А", &lines);
    let issued = person("Новиков", "Максим", None);
    let url = format!("https://diary.example/activate?code={}", issued.code);
    sheets.add(&issued, school, &url);
    let pdf = sheets.finish().expect("pdf");
    assert_eq!(pages(&pdf), 3, "two cover pages and one sheet");
    assert!(contains(&pdf, &format!("/URI ({url})")));
    assert!(contains(&pdf, "/Outlines"));
}
