//! Trusted persons' accounts, and who the viewer is.

use super::*;
use crate::{LinkConflict, NewLink, StoreError};

#[tokio::test]
async fn a_trusted_account_is_created_once_per_identity() {
    let f = family().await;
    let created = f
        .store
        .create_trusted_account(
            &trusted_person("sub-1", Some("+79001234567")),
            at(1),
            |id| vec![notice(id, "trusted_invitation", "some-invitation", 1)],
        )
        .await
        .expect("create");
    assert_eq!(
        f.audit("account", created).await,
        ["account.created", "link.created"]
    );
    let notices = f.store.notifications_of(created, 10).await.expect("list");
    assert_eq!(notices.len(), 1);

    f.store
        .create_link(
            &NewLink {
                provider: "esia".into(),
                subject: "sub-parent".into(),
                account_id: f.parent,
                method: "credentials".into(),
                tier_at_link: "verified".into(),
            },
            "test",
            "test",
        )
        .await
        .expect("link the parent");
    // (provider, subject, trusted account)
    let cases = [
        ("esia", "sub-1", Some(created)),
        ("esia", "grandma", Some(f.grandma)),
        ("esia", "sub-2", None),
        ("other", "sub-1", None),
        ("esia", "sub-parent", None),
    ];
    for (provider, subject, expected) in cases {
        let found = f
            .store
            .trusted_account_for_identity(provider, subject)
            .await
            .expect("query");
        assert_eq!(found, expected, "{provider} {subject}");
    }

    // (account, role, phone verified, region, school)
    let cases = [
        (created, "trusted", true, None, None),
        (f.grandma, "trusted", false, None, None),
        (f.parent, "parent", false, Some(77), Some(f.school)),
    ];
    for (account, role, phone_verified, region, school) in cases {
        let viewer = f.store.family_viewer(account).await.expect("viewer");
        assert_eq!(viewer.person.id, account);
        assert_eq!(viewer.person.role, role);
        assert_eq!(viewer.phone_verified, phone_verified, "{role}");
        assert_eq!(viewer.region, region, "{role}");
        assert_eq!(viewer.person.school_id, school, "{role}");
    }
    let trusted = f.store.family_viewer(created).await.expect("viewer");
    assert_eq!(trusted.person.display_name(), "Петрова Галина Ивановна");
    assert_eq!(trusted.phone.as_deref(), Some("+79001234567"));
    assert!(matches!(
        f.store.family_viewer(Uuid::new_v4()).await,
        Err(StoreError::NotFound)
    ));

    // A second first login with the same identity loses, writing nothing.
    let (accounts, audit, notifications) = (
        f.count("accounts").await,
        f.count("audit_log").await,
        f.count("notifications").await,
    );
    let again = f
        .store
        .create_trusted_account(&trusted_person("sub-1", None), at(2), |id| {
            vec![notice(id, "trusted_invitation", "another-invitation", 2)]
        })
        .await;
    assert!(
        matches!(
            again,
            Err(StoreError::AlreadyLinked(LinkConflict::IdentityTaken))
        ),
        "{again:?}"
    );
    assert_eq!(
        (
            f.count("accounts").await,
            f.count("audit_log").await,
            f.count("notifications").await
        ),
        (accounts, audit, notifications)
    );
}
