//! The audit log: append-only rows of who did what to which record, when.
//!
//! [`append_audit`] (and [`append_audit_repeats`], for a row standing for repeated
//! identical denials; see `denial_audit`) is the only code that writes `audit_log`;
//! nothing updates or deletes it, and SQLite triggers refuse both.

use crate::store::sql::{Connection, OptionalExtension, params};
use shared::DocumentId;

use super::sessions::Identity;

/// Whether the action was allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It happened.
    Allowed,
    /// It was refused.
    Denied,
    /// It was attempted and failed.
    Failed,
}

impl Outcome {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }
}

/// One audit row to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Server time, ms since the epoch.
    pub at: i64,
    /// The acting worker, if known.
    pub actor_worker_id: Option<i64>,
    /// Username, or `admin-cli` / `system`.
    pub actor: Option<String>,
    /// The device, if any.
    pub device_id: Option<String>,
    /// What was done (`login`, `read`, `write`, `create`, `sync`, `allocate`, ...).
    pub action: String,
    /// Allowed, denied or failed.
    pub outcome: Outcome,
    /// The document (16 bytes), if any.
    pub document_id: Option<Vec<u8>>,
    /// The child's row id, if known.
    pub child_id: Option<i64>,
    /// Anything else worth keeping (a reason, heads); never a secret.
    pub detail: Option<String>,
}

impl AuditEntry {
    /// The one way to start an audit row: `action` with `outcome` at `at` (the server's
    /// clock), by nobody known yet; [`AuditEntry::by`] and the other builders say who did
    /// it and to what.
    pub fn new(at: i64, action: &str, outcome: Outcome) -> Self {
        Self {
            at,
            actor_worker_id: None,
            actor: None,
            device_id: None,
            action: action.to_owned(),
            outcome,
            document_id: None,
            child_id: None,
            detail: None,
        }
    }

    /// Done by the signed-in `identity` on its device.
    #[must_use]
    pub fn by(mut self, identity: &Identity) -> Self {
        self.actor_worker_id = Some(identity.worker_id);
        self.actor = Some(identity.username.clone());
        self.device_id = Some(identity.device_id.clone());
        self
    }

    /// Done by a named actor (a worker's username, `admin-cli`), with their row if known.
    #[must_use]
    pub fn by_name(mut self, worker_id: Option<i64>, actor: impl Into<String>) -> Self {
        self.actor_worker_id = worker_id;
        self.actor = Some(actor.into());
        self
    }

    /// About this device.
    #[must_use]
    pub fn device(mut self, device_id: impl Into<String>) -> Self {
        self.device_id = Some(device_id.into());
        self
    }

    /// About this document.
    #[must_use]
    pub fn document(mut self, document: &DocumentId) -> Self {
        self.document_id = Some(document.as_bytes().to_vec());
        self
    }

    /// About the child with this row id, if known (the row goes into the child's export).
    #[must_use]
    pub fn child(mut self, child_id: Option<i64>) -> Self {
        self.child_id = child_id;
        self
    }

    /// With a reason, heads or other detail (never a secret).
    #[must_use]
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// Appends one row.
///
/// # Errors
/// The database's error.
pub fn append_audit(conn: &Connection, entry: &AuditEntry) -> crate::store::sql::Result<()> {
    append_audit_repeats(conn, entry, 1)
}

/// Appends all the rows in one transaction (e.g. one per child a dashboard showed): all or
/// none are kept.
///
/// # Errors
/// The database's error.
pub fn append_audit_all(
    conn: &mut Connection,
    entries: &[AuditEntry],
) -> crate::store::sql::Result<()> {
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    for entry in entries {
        append_audit(&tx, entry)?;
    }
    tx.commit()
}

/// Appends one row standing for `occurrences` identical events (a coalesced run of
/// repeated denials; `entry.detail` says over which time).
///
/// # Errors
/// The database's error.
pub fn append_audit_repeats(
    conn: &Connection,
    entry: &AuditEntry,
    occurrences: u64,
) -> crate::store::sql::Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit_log (at, actor_worker_id, actor, device_id, action, outcome,
                                document_id, child_id, detail, occurrences)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        entry.at,
        entry.actor_worker_id,
        entry.actor,
        entry.device_id,
        entry.action,
        entry.outcome.code(),
        entry.document_id,
        entry.child_id,
        entry.detail,
        i64::try_from(occurrences.max(1)).unwrap_or(i64::MAX),
    ])?;
    Ok(())
}

/// One stored audit row, as an administrator reads it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditRow {
    /// Position in the log (increasing).
    pub audit_id: i64,
    /// Server time, ms since the epoch.
    pub at: i64,
    /// Username, or `admin-cli`; empty when unknown.
    pub actor: Option<String>,
    /// The device, if any.
    pub device_id: Option<String>,
    /// What was done.
    pub action: String,
    /// `allowed`, `denied` or `failed`.
    pub outcome: String,
    /// The document, as an automerge-repo id.
    pub document_id: Option<String>,
    /// Reason, heads, or other detail.
    pub detail: Option<String>,
    /// How many identical events the row stands for (more than 1 for a coalesced run of
    /// repeated denials).
    pub occurrences: i64,
}

/// Every audit row about one child (the child itself or any of its documents), oldest
/// first; `None` when no child has that reference.
///
/// # Errors
/// The database's error.
pub fn child_audit_trail(
    conn: &Connection,
    child_ref: &str,
) -> crate::store::sql::Result<Option<Vec<AuditRow>>> {
    let child: Option<i64> = conn
        .query_row(
            "SELECT child_id FROM children WHERE child_ref = ?1",
            [child_ref],
            |r| r.get(0),
        )
        .optional()?;
    let Some(child) = child else {
        return Ok(None);
    };
    let mut stmt = conn.prepare(
        "SELECT audit_id, at, actor, device_id, action, outcome, document_id, detail, occurrences
         FROM audit_log
         WHERE child_id = ?1
            OR document_id IN (SELECT document_id FROM child_documents WHERE child_id = ?1)
         ORDER BY audit_id",
    )?;
    let rows = stmt.query_map([child], |r| {
        let document: Option<Vec<u8>> = r.get(6)?;
        Ok(AuditRow {
            audit_id: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            device_id: r.get(3)?,
            action: r.get(4)?,
            outcome: r.get(5)?,
            document_id: document.and_then(|bytes| {
                <[u8; 16]>::try_from(bytes.as_slice())
                    .ok()
                    .map(|id| DocumentId::from_bytes(id).to_string())
            }),
            detail: r.get(7)?,
            occurrences: r.get(8)?,
        })
    })?;
    rows.collect::<crate::store::sql::Result<Vec<_>>>()
        .map(Some)
}
