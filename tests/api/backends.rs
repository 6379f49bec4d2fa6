//! Which backends this run uses. `.ci/run` runs this with `--nocapture` so
//! the log shows that the PostgreSQL + Redis run really used them.

use esia_link::ephemeral::EphemeralStore;
use esia_link::store::{Backend, Store};

use crate::helpers::{fresh_database_url, redis_url};

#[tokio::test]
async fn backends_in_use() {
    let url = fresh_database_url().await;
    let store = Store::connect(&url, 2).await.expect("connect");
    store.migrate().await.expect("migrate");
    let database = match store.backend() {
        Backend::Postgres => "PostgreSQL",
        Backend::Sqlite => "SQLite",
    };
    let wants_postgres = std::env::var("ESIA_LINK_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty());
    assert_eq!(
        wants_postgres,
        database == "PostgreSQL",
        "the database the environment asked for"
    );

    let ephemeral = match redis_url() {
        Some(url) => {
            let redis = esia_link::ephemeral::RedisStore::connect(&url, "esia-link-test:backends:")
                .await
                .expect("Redis reachable at ESIA_LINK_TEST_REDIS_URL");
            redis
                .put("probe", b"1", std::time::Duration::from_secs(5))
                .await
                .expect("Redis answers");
            redis.backend_name()
        }
        None => {
            println!(
                "(ESIA_LINK_TEST_REDIS_URL not set: Redis tests skipped, in-process store used)"
            );
            "memory"
        }
    };
    if !wants_postgres {
        println!("(ESIA_LINK_TEST_DATABASE_URL not set: PostgreSQL tests skipped, SQLite used)");
    }
    println!("backends: database={database} ephemeral={ephemeral}");
}
