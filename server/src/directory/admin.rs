//! Administration of the directory: teams, accounts, children, allocations, devices.
//!
//! Every change writes an audit row in the same transaction (actor `admin-cli` unless
//! given). Errors are [`AdminError`]s an administrator can act on. Each takes the time it
//! stamps (`now`, ms since the epoch) from its caller: the command line reads its one
//! [`crate::clock::Clock`] at its entry point.

use crate::store::sql::{Connection, OptionalExtension, params};
use automerge::Automerge;
use shared::DocumentId;
use shared::model::{self, NewChild};

use super::audit::{AuditEntry, Outcome, append_audit};
use super::{Role, hash_password};

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Why an administrative change was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No team by that name.
    #[error("no team named {0:?}")]
    NoSuchTeam(String),
    /// No account by that username.
    #[error("no user named {0:?}")]
    NoSuchUser(String),
    /// No child with that case reference.
    #[error("no child with reference {0:?}")]
    NoSuchChild(String),
    /// No device with that id.
    #[error("no device {0:?}")]
    NoSuchDevice(String),
    /// The name is taken.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The password is too short.
    #[error("password must have at least {MIN_PASSWORD_CHARS} characters")]
    WeakPassword,
    /// Only social workers hold allocations.
    #[error("{0} is not a social worker, so cannot hold a caseload")]
    NotASocialWorker(String),
    /// The child is already with that worker.
    #[error("child {child} is already allocated to {worker}")]
    AlreadyAllocated {
        /// Case reference.
        child: String,
        /// Username.
        worker: String,
    },
    /// The child is not with that worker.
    #[error("child {child} is not allocated to {worker}")]
    NotAllocated {
        /// Case reference.
        child: String,
        /// Username.
        worker: String,
    },
    /// The child document could not be made.
    #[error("child record: {0}")]
    Model(#[from] model::ModelError),
    /// Hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The database reported an error.
    #[error(transparent)]
    Database(#[from] crate::store::StoreError),
}

fn audit_admin(
    conn: &Connection,
    now: i64,
    action: &str,
    child_id: Option<i64>,
    detail: String,
) -> crate::store::sql::Result<()> {
    append_audit(
        conn,
        &AuditEntry::new(now, action, Outcome::Allowed)
            .by_name(None, "admin-cli")
            .child(child_id)
            .detail(detail),
    )
}

/// Adds a team; returns its id.
///
/// # Errors
/// [`AdminError::AlreadyExists`] if the name is taken.
pub fn add_team(conn: &mut Connection, name: &str, now: i64) -> Result<i64, AdminError> {
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    let exists: Option<i64> = tx
        .query_row("SELECT team_id FROM teams WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .optional()?;
    if exists.is_some() {
        return Err(AdminError::AlreadyExists(format!("team {name:?}")));
    }
    tx.execute(
        "INSERT INTO teams (name, created_at) VALUES (?1, ?2)",
        params![name, now],
    )?;
    let id = tx.last_insert_rowid()?;
    audit_admin(&tx, now, "team-add", None, format!("team {name}"))?;
    tx.commit()?;
    Ok(id)
}

fn team_id(conn: &Connection, name: &str) -> Result<i64, AdminError> {
    conn.query_row("SELECT team_id FROM teams WHERE name = ?1", [name], |r| {
        r.get(0)
    })
    .optional()?
    .ok_or_else(|| AdminError::NoSuchTeam(name.into()))
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// Sign-in name.
    pub username: &'a str,
    /// Name shown to people.
    pub display_name: &'a str,
    /// Role.
    pub role: Role,
    /// Team name (needed for social workers and managers).
    pub team: Option<&'a str>,
    /// Password (hashed with argon2id; never stored).
    pub password: &'a str,
}

/// Adds an account; returns its id.
///
/// # Errors
/// [`AdminError::WeakPassword`], [`AdminError::NoSuchTeam`], [`AdminError::AlreadyExists`].
pub fn add_user(conn: &mut Connection, user: &NewUser<'_>, now: i64) -> Result<i64, AdminError> {
    if user.password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AdminError::WeakPassword);
    }
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    let team = user.team.map(|name| team_id(&tx, name)).transpose()?;
    let taken: Option<i64> = tx
        .query_row(
            "SELECT worker_id FROM workers WHERE username = ?1",
            [user.username],
            |r| r.get(0),
        )
        .optional()?;
    if taken.is_some() {
        return Err(AdminError::AlreadyExists(format!(
            "username {:?}",
            user.username
        )));
    }
    let hash = hash_password(user.password).map_err(|e| AdminError::Hash(e.to_string()))?;
    tx.execute(
        "INSERT INTO workers (username, display_name, role, team_id, password_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            user.username,
            user.display_name,
            user.role.code(),
            team,
            hash,
            now
        ],
    )?;
    let id = tx.last_insert_rowid()?;
    audit_admin(
        &tx,
        now,
        "user-add",
        None,
        format!("{} as {}", user.username, user.role.code()),
    )?;
    tx.commit()?;
    Ok(id)
}

/// Replaces a user's password and ends their sessions (they sign in again).
///
/// # Errors
/// [`AdminError::WeakPassword`], [`AdminError::NoSuchUser`].
pub fn set_password(
    conn: &mut Connection,
    username: &str,
    password: &str,
    now: i64,
) -> Result<(), AdminError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AdminError::WeakPassword);
    }
    let hash = hash_password(password).map_err(|e| AdminError::Hash(e.to_string()))?;
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    let (worker, _) = worker_row(&tx, username)?;
    tx.execute(
        "UPDATE workers SET password_hash = ?2 WHERE worker_id = ?1",
        params![worker, hash],
    )?;
    tx.execute(
        "UPDATE sessions SET revoked_at = ?2 WHERE worker_id = ?1 AND revoked_at IS NULL",
        params![worker, now],
    )?;
    audit_admin(&tx, now, "password-set", None, format!("for {username}"))?;
    tx.commit()?;
    Ok(())
}

/// Records that the audit trail of a child was exported.
///
/// # Errors
/// [`AdminError::NoSuchChild`] or the database's error.
pub fn record_audit_export(conn: &Connection, child_ref: &str, now: i64) -> Result<(), AdminError> {
    let child = child_row(conn, child_ref)?;
    audit_admin(
        conn,
        now,
        "audit-export",
        Some(child),
        format!("child {child_ref}"),
    )?;
    Ok(())
}

/// Adds a child: its directory row and its Automerge child document with its placement
/// (stored as a snapshot and indexed). Returns the child document's id.
///
/// # Errors
/// [`AdminError::NoSuchTeam`], [`AdminError::AlreadyExists`], or a model error.
pub fn add_child(
    conn: &mut Connection,
    team: &str,
    child: &NewChild,
    now: i64,
) -> Result<DocumentId, AdminError> {
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    let document = insert_child(&tx, team, child, now)?;
    tx.commit()?;
    Ok(document)
}

/// [`add_child`] inside the caller's transaction.
pub(crate) fn insert_child(
    tx: &Connection,
    team: &str,
    child: &NewChild,
    now: i64,
) -> Result<DocumentId, AdminError> {
    let team = team_id(tx, team)?;
    let exists: Option<i64> = tx
        .query_row(
            "SELECT child_id FROM children WHERE child_ref = ?1",
            [&child.child_id],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_some() {
        return Err(AdminError::AlreadyExists(format!(
            "child {:?}",
            child.child_id
        )));
    }
    let mut doc = Automerge::new();
    let mut edit = doc.transaction();
    model::create_child(&mut edit, child)?;
    edit.commit();
    let document = new_document_id();
    tx.execute(
        "INSERT INTO children (child_ref, team_id, document_id, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![child.child_id, team, document.as_bytes().as_slice(), now],
    )?;
    let child_row = tx.last_insert_rowid()?;
    store_document(tx, document, child_row, "child", &doc, now)?;
    audit_admin(
        tx,
        now,
        "child-add",
        Some(child_row),
        format!("child {}", child.child_id),
    )?;
    Ok(document)
}

/// A fresh random document id, as automerge-repo makes them.
pub(crate) fn new_document_id() -> DocumentId {
    let mut id_bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut id_bytes);
    DocumentId::from_bytes(id_bytes)
}

/// Stores a whole document as one snapshot chunk, indexes it under a child and writes
/// its projection rows.
///
/// # Errors
/// The database's error.
pub fn store_document(
    conn: &Connection,
    document: DocumentId,
    child_row: i64,
    kind: &str,
    doc: &Automerge,
    now: i64,
) -> crate::store::sql::Result<()> {
    conn.execute(
        "INSERT INTO document_chunks (document_id, kind, data, written_at) VALUES (?1, 'snapshot', ?2, ?3)",
        params![document.as_bytes().as_slice(), doc.save(), now],
    )?;
    conn.execute(
        "INSERT INTO child_documents (document_id, child_id, kind, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![document.as_bytes().as_slice(), child_row, kind, now],
    )?;
    // Their receipt, like the hub's: a later batch (a manager's decision) must not be taken
    // for the batch that brought these changes. No sender: an administrator stored them.
    let heads: Vec<u8> = doc.get_heads().iter().flat_map(|head| head.0).collect();
    conn.execute(
        "INSERT INTO change_batches (document_id, received_at, worker_ref, heads) VALUES (?1, ?2, NULL, ?3)",
        params![document.as_bytes().as_slice(), now, heads],
    )?;
    // Documents written here bypass the hub: project them in the same transaction too.
    let policy =
        shared::schedule::SchedulePolicy::statutory(shared::schedule::Jurisdiction::England);
    crate::projection::write_rows(
        conn,
        &document,
        &crate::projection::DocumentRows::of(doc, &policy),
    )
}

pub(crate) fn child_row(conn: &Connection, child_ref: &str) -> Result<i64, AdminError> {
    conn.query_row(
        "SELECT child_id FROM children WHERE child_ref = ?1",
        [child_ref],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| AdminError::NoSuchChild(child_ref.into()))
}

fn worker_row(conn: &Connection, username: &str) -> Result<(i64, Role), AdminError> {
    conn.query_row(
        "SELECT worker_id, role FROM workers WHERE username = ?1",
        [username],
        |r| Ok((r.get(0)?, r.get::<_, String>(1)?)),
    )
    .optional()?
    .map(|(id, role)| (id, Role::from_code(&role).unwrap_or(Role::Admin)))
    .ok_or_else(|| AdminError::NoSuchUser(username.into()))
}

/// Allocates a child to a social worker (from now).
///
/// # Errors
/// Unknown child or user, not a social worker, or already allocated.
pub fn allocate(
    conn: &mut Connection,
    child_ref: &str,
    username: &str,
    now: i64,
) -> Result<(), AdminError> {
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    insert_allocation(&tx, child_ref, username, now)?;
    tx.commit()?;
    Ok(())
}

/// [`allocate`] inside the caller's transaction.
pub(crate) fn insert_allocation(
    tx: &Connection,
    child_ref: &str,
    username: &str,
    now: i64,
) -> Result<(), AdminError> {
    let child = child_row(tx, child_ref)?;
    let (worker, role) = worker_row(tx, username)?;
    if role != Role::SocialWorker {
        return Err(AdminError::NotASocialWorker(username.into()));
    }
    let current: Option<i64> = tx
        .query_row(
            "SELECT allocation_id FROM allocations WHERE child_id = ?1 AND worker_id = ?2 AND ended_at IS NULL",
            params![child, worker],
            |r| r.get(0),
        )
        .optional()?;
    if current.is_some() {
        return Err(AdminError::AlreadyAllocated {
            child: child_ref.into(),
            worker: username.into(),
        });
    }
    tx.execute(
        "INSERT INTO allocations (child_id, worker_id, started_at) VALUES (?1, ?2, ?3)",
        params![child, worker, now],
    )?;
    audit_admin(tx, now, "allocate", Some(child), format!("to {username}"))?;
    Ok(())
}

/// Ends a child's allocation to a worker (from now).
///
/// # Errors
/// Unknown child or user, or not allocated.
pub fn deallocate(
    conn: &mut Connection,
    child_ref: &str,
    username: &str,
    now: i64,
) -> Result<(), AdminError> {
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    let child = child_row(&tx, child_ref)?;
    let (worker, _) = worker_row(&tx, username)?;
    let ended = tx.execute(
        "UPDATE allocations SET ended_at = ?3 WHERE child_id = ?1 AND worker_id = ?2 AND ended_at IS NULL",
        params![child, worker, now],
    )?;
    if ended == 0 {
        return Err(AdminError::NotAllocated {
            child: child_ref.into(),
            worker: username.into(),
        });
    }
    audit_admin(
        &tx,
        now,
        "deallocate",
        Some(child),
        format!("from {username}"),
    )?;
    tx.commit()?;
    Ok(())
}

/// Revokes a device: its sessions end, and it is told to wipe on its next connection.
///
/// # Errors
/// [`AdminError::NoSuchDevice`].
pub fn revoke_device(conn: &mut Connection, device_id: &str, now: i64) -> Result<(), AdminError> {
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    let revoked = tx.execute(
        "UPDATE devices SET revoked_at = ?2, wipe_requested = 1 WHERE device_id = ?1 AND revoked_at IS NULL",
        params![device_id, now],
    )?;
    if revoked == 0 {
        return Err(AdminError::NoSuchDevice(device_id.into()));
    }
    tx.execute(
        "UPDATE sessions SET revoked_at = ?2 WHERE device_id = ?1 AND revoked_at IS NULL",
        params![device_id, now],
    )?;
    append_audit(
        &tx,
        &AuditEntry::new(now, "device-revoke", Outcome::Allowed)
            .by_name(None, "admin-cli")
            .device(device_id),
    )?;
    tx.commit()?;
    Ok(())
}

/// What the device said at its last contact about its records not yet on the server:
/// how many, and when (server time, ms). `None` if it never said.
///
/// # Errors
/// The database's error.
pub fn unsent_reported(
    conn: &Connection,
    device_id: &str,
) -> crate::store::sql::Result<Option<(i64, i64)>> {
    conn.query_row(
        "SELECT unsent, reported_at FROM device_reports WHERE device_id = ?1",
        [device_id],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .optional()
}

/// Every device of a user (id, revoked?).
///
/// # Errors
/// [`AdminError::NoSuchUser`].
pub fn devices_of(conn: &Connection, username: &str) -> Result<Vec<(String, bool)>, AdminError> {
    let (worker, _) = worker_row(conn, username)?;
    let mut stmt = conn.prepare(
        "SELECT device_id, revoked_at IS NOT NULL FROM devices WHERE worker_id = ?1 ORDER BY created_at",
    )?;
    let rows = stmt.query_map([worker], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Keeps what device `device_id` last said of its unsent records (`X-Doorstep-Unsent`),
/// so that revoking it can warn before records are wiped.
///
/// # Errors
/// The database's error.
pub fn report_unsent(
    conn: &Connection,
    device_id: &str,
    unsent: i64,
    now: i64,
) -> crate::store::sql::Result<()> {
    conn.execute(
        "INSERT INTO device_reports (device_id, unsent, reported_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (device_id) DO UPDATE SET unsent = ?2, reported_at = ?3",
        params![device_id, unsent, now],
    )?;
    Ok(())
}
