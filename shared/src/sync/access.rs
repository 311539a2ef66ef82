//! Per-connection access rights, and the access events the core reports for auditing.
//!
//! The driver decides rights from its directory (who holds which child) and hands them
//! to the core as an [`AccessGrant`] per connection, again whenever they change. The core
//! enforces them on every sync message (when [`super::CoreConfig::enforce_access`] is set)
//! and reports every read, write, creation and denial as an [`AccessEvent`].

use std::collections::HashSet;

use automerge::ChangeHash;

use super::ConnectionId;
use crate::DocumentId;

/// What one connection may do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessGrant {
    /// Documents it may read and change.
    pub read_write: HashSet<DocumentId>,
    /// Documents it may read but not change (its changes are not applied).
    pub read_only: HashSet<DocumentId>,
    /// Children (by the `childId` a visit names) it may create new visit documents for.
    pub may_create_for: HashSet<String>,
}

/// The right a connection has on one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read and write.
    ReadWrite,
    /// Read only.
    ReadOnly,
}

impl AccessGrant {
    /// The right on `document`, if any.
    pub fn access(&self, document: &DocumentId) -> Option<Access> {
        if self.read_write.contains(document) {
            Some(Access::ReadWrite)
        } else if self.read_only.contains(document) {
            Some(Access::ReadOnly)
        } else {
            None
        }
    }
}

/// Why the core refused a connection something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenialReason {
    /// The document is not in the connection's grant.
    NotGranted,
    /// The connection may only read the document but sent changes.
    ReadOnly,
    /// A new document names a child the connection may not create documents for.
    ChildNotAllocated {
        /// The child the document named.
        child_id: String,
    },
    /// A new document is not a visit naming its child.
    NotAVisit,
    /// The grant was withdrawn while the connection was syncing the document.
    Revoked,
}

impl std::fmt::Display for DenialReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DenialReason::NotGranted => f.write_str("document not in the caseload"),
            DenialReason::ReadOnly => f.write_str("changes refused: read-only access"),
            DenialReason::ChildNotAllocated { child_id } => {
                write!(
                    f,
                    "new document for child {child_id}, who is not allocated to the author"
                )
            }
            DenialReason::NotAVisit => f.write_str("new document is not a visit naming its child"),
            DenialReason::Revoked => f.write_str("access withdrawn"),
        }
    }
}

/// What happened, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessKind {
    /// The connection started syncing (reading) the document.
    Read,
    /// The connection's changes were applied; the document now has these heads.
    Wrote {
        /// Heads after the write.
        heads: Vec<ChangeHash>,
    },
    /// The connection created a new visit document for a child.
    Created {
        /// The child the visit names.
        child_id: String,
    },
    /// The connection was refused.
    Denied(DenialReason),
}

/// One access to one document by one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEvent {
    /// Who.
    pub connection: ConnectionId,
    /// Which document.
    pub document: DocumentId,
    /// What.
    pub kind: AccessKind,
}
