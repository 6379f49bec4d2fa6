//! Invitations: listed for sender and invitee, changed only from the
//! status the change saw, live while pending and unexpired or accepted,
//! their opening noticed once.

use super::*;

#[tokio::test]
async fn an_invitation_is_listed_for_its_sender_and_invitee() {
    let f = family().await;
    let id = Uuid::new_v4();
    let invitation = NewInvitation {
        id,
        inviter_id: f.parent,
        pupil_id: f.pupil,
        relationship_id: f.link,
        invitee_surname: "Петрова".into(),
        match_kind: "phone".into(),
        match_hash: "hash-of-grandma".into(),
        hint: "…45-67".into(),
        services: "diary".into(),
        created_at: at(1),
        expires_at: at(60),
    };
    let told = [notice(f.grandma, "trusted_invitation", id, 1)];
    f.store
        .insert_invitation(&invitation, "account:parent", &told)
        .await
        .expect("insert");
    assert_eq!(f.audit("invitation", id).await, ["invitation.sent"]);
    let notices = f.store.notifications_of(f.grandma, 10).await.expect("list");
    assert_eq!(notices.len(), 1);
    assert_eq!(
        (notices[0].kind.as_str(), notices[0].subject_id.clone()),
        ("trusted_invitation", id.to_string())
    );

    let stored = f.invitation(id).await;
    assert_eq!(stored.inviter_id, f.parent);
    assert_eq!(stored.pupil_id, f.pupil);
    assert_eq!(stored.relationship_id, f.link);
    assert_eq!(stored.relationship_status, "proposed");
    assert_eq!(
        [
            stored.match_kind.as_str(),
            stored.match_hash.as_str(),
            stored.hint.as_str()
        ],
        ["phone", "hash-of-grandma", "…45-67"]
    );
    assert_eq!(stored.invitee_surname, "Петрова");
    assert_eq!(stored.services, "diary");
    assert_eq!(stored.status, "pending");
    assert_eq!((stored.created_at, stored.expires_at), (at(1), at(60)));
    assert_eq!(stored.inviter_name, "Новикова Анна Петровна");
    assert_eq!(stored.pupil_name, "Новиков Максим Андреевич");
    assert_eq!(stored.grantee_name, None);
    assert!(f
        .store
        .invitation(Uuid::new_v4())
        .await
        .expect("query")
        .is_none());

    let ids = |list: Vec<InvitationRecord>| list.into_iter().map(|i| i.id).collect::<Vec<_>>();
    let sent = |who| f.store.invitations_sent_by(who);
    assert_eq!(ids(sent(f.parent).await.expect("query")), [id]);
    assert!(sent(f.stranger).await.expect("query").is_empty());
    let hash = |h: &str| vec![h.to_string()];
    // (viewer, contact hashes, listed)
    let cases: [(Option<Uuid>, Vec<String>, Vec<Uuid>); 5] = [
        (None, hash("hash-of-grandma"), vec![id]),
        (
            None,
            vec!["other".into(), "hash-of-grandma".into()],
            vec![id],
        ),
        (None, hash("other"), vec![]),
        (None, vec![], vec![]),
        (Some(f.grandma), vec![], vec![]),
    ];
    for (viewer, hashes, expected) in cases {
        let found = f
            .store
            .invitations_for_invitee(viewer, &hashes)
            .await
            .expect("query");
        assert_eq!(ids(found), expected, "{viewer:?} {hashes:?}");
    }

    // Accepted: listed by grantee, no longer by its contact hash.
    assert!(f.change(&accept(id, f.grandma, 2, 3), &[]).await);
    let for_grandma = f
        .store
        .invitations_for_invitee(Some(f.grandma), &[])
        .await
        .expect("query");
    assert_eq!(ids(for_grandma.clone()), [id]);
    assert_eq!(
        for_grandma[0].grantee_name.as_deref(),
        Some("Петрова Галина Ивановна")
    );
    let by_hash = f
        .store
        .invitations_for_invitee(None, &hash("hash-of-grandma"))
        .await
        .expect("query");
    assert!(by_hash.is_empty());
}

#[tokio::test]
async fn an_invitation_changes_only_from_the_status_its_change_saw() {
    let f = family().await;
    let revoke = |id| InvitationChange {
        id,
        from_status: "pending".into(),
        status: "revoked".into(),
        grantee_id: None,
        decided_at: None,
        opens_at: None,
        revoked_at: Some(at(10)),
        revoked_by: Some("inviter".into()),
    };
    let decline = |id| InvitationChange {
        id,
        from_status: "pending".into(),
        status: "declined".into(),
        grantee_id: Some(f.grandma),
        decided_at: Some(at(10)),
        opens_at: None,
        revoked_at: None,
        revoked_by: None,
    };
    type Change<'a> = &'a dyn Fn(Uuid) -> InvitationChange;
    /// Status, grantee, and the minutes of decision, opening and revocation.
    type Leaves<'a> = (&'a str, Option<Uuid>, [Option<i64>; 3]);
    // (the change, the state it leaves)
    let cases: [(Change, Leaves); 3] = [
        (
            &|id| accept(id, f.grandma, 10, 20),
            ("accepted", Some(f.grandma), [Some(10), Some(20), None]),
        ),
        (
            &decline,
            ("declined", Some(f.grandma), [Some(10), None, None]),
        ),
        (&revoke, ("revoked", None, [None, None, Some(10)])),
    ];
    for (n, (make, expected)) in cases.into_iter().enumerate() {
        let id = f.invite(f.pupil, f.link, &format!("hash-{n}"), 60).await;
        let change = make(id);
        let told = [notice(f.parent, "invitation_answered", id, 10)];
        assert!(f.change(&change, &told).await, "{}", change.status);
        let (status, grantee, minutes) = expected;
        let expected = (status.to_string(), grantee, minutes.map(|m| m.map(at)));
        let after = f.invitation(id).await;
        assert_eq!(state(&after), expected);
        let trail = [
            "invitation.sent".to_string(),
            format!("invitation.{status}"),
        ];
        assert_eq!(f.audit("invitation", id).await, trail);
        let notices = f.store.notifications_of(f.parent, 100).await.expect("list");
        assert!(
            notices.iter().any(|n| n.subject_id == id.to_string()),
            "{status}: its notice"
        );

        // The same change again is stale: nothing written.
        let notifications = f.count("notifications").await;
        let late = [notice(f.parent, "invitation_answered_again", id, 11)];
        for stale in [accept(id, f.stranger, 11, 12), decline(id), revoke(id)] {
            assert!(
                !f.change(&stale, &late).await,
                "{status} then {}",
                stale.status
            );
        }
        assert_eq!(state(&f.invitation(id).await), expected, "{status} stays");
        assert_eq!(f.audit("invitation", id).await, trail, "{status}");
        assert_eq!(f.count("notifications").await, notifications, "{status}");
    }

    // Revoking an accepted invitation keeps what the acceptance wrote.
    let id = f.invite(f.pupil, f.link, "hash-later-revoked", 60).await;
    assert!(f.change(&accept(id, f.grandma, 10, 20), &[]).await);
    let revoked = InvitationChange {
        from_status: "accepted".into(),
        ..revoke(id)
    };
    assert!(f.change(&revoked, &[]).await);
    assert_eq!(
        state(&f.invitation(id).await),
        (
            "revoked".to_string(),
            Some(f.grandma),
            [Some(at(10)), Some(at(20)), Some(at(10))]
        )
    );
    assert_eq!(
        f.audit("invitation", id).await,
        [
            "invitation.sent",
            "invitation.accepted",
            "invitation.revoked"
        ]
    );
}

#[tokio::test]
async fn a_live_invitation_is_pending_and_unexpired_or_accepted() {
    let f = family().await;
    f.invite(f.pupil, f.link, "pending", 100).await;
    let accepted = f.invite(f.pupil, f.link, "accepted", 100).await;
    assert!(f.change(&accept(accepted, f.grandma, 2, 3), &[]).await);
    let declined = f.invite(f.pupil, f.link, "declined", 100).await;
    let decline = InvitationChange {
        status: "declined".into(),
        opens_at: None,
        ..accept(declined, f.grandma, 2, 0)
    };
    assert!(f.change(&decline, &[]).await);
    // (pupil, contact hash, minute, live)
    let cases = [
        (f.pupil, "pending", 99, true),
        (f.pupil, "pending", 100, false),
        (f.pupil, "pending", 101, false),
        (f.sister, "pending", 0, false),
        (f.pupil, "accepted", 1000, true),
        (f.pupil, "declined", 0, false),
        (f.pupil, "nobody", 0, false),
    ];
    for (pupil, hash, minute, live) in cases {
        let found = f
            .store
            .live_invitation_exists(pupil, hash, at(minute))
            .await
            .expect("query");
        assert_eq!(found, live, "{hash} at minute {minute}");
    }
}

#[tokio::test]
async fn access_opened_is_noticed_and_audited_once() {
    let f = family().await;
    let id = f.invite(f.pupil, f.link, "opened", 60).await;
    assert!(f.change(&accept(id, f.grandma, 2, 3), &[]).await);
    let told = [
        notice(f.grandma, "access_opened", id, 3),
        notice(f.parent, "access_opened", id, 3),
    ];
    // The second call finds the notices written: no second audit row.
    for call in 1..=2 {
        f.store
            .record_access_opened(id, "system:clock", &told)
            .await
            .expect("record");
        assert_eq!(f.count("notifications").await, 2, "call {call}");
        assert_eq!(
            f.audit("invitation", id).await,
            [
                "invitation.sent",
                "invitation.accepted",
                "invitation.opened"
            ],
            "call {call}"
        );
    }
}
