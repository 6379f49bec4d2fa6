//! A database of its own for a store test: a SQLite file in a temporary
//! directory, or a new PostgreSQL database when
//! `ESIA_LINK_TEST_DATABASE_URL` is set. Either is removed when dropped.

use std::path::PathBuf;

use uuid::Uuid;

/// A database of its own, removed when dropped.
pub(crate) struct TestDb {
    pub(crate) url: String,
    postgres: Option<(String, String)>,
    sqlite_dir: Option<PathBuf>,
}

impl TestDb {
    pub(crate) async fn fresh() -> TestDb {
        let name = format!("esia_link_store_test_{}", Uuid::new_v4().simple());
        match std::env::var("ESIA_LINK_TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                use sqlx::Connection;
                let mut admin = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .expect("connect to ESIA_LINK_TEST_DATABASE_URL");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create a test database");
                let (base, _) = admin_url.rsplit_once('/').expect("a database URL");
                TestDb {
                    url: format!("{base}/{name}"),
                    postgres: Some((admin_url, name)),
                    sqlite_dir: None,
                }
            }
            _ => {
                let dir = std::env::temp_dir().join(name);
                TestDb {
                    url: format!("sqlite://{}/store.db?mode=rwc", dir.display()),
                    postgres: None,
                    sqlite_dir: Some(dir),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.postgres.take() {
            // Drop runs outside async: a short-lived runtime on its own thread.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                runtime.block_on(async {
                    use sqlx::Connection;
                    let mut admin = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                    // FORCE ends the pool's connections still open.
                    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await
                        .ok()
                })
            })
            .join();
        }
        if let Some(dir) = self.sqlite_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
