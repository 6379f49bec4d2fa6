use super::*;
use crate::testutil::test_clients;

#[test]
fn subjects_per_client() {
    let clients = test_clients();
    let key = SubjectKey::new(b"0123456789abcdef0123456789abcdef").unwrap();
    let other_key = SubjectKey::new(b"fedcba9876543210fedcba9876543210").unwrap();
    let mobile = clients.get("mobile").unwrap();
    let web = clients.get("web").unwrap();
    let post = clients.get("post").unwrap();
    let a = key.subject(mobile, "acc-1");
    assert_eq!(
        a,
        key.subject(mobile, "acc-1"),
        "stable for the same client"
    );
    assert_eq!(a.len(), 43);
    assert_ne!(
        a,
        key.subject(web, "acc-1"),
        "another client sees another sub"
    );
    assert_ne!(a, key.subject(mobile, "acc-2"));
    assert_ne!(a, other_key.subject(mobile, "acc-1"));
    assert_eq!(
        key.subject(post, "acc-1"),
        "acc-1",
        "public subjects are the account id"
    );
    // The separator keeps ("ab", "c") and ("a", "bc") apart.
    assert_ne!(key.pairwise("ab", "c"), key.pairwise("a", "bc"));
    assert!(SubjectKey::new(b"short").is_err());
    assert!(!format!("{key:?}").contains("0123"));
}

#[test]
fn full_name_in_document_order() {
    let cases = [
        (
            ("Иванова", "Мария", Some("Петровна")),
            "Иванова Мария Петровна",
        ),
        (("Smith", "John", None), "Smith John"),
    ];
    for ((family, given, middle), full) in cases {
        let name = PersonName {
            family_name: family.into(),
            given_name: given.into(),
            middle_name: middle.map(str::to_string),
        };
        assert_eq!(name.full(), full);
    }
}
