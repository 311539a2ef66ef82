//! The PostgreSQL schema: the numbered migrations of `store/postgres_migrations/`, one per
//! SQLite migration of the same number and name (`store/migrations/`), with the same
//! tables, keys and trigger behaviour in PostgreSQL's terms (`tests/sql/` checks the two
//! schemas against each other on a private cluster).
//!
//! As for SQLite, `schema_migrations` records every number applied and each start runs
//! the missing ones in order, each with its row, all in one transaction (a failure leaves
//! the schema as it was). Replicas may start together: a transaction-level advisory lock
//! lets one migrate while the others wait, then find nothing left to do. The database must compare text byte by byte, as SQLite does
//! (`ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`); another is refused with a message
//! saying how to create it.

use tracing::info;

use super::StoreError;

/// Every migration, by the number in its file name, in increasing order.
const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("postgres_migrations/0001_documents.sql")),
    (2, include_str!("postgres_migrations/0002_directory.sql")),
    (3, include_str!("postgres_migrations/0003_projection.sql")),
    (
        4,
        include_str!("postgres_migrations/0004_sign_in_throttle_and_audit_repeats.sql"),
    ),
    (
        5,
        include_str!("postgres_migrations/0005_schedule_facts.sql"),
    ),
    (
        6,
        include_str!("postgres_migrations/0006_sync_credentials.sql"),
    ),
    (
        7,
        include_str!("postgres_migrations/0007_records_for_life.sql"),
    ),
    (
        8,
        include_str!("postgres_migrations/0008_restricted_records.sql"),
    ),
    (
        9,
        include_str!("postgres_migrations/0009_record_corrections.sql"),
    ),
];

/// The advisory lock key migrations hold (any constant; "doorstep" in ASCII, truncated).
const MIGRATION_LOCK: i64 = 0x646f_6f72_7374_6570;

/// Brings the database up to the newest schema.
///
/// # Errors
/// [`StoreError::WrongCollation`] for a database that does not sort text byte by byte,
/// [`StoreError::SchemaTooNew`] for one with a migration this release does not know, or
/// the failing migration ([`StoreError::PostgresMigration`]).
pub fn apply(client: &mut postgres::Client) -> Result<(), StoreError> {
    let supported = MIGRATIONS.last().map_or(0, |(number, _)| *number);
    let collation: String = client
        .query_one(
            "SELECT datcollate FROM pg_database WHERE datname = current_database()",
            &[],
        )?
        .get(0);
    if collation != "C" {
        return Err(StoreError::WrongCollation(collation));
    }
    let mut tx = client.transaction()?;
    tx.query_one("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY NOT NULL)",
    )?;
    let applied: Vec<u32> = tx
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )?
        .iter()
        .map(|row| u32::try_from(row.get::<_, i64>(0)).unwrap_or(u32::MAX))
        .collect();
    if let Some(&found) = applied
        .iter()
        .find(|number| !MIGRATIONS.iter().any(|(known, _)| known == *number))
    {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    for &(version, sql) in MIGRATIONS {
        if applied.contains(&version) {
            continue;
        }
        let mut step = tx.transaction()?;
        step.batch_execute(sql)
            .and_then(|()| {
                step.execute(
                    "INSERT INTO schema_migrations (version) VALUES ($1)",
                    &[&i64::from(version)],
                )
            })
            .map_err(|source| StoreError::PostgresMigration { version, source })?;
        step.commit()?;
        info!(version, "applied PostgreSQL migration");
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_sqlite_migration_has_its_postgres_form_of_the_same_number_and_name() {
        let names = |dir: &str| -> Vec<String> {
            let mut names: Vec<String> =
                std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
                    .expect("migrations folder")
                    .filter_map(|entry| entry.ok())
                    .map(|entry| entry.file_name().to_string_lossy().into_owned())
                    .filter(|name| name.ends_with(".sql"))
                    .collect();
            names.sort();
            names
        };
        let sqlite = names("src/store/migrations");
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, names("src/store/postgres_migrations"));
        assert_eq!(super::MIGRATIONS.len(), sqlite.len());
    }
}
