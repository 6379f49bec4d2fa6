use super::*;

#[test]
fn a_column_is_found_by_its_code_and_only_by_it() {
    for column in Column::ALL {
        assert_eq!(Column::from_code(column.code()), Some(column));
    }
    for not_a_code in ["Surname", "фамилия", "name", "birth date", ""] {
        assert_eq!(Column::from_code(not_a_code), None, "{not_a_code}");
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 9, 1).expect("date")
}

fn pupil(row: u64, key: &str) -> RawRow {
    RawRow::new(row)
        .with(Column::Key, key)
        .with(Column::Role, "ученик")
        .with(Column::Surname, "Новиков")
        .with(Column::GivenName, "Максим")
        .with(Column::Patronymic, "Андреевич")
        .with(Column::BirthDate, "01.09.2014")
        .with(Column::Snils, "212-312-412 87")
        .with(Column::Class, "5А")
}

/// A parent (key m1) listing `children`.
fn parent(row: u64, children: &str) -> RawRow {
    RawRow::new(row)
        .with(Column::Key, "m1")
        .with(Column::Role, "parent")
        .with(Column::Surname, "Новикова")
        .with(Column::GivenName, "Анна")
        .with(Column::BirthDate, "1988-03-03")
        .with(Column::Children, children)
}

/// The file-wide problems of rows that are each good alone.
fn check_file(rows: &[RawRow]) -> Vec<RowProblem> {
    let mut check = FileCheck::default();
    let mut found = Vec::new();
    for row in rows {
        let person = validate_row(row, today()).expect("each row alone is good");
        found.extend(check.add(&person));
    }
    found.extend(check.finish());
    found
}

fn codes(problems: &[RowProblem]) -> Vec<(Option<Column>, &'static str)> {
    problems
        .iter()
        .map(|p| (p.column, p.problem.code()))
        .collect()
}

#[test]
fn a_good_row_passes_with_its_fields_read() {
    let person = validate_row(&pupil(1, "p1"), today()).expect("good");
    assert_eq!(person.role, RosterRole::Pupil);
    assert_eq!(
        person.birth_date,
        NaiveDate::from_ymd_opt(2014, 9, 1).expect("date")
    );
    assert_eq!(person.snils.expect("snils").digits(), "21231241287");
    assert_eq!(person.class_name.as_deref(), Some("5А"));
}

#[test]
fn each_bad_cell_is_reported_with_its_column() {
    type Case = (&'static str, Column, &'static str, &'static str);
    let cases: &[Case] = &[
        (
            "bad SNILS checksum",
            Column::Snils,
            "212-312-412 88",
            "bad_snils_checksum",
        ),
        (
            "SNILS with letters",
            Column::Snils,
            "212-312-41X 87",
            "bad_snils",
        ),
        ("no surname", Column::Surname, "", "missing"),
        ("no given name", Column::GivenName, "", "missing"),
        ("digit in a name", Column::Surname, "Нов1ков", "bad_name"),
        ("bad date", Column::BirthDate, "31.02.2014", "bad_date"),
        (
            "date in the future",
            Column::BirthDate,
            "2030-01-01",
            "date_out_of_range",
        ),
        ("unknown role", Column::Role, "директор", "unknown_role"),
        ("no key", Column::Key, "", "missing"),
        ("pupil without class", Column::Class, "", "no_class"),
        (
            "pupil with children",
            Column::Children,
            "p2",
            "children_of_non_parent",
        ),
        ("bad login", Column::Login, "иванов", "bad_login"),
    ];
    for (what, column, value, code) in cases {
        let row = pupil(3, "p1").with(*column, value);
        let problems = validate_row(&row, today()).expect_err(what);
        assert_eq!(codes(&problems), vec![(Some(*column), *code)], "{what}");
    }
}

#[test]
fn all_problems_of_a_row_are_reported_at_once() {
    let row = pupil(2, "p1")
        .with(Column::Snils, "212-312-412 88")
        .with(Column::BirthDate, "вчера")
        .with(Column::Role, "завуч");
    let problems = validate_row(&row, today()).expect_err("bad");
    assert_eq!(problems.len(), 3, "{problems:?}");
}

#[test]
fn roles_and_headers_in_russian_and_english() {
    for (text, role) in [
        ("Ученик", RosterRole::Pupil),
        ("pupil", RosterRole::Pupil),
        ("Родитель", RosterRole::Parent),
        ("законный  представитель", RosterRole::Parent),
        ("TEACHER", RosterRole::Teacher),
    ] {
        assert_eq!(RosterRole::parse(text), Some(role), "{text}");
    }
    for (text, column) in [
        ("\u{feff}key", Column::Key),
        ("Дата рождения", Column::BirthDate),
        ("birth_date", Column::BirthDate),
        ("СНИЛС", Column::Snils),
        ("Given Name", Column::GivenName),
    ] {
        assert_eq!(Column::from_header(text), Some(column), "{text}");
    }
    assert_eq!(Column::from_header("размер обуви"), None);
}

#[test]
fn file_wide_checks_find_duplicates_and_missing_children() {
    let rows = [
        pupil(1, "p1"),
        pupil(2, "p1").with(Column::Snils, "213-313-413 99"),
        pupil(3, "p3"),
        parent(4, "p1; p9, m1"),
    ];
    let found = check_file(&rows);
    assert_eq!(
        codes(&found),
        vec![
            (Some(Column::Key), "duplicate_key"),
            (Some(Column::Snils), "duplicate_snils"),
            // m1 is an earlier key (the row's own): judged at once; p9
            // may still come and is judged at the end.
            (Some(Column::Children), "child_not_pupil"),
            (Some(Column::Children), "unknown_child"),
        ]
    );
    assert_eq!(found[1].problem, Problem::DuplicateSnils { first_row: 1 });
    assert_eq!(found[1].row, 3);
}

#[test]
fn a_child_is_judged_the_same_before_or_after_its_parent() {
    for (child_role, expected) in [
        (Some("pupil"), vec![]),
        (
            Some("teacher"),
            vec![(Some(Column::Children), "child_not_pupil")],
        ),
        (None, vec![(Some(Column::Children), "unknown_child")]),
    ] {
        for parent_first in [true, false] {
            let child_row = if parent_first { 2 } else { 1 };
            let child = child_role.map(|role| pupil(child_row, "c1").with(Column::Role, role));
            let parent = parent(if parent_first { 1 } else { 2 }, "c1");
            let rows: Vec<RawRow> = match (parent_first, child) {
                (true, Some(child)) => vec![parent, child],
                (false, Some(child)) => vec![child, parent],
                (_, None) => vec![parent],
            };
            let found = check_file(&rows);
            assert_eq!(
                codes(&found),
                expected,
                "{child_role:?}, parent first: {parent_first}"
            );
            let parent_row = if parent_first { 1 } else { 2 };
            assert!(found.iter().all(|p| p.row == parent_row));
        }
    }
}

#[test]
fn debug_output_carries_no_personal_data() {
    let row = pupil(5, "p1");
    assert_eq!(format!("{row:?}"), "RawRow(5)");
    let person = validate_row(&row, today()).expect("good");
    assert!(!format!("{person:?}").contains("Новиков"));
}

#[test]
fn a_file_cut_into_runs_gets_the_same_problems_in_the_same_order() {
    let rows = [
        parent(1, "p1; p2, p9"),
        pupil(2, "p1"),
        // Bad alone (no given name), yet its key and SNILS count.
        pupil(3, "p2")
            .with(Column::Snils, "213-313-413 99")
            .with(Column::GivenName, ""),
        pupil(4, "p2").with(Column::Snils, "213-313-413 99"),
        pupil(5, "p1"),
        parent(6, "p2 m1").with(Column::Key, "m6"),
    ];
    let mut whole = FileCheck::default();
    let mut expected = Vec::new();
    for row in &rows {
        match validate_row(row, today()) {
            Ok(person) => expected.extend(whole.add(&person)),
            Err(problems) => {
                expected.extend(problems);
                whole.add_key_only(row);
            }
        }
    }
    expected.extend(whole.finish());
    assert_eq!(
        codes(&expected),
        vec![
            (Some(Column::GivenName), "missing"),
            (Some(Column::Key), "duplicate_key"),
            (Some(Column::Snils), "duplicate_snils"),
            (Some(Column::Key), "duplicate_key"),
            (Some(Column::Snils), "duplicate_snils"),
            (Some(Column::Children), "child_not_pupil"),
            (Some(Column::Children), "unknown_child"),
        ],
        "the cases this test is about"
    );
    for run in 1..=rows.len() {
        let mut check = FileCheck::default();
        let mut found = Vec::new();
        for runs in rows.chunks(run) {
            let mut chunk = ChunkCheck::default();
            for row in runs {
                match validate_row(row, today()) {
                    Ok(person) => chunk.add(&person),
                    Err(problems) => chunk.add_bad(row, problems),
                }
            }
            found.extend(check.judge(chunk));
        }
        found.extend(check.finish());
        assert_eq!(found, expected, "{run} rows a run");
    }
}
