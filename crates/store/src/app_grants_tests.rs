//! The apps' grants and back-channel deliveries against a fresh database
//! (SQLite, or PostgreSQL with `ESIA_LINK_TEST_DATABASE_URL`).

use chrono::{Duration, Utc};
use uuid::Uuid;

use super::*;
use crate::test_db::TestDb;
use crate::AuditFilter;

struct Grants {
    store: Store,
    account: Uuid,
    _db: TestDb,
}

async fn grants() -> Grants {
    let db = TestDb::fresh().await;
    let store = Store::connect(&db.url, 4).await.expect("connect");
    store.migrate().await.expect("migrate");
    Grants {
        store,
        account: Uuid::new_v4(),
        _db: db,
    }
}

async fn grant(g: &Grants, client: &str, session: &str, offline: bool) -> Uuid {
    let id = Uuid::new_v4();
    g.store
        .insert_app_grant(&NewAppGrant {
            id,
            client_id: client,
            account_id: g.account,
            session_id: session,
            offline,
            generation: 0,
            expires_at: Utc::now() + Duration::days(30),
            record: "{\"generation\":0}",
        })
        .await
        .expect("insert");
    id
}

#[tokio::test]
async fn a_rotation_is_a_compare_and_swap() {
    let g = grants().await;
    let id = grant(&g, "diary-web", "s1", true).await;
    assert!(g
        .store
        .rotate_app_grant(id, 0, 1, "{\"generation\":1}")
        .await
        .unwrap());
    // The loser of two concurrent refreshes read generation 0 too.
    assert!(!g
        .store
        .rotate_app_grant(id, 0, 1, "{\"stale\":true}")
        .await
        .unwrap());
    let stored = g.store.app_grant(id).await.unwrap().expect("stored");
    assert_eq!(stored.record, "{\"generation\":1}");
    assert!(!stored.revoked);
    assert_eq!(g.store.app_grant(Uuid::new_v4()).await.unwrap(), None);
}

#[tokio::test]
async fn revocations_end_what_they_name_and_say_whose_sessions_ended() {
    let g = grants().await;
    let web = grant(&g, "diary-web", "s1", false).await;
    let phone = grant(&g, "diary-app", "s1", true).await;
    let other_session = grant(&g, "diary-web", "s2", false).await;

    // Both apps of s1 hear that it ended...
    let told = g.store.app_sessions(GrantsOf::Session("s1")).await.unwrap();
    let told: Vec<_> = told.iter().map(|s| s.client_id.as_str()).collect();
    assert_eq!(told, vec!["diary-app", "diary-web"]);
    // ...but a plain logout of s1 keeps the phone's offline grant.
    let ended = g
        .store
        .revoke_app_grants(GrantsOf::Session("s1"), "account", "logout")
        .await
        .unwrap();
    assert_eq!(
        ended,
        vec![SessionOfApp {
            client_id: "diary-web".into(),
            account_id: g.account,
            session_id: "s1".into(),
        }]
    );
    assert!(g.store.app_grant(web).await.unwrap().unwrap().revoked);
    assert!(!g.store.app_grant(phone).await.unwrap().unwrap().revoked);
    // A revoked grant cannot be rotated any more.
    assert!(!g.store.rotate_app_grant(web, 0, 1, "{}").await.unwrap());

    // "Log out everywhere" ends the rest, each session once.
    let mut ended = g
        .store
        .revoke_app_grants(GrantsOf::Account(g.account), "account", "logout everywhere")
        .await
        .unwrap();
    ended.sort_by(|a, b| a.session_id.cmp(&b.session_id));
    let sessions: Vec<_> = ended
        .iter()
        .map(|s| (s.client_id.as_str(), s.session_id.as_str()))
        .collect();
    assert_eq!(sessions, vec![("diary-app", "s1"), ("diary-web", "s2")]);
    assert!(
        g.store
            .app_grant(other_session)
            .await
            .unwrap()
            .unwrap()
            .revoked
    );
    assert!(g
        .store
        .app_sessions(GrantsOf::Account(g.account))
        .await
        .unwrap()
        .is_empty());

    // Nothing left to revoke: no change, no audit row.
    let again = g
        .store
        .revoke_app_grants(GrantsOf::Grant(phone), "client:diary-app", "revocation")
        .await
        .unwrap();
    assert!(again.is_empty());
    let audit = g
        .store
        .audit_entries(&AuditFilter {
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let actions: Vec<_> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, vec!["app_grants_revoked", "app_grants_revoked"]);
}

#[tokio::test]
async fn deliveries_are_claimed_once_retried_and_given_up_with_an_audit_row() {
    let g = grants().await;
    let session = SessionOfApp {
        client_id: "diary-web".into(),
        account_id: g.account,
        session_id: "s1".into(),
    };
    g.store
        .queue_logout_deliveries(&[session.clone(), session.clone()])
        .await
        .unwrap();
    assert_eq!(g.store.logout_deliveries_owed().await.unwrap(), 2);

    let hold = std::time::Duration::from_secs(30);
    let claimed = g.store.claim_logout_deliveries(10, hold).await.unwrap();
    assert_eq!(claimed.len(), 2);
    assert_eq!(claimed[0].session, session);
    assert_eq!(claimed[0].attempts, 0);
    // Claimed: another instance gets none of them.
    assert!(g
        .store
        .claim_logout_deliveries(10, hold)
        .await
        .unwrap()
        .is_empty());

    g.store.logout_delivered(claimed[0].id).await.unwrap();
    // A failure makes it due again at the time given, not before.
    g.store
        .logout_delivery_failed(
            claimed[1].id,
            Utc::now() + Duration::hours(1),
            "connection refused",
        )
        .await
        .unwrap();
    assert!(g
        .store
        .claim_logout_deliveries(10, hold)
        .await
        .unwrap()
        .is_empty());
    g.store
        .logout_delivery_failed(claimed[1].id, Utc::now() - Duration::seconds(1), "502")
        .await
        .unwrap();
    let again = g.store.claim_logout_deliveries(10, hold).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 2);

    g.store
        .logout_delivery_abandoned(&again[0], "502")
        .await
        .unwrap();
    assert_eq!(g.store.logout_deliveries_owed().await.unwrap(), 0);
    let audit = g
        .store
        .audit_entries(&AuditFilter {
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(audit[0].action, "app_logout_undelivered");
    assert_eq!(audit[0].target_id, g.account.to_string());
}
