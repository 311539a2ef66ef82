//! Restricted records and break-glass (domain D6; migration 0008): marking a child
//! restricted, naming the people who may still see it, recording each break-glass access,
//! and the break-glass rows a team's manager is shown.
//!
//! Who sees what is decided in `directory::access` alone (its `grant_for` reads these
//! tables); this module only writes them and reads them back for people. Every change is
//! audited with the child's row, so the child's audit export shows it.

use crate::store::sql::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::audit::{AuditEntry, Outcome, append_audit};
use super::sessions::Identity;

/// Why a restriction change was refused.
#[derive(Debug, thiserror::Error)]
pub enum RestrictionError {
    /// No child with that case reference.
    #[error("no child with reference {0:?}")]
    NoSuchChild(String),
    /// No account with that username.
    #[error("no user {0:?}")]
    NoSuchUser(String),
    /// A reason is required.
    #[error("a reason is required")]
    NoReason,
    /// The child is not restricted (naming someone for it would mean nothing).
    #[error("child {0} is not restricted")]
    NotRestricted(String),
    /// The database reported an error.
    #[error(transparent)]
    Database(#[from] crate::store::StoreError),
}

/// One restricted child, as an administrator lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestrictedChild {
    /// The child's case reference.
    pub child_ref: String,
    /// Why it was restricted.
    pub reason: String,
    /// Who restricted it and when (ms).
    pub restricted_by: String,
    /// When (server time, ms).
    pub restricted_at: i64,
    /// The usernames named for it.
    pub named: Vec<String>,
}

/// One break-glass access (the JSON of `POST /api/children/{childRef}/break-glass` and
/// of the dashboard's `breakGlass` list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BreakGlass {
    /// The child's case reference.
    pub child_ref: String,
    /// Who broke the glass (username).
    pub username: String,
    /// Their display name.
    pub display_name: String,
    /// Their role (`team-manager`, `social-worker`, `records-officer`).
    pub role: String,
    /// Why, in their words.
    pub reason: String,
    /// When it was granted (server time, ms).
    pub granted_at: i64,
    /// When it ends (server time, ms).
    pub expires_at: i64,
    /// Whether it is still open at the time of asking.
    pub active: bool,
}

fn child_id(conn: &Connection, child_ref: &str) -> Result<i64, RestrictionError> {
    super::access::child_row_id(conn, child_ref)?
        .ok_or_else(|| RestrictionError::NoSuchChild(child_ref.into()))
}

fn audit(
    conn: &Connection,
    (actor, at): (&str, i64),
    action: &str,
    child_id: i64,
    detail: String,
) -> crate::store::sql::Result<()> {
    append_audit(
        conn,
        &AuditEntry::new(at, action, Outcome::Allowed)
            .by_name(None, actor)
            .child(Some(child_id))
            .detail(detail),
    )
}

/// Marks a child restricted (again: the reason is replaced).
///
/// # Errors
/// [`RestrictionError::NoReason`], unknown child, SQLite.
pub fn restrict(
    conn: &mut Connection,
    child_ref: &str,
    reason: &str,
    actor: &str,
    now: i64,
) -> Result<(), RestrictionError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(RestrictionError::NoReason);
    }
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    let child = child_id(&tx, child_ref)?;
    tx.execute(
        "INSERT INTO restricted_children (child_id, restricted_at, restricted_by, reason)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (child_id) DO UPDATE SET restricted_at = ?2, restricted_by = ?3, reason = ?4",
        params![child, now, actor, reason],
    )?;
    audit(&tx, (actor, now), "restrict", child, reason.into())?;
    tx.commit()?;
    Ok(())
}

/// Lifts a child's restriction; the names go with it.
///
/// # Errors
/// [`RestrictionError::NotRestricted`], unknown child, SQLite.
pub fn unrestrict(
    conn: &mut Connection,
    child_ref: &str,
    reason: &str,
    actor: &str,
    now: i64,
) -> Result<(), RestrictionError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(RestrictionError::NoReason);
    }
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    let child = child_id(&tx, child_ref)?;
    tx.execute("DELETE FROM restricted_named WHERE child_id = ?1", [child])?;
    if tx.execute(
        "DELETE FROM restricted_children WHERE child_id = ?1",
        [child],
    )? == 0
    {
        return Err(RestrictionError::NotRestricted(child_ref.into()));
    }
    audit(&tx, (actor, now), "unrestrict", child, reason.into())?;
    tx.commit()?;
    Ok(())
}

/// Names `username` for a restricted child (or, with `named` false, takes the name off).
///
/// # Errors
/// [`RestrictionError::NotRestricted`], unknown child or user, SQLite.
pub fn set_named(
    conn: &mut Connection,
    child_ref: &str,
    username: &str,
    named: bool,
    actor: &str,
    now: i64,
) -> Result<(), RestrictionError> {
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    let child = child_id(&tx, child_ref)?;
    let worker: i64 = tx
        .query_row(
            "SELECT worker_id FROM workers WHERE username = ?1",
            [username],
            |row| row.get(0),
        )
        .optional()?
        .ok_or_else(|| RestrictionError::NoSuchUser(username.into()))?;
    let restricted: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM restricted_children WHERE child_id = ?1)",
        [child],
        |row| row.get(0),
    )?;
    if !restricted {
        return Err(RestrictionError::NotRestricted(child_ref.into()));
    }
    let action = if named {
        tx.execute(
            "INSERT INTO restricted_named (child_id, worker_id, named_at, named_by)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO NOTHING",
            params![child, worker, now, actor],
        )?;
        "restrict-name"
    } else {
        tx.execute(
            "DELETE FROM restricted_named WHERE child_id = ?1 AND worker_id = ?2",
            params![child, worker],
        )?;
        "restrict-unname"
    };
    audit(&tx, (actor, now), action, child, username.into())?;
    tx.commit()?;
    Ok(())
}

/// Every restricted child with the people named for it, by case reference.
///
/// # Errors
/// The database's error.
pub fn list(conn: &Connection) -> crate::store::sql::Result<Vec<RestrictedChild>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.child_ref, r.reason, r.restricted_by, r.restricted_at, r.child_id
         FROM restricted_children r JOIN children c ON c.child_id = r.child_id
         ORDER BY c.child_ref",
    )?;
    let mut names = conn.prepare_cached(
        "SELECT w.username FROM restricted_named n JOIN workers w ON w.worker_id = n.worker_id
         WHERE n.child_id = ?1",
    )?;
    let rows = stmt
        .query_map([], |row| {
            Ok((
                RestrictedChild {
                    child_ref: row.get(0)?,
                    reason: row.get(1)?,
                    restricted_by: row.get(2)?,
                    restricted_at: row.get(3)?,
                    named: Vec::new(),
                },
                row.get::<_, i64>(4)?,
            ))
        })?
        .collect::<crate::store::sql::Result<Vec<_>>>()?;
    let mut children = Vec::with_capacity(rows.len());
    for (mut child, child_id) in rows {
        child.named = names
            .query_map([child_id], |row| row.get(0))?
            .collect::<crate::store::sql::Result<_>>()?;
        // In SQLite's NOCASE order (bytes with A-Z folded), which `ORDER BY w.username` gives
        // there; PostgreSQL's `nocase` collation sorts by ICU's order instead (punctuation
        // and symbols such as `_` and `@` before digits), so the sort is done here.
        child.named.sort_by(|a: &String, b: &String| {
            a.bytes()
                .map(|byte| byte.to_ascii_lowercase())
                .cmp(b.bytes().map(|byte| byte.to_ascii_lowercase()))
        });
        children.push(child);
    }
    Ok(children)
}

/// Records a break-glass access by `identity` to child row `child_id` (which
/// `access::may_break_glass` allowed) for `duration_ms` from `now`, with its audit row.
///
/// # Errors
/// The database's error.
pub fn break_glass(
    conn: &mut Connection,
    identity: &Identity,
    (child_id, child_ref): (i64, &str),
    reason: &str,
    now: i64,
    duration_ms: i64,
) -> crate::store::sql::Result<BreakGlass> {
    let expires_at = now.saturating_add(duration_ms.max(1));
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    tx.execute(
        "INSERT INTO break_glass (child_id, worker_id, reason, granted_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![child_id, identity.worker_id, reason, now, expires_at],
    )?;
    append_audit(
        &tx,
        &AuditEntry::new(now, "break-glass", Outcome::Allowed)
            .by(identity)
            .child(Some(child_id))
            .detail(format!("until {expires_at}: {reason}")),
    )?;
    tx.commit()?;
    Ok(BreakGlass {
        child_ref: child_ref.to_owned(),
        username: identity.username.clone(),
        display_name: identity.display_name.clone(),
        role: identity.role.code().to_owned(),
        reason: reason.to_owned(),
        granted_at: now,
        expires_at,
        active: true,
    })
}

/// The break-glass accesses to the children of team `team_id` that are open at `now` or
/// were granted since `since`, newest first: what the team's manager is shown. They name
/// the child by its case reference only, even a restricted child the manager may not
/// otherwise see (the manager must know a record was opened to act on it).
///
/// # Errors
/// The database's error.
pub fn team_break_glass(
    conn: &Connection,
    team_id: i64,
    now: i64,
    since: i64,
) -> crate::store::sql::Result<Vec<BreakGlass>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.child_ref, w.username, w.display_name, w.role, b.reason, b.granted_at,
                b.expires_at
         FROM break_glass b
         JOIN children c ON c.child_id = b.child_id
         JOIN workers w ON w.worker_id = b.worker_id
         WHERE c.team_id = ?1 AND (b.expires_at > ?2 OR b.granted_at >= ?3)
         ORDER BY b.granted_at DESC, b.break_glass_id DESC",
    )?;
    stmt.query_map(params![team_id, now, since], |row| {
        let expires_at: i64 = row.get(6)?;
        Ok(BreakGlass {
            child_ref: row.get(0)?,
            username: row.get(1)?,
            display_name: row.get(2)?,
            role: row.get(3)?,
            reason: row.get(4)?,
            granted_at: row.get(5)?,
            expires_at,
            active: expires_at > now,
        })
    })?
    .collect()
}
