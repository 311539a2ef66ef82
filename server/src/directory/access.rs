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
//! Restricted records (domain D6, migration 0008): a child marked restricted is seen only
//! by its allocated social worker (and, in the reallocation grace, its former one, who
//! syncs only what they recorded) and by the people named for it; everyone else whose
//! role would reach it (its team's manager, a records officer) is treated as if it did not
//! exist ([`SessionAccess::hidden`]). Naming widens nothing beyond a role.
//!
//! Break-glass: a person of the child's team (team manager or social worker), or a records
//! officer, may open a child they cannot see by giving a reason ([`may_break_glass`];
//! `directory::restricted::break_glass` records it). Until the row's `expires_at` the
//! child is theirs to read (never to write, create in or decide on); the grant carries
//! that time ([`SessionAccess::next_change`]) so the hub recomputes it then, and every
//! HTTP request recomputes it anyway.
//!
//! [`grant_for`] computes a session's rights as a [`SessionAccess`]: the
//! [`AccessGrant`] the hub hands the sync core (which enforces it on every sync message,
//! by the child the server's index places each document under) and the answers the HTTP
//! handlers ask of it ([`SessionAccess::may_read`], [`SessionAccess::may_decide`],
//! [`SessionAccess::managed_team`]). A document's child comes from [`document_child`],
//! the same index the core is given. The audit rows name that child's row
//! ([`SessionAccess::child_ids`]).

use std::collections::{HashMap, HashSet};

use crate::store::sql::{Connection, OptionalExtension, params};
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
    /// Restricted children its role would reach but it may not see (not named, not
    /// allocated, no break-glass): answered exactly as children that do not exist.
    pub hidden: HashSet<String>,
    /// Children it reads only by break-glass, each with when that access ends (ms).
    pub break_glass: HashMap<String, i64>,
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
            hidden: HashSet::new(),
            break_glass: HashMap::new(),
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

    /// Whether it may sign off or return the child's visits: the manager of the child's team
    /// (not by break-glass, which only reads).
    pub fn may_decide(&self, child_ref: &str) -> bool {
        self.role == Role::TeamManager
            && self.may_read(child_ref)
            && !self.break_glass.contains_key(child_ref)
    }

    /// Whether it may export the child's full record (subject access) or redact it: a
    /// records officer, unless the child is restricted and they are neither named nor in
    /// a break-glass.
    pub fn may_export(&self, child_ref: &str) -> bool {
        self.role == Role::RecordsOfficer && !self.hidden.contains(child_ref)
    }

    /// Whether it sees the child without break-glass (so asking for one makes no sense).
    pub fn sees_already(&self, child_ref: &str) -> bool {
        !self.break_glass.contains_key(child_ref)
            && match self.role {
                Role::RecordsOfficer => self.may_export(child_ref),
                _ => self.may_read(child_ref),
            }
    }

    /// When these rights next change by time alone: the first break-glass to expire (ms).
    pub fn next_change(&self) -> Option<i64> {
        self.break_glass.values().copied().min()
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
/// The database's error if the directory cannot be read.
pub fn document_child(
    conn: &Connection,
    document: &DocumentId,
) -> crate::store::sql::Result<Option<DocumentChild>> {
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
/// The database's error if the directory cannot be read.
pub fn grant_for(
    conn: &Connection,
    identity: &Identity,
    now_ms: i64,
    grace: std::time::Duration,
) -> crate::store::sql::Result<SessionAccess> {
    let mut result = SessionAccess::none(identity);
    ordinary_access(conn, identity, now_ms, grace, &mut result)?;
    apply_restrictions(conn, identity, &mut result)?;
    add_break_glass(conn, identity, now_ms, &mut result)?;
    Ok(result)
}

/// What `identity`'s role gives it, before restrictions and break-glass.
fn ordinary_access(
    conn: &Connection,
    identity: &Identity,
    now_ms: i64,
    grace: std::time::Duration,
    result: &mut SessionAccess,
) -> crate::store::sql::Result<()> {
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
            None => return Ok(()),
        },
        Role::Admin | Role::RecordsOfficer => return Ok(()),
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
    Ok(())
}

/// Takes the restricted children `identity` is neither allocated nor named for out of
/// `result`, into [`SessionAccess::hidden`].
fn apply_restrictions(
    conn: &Connection,
    identity: &Identity,
    result: &mut SessionAccess,
) -> crate::store::sql::Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.child_ref,
                EXISTS (SELECT 1 FROM restricted_named n
                        WHERE n.child_id = r.child_id AND n.worker_id = ?1)
             OR EXISTS (SELECT 1 FROM allocations a
                        WHERE a.child_id = r.child_id AND a.worker_id = ?1 AND a.ended_at IS NULL)
         FROM restricted_children r JOIN children c ON c.child_id = r.child_id",
    )?;
    let rows = stmt.query_map([identity.worker_id], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, bool>(1)?))
    })?;
    for row in rows {
        let (child_ref, permitted) = row?;
        if permitted {
            continue;
        }
        let reached = result.grant.children.remove(&child_ref).is_some();
        result.grant.may_create_for.remove(&child_ref);
        if reached || identity.role == Role::RecordsOfficer {
            result.child_ids.remove(&child_ref);
            result.hidden.insert(child_ref);
        }
    }
    Ok(())
}

/// Adds the children `identity` holds a break-glass for at `now_ms`, read-only.
fn add_break_glass(
    conn: &Connection,
    identity: &Identity,
    now_ms: i64,
    result: &mut SessionAccess,
) -> crate::store::sql::Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.child_ref, c.child_id, max(b.expires_at) FROM break_glass b
         JOIN children c ON c.child_id = b.child_id
         WHERE b.worker_id = ?1 AND b.granted_at <= ?2 AND b.expires_at > ?2
         GROUP BY c.child_id",
    )?;
    let rows = stmt.query_map(params![identity.worker_id, now_ms], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (child_ref, child_id, expires_at) = row?;
        if result.grant.children.contains_key(&child_ref) {
            // Ordinary access already: the break-glass adds nothing.
            continue;
        }
        if identity.role == Role::RecordsOfficer {
            if !result.hidden.remove(&child_ref) {
                continue;
            }
        } else {
            result.hidden.remove(&child_ref);
            result
                .grant
                .children
                .insert(child_ref.clone(), Access::ReadOnly);
        }
        result.child_ids.insert(child_ref.clone(), child_id);
        result.break_glass.insert(child_ref, expires_at);
    }
    Ok(())
}

/// The row id of the child `identity` may open by break-glass, if it may: a child of
/// its own team for a team manager or social worker, any child for a records officer;
/// never for an administrator. `None` is answered as for a child that does not exist.
///
/// # Errors
/// The database's error if the directory cannot be read.
pub fn may_break_glass(
    conn: &Connection,
    identity: &Identity,
    child_ref: &str,
) -> crate::store::sql::Result<Option<i64>> {
    let Some((child_id, team)) = conn
        .query_row(
            "SELECT child_id, team_id FROM children WHERE child_ref = ?1",
            [child_ref],
            |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Option<i64>>(1)?)),
        )
        .optional()?
    else {
        return Ok(None);
    };
    let eligible = match identity.role {
        Role::TeamManager | Role::SocialWorker => team.is_some() && team == identity.team_id,
        Role::RecordsOfficer => true,
        Role::Admin => false,
    };
    Ok(eligible.then_some(child_id))
}

/// The row id of the child with reference `child_ref`, if there is one.
///
/// # Errors
/// The database's error if the directory cannot be read.
pub fn child_row_id(conn: &Connection, child_ref: &str) -> crate::store::sql::Result<Option<i64>> {
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
/// The database's error if it cannot be read.
pub fn directory_version(conn: &Connection) -> crate::store::sql::Result<i64> {
    conn.query_row(
        "SELECT version FROM directory_version WHERE id = 1",
        [],
        |row| row.get(0),
    )
}
