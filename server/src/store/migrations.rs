//! Numbered SQL migrations embedded in the binary, applied at startup.
//!
//! Each migration's number is the one in its file name, and numbers may have gaps: work
//! done on separate branches takes its numbers when it starts, so 0006 can be merged (and
//! applied to a database) before 0005 is. The table `schema_migrations` therefore records
//! every number applied, and each start runs, in order, every known migration missing
//! from it. `PRAGMA user_version` is kept as the highest number applied, for tools that
//! read it; a database that has only `user_version` (from before the table) had every
//! migration up to that number applied, as those were gapless. Each migration runs in its
//! own transaction together with its row, with foreign keys off (SQLite's documented
//! procedure for rebuilding a table, which 0007 does) and checked with
//! `PRAGMA foreign_key_check` before it commits.

use rusqlite::{Connection, OptionalExtension};
use tracing::info;

use super::StoreError;

#[cfg(test)]
mod tests;

/// Every migration, by the number in its file name, in increasing order.
const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("migrations/0001_documents.sql")),
    (2, include_str!("migrations/0002_directory.sql")),
    (3, include_str!("migrations/0003_projection.sql")),
    (
        4,
        include_str!("migrations/0004_sign_in_throttle_and_audit_repeats.sql"),
    ),
    (5, include_str!("migrations/0005_schedule_facts.sql")),
    (6, include_str!("migrations/0006_sync_credentials.sql")),
    (7, include_str!("migrations/0007_records_for_life.sql")),
    (8, include_str!("migrations/0008_restricted_records.sql")),
    (9, include_str!("migrations/0009_record_corrections.sql")),
];

/// Brings the database up to the newest schema.
///
/// # Errors
/// [`StoreError::SchemaTooNew`] for a database with a migration this release does not
/// know (from a newer release), or the failing migration.
pub fn apply(conn: &mut Connection) -> Result<(), StoreError> {
    let supported = MIGRATIONS.last().map_or(0, |(number, _)| *number);
    let applied = ledger(conn)?;
    if let Some(&found) = applied
        .iter()
        .find(|number| !MIGRATIONS.iter().any(|(known, _)| known == *number))
    {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    if MIGRATIONS
        .iter()
        .all(|(version, _)| applied.contains(version))
    {
        return Ok(());
    }
    let foreign_keys: bool = conn.query_row("PRAGMA foreign_keys", [], |row| row.get(0))?;
    conn.pragma_update(None, "foreign_keys", false)?;
    let outcome = apply_missing(conn, &applied);
    conn.pragma_update(None, "foreign_keys", foreign_keys)?;
    outcome
}

/// Runs, in order, every migration not in `applied`, each in its own transaction.
fn apply_missing(conn: &mut Connection, applied: &[u32]) -> Result<(), StoreError> {
    for &(version, sql) in MIGRATIONS {
        if applied.contains(&version) {
            continue;
        }
        let tx = conn.transaction()?;
        let highest = applied
            .iter()
            .copied()
            .chain([version])
            .max()
            .unwrap_or(version);
        tx.execute_batch(sql)
            .and_then(|()| {
                let dangling: Option<String> = tx
                    .query_row("PRAGMA foreign_key_check", [], |row| row.get(0))
                    .optional()?;
                match dangling {
                    Some(table) => Err(rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
                        Some(format!("a row of {table} refers to nothing")),
                    )),
                    None => Ok(()),
                }
            })
            .and_then(|()| {
                tx.execute(
                    "INSERT INTO schema_migrations (version) VALUES (?1)",
                    [version],
                )
            })
            .and_then(|_| tx.pragma_update(None, "user_version", highest))
            .map_err(|source| StoreError::Migration { version, source })?;
        tx.commit()?;
        info!(version, "applied database migration");
    }
    Ok(())
}

/// The numbers of the migrations applied, creating the ledger (filled from `user_version`)
/// if the database has none yet.
fn ledger(conn: &mut Connection) -> Result<Vec<u32>, StoreError> {
    let tx = conn.transaction()?;
    let exists: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')",
        [],
        |row| row.get(0),
    )?;
    if !exists {
        let before: u32 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        tx.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY NOT NULL) STRICT",
        )?;
        for version in 1..=before {
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES (?1)",
                [version],
            )?;
        }
    }
    let applied = {
        let mut statement = tx.prepare("SELECT version FROM schema_migrations ORDER BY version")?;
        statement
            .query_map([], |row| row.get(0))?
            .collect::<Result<Vec<u32>, _>>()?
    };
    tx.commit()?;
    Ok(applied)
}
