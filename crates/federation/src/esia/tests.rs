use super::*;

#[test]
fn timestamp_has_esia_shape() {
    let ts = esia_timestamp();
    assert_eq!(ts.len(), "2026.11.22 12:07:06 +0000".len(), "{ts}");
    assert_eq!(&ts[4..5], ".");
    assert!(ts.ends_with("+0000"));
}

#[test]
fn tier_comes_from_the_current_identity_document() {
    use esia_proto::{Collection, EsiaDocument};
    fn doc(id: i64, kind: Option<&str>, vrf: Option<&str>) -> EsiaDocument {
        EsiaDocument {
            id: Some(id),
            kind: kind.map(str::to_string),
            vrf_stu: vrf.map(str::to_string),
            ..EsiaDocument::default()
        }
    }
    let passport_ok = doc(1, Some("RF_PASSPORT"), Some("VERIFIED"));
    let passport_no = doc(1, Some("RF_PASSPORT"), Some("NOT_VERIFIED"));
    let foreign_ok = doc(1, Some("FID_DOC"), Some("VERIFIED"));
    let policy_ok = doc(2, Some("MDCL_PLCY"), Some("VERIFIED"));
    let licence_ok = doc(3, Some("RF_DRIVING_LICENSE"), Some("VERIFIED"));
    let odd = doc(1, None, None);
    type Case = (
        bool,
        Option<Vec<EsiaDocument>>,
        Option<i64>,
        bool,
        (Tier, bool),
    );
    let cases: Vec<Case> = vec![
        (true, None, None, false, (Tier::Verified, true)),
        (false, None, None, true, (Tier::Verified, true)),
        (
            false,
            Some(vec![passport_ok.clone()]),
            Some(1),
            false,
            (Tier::Standard, true),
        ),
        (
            false,
            Some(vec![foreign_ok]),
            Some(1),
            false,
            (Tier::Standard, true),
        ),
        (
            false,
            Some(vec![passport_no, policy_ok.clone()]),
            Some(1),
            false,
            (Tier::Simplified, true),
        ),
        (
            false,
            Some(vec![policy_ok.clone(), licence_ok]),
            Some(2),
            false,
            (Tier::Simplified, true),
        ),
        (
            false,
            Some(vec![odd, policy_ok]),
            Some(1),
            false,
            (Tier::Simplified, true),
        ),
        (
            false,
            Some(vec![passport_ok.clone()]),
            None,
            false,
            (Tier::Simplified, false),
        ),
        (false, None, Some(1), false, (Tier::Simplified, false)),
        (
            false,
            Some(vec![passport_ok]),
            Some(9),
            false,
            (Tier::Simplified, false),
        ),
    ];
    for (i, (trusted, docs, current, claim, expected)) in cases.into_iter().enumerate() {
        let person = EsiaPerson {
            trusted,
            documents: docs.map(Collection::embedded),
            r_id_doc: current,
            ..EsiaPerson::default()
        };
        assert_eq!(tier_of(&person, claim), expected, "case {i}");
    }
}

#[test]
fn odd_documents_do_not_fail_the_person() {
    let body = br#"{"firstName":"A","lastName":"B","oid":1000299353,"rIdDoc":7,"status":"registered",
        "documents":{"size":2,"elements":[{"id":7,"type":"RF_PASSPORT","vrfStu":"VERIFIED"},{"id":8}]}}"#;
    let person: EsiaPerson = serde_json::from_slice(body).expect("parses");
    assert_eq!(person.oid.as_deref(), Some("1000299353"));
    assert_eq!(tier_of(&person, false), (Tier::Standard, true));
}

#[test]
fn kids_are_read_leniently_from_esia_s_collection() {
    let body = r#"{"stateFacts":["hasSize"],"size":4,"elements":[
        {"stateFacts":["Identifiable"],"id":1234,"firstName":"Илья","lastName":"Иванов",
         "middleName":"Сергеевич","birthDate":"14.05.2013","snils":"221-321-421 90"},
        {"id":"1000001-2","firstName":"Дарья","lastName":"Иванова","birthDate":"2016-09-02"},
        "https://esia.example/rs/prns/1/kids/3",
        {"firstName":7}
    ]}"#;
    let kids = parse_kids(body.as_bytes()).expect("parses");
    assert_eq!(kids.len(), 2, "links and unreadable kids are skipped");
    assert_eq!(kids[0].surname.as_deref(), Some("Иванов"));
    assert_eq!(kids[0].patronymic.as_deref(), Some("Сергеевич"));
    assert_eq!(kids[0].birth_date, NaiveDate::from_ymd_opt(2013, 5, 14));
    assert_eq!(kids[0].snils.as_deref(), Some("221-321-421 90"));
    assert_eq!(kids[1].given_name.as_deref(), Some("Дарья"));
    assert_eq!(kids[1].birth_date, None, "not ESIA's date format");
    assert_eq!(kids[1].snils, None);
    let empty = parse_kids(br#"{"stateFacts":["hasSize"],"size":0}"#).expect("parses");
    assert!(empty.is_empty());
    let error = parse_kids(r#"["Иванов"]"#.as_bytes()).expect_err("not a collection");
    assert!(!error.to_string().contains("Иванов"), "{error}");
}

#[test]
fn the_kid_scopes_must_all_be_asked_for_and_granted() {
    use base64::Engine;
    let token = |scope: &str| {
        let claims = serde_json::json!({ "scope": scope, "urn:esia:sbj_id": 1 });
        format!(
            "e30.{}.c2ln",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    };
    let all = "openid fullname?oid=1 kid_fullname?oid=1 kid_birthdate?oid=1 kid_snils?oid=1";
    assert!(token_grants_kid_scopes(&token(all)));
    assert!(!token_grants_kid_scopes(&token(
        "openid kid_fullname?oid=1 kid_birthdate?oid=1"
    )));
    assert!(!token_grants_kid_scopes(&token("openid fullname?oid=1")));
    assert!(
        token_grants_kid_scopes("not-a-jwt"),
        "unreadable: ESIA decides"
    );
    assert!(has_kid_scopes([
        "openid",
        "kid_snils",
        "kid_fullname",
        "kid_birthdate"
    ]));
    assert!(!has_kid_scopes(["openid", "kid_fullname", "kid_snils"]));
}

#[test]
fn unknown_esia_codes_keep_their_number() {
    let cases = [
        ("ESIA-007004: The user denied access", "ESIA-007004"),
        ("ESIA-007099: Something new", "ESIA-007099"),
        ("esia-012345: lower case", "ESIA-012345"),
        ("ESIA-0070: too short", "oauth.access_denied"),
        ("no code at all", "oauth.access_denied"),
        ("", "oauth.access_denied"),
    ];
    for (description, expected) in cases {
        let error = refusal_from_redirect("access_denied", Some(description));
        assert_eq!(error.code(), expected, "{description:?}");
    }
}

#[test]
fn dates_and_error_bodies() {
    assert_eq!(
        parse_esia_date("05.06.1990"),
        NaiveDate::from_ymd_opt(1990, 6, 5)
    );
    assert_eq!(parse_esia_date("1990-06-05"), None);
    let body = br#"{"error":"invalid_grant","error_description":"ESIA-007011: used","state":"x"}"#;
    let err = error_from_body(400, body);
    assert_eq!(err.esia_code(), Some(EsiaCode::E007011));
    let err = error_from_body(
        503,
        br#"{"error":"temporarily_unavailable","error_description":"ESIA-007008: busy"}"#,
    );
    assert_eq!(err.code(), "ESIA-007008");
    assert_eq!(error_from_body(500, b"<html>").code(), "idp.http_500");
    let rest = error_from_body(
        401,
        br#"{"code":"ESIA-005013","message":"SecurityErrorEnum.expiredToken"}"#,
    );
    assert_eq!(rest.code(), "ESIA-005013");
    let unknown = error_from_body(403, br#"{"code":"ESIA-005029","message":"x"}"#);
    assert_eq!(
        unknown.code(),
        "ESIA-005029",
        "unknown REST codes keep their number"
    );
}
