//! The one access policy: may this session read, write or create in a document, and may
//! it decide on (sign off or return) a visit, decided by the document's child.
//!
//! - A social worker reads and writes the documents of the children currently allocated
//!   to them, and may create visits for those children.
//! - A team manager reads (only) the documents of their team's children, and decides on
//!   their visits; the team dashboard is theirs alone.
//! - An admin administers accounts and allocations but reads no child's record.
//! - A records officer syncs nothing (subject access goes through its own API).
//!
//! [`grant_for`] computes a session's rights as a [`SessionAccess`]: the
//! [`AccessGrant`] the hub hands the sync core (which enforces it on every sync message,
//! by the child the server's index places each document under) and the answers the HTTP
//! handlers ask of it ([`SessionAccess::may_read`], [`SessionAccess::may_decide`],
//! [`SessionAccess::managed_team`]). A document's child comes from [`document_child`],
//! the same index the core is given. The audit rows name that child's row
//! ([`SessionAccess::child_ids`]).

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};
use shared::DocumentId;
use shared::sync::{Access, AccessGrant};

use super::Role;
use super::sessions::Identity;

/// What one session may do, by child.
#[derive(Debug, Clone)]
pub struct SessionAccess {
    /// The rights, as the sync core enforces them.
    pub grant: AccessGrant,
    /// Child reference → child row id, for the audit rows.
    pub child_ids: HashMap<String, i64>,
    /// The role the rights come from.
    role: Role,
    /// The team a team manager manages.
    team: Option<i64>,
}

/// Where the server's index places a visit document: its child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentChild {
    /// The child's reference (as documents name it).
    pub child_ref: String,
    /// The child's row id.
    pub child_row: i64,
}

/// Why a session has no team dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoTeam {
    /// A team manager without a team.
    Unassigned,
    /// Not a team manager.
    NotAManager,
}

impl SessionAccess {
    fn none(identity: &Identity) -> Self {
        Self {
            grant: AccessGrant::default(),
            child_ids: HashMap::new(),
            role: identity.role,
            team: identity.team_id,
        }
    }

    /// Whether it may read the child's documents now (a former holder, in the grace after
    /// a reallocation, syncs what they recorded but reads nothing through the API).
    pub fn may_read(&self, child_ref: &str) -> bool {
        self.grant.children.contains_key(child_ref)
    }

    /// Whether it may change the child's documents.
    pub fn may_write(&self, child_ref: &str) -> bool {
        self.grant.children.get(child_ref) == Some(&Access::ReadWrite)
    }

    /// Whether it may create visits for the child.
    pub fn may_create(&self, child_ref: &str) -> bool {
        self.grant.may_create_for.contains(child_ref)
    }

    /// Whether it may sign off or return the child's visits: the manager of the child's team.
    pub fn may_decide(&self, child_ref: &str) -> bool {
        self.role == Role::TeamManager && self.may_read(child_ref)
    }

    /// The team whose dashboard it may see.
    ///
    /// # Errors
    /// Why it has none.
    pub fn managed_team(&self) -> Result<i64, NoTeam> {
        match (self.role, self.team) {
            (Role::TeamManager, Some(team)) => Ok(team),
            (Role::TeamManager, None) => Err(NoTeam::Unassigned),
            _ => Err(NoTeam::NotAManager),
        }
    }
}

/// The child the server's index places visit document `document` under, if it is one.
///
/// # Errors
/// The SQLite error if the directory cannot be read.
pub fn document_child(
    conn: &Connection,
    document: &DocumentId,
) -> rusqlite::Result<Option<DocumentChild>> {
    conn.query_row(
        "SELECT c.child_ref, c.child_id FROM child_documents d
         JOIN children c ON c.child_id = d.child_id
         WHERE d.document_id = ?1 AND d.kind = 'visit'",
        [document.as_bytes().as_slice()],
        |row| {
            Ok(DocumentChild {
                child_ref: row.get(0)?,
                child_row: row.get(1)?,
            })
        },
    )
    .optional()
}

/// Computes what `identity` may do at `now_ms`. A social worker whose allocation of a
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
) -> rusqlite::Result<SessionAccess> {
    let mut result = SessionAccess::none(identity);
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
