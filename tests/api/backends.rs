//! Which backends this run uses. The whole suite runs on whatever the
//! environment points at; the two tests below check that the PostgreSQL +
//! Redis run really used them. Without `ESIA_LINK_TEST_DATABASE_URL` /
//! `ESIA_LINK_TEST_REDIS_URL` they are reported as ignored (`.ci/run` runs
//! them with `--include-ignored` next to the servers).

use esia_link::ephemeral::EphemeralStore;
use esia_link::store::Backend;

use crate::helpers::{fresh_store, redis_url};

#[tokio::test]
async fn backends_in_use() {
    let store = fresh_store().await;
    let database = match store.backend() {
        Backend::Postgres => "PostgreSQL",
        Backend::Sqlite => "SQLite",
    };
    let ephemeral = if redis_url().is_some() {
        "redis"
    } else {
        "memory"
    };
    println!("backends: database={database} ephemeral={ephemeral}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set ESIA_LINK_TEST_DATABASE_URL"]
async fn postgres_is_the_database_when_asked_for() {
    assert!(
        std::env::var("ESIA_LINK_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()),
        "set ESIA_LINK_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres"
    );
    let store = fresh_store().await;
    assert_eq!(store.backend(), Backend::Postgres);
    store.ping().await.expect("PostgreSQL answers");
}

#[tokio::test]
#[ignore = "needs Redis: set ESIA_LINK_TEST_REDIS_URL"]
async fn redis_is_the_ephemeral_store_when_asked_for() {
    let url = redis_url().expect("set ESIA_LINK_TEST_REDIS_URL=redis://127.0.0.1:6379");
    let prefix = format!("esia-link-test:{}:", uuid::Uuid::new_v4().simple());
    let redis = esia_link::ephemeral::RedisStore::connect(&url, &prefix)
        .await
        .expect("Redis reachable at ESIA_LINK_TEST_REDIS_URL");
    redis
        .put("probe", b"1", std::time::Duration::from_secs(5))
        .await
        .expect("Redis answers");
    assert_eq!(redis.backend_name(), "redis");
    redis.delete("probe").await.expect("cleanup");
}
