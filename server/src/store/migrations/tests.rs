//! Tests of the migrations on a database that already holds data: 0007 rebuilds `workers`
//! (its role check gains `records-officer`) and keeps every row, every reference to it and
//! its triggers; and the ledger `schema_migrations` numbers them by their file names.

use rusqlite::Connection;

use super::{MIGRATIONS, StoreError, apply};

/// A database at version 6 with a team, two workers, a child, an allocation and a device.
fn database_at_version_6() -> Connection {
    let conn = Connection::open_in_memory().expect("db");
    conn.pragma_update(None, "foreign_keys", true).expect("fk");
    for (_, sql) in &MIGRATIONS[..6] {
        conn.execute_batch(sql).expect("migration");
    }
    conn.pragma_update(None, "user_version", 6)
        .expect("version");
    conn.execute_batch(
        "INSERT INTO teams (team_id, name, created_at) VALUES (1, 'North', 0);
         INSERT INTO workers (worker_id, username, display_name, role, team_id, password_hash, created_at)
             VALUES (10, 'sw-north-1', 'Sam', 'social-worker', 1, 'hash', 0),
                    (11, 'mgr-north', 'Morgan', 'team-manager', 1, 'hash', 0);
         INSERT INTO children (child_id, child_ref, team_id, created_at) VALUES (5, 'C-1', 1, 0);
         INSERT INTO allocations (child_id, worker_id, started_at) VALUES (5, 10, 0);
         INSERT INTO devices (device_id, worker_id, created_at) VALUES ('tablet', 10, 0);",
    )
    .expect("rows");
    conn
}

#[test]
fn migration_7_keeps_the_workers_their_references_and_triggers() {
    let mut conn = database_at_version_6();
    apply(&mut conn).expect("migrate");
    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, MIGRATIONS.last().expect("one").0);
    let foreign_keys: bool = conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .expect("pragma");
    assert!(foreign_keys, "foreign keys are on again after migrating");
    let workers: Vec<(i64, String, String)> = conn
        .prepare("SELECT worker_id, username, role FROM workers ORDER BY worker_id")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows");
    assert_eq!(
        workers,
        vec![
            (10, "sw-north-1".into(), "social-worker".into()),
            (11, "mgr-north".into(), "team-manager".into()),
        ]
    );
    let dangling: Option<String> = conn
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .ok();
    assert_eq!(dangling, None);
    // The rebuilt table still enforces its references, accepts the new role and bumps the
    // directory version through its triggers.
    assert!(
        conn.execute(
            "INSERT INTO allocations (child_id, worker_id, started_at) VALUES (5, 99, 0)",
            []
        )
        .is_err(),
        "an allocation to no worker is refused"
    );
    let before: i64 = conn
        .query_row("SELECT version FROM directory_version", [], |r| r.get(0))
        .expect("version");
    conn.execute(
        "INSERT INTO workers (username, display_name, role, password_hash, created_at)
         VALUES ('records-1', 'Rene', 'records-officer', 'hash', 0)",
        [],
    )
    .expect("a records officer");
    let after: i64 = conn
        .query_row("SELECT version FROM directory_version", [], |r| r.get(0))
        .expect("version");
    assert!(after > before);
    assert!(
        conn.execute(
            "INSERT INTO workers (username, display_name, role, password_hash, created_at)
             VALUES ('x', 'X', 'janitor', 'hash', 0)",
            []
        )
        .is_err(),
        "the role check stands"
    );
    assert!(
        conn.execute(
            "INSERT INTO workers (username, display_name, role, password_hash, created_at)
             VALUES ('SW-NORTH-1', 'Dup', 'admin', 'hash', 0)",
            []
        )
        .is_err(),
        "usernames stay unique regardless of case"
    );
}

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
    // Every migration is in the ledger: 1-4 as recorded by `user_version`, the rest applied.
    let every: Vec<u32> = MIGRATIONS.iter().map(|(number, _)| *number).collect();
    assert_eq!(numbers(&conn), every);
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
