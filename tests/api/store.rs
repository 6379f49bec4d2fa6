//! Storage tests, the same on both backends: SQLite by default, a fresh
//! PostgreSQL database per test when `ESIA_LINK_TEST_DATABASE_URL` is set.

use chrono::{Duration, NaiveDate, Utc};
use esia_link::store::{LinkConflict, NewAccount, NewLink, NewSchool, Region, Store, StoreError};
use uuid::Uuid;

use crate::helpers::{fresh_store, TestStore};

async fn test_store() -> TestStore {
    let store = fresh_store().await;
    store
        .upsert_region(&Region {
            code: 29,
            name_ru: "Архангельская область".into(),
            name_en: "Arkhangelsk Oblast".into(),
            esia_enabled: true,
        })
        .await
        .expect("region");
    store
}

fn account(school: Uuid, surname: &str, snils: Option<&str>, login: Option<&str>) -> NewAccount {
    NewAccount {
        school_id: Some(school),
        role: "parent".into(),
        surname: surname.into(),
        given_name: "Мария".into(),
        patronymic: Some("Петровна".into()),
        birth_date: NaiveDate::from_ymd_opt(1985, 4, 12),
        snils: snils.map(str::to_string),
        login: login.map(str::to_string),
        password_hash: None,
        status: "pending".into(),
        email: None,
        phone: None,
    }
}

async fn school(store: &Store) -> Uuid {
    store
        .create_school(
            &NewSchool {
                region_code: 29,
                name: "Школа № 1".into(),
            },
            "test",
        )
        .await
        .expect("school")
        .id
}

fn link(account: Uuid, subject: &str) -> NewLink {
    NewLink {
        provider: "esia".into(),
        subject: subject.into(),
        account_id: account,
        method: "auto_snils".into(),
        tier_at_link: "standard".into(),
    }
}

#[tokio::test]
async fn migrations_are_idempotent_and_regions_upsert() {
    let store = test_store().await;
    store.migrate().await.expect("second run is a no-op");
    store
        .upsert_region(&Region {
            code: 29,
            name_ru: "Архангельская обл.".into(),
            name_en: "Arkhangelsk".into(),
            esia_enabled: false,
        })
        .await
        .expect("upsert");
    let regions = store.list_regions().await.expect("regions");
    assert_eq!(regions.len(), 1);
    assert!(!regions[0].esia_enabled);
    assert_eq!(regions[0].name_ru, "Архангельская обл.");
}

#[tokio::test]
async fn accounts_by_snils_include_duplicates_and_logins_are_unique() {
    let store = test_store().await;
    let school = school(&store).await;
    let a = store
        .create_account(
            &account(school, "Иванова", Some("20130140160"), Some("ivanova")),
            "test",
        )
        .await
        .expect("a");
    let b = store
        .create_account(
            &account(school, "Иванова", Some("20130140160"), None),
            "test",
        )
        .await
        .expect("b");
    let found = store
        .find_accounts_by_snils("20130140160")
        .await
        .expect("find");
    let ids: Vec<_> = found.iter().map(|x| x.id).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&a.id) && ids.contains(&b.id));
    assert_eq!(a.birth_date, NaiveDate::from_ymd_opt(1985, 4, 12));
    assert_eq!(a.patronymic.as_deref(), Some("Петровна"));

    let duplicate = store
        .create_account(&account(school, "Петров", None, Some("ivanova")), "test")
        .await;
    assert!(
        matches!(duplicate, Err(StoreError::DuplicateLogin)),
        "{duplicate:?}"
    );
    assert_eq!(
        store.count_accounts().await.expect("count"),
        2,
        "nothing half-written"
    );
    assert_eq!(store.account_region(a.id).await.expect("region"), Some(29));
    assert!(
        !format!("{a:?}").contains("Иванова"),
        "Debug hides the name"
    );
    assert_eq!(
        store
            .find_account_by_login("ivanova")
            .await
            .expect("login")
            .map(|x| x.id),
        Some(a.id)
    );
}

#[tokio::test]
async fn links_are_unique_both_ways_and_audited_in_the_same_transaction() {
    let store = test_store().await;
    let school = school(&store).await;
    let a = store
        .create_account(
            &account(school, "Иванова", Some("20130140160"), None),
            "test",
        )
        .await
        .expect("a");
    let b = store
        .create_account(
            &account(school, "Петрова", Some("20230240272"), None),
            "test",
        )
        .await
        .expect("b");
    let created = store
        .create_link(&link(a.id, "1000001"), "system:login", "matched")
        .await
        .expect("link");
    assert_eq!(created.account_id, a.id);

    let same_identity = store.create_link(&link(b.id, "1000001"), "t", "r").await;
    assert!(matches!(
        same_identity,
        Err(StoreError::AlreadyLinked(LinkConflict::IdentityTaken))
    ));
    let same_account = store.create_link(&link(a.id, "1000002"), "t", "r").await;
    assert!(matches!(
        same_account,
        Err(StoreError::AlreadyLinked(LinkConflict::AccountTaken))
    ));
    assert_eq!(store.links_for_account(a.id).await.expect("links").len(), 1);
    assert!(store
        .links_for_account(b.id)
        .await
        .expect("links")
        .is_empty());

    let audit = store
        .audit_for_target("account", &a.id.to_string())
        .await
        .expect("audit");
    let actions: Vec<_> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["account.created", "link.created"]);
    assert_eq!(audit[1].actor, "system:login");
    assert_eq!(audit[1].reason.as_deref(), Some("matched"));

    store
        .delete_link(created.id, "operator:anna", "second State Services account")
        .await
        .expect("unlink");
    assert!(store
        .find_link("esia", "1000001")
        .await
        .expect("find")
        .is_none());
    let audit = store
        .audit_for_target("account", &a.id.to_string())
        .await
        .expect("audit");
    assert_eq!(
        audit.last().map(|e| e.action.as_str()),
        Some("link.deleted")
    );
}

#[tokio::test]
async fn concurrent_links_for_one_account_produce_exactly_one() {
    let store = test_store().await;
    let school = school(&store).await;
    let a = store
        .create_account(
            &account(school, "Иванова", Some("20130140160"), None),
            "test",
        )
        .await
        .expect("a");
    let attempts = (0..10).map(|i| {
        let store = store.clone();
        async move {
            store
                .create_link(&link(a.id, &format!("subject-{i}")), "t", "race")
                .await
        }
    });
    let results = futures_join_all(attempts).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    let lost = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::AlreadyLinked(_))))
        .count();
    assert_eq!((won, lost), (1, 9), "{results:?}");
}

async fn futures_join_all<F, T>(futures: impl IntoIterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn activation_codes_are_consumed_once_and_expire() {
    let store = test_store().await;
    let school = school(&store).await;
    let a = store
        .create_account(&account(school, "Иванова", None, None), "test")
        .await
        .expect("a");
    let now = Utc::now();
    store
        .insert_activation_code(a.id, "hash-one", now + Duration::days(7), "school:admin")
        .await
        .expect("insert");
    store
        .insert_activation_code(a.id, "hash-old", now - Duration::seconds(1), "school:admin")
        .await
        .expect("insert");

    let takes = (0..5).map(|_| {
        let store = store.clone();
        async move { store.consume_activation_code("hash-one", Utc::now()).await }
    });
    let results = futures_join_all(takes).await;
    let winners: Vec<_> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().copied().flatten())
        .collect();
    assert_eq!(winners, vec![a.id], "{results:?}");
    assert_eq!(
        store
            .consume_activation_code("hash-old", now)
            .await
            .expect("old"),
        None
    );
    assert_eq!(
        store
            .consume_activation_code("no-such", now)
            .await
            .expect("none"),
        None
    );
}

#[tokio::test]
async fn the_audit_log_is_append_only() {
    let store = test_store().await;
    let _ = school(&store).await;
    let update = sqlx::query("UPDATE audit_log SET actor = 'someone else'")
        .execute(store.pool())
        .await;
    assert!(update.is_err(), "UPDATE refused");
    let delete = sqlx::query("DELETE FROM audit_log")
        .execute(store.pool())
        .await;
    assert!(delete.is_err(), "DELETE refused");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(store.pool())
        .await
        .expect("count");
    assert_eq!(count, 1);
}

#[tokio::test]
async fn attempts_round_trip_by_reference_and_hashes() {
    let store = test_store().await;
    // A journaled attempt is written later than it happened: its own time counts.
    let at = chrono::DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).expect("now")
        - Duration::seconds(90);
    let attempt = esia_link::store::NewAttempt {
        at,
        reference_code: "7KQ2-M9XD".into(),
        provider: "esia".into(),
        subject_masked: Some("10…01".into()),
        subject_hash: Some("subject-hash".into()),
        account_id: None,
        outcome: "no_account".into(),
        region_code: Some(29),
        tier: Some("standard".into()),
        idp_error: None,
        details: serde_json::json!({"snils": "***-***-401 60"}),
        snils_hash: Some("snils-hash".into()),
    };
    store.record_attempt(&attempt).await.expect("record");
    let found = store
        .find_attempt_by_reference("7KQ2-M9XD")
        .await
        .expect("find")
        .expect("present");
    assert_eq!(found.outcome, "no_account");
    assert_eq!(found.created_at, at);
    assert_eq!(found.region_code, Some(29));
    assert_eq!(found.details["snils"], "***-***-401 60");
    assert_eq!(
        store
            .attempts_by_snils_hash("snils-hash", 10)
            .await
            .expect("q")
            .len(),
        1
    );
    assert_eq!(
        store
            .attempts_by_subject_hash("subject-hash", 10)
            .await
            .expect("q")
            .len(),
        1
    );
    let duplicate = store.record_attempt(&attempt).await;
    assert!(duplicate.is_err(), "reference codes are unique");
}

/// The login journal's batch: many attempts in one multi-row insert and the
/// links' last-login times in one update, all or nothing.
#[tokio::test]
async fn the_login_journal_writes_a_batch_in_one_transaction() {
    let store = test_store().await;
    let school = school(&store).await;
    let mut link_ids = Vec::new();
    for (i, surname) in ["Иванова", "Петрова", "Сидорова"].iter().enumerate()
    {
        let account = store
            .create_account(&account(school, surname, None, None), "test")
            .await
            .expect("account");
        let link = store
            .create_link(
                &NewLink {
                    provider: "esia".into(),
                    subject: format!("10000{i}"),
                    account_id: account.id,
                    method: "auto_snils".into(),
                    tier_at_link: "standard".into(),
                },
                "test",
                "test",
            )
            .await
            .expect("link");
        link_ids.push(link.id);
    }
    let attempts: Vec<_> = (0..250)
        .map(|i| esia_link::store::NewAttempt {
            at: Utc::now(),
            reference_code: format!("JRNL-{i:04}"),
            provider: "esia".into(),
            subject_masked: None,
            subject_hash: None,
            account_id: None,
            outcome: "logged_in".into(),
            region_code: Some(29),
            tier: Some("standard".into()),
            idp_error: None,
            details: serde_json::json!({}),
            snils_hash: None,
        })
        .collect();
    let at = Utc::now();
    let touches: Vec<_> = link_ids.iter().map(|id| (*id, at)).collect();
    store
        .write_login_journal(&attempts, &touches)
        .await
        .expect("journal batch");
    for reference in ["JRNL-0000", "JRNL-0149", "JRNL-0249"] {
        assert!(
            store
                .find_attempt_by_reference(reference)
                .await
                .expect("query")
                .is_some(),
            "{reference} written"
        );
    }
    for i in 0..link_ids.len() {
        let link = store
            .find_link("esia", &format!("10000{i}"))
            .await
            .expect("query")
            .expect("link");
        assert_eq!(
            link.last_login_at.map(|t| t.timestamp_millis()),
            Some(at.timestamp_millis()),
            "last login written"
        );
    }
}

#[tokio::test]
async fn a_one_connection_pool_lends_the_journal_nothing_to_keep() {
    let db = crate::helpers::fresh_database().await;
    let store = Store::connect(&db.url, 1).await.expect("connect");
    store.migrate().await.expect("migrate");
    for batch in 0..2 {
        let attempt = esia_link::store::NewAttempt {
            at: Utc::now(),
            reference_code: format!("ONE-{batch}"),
            provider: "esia".into(),
            subject_masked: None,
            subject_hash: None,
            account_id: None,
            outcome: "logged_in".into(),
            region_code: None,
            tier: None,
            idp_error: None,
            details: serde_json::json!({}),
            snils_hash: None,
        };
        store
            .write_login_journal(&[attempt], &[])
            .await
            .expect("journal batch");
        // With the only connection kept by the journal this would wait out
        // the pool's acquire timeout and fail.
        assert!(store
            .find_attempt_by_reference(&format!("ONE-{batch}"))
            .await
            .expect("the pool still answers")
            .is_some());
    }
}

/// The returning-login lookup: the linked account and every account with
/// the SNILS, with the link, the region and the oldest account first.
#[tokio::test]
async fn login_candidates_come_oldest_first_with_their_link() {
    let store = test_store().await;
    let school = school(&store).await;
    let mut created = Vec::new();
    for surname in ["Иванова", "Петрова", "Сидорова"] {
        let account = store
            .create_account(&account(school, surname, Some("20130140160"), None), "test")
            .await
            .expect("account");
        created.push(account);
    }
    let other = store
        .create_account(&account(school, "Орлова", None, None), "test")
        .await
        .expect("other");
    store
        .create_link(&link(other.id, "1000001"), "test", "test")
        .await
        .expect("link");

    let mut expected: Vec<_> = created.iter().map(|a| (a.created_at, a.id)).collect();
    expected.sort();
    let by_snils = store
        .login_candidates("esia", "1000002", Some("20130140160"))
        .await
        .expect("candidates");
    let order: Vec<_> = by_snils
        .iter()
        .map(|c| (c.account.created_at, c.account.id))
        .collect();
    assert_eq!(order, expected);
    assert!(by_snils
        .iter()
        .all(|c| c.link_id.is_none() && c.region_code == Some(29)));

    let both = store
        .login_candidates("esia", "1000001", Some("20130140160"))
        .await
        .expect("candidates");
    assert_eq!(both.len(), 4);
    let linked: Vec<_> = both.iter().filter(|c| c.link_id.is_some()).collect();
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].account.id, other.id);
    assert_eq!(linked[0].linked_subject.as_deref(), Some("1000001"));
    assert!(both
        .windows(2)
        .all(|w| (w[0].account.created_at, w[0].account.id)
            <= (w[1].account.created_at, w[1].account.id)));
    assert!(store
        .login_candidates("esia", "1000003", None)
        .await
        .expect("none")
        .is_empty());
}
