use super::*;

#[test]
fn a_reason_must_say_something() {
    assert!(matches!(required_reason(""), Err(AppError::ReasonRequired)));
    assert!(matches!(
        required_reason("   \n "),
        Err(AppError::ReasonRequired)
    ));
    assert!(matches!(
        required_reason(" fix "),
        Err(AppError::ReasonRequired)
    ));
    assert_eq!(
        required_reason("  школа прислала исправление  ").ok(),
        Some("школа прислала исправление")
    );
}

#[test]
fn a_correction_keeps_blank_fields_and_checks_the_rest() {
    let c = Correction::parse("", "", "", "", "205-305-405 07").expect("snils only");
    assert!(c.name.is_none() && c.birth_date.is_none());
    assert_eq!(c.snils.as_ref().map(|s| s.digits()), Some("20530540507"));

    let c = Correction::parse("Соколов", "Дмитрий", " ", "1981-11-11", "").expect("name");
    let name = c.name.expect("name");
    assert_eq!(name.surname(), "Соколов");
    assert_eq!(name.patronymic(), None, "a blank patronymic means none");
    assert_eq!(c.birth_date, NaiveDate::from_ymd_opt(1981, 11, 11));

    let cases = [
        (["", "", "", "", ""], CorrectionError::Empty),
        (
            ["Соколов", "", "", "", ""],
            CorrectionError::Name(NameError::EmptyGiven),
        ),
        (
            ["", "", "Алексеевич", "", ""],
            CorrectionError::Name(NameError::EmptySurname),
        ),
        (["", "", "", "11.11.1981", ""], CorrectionError::BirthDate),
        (["", "", "", "2999-01-01", ""], CorrectionError::BirthDate),
        (["", "", "", "1899-12-31", ""], CorrectionError::BirthDate),
    ];
    for ([s, g, p, b, n], expected) in cases {
        assert_eq!(
            Correction::parse(s, g, p, b, n).err(),
            Some(expected),
            "{s}|{g}|{p}|{b}|{n}"
        );
    }
    assert!(matches!(
        Correction::parse("", "", "", "", "205-305-405 08"),
        Err(CorrectionError::Snils(SnilsError::Checksum { .. }))
    ));
    assert!(matches!(
        Correction::parse("Сок<алов", "Дмитрий", "", "", ""),
        Err(CorrectionError::Name(NameError::InvalidCharacter { .. }))
    ));
}

#[test]
fn correction_errors_read_in_both_languages() {
    for error in [CorrectionError::Empty, CorrectionError::BirthDate] {
        let ru = error.message(Lang::Ru);
        let en = error.message(Lang::En);
        assert!(!ru.is_empty() && !en.is_empty() && ru != en);
    }
}

#[test]
fn moments_are_days_or_spans_before_now() {
    let now = Utc.with_ymd_and_hms(2026, 9, 1, 12, 30, 0).unwrap();
    let day = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).single();
    assert_eq!(
        parse_moment("2026-08-31", Bound::Since, now),
        day(2026, 8, 31)
    );
    assert_eq!(
        parse_moment("2026-08-31", Bound::Until, now),
        day(2026, 9, 1)
    );
    assert_eq!(
        parse_moment("24h", Bound::Since, now),
        Utc.with_ymd_and_hms(2026, 8, 31, 12, 30, 0).single()
    );
    assert_eq!(
        parse_moment(" 90m ", Bound::Until, now),
        Utc.with_ymd_and_hms(2026, 9, 1, 11, 0, 0).single()
    );
    assert_eq!(
        parse_moment("7d", Bound::Since, now),
        day(2026, 8, 25).map(|d| d + Duration::minutes(750))
    );
    for bad in [
        "",
        "h",
        "0h",
        "-3h",
        "3w",
        "2026-13-01",
        "yesterday",
        "99999999d",
    ] {
        assert_eq!(parse_moment(bad, Bound::Since, now), None, "{bad:?}");
    }
}

#[test]
fn a_correction_audits_masked_values_of_the_changed_fields_only() {
    let account = Account {
        id: Uuid::nil(),
        school_id: None,
        role: "parent".into(),
        surname: "Сокалов".into(),
        given_name: "Дмитрий".into(),
        patronymic: Some("Алексеевич".into()),
        birth_date: NaiveDate::from_ymd_opt(1981, 11, 11),
        snils: Some("20530540507".into()),
        login: None,
        password_hash: None,
        status: "active".into(),
        email: None,
        email_verified: false,
        phone: None,
        phone_verified: false,
        login_changed: false,
        created_at: DateTime::<Utc>::UNIX_EPOCH,
        updated_at: DateTime::<Utc>::UNIX_EPOCH,
    };
    let correction =
        Correction::parse("Соколов", "Дмитрий", "", "1981-11-11", "201-301-401 60").expect("ok");
    let (corrected, fields, details) = apply(&account, &correction);
    assert_eq!(fields, vec!["surname", "patronymic", "snils"]);
    assert_eq!(corrected.surname, "Соколов");
    assert_eq!(corrected.patronymic, None);
    assert_eq!(corrected.snils.as_deref(), Some("20130140160"));
    let text = details.to_string();
    for secret in [
        "Соколов",
        "Сокалов",
        "Алексеевич",
        "20130140160",
        "201-301-401",
        "1981",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert!(text.contains("***-***-401 60"), "{text}");

    let same = Correction::parse("Сокалов", "Дмитрий", "Алексеевич", "", "").expect("ok");
    assert!(apply(&account, &same).1.is_empty(), "nothing changed");
}
