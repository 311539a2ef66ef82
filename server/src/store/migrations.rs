//! Numbered SQL migrations embedded in the binary, applied at startup.
//!
//! The database's `PRAGMA user_version` records the last migration applied. Each
//! migration runs in its own transaction together with the version bump.

use rusqlite::Connection;
use tracing::info;

use super::StoreError;

/// Every migration, in order; the number is the index plus one.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_documents.sql"),
    include_str!("migrations/0002_directory.sql"),
    include_str!("migrations/0003_projection.sql"),
    include_str!("migrations/0004_sign_in_throttle_and_audit_repeats.sql"),
    include_str!("migrations/0006_sync_credentials.sql"),
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
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = index as u32 + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .and_then(|()| tx.pragma_update(None, "user_version", version))
            .map_err(|source| StoreError::Migration { version, source })?;
        tx.commit()?;
        info!(version, "applied database migration");
    }
    Ok(())
}
