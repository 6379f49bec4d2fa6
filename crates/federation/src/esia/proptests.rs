//! ESIA person data from a hostile or broken IdP: any bytes, any JSON in
//! the person's shape, never panic the parser or the tier rule.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::*;

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,24}".prop_map(Value::from),
        prop_oneof![
            Just("RF_PASSPORT"),
            Just("FID_DOC"),
            Just("VERIFIED"),
            Just("NOT_VERIFIED"),
            Just("05.06.1990"),
            Just("DELETED"),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("id".to_string()),
                    Just("type".to_string()),
                    Just("vrfStu".to_string()),
                    Just("elements".to_string()),
                    Just("size".to_string()),
                    ".{0,8}".prop_map(String::from),
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object with the person's field names and values of any shape, with
/// documents that are sometimes well-formed.
fn person_like() -> impl Strategy<Value = Value> {
    let names = vec![
        "oid",
        "firstName",
        "lastName",
        "middleName",
        "birthDate",
        "gender",
        "snils",
        "trusted",
        "verifying",
        "status",
        "updatedOn",
        "rIdDoc",
        "contacts",
        "documents",
        "kids",
    ];
    let document = (0i64..4, prop::sample::select(vec!["RF_PASSPORT", "FID_DOC", "MDCL_PLCY"]), any::<bool>())
        .prop_map(|(id, kind, ok)| json!({"id": id, "type": kind, "vrfStu": if ok { "VERIFIED" } else { "NOT_VERIFIED" }}));
    let documents = prop::collection::vec(document, 0..4)
        .prop_map(|items| json!({"size": items.len(), "elements": items}));
    (
        prop::collection::vec((prop::sample::select(names), any_json()), 0..12),
        prop::option::of(documents),
        prop::option::of(0i64..4),
    )
        .prop_map(|(pairs, documents, current)| {
            let mut person: Map<String, Value> =
                pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            if let Some(documents) = documents {
                person.insert("documents".into(), documents);
            }
            if let Some(current) = current {
                person.insert("rIdDoc".into(), json!(current));
            }
            Value::Object(person)
        })
}

fn check_person(person: &EsiaPerson) -> Result<(), TestCaseError> {
    let (tier, known) = tier_of(person, false);
    if person.trusted {
        prop_assert_eq!((tier, known), (Tier::Verified, true));
    }
    if tier == Tier::Standard {
        prop_assert!(known && person.r_id_doc.is_some() && person.documents.is_some());
    }
    prop_assert_eq!(tier_of(person, true), (Tier::Verified, true));
    if let Some(date) = person.birth_date.as_deref() {
        let _ = parse_esia_date(date);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn person_data_of_any_shape_parses_or_is_refused(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
        value in person_like(),
    ) {
        if let Ok(person) = serde_json::from_slice::<EsiaPerson>(&bytes) {
            check_person(&person)?;
        }
        let text = value.to_string();
        if let Ok(person) = serde_json::from_slice::<EsiaPerson>(text.as_bytes()) {
            check_person(&person)?;
        }
        // Truncated anywhere, the same document is refused or parsed, never a panic.
        for cut in [1, text.len() / 2, text.len().saturating_sub(1)] {
            if let Some(prefix) = text.as_bytes().get(..cut) {
                if let Ok(person) = serde_json::from_slice::<EsiaPerson>(prefix) {
                    check_person(&person)?;
                }
            }
        }
    }
}
