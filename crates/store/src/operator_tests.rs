//! Operator actions against a fresh database (SQLite, or PostgreSQL with
//! `ESIA_LINK_TEST_DATABASE_URL`).

use serde_json::json;

use super::*;
use crate::test_db::TestDb;
use crate::{AuditFilter, NewAccount};

fn locked(account: Uuid, previous: &str) -> NewAuditEntry {
    NewAuditEntry {
        actor: "operator:test".into(),
        action: "account.locked".into(),
        target_kind: "account".into(),
        target_id: account.to_string(),
        reason: Some("the parent reported a stolen phone".into()),
        details: json!({ "previous_status": previous }),
    }
}

#[tokio::test]
async fn a_status_change_is_a_compare_and_swap_with_its_audit_row() {
    let db = TestDb::fresh().await;
    let store = Store::connect(&db.url, 4).await.expect("connect");
    store.migrate().await.expect("migrate");
    let account = store
        .create_account(
            &NewAccount {
                school_id: None,
                role: "parent".into(),
                surname: "Зайцева".into(),
                given_name: "Анна".into(),
                patronymic: None,
                birth_date: None,
                snils: None,
                login: Some("zaytseva.a".into()),
                password_hash: None,
                status: "active".into(),
                email: None,
                phone: None,
            },
            "test",
        )
        .await
        .expect("account");

    store
        .change_account_status(
            account.id,
            "active",
            "blocked",
            &locked(account.id, "active"),
        )
        .await
        .expect("locked");
    assert_eq!(
        store.get_account(account.id).await.unwrap().status,
        "blocked"
    );

    // A second lock read the old status: nothing changes, nothing audited.
    let again = store
        .change_account_status(
            account.id,
            "active",
            "blocked",
            &locked(account.id, "active"),
        )
        .await;
    assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
    let rows = store
        .audit_entries(&AuditFilter {
            action: Some("account.locked".into()),
            target_id: Some(account.id.to_string()),
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .expect("audit");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].details["previous_status"], "active");
    assert_eq!(rows[0].actor, "operator:test");
}
