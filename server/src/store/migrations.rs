//! Numbered SQL migrations embedded in the binary, applied at startup.
//!
//! Each migration's number is the one in its file name, and numbers may have gaps: work
//! done on separate branches takes its numbers when it starts, so 0006 can be merged (and
//! applied to a database) before 0005 is. The table `schema_migrations` therefore records
//! every number applied, and each start runs, in order, every known migration missing
//! from it. `PRAGMA user_version` is kept as the highest number applied, for tools that
//! read it; a database that has only `user_version` (from before the table) had every
//! migration up to that number applied, as those were gapless. Each migration runs in its
//! own transaction together with its row.

use rusqlite::Connection;
use tracing::info;

use super::StoreError;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(conn: &Connection) -> Vec<u32> {
        let mut statement = conn
            .prepare("SELECT version FROM schema_migrations ORDER BY version")
            .expect("prepare");
        statement
            .query_map([], |row| row.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    }

    #[test]
    fn a_fresh_database_gets_every_migration_by_its_file_number() {
        let mut conn = Connection::open_in_memory().expect("open");
        apply(&mut conn).expect("migrate");
        let expected: Vec<u32> = MIGRATIONS.iter().map(|(number, _)| *number).collect();
        assert_eq!(numbers(&conn), expected);
        let version: u32 = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .expect("version");
        assert_eq!(version, *expected.last().expect("one"));
        // A second start applies nothing.
        apply(&mut conn).expect("again");
        assert_eq!(numbers(&conn), expected);
    }

    #[test]
    fn a_database_from_before_the_ledger_keeps_what_user_version_says() {
        let mut conn = Connection::open_in_memory().expect("open");
        for (_, sql) in &MIGRATIONS[..4] {
            conn.execute_batch(sql).expect("old migration");
        }
        conn.pragma_update(None, "user_version", 4)
            .expect("version");
        apply(&mut conn).expect("migrate");
        assert_eq!(numbers(&conn), vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn a_migration_numbered_below_one_applied_still_runs() {
        // As when 0006 was applied before a branch with 0005 was merged: the ledger lacks
        // a number lower than its highest, and that migration is still applied.
        let mut conn = Connection::open_in_memory().expect("open");
        apply(&mut conn).expect("migrate");
        conn.execute("DELETE FROM schema_migrations WHERE version = 4", [])
            .expect("forget 4");
        let err = apply(&mut conn).expect_err("0004 reapplied onto its own tables fails");
        assert!(
            matches!(err, StoreError::Migration { version: 4, .. }),
            "{err}"
        );
    }
}
