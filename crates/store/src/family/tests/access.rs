//! Access facts and the family page's pupils: links and grants.

use super::*;

#[tokio::test]
async fn access_facts_carry_links_and_grants() {
    let f = family().await;
    assert!(f
        .store
        .answer_relationship(f.link, "confirmed", f.parent, at(5), "test", &[])
        .await
        .expect("answer"));
    // Accepted for each child: one open since minute 10, one not before
    // minute 10,000; a declined and a pending one grant nothing.
    let opened = f.invite(f.pupil, f.link, "opened", 60).await;
    assert!(f.change(&accept(opened, f.grandma, 6, 10), &[]).await);
    let waiting = f.invite(f.sister, f.sister_link, "waiting", 60).await;
    assert!(f.change(&accept(waiting, f.grandma, 6, 10_000), &[]).await);
    let declined = f.invite(f.sister, f.sister_link, "declined", 60).await;
    let decline = InvitationChange {
        status: "declined".into(),
        opens_at: None,
        ..accept(declined, f.grandma, 7, 0)
    };
    assert!(f.change(&decline, &[]).await);
    f.invite(f.pupil, f.link, "pending", 60).await;

    let (target, ties) = f
        .store
        .access_facts(f.parent, f.pupil)
        .await
        .expect("facts");
    assert_eq!(target.role.as_deref(), Some("pupil"));
    assert_eq!(target.school, Some(f.school));
    let mut links: Vec<_> = ties
        .links
        .iter()
        .map(|l| (l.pupil, l.status.as_str(), l.decided_at))
        .collect();
    links.sort();
    let mut expected = vec![
        (f.pupil, "confirmed", Some(at(5))),
        (f.sister, "proposed", None),
    ];
    expected.sort();
    assert_eq!(links, expected);
    assert!(ties.grants.is_empty());

    let (nobody, _) = f
        .store
        .access_facts(f.parent, Uuid::new_v4())
        .await
        .expect("facts");
    assert_eq!(nobody.role, None);
    let (_, none) = f
        .store
        .access_facts(f.stranger, f.pupil)
        .await
        .expect("facts");
    assert!(none.links.is_empty() && none.grants.is_empty());

    let (target, ties) = f
        .store
        .access_facts(f.grandma, f.sister)
        .await
        .expect("facts");
    assert_eq!(target.role.as_deref(), Some("pupil"));
    assert!(ties.links.is_empty());
    let grant = |pupil: Uuid, status: &str| {
        ties.grants
            .iter()
            .find(|g| g.pupil == pupil && g.row.status == status)
            .map(|g| &g.row)
            .expect("a grant")
    };
    assert_eq!(ties.grants.len(), 3);
    // (pupil, status, opens at, link status)
    let cases = [
        (f.pupil, "accepted", Some(at(10)), "confirmed"),
        (f.sister, "accepted", Some(at(10_000)), "proposed"),
        (f.sister, "declined", None, "proposed"),
    ];
    for (pupil, status, opens_at, link_status) in cases {
        let row = grant(pupil, status);
        assert_eq!(row.opens_at, opens_at, "{status}");
        assert_eq!(row.expires_at, at(60));
        assert_eq!(row.services, "diary,marks");
        assert_eq!(row.relationship_status, link_status, "{status}");
    }

    // The family page: confirmed links and accepted grants only.
    let pupils = f.store.family_pupils(f.parent).await.expect("pupils");
    assert_eq!(pupils.len(), 1);
    let (pupil, tie) = &pupils[0];
    assert_eq!(pupil.id, f.pupil);
    assert_eq!(pupil.display_name(), "Новиков Максим Андреевич");
    assert_eq!(pupil.school_name.as_deref(), Some("Школа № 1"));
    assert!(matches!(
        tie,
        FamilyTie::Link { relationship_id, since } if *relationship_id == f.link && *since == Some(at(5))
    ));
    let mut granted = f.store.family_pupils(f.grandma).await.expect("pupils");
    granted.sort_by_key(|(_, tie)| match tie {
        FamilyTie::Grant { row, .. } => row.opens_at,
        FamilyTie::Link { since, .. } => *since,
    });
    // (pupil, invitation, opens at)
    let cases = [(f.pupil, opened, at(10)), (f.sister, waiting, at(10_000))];
    assert_eq!(granted.len(), cases.len());
    for ((person, tie), (pupil, invitation, opens_at)) in granted.iter().zip(cases) {
        assert_eq!(person.id, pupil);
        let FamilyTie::Grant { invitation_id, row } = tie else {
            panic!("a grant, not {tie:?}");
        };
        assert_eq!(*invitation_id, invitation);
        assert_eq!(
            (row.status.as_str(), row.opens_at),
            ("accepted", Some(opens_at))
        );
    }
    assert!(f
        .store
        .family_pupils(f.stranger)
        .await
        .expect("pupils")
        .is_empty());
}
