//! What a signed-in worker may sync: the directory's answer as an [`AccessGrant`].
//!
//! - A social worker reads and writes the documents of the children currently allocated
//!   to them, and may create visits for those children.
//! - A team manager reads (only) the documents of their team's children.
//! - An admin administers accounts and allocations but reads no child's record.
//! - A records officer syncs nothing (subject access goes through its own API).

use std::collections::HashMap;

use rusqlite::{Connection, params};
use shared::sync::{Access, AccessGrant};

use super::Role;
use super::sessions::Identity;

/// A grant and, for auditing, each granted child's row id by its reference.
#[derive(Debug, Clone, Default)]
pub struct GrantWithChildren {
    /// The rights.
    pub grant: AccessGrant,
    /// Child reference → child row id.
    pub child_ids: HashMap<String, i64>,
}

/// Computes what `identity` may sync at `now_ms`. A social worker whose allocation of a
/// child ended less than `grace` ago still holds it as a former holder (see
/// [`Access::Former`]), so what they recorded while they held the child reaches the server.
///
/// # Errors
/// The SQLite error if the directory cannot be read.
pub fn grant_for(
    conn: &Connection,
    identity: &Identity,
    now_ms: i64,
    grace: std::time::Duration,
) -> rusqlite::Result<GrantWithChildren> {
    let mut result = GrantWithChildren::default();
    if identity.role == Role::SocialWorker {
        let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
        let mut stmt = conn.prepare_cached(
            "SELECT c.child_ref, c.child_id, max(a.ended_at) FROM allocations a
             JOIN children c ON c.child_id = a.child_id
             WHERE a.worker_id = ?1 AND a.ended_at IS NOT NULL AND a.ended_at > ?2
               AND NOT EXISTS (SELECT 1 FROM allocations now WHERE now.worker_id = a.worker_id
                               AND now.child_id = a.child_id AND now.ended_at IS NULL)
             GROUP BY c.child_id",
        )?;
        let rows = stmt.query_map(
            params![identity.worker_id, now_ms.saturating_sub(grace_ms)],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            },
        )?;
        for row in rows {
            let (child_ref, child_id, ended_at) = row?;
            let until = shared::sync::Timestamp::from_millis(u64::try_from(ended_at).unwrap_or(0));
            result.grant.former.insert(child_ref.clone(), until);
            result.child_ids.insert(child_ref, child_id);
        }
    }
    let (sql, key, access) = match identity.role {
        Role::SocialWorker => (
            "SELECT c.child_ref, c.child_id FROM allocations a
             JOIN children c ON c.child_id = a.child_id
             WHERE a.worker_id = ?1 AND a.ended_at IS NULL",
            identity.worker_id,
            Access::ReadWrite,
        ),
        Role::TeamManager => match identity.team_id {
            Some(team) => (
                "SELECT child_ref, child_id FROM children WHERE team_id = ?1",
                team,
                Access::ReadOnly,
            ),
            None => return Ok(result),
        },
        Role::Admin | Role::RecordsOfficer => return Ok(result),
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![key], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
    })?;
    for row in rows {
        let (child_ref, child_id) = row?;
        result.grant.children.insert(child_ref.clone(), access);
        if access == Access::ReadWrite {
            result.grant.may_create_for.insert(child_ref.clone());
        }
        result.child_ids.insert(child_ref, child_id);
    }
    if identity.role == Role::SocialWorker {
        // Visits carry their author's username as `workerId`.
        result.grant.author = Some(identity.username.clone());
    }
    Ok(result)
}

/// The row id of the child with reference `child_ref`, if there is one.
///
/// # Errors
/// The SQLite error if the directory cannot be read.
pub fn child_row_id(conn: &Connection, child_ref: &str) -> rusqlite::Result<Option<i64>> {
    use rusqlite::OptionalExtension;
    conn.query_row(
        "SELECT child_id FROM children WHERE child_ref = ?1",
        [child_ref],
        |row| row.get(0),
    )
    .optional()
}

/// The directory's change counter (bumped by triggers on every change that can alter a grant).
///
/// # Errors
/// The SQLite error if it cannot be read.
pub fn directory_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT version FROM directory_version WHERE id = 1",
        [],
        |row| row.get(0),
    )
}
