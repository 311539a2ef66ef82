//! What a signed-in worker may sync: the directory's answer as an [`AccessGrant`].
//!
//! - A social worker reads and writes the documents of the children currently allocated
//!   to them, and may create visits for those children.
//! - A team manager reads (only) the documents of their team's children.
//! - An admin administers accounts and allocations but reads no child's record.

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

/// Computes what `identity` may sync right now.
///
/// # Errors
/// The SQLite error if the directory cannot be read.
pub fn grant_for(conn: &Connection, identity: &Identity) -> rusqlite::Result<GrantWithChildren> {
    let mut result = GrantWithChildren::default();
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
        Role::Admin => return Ok(result),
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
