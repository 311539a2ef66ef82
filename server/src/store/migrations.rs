//! Numbered SQL migrations embedded in the binary, applied at startup.
//!
//! The database's `PRAGMA user_version` records the last migration applied. Each
//! migration runs in its own transaction together with the version bump, with foreign keys
//! off (SQLite's documented procedure for rebuilding a table, which 0007 does) and checked
//! with `PRAGMA foreign_key_check` before it commits.

use rusqlite::{Connection, OptionalExtension};
use tracing::info;

use super::StoreError;

#[cfg(test)]
mod tests;

/// Every migration, in order; the number is the index plus one.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_documents.sql"),
    include_str!("migrations/0002_directory.sql"),
    include_str!("migrations/0003_projection.sql"),
    include_str!("migrations/0004_sign_in_throttle_and_audit_repeats.sql"),
    include_str!("migrations/0005_schedule_facts.sql"),
    // 0006 is another branch's; this placeholder keeps the numbering until it lands.
    "-- 0006: reserved",
    include_str!("migrations/0007_records_for_life.sql"),
];

/// Brings the database up to the newest schema.
///
/// # Errors
/// [`StoreError::SchemaTooNew`] for a database from a newer release, or the failing migration.
pub fn apply(conn: &mut Connection) -> Result<(), StoreError> {
    let supported = MIGRATIONS.len() as u32;
    let current: u32 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if current > supported {
        return Err(StoreError::SchemaTooNew {
            found: current,
            supported,
        });
    }
    if current == supported {
        return Ok(());
    }
    let foreign_keys: bool = conn.query_row("PRAGMA foreign_keys", [], |row| row.get(0))?;
    conn.pragma_update(None, "foreign_keys", false)?;
    let applied = apply_each(conn, current as usize);
    conn.pragma_update(None, "foreign_keys", foreign_keys)?;
    applied
}

fn apply_each(conn: &mut Connection, from: usize) -> Result<(), StoreError> {
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(from) {
        let version = index as u32 + 1;
        let tx = conn.transaction()?;
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
            .and_then(|()| tx.pragma_update(None, "user_version", version))
            .map_err(|source| StoreError::Migration { version, source })?;
        tx.commit()?;
        info!(version, "applied database migration");
    }
    Ok(())
}
