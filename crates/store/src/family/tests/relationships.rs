//! Parent-child links: found for the viewer, answered once.

use std::collections::BTreeSet;

use super::*;

#[tokio::test]
async fn relationships_are_found_by_parent_holder_or_snils() {
    let f = family().await;
    let both = BTreeSet::from([f.link, f.sister_link]);
    let cases: [(&str, Uuid, Option<&str>, BTreeSet<Uuid>); 5] = [
        ("the parent persona", f.parent, None, both.clone()),
        (
            "the parent's SNILS",
            f.stranger,
            Some(PARENT_SNILS),
            both.clone(),
        ),
        (
            "another SNILS",
            f.stranger,
            Some("20130140160"),
            BTreeSet::new(),
        ),
        ("another parent", f.stranger, None, BTreeSet::new()),
        ("a pupil", f.pupil, None, BTreeSet::new()),
    ];
    for (case, viewer, snils, expected) in &cases {
        let found = f
            .store
            .relationships_for_viewer(*viewer, *snils)
            .await
            .expect("query");
        let found: BTreeSet<Uuid> = found.iter().map(|r| r.id).collect();
        assert_eq!(&found, expected, "{case}");
    }

    // The other parent holds a link once it confirmed it: found without a SNILS.
    let confirmed = f
        .store
        .answer_relationship(f.link, "confirmed", f.stranger, at(5), "test", &[])
        .await
        .expect("answer");
    assert!(confirmed);
    let held = f
        .store
        .relationships_for_viewer(f.stranger, None)
        .await
        .expect("query");
    assert_eq!(held.iter().map(|r| r.id).collect::<Vec<_>>(), [f.link]);

    let link = f
        .store
        .relationship(f.link)
        .await
        .expect("query")
        .expect("the link");
    assert_eq!(link.status, "confirmed");
    assert_eq!(link.holder_id, Some(f.stranger));
    assert_eq!(link.decided_at, Some(at(5)));
    assert_eq!(link.parent.id, f.parent);
    assert_eq!(link.parent.display_name(), "Новикова Анна Петровна");
    assert_eq!(link.parent.snils.as_deref(), Some(PARENT_SNILS));
    assert_eq!(link.pupil.display_name(), "Новиков Максим Андреевич");
    assert_eq!(link.pupil.class_name.as_deref(), Some("5А"));
    assert_eq!(link.pupil.school_id, Some(f.school));
    assert_eq!(link.pupil.school_name.as_deref(), Some("Школа № 1"));
    let missing = f.store.relationship(Uuid::new_v4()).await.expect("query");
    assert!(missing.is_none());
}

#[tokio::test]
async fn only_a_proposed_link_is_answered() {
    let f = family().await;
    // (link, answer, the holder it keeps)
    let cases = [
        (f.link, "confirmed", Some(f.parent)),
        (f.sister_link, "declined", None),
    ];
    for (id, answer, holder) in cases {
        let told = [notice(f.parent, "relationship_answered", id, 5)];
        let answered = f
            .store
            .answer_relationship(id, answer, f.parent, at(5), "test", &told)
            .await
            .expect("answer");
        assert!(answered, "{answer}");
        let link = f
            .store
            .relationship(id)
            .await
            .expect("query")
            .expect("link");
        assert_eq!(
            (link.status.as_str(), link.holder_id, link.decided_at),
            (answer, holder, Some(at(5))),
            "{answer}"
        );
        assert_eq!(
            f.audit("relationship", id).await,
            [format!("relationship.{answer}")]
        );
        let notifications = f.count("notifications").await;

        // A second answer finds it no longer proposed and writes nothing.
        let late = [notice(f.parent, "relationship_answered_again", id, 6)];
        for again in ["confirmed", "declined"] {
            let answered = f
                .store
                .answer_relationship(id, again, f.stranger, at(6), "test", &late)
                .await
                .expect("answer");
            assert!(!answered, "{answer} then {again}");
        }
        let after = f
            .store
            .relationship(id)
            .await
            .expect("query")
            .expect("link");
        assert_eq!(
            (after.status.as_str(), after.holder_id, after.decided_at),
            (answer, holder, Some(at(5))),
            "{answer} stays"
        );
        assert_eq!(f.audit("relationship", id).await.len(), 1, "{answer}");
        assert_eq!(f.count("notifications").await, notifications, "{answer}");
    }
}
