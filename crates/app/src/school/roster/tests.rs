use super::*;

fn parse(text: &str) -> Result<Vec<RawRow>, FileProblem> {
    let source = BytesSource {
        bytes: text.as_bytes().to_vec(),
        format: RosterFormat::Csv,
    };
    let rows: Result<Vec<RawRow>, FileProblem> = rows(&source)?.collect();
    rows
}

#[test]
fn semicolons_bom_and_russian_headers() {
    let rows = parse(
        "\u{feff}Ключ;Роль;Фамилия;Имя;Отчество;Дата рождения;СНИЛС;Класс\n\
         p1;ученик;Новиков;Максим;;01.09.2014;212-312-412 87;5А\n",
    )
    .expect("readable");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get(Column::Class), Some("5А"));
    assert_eq!(rows[0].get(Column::Patronymic), None);
}

#[test]
fn file_problems_name_the_cause() {
    let cases: &[(&[u8], &str)] = &[
        (b"", "no_header"),
        (b"key,role,surname,given_name,shoe_size\n", "unknown_column"),
        (b"key,role,surname,given_name\n", "missing_column"),
        (
            b"key,key,role,surname,given_name,birth_date\n",
            "duplicate_column",
        ),
        (
            b"key,role,surname,given_name,birth_date\np1,pupil,\xcd\xee\xe2,A,2014-01-01\n",
            "not_utf8",
        ),
    ];
    for (bytes, kind) in cases {
        let source = BytesSource {
            bytes: bytes.to_vec(),
            format: RosterFormat::Csv,
        };
        let problem = rows(&source)
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .expect_err(kind);
        let json = serde_json::to_value(&problem).expect("json");
        assert_eq!(json["kind"], *kind, "{problem:?}");
        assert!(!problem.message(Lang::Ru).is_empty());
    }
}

#[test]
fn json_rows_take_arrays_of_children() {
    let source = BytesSource {
        bytes: br#"{"rows": [{"key": "m1", "role": "parent", "children": ["p1", "p2"]}]}"#.to_vec(),
        format: RosterFormat::Json,
    };
    let rows: Vec<RawRow> = rows(&source)
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(rows[0].get(Column::Children), Some("p1;p2"));
}
