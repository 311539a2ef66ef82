//! What a signed-in worker may sync: the directory's answer as an [`AccessGrant`].
//!
//! - A social worker reads and writes the documents of the children currently allocated
//!   to them, and may create visits for those children.
//! - A team manager reads (only) the documents of their team's children.
//! - An admin administers accounts and allocations but reads no child's record.

use std::collections::HashMap;

use rusqlite::{Connection, params};
use shared::DocumentId;
use shared::sync::AccessGrant;

use super::Role;
use super::sessions::Identity;

/// A grant and, for auditing, the child each granted document belongs to.
#[derive(Debug, Clone, Default)]
pub struct GrantWithOwners {
    /// The rights.
    pub grant: AccessGrant,
    /// Document → child row id.
    pub owners: HashMap<DocumentId, i64>,
}

/// Computes what `identity` may sync right now.
///
/// # Errors
/// The SQLite error if the directory cannot be read.
pub fn grant_for(conn: &Connection, identity: &Identity) -> rusqlite::Result<GrantWithOwners> {
    let mut result = GrantWithOwners::default();
    match identity.role {
        Role::SocialWorker => {
            let mut stmt = conn.prepare_cached(
                "SELECT cd.document_id, c.child_id FROM allocations a
                 JOIN children c ON c.child_id = a.child_id
                 JOIN child_documents cd ON cd.child_id = c.child_id
                 WHERE a.worker_id = ?1 AND a.ended_at IS NULL",
            )?;
            for (document, child) in documents(&mut stmt, params![identity.worker_id])? {
                result.grant.read_write.insert(document);
                result.owners.insert(document, child);
            }
            let mut stmt = conn.prepare_cached(
                "SELECT c.child_ref FROM allocations a JOIN children c ON c.child_id = a.child_id
                 WHERE a.worker_id = ?1 AND a.ended_at IS NULL",
            )?;
            let refs = stmt.query_map([identity.worker_id], |row| row.get::<_, String>(0))?;
            for child_ref in refs {
                result.grant.may_create_for.insert(child_ref?);
            }
        }
        Role::TeamManager => {
            if let Some(team) = identity.team_id {
                let mut stmt = conn.prepare_cached(
                    "SELECT cd.document_id, c.child_id FROM children c
                     JOIN child_documents cd ON cd.child_id = c.child_id
                     WHERE c.team_id = ?1",
                )?;
                for (document, child) in documents(&mut stmt, params![team])? {
                    result.grant.read_only.insert(document);
                    result.owners.insert(document, child);
                }
            }
        }
        Role::Admin => {}
    }
    Ok(result)
}

fn documents(
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<(DocumentId, i64)>> {
    let rows = stmt.query_map(params, |row| {
        Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, i64>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (bytes, child) = row?;
        if let Ok(bytes) = <[u8; 16]>::try_from(bytes.as_slice()) {
            out.push((DocumentId::from_bytes(bytes), child));
        }
    }
    Ok(out)
}

/// The team of the child with case reference `child_ref`.
///
/// # Errors
/// The SQLite error if the directory cannot be read.
pub fn team_of_child(conn: &Connection, child_ref: &str) -> rusqlite::Result<Option<i64>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row(
            "SELECT team_id FROM children WHERE child_ref = ?1",
            [child_ref],
            |row| row.get::<_, Option<i64>>(0),
        )
        .optional()?
        .flatten())
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
