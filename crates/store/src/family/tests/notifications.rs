//! The notification centre: one per (account, kind, subject), marked
//! read by its own account only.

use super::*;

#[tokio::test]
async fn notifications_are_listed_and_marked_read_by_their_account_only() {
    let f = family().await;
    let subject = f.link;
    let mine = [
        notice(f.parent, "relationship_invitation", subject, 1),
        notice(f.parent, "trusted_invitation", subject, 2),
        notice(f.parent, "access_opened", subject, 3),
        notice(f.parent, "relationship_invitation", f.sister_link, 4),
        notice(f.parent, "trusted_invitation", f.sister_link, 0),
    ];
    let theirs = notice(f.stranger, "relationship_invitation", subject, 1);
    let mut all = mine.to_vec();
    all.push(theirs);
    assert_eq!(f.store.add_notifications(&all).await.expect("add"), 6);
    assert_eq!(f.store.add_notifications(&[]).await.expect("add"), 0);
    // One per (account, kind, subject): a repeat is not added and does
    // not change the first.
    let repeat = NewNotification {
        params: json!({ "minute": "changed" }),
        ..mine[0].clone()
    };
    assert_eq!(f.store.add_notifications(&[repeat]).await.expect("add"), 0);

    let listed = f.store.notifications_of(f.parent, 10).await.expect("list");
    let mut newest_first = mine.to_vec();
    newest_first.sort_by_key(|n| std::cmp::Reverse(n.created_at));
    assert_eq!(listed.len(), newest_first.len());
    for (record, added) in listed.iter().zip(&newest_first) {
        assert_eq!(
            (record.kind.as_str(), record.subject_id.as_str()),
            (added.kind.as_str(), added.subject_id.as_str())
        );
        assert_eq!(record.params, added.params);
        assert_eq!(record.created_at, added.created_at);
        assert_eq!(record.read_at, None);
    }
    let two = f.store.notifications_of(f.parent, 2).await.expect("list");
    assert_eq!(two.len(), 2);
    assert_eq!(two[0].id, listed[0].id);

    // (who marks, which, minute, found, read at minute)
    let newest = listed[0].id;
    let cases = [
        (f.stranger, newest, 5, false, None),
        (f.parent, Uuid::new_v4(), 5, false, None),
        (f.parent, newest, 6, true, Some(6)),
        (f.parent, newest, 7, true, Some(6)),
    ];
    for (account, id, minute, found, read) in cases {
        let marked = f
            .store
            .mark_notification_read(account, id, at(minute))
            .await
            .expect("mark");
        assert_eq!(marked, found, "minute {minute}");
        let now = f.store.notifications_of(f.parent, 10).await.expect("list");
        assert_eq!(now[0].read_at, read.map(at), "minute {minute}");
    }

    f.store
        .mark_subject_read(f.parent, &subject.to_string(), at(8))
        .await
        .expect("mark subject");
    let now = f.store.notifications_of(f.parent, 10).await.expect("list");
    let read_at = |kind: &str, subject: Uuid| {
        now.iter()
            .find(|n| n.kind == kind && n.subject_id == subject.to_string())
            .map(|n| n.read_at)
            .expect("a notification")
    };
    // (kind, subject, read at): invitations about the subject only; the
    // newest (about the other link) stays as it was marked before.
    let cases = [
        ("relationship_invitation", subject, Some(at(8))),
        ("trusted_invitation", subject, Some(at(8))),
        ("access_opened", subject, None),
        ("relationship_invitation", f.sister_link, Some(at(6))),
        ("trusted_invitation", f.sister_link, None),
    ];
    for (kind, subject, expected) in cases {
        assert_eq!(read_at(kind, subject), expected, "{kind} {subject}");
    }
    let others = f
        .store
        .notifications_of(f.stranger, 10)
        .await
        .expect("list");
    assert_eq!(others.len(), 1);
    assert_eq!(others[0].read_at, None, "another account's stays unread");
}
