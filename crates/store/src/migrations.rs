//! The schema's migrations, compiled into the binary.
//!
//! Listed here rather than found by `sqlx::migrate!`: that macro is the
//! only use of sqlx's `macros` feature, which compiled sqlx, its drivers,
//! SQLite and tokio a second time for the compiler's host in every fresh
//! build. The test below keeps the lists equal to `migrations/`.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use crate::Backend;

/// One migration: its version, its description (the file name's words)
/// and its SQL.
type Embedded = (i64, &'static str, &'static str);

macro_rules! migration {
    ($dir:literal, $version:literal, $name:literal) => {
        (
            $version,
            $name,
            include_str!(concat!("../../../migrations/", $dir, "/", $name, ".sql")),
        )
    };
}

const SQLITE: &[Embedded] = &[
    migration!("sqlite", 1, "0001_foundation"),
    migration!("sqlite", 2, "0002_operators"),
    migration!("sqlite", 3, "0003_schools_and_people"),
    migration!("sqlite", 4, "0004_trusted_persons"),
    migration!("sqlite", 5, "0005_family"),
    migration!("sqlite", 6, "0006_live_codes"),
    migration!("sqlite", 8, "0008_indexes_without_nulls"),
    migration!("sqlite", 9, "0009_app_grants"),
];

const POSTGRES: &[Embedded] = &[
    migration!("postgres", 1, "0001_foundation"),
    migration!("postgres", 2, "0002_operators"),
    migration!("postgres", 3, "0003_schools_and_people"),
    migration!("postgres", 4, "0004_trusted_persons"),
    migration!("postgres", 5, "0005_family"),
    migration!("postgres", 6, "0006_live_codes"),
    migration!("postgres", 7, "0007_byte_order_keys"),
    migration!("postgres", 8, "0008_indexes_without_nulls"),
    migration!("postgres", 9, "0009_app_grants"),
];

#[derive(Debug)]
struct Source(&'static [Embedded]);

/// `MigrationSource::resolve`'s future (futures' `BoxFuture`).
type Resolved = Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send>>;

impl MigrationSource<'static> for Source {
    fn resolve(self) -> Resolved {
        Box::pin(async move { Ok(self.0.iter().map(to_migration).collect()) })
    }
}

/// As `sqlx::migrate!` makes it: the description is the file name after
/// the version with `_` as spaces, and the checksum (sqlx's, of the SQL)
/// matches what databases migrated by earlier versions recorded.
fn to_migration(&(version, name, sql): &Embedded) -> Migration {
    let description = name
        .split_once('_')
        .map(|(_, words)| words.replace('_', " "))
        .unwrap_or_default();
    Migration::new(
        version,
        Cow::Owned(description),
        MigrationType::Simple,
        Cow::Borrowed(sql),
        sql.starts_with("-- no-transaction"),
    )
}

pub(crate) async fn migrator(backend: Backend) -> Result<Migrator, sqlx::migrate::MigrateError> {
    Migrator::new(Source(match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of `migrations/<dir>` is listed, under its own version,
    /// and nothing else is: a new migration file fails here until it is.
    #[test]
    fn the_lists_are_the_migration_directories() {
        for (dir, list) in [("sqlite", SQLITE), ("postgres", POSTGRES)] {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/").to_string() + dir;
            let mut files: Vec<String> = std::fs::read_dir(&path)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|name| name.ends_with(".sql"))
                .collect();
            files.sort();
            let listed: Vec<String> = list
                .iter()
                .map(|(_, name, _)| format!("{name}.sql"))
                .collect();
            assert_eq!(files, listed, "migrations/{dir}");
            for (version, name, _) in list {
                let from_name: i64 = name.split('_').next().unwrap().parse().unwrap();
                assert_eq!(*version, from_name, "{name}");
            }
        }
    }

    /// The same migrations as `sqlx::migrate!` made: descriptions as the
    /// macro wrote them into `_sqlx_migrations`.
    #[test]
    fn descriptions_are_the_file_names_words() {
        let migration = to_migration(&SQLITE[2]);
        assert_eq!(migration.version, 3);
        assert_eq!(migration.description, "schools and people");
        assert!(!migration.no_tx);
    }
}
