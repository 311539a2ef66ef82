//! Per-connection access rights, and the access events the core reports for auditing.
//!
//! The driver decides rights from its directory (who holds which child) and hands them
//! to the core as an [`AccessGrant`] per connection, again whenever they change. Rights
//! are by child, not by document: a document's child comes from the server's own index
//! ([`super::DocumentIndex`], returned with every load), so a visit created a moment ago
//! is readable at once by everyone holding its child, with no list to copy or update.
//! The core enforces grants on every sync message (when
//! [`super::CoreConfig::peer_checks`] is set) and reports every read, write, creation
//! and denial as an [`AccessEvent`].

use std::collections::{HashMap, HashSet};

use automerge::ChangeHash;

use super::{ConnectionId, DocumentIndex, Timestamp};
use crate::DocumentId;
use crate::model::IntegrityViolation;

/// What one connection may do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessGrant {
    /// The children (by reference, as visits name them) whose documents it may read, and
    /// whether it may change them.
    pub children: HashMap<String, Access>,
    /// Children it may create new visit documents for.
    pub may_create_for: HashSet<String>,
    /// The `workerId` every visit it creates must carry (its signed-in worker); `None`
    /// leaves authorship unchecked.
    pub author: Option<String>,
    /// Children it held until the given time and no longer does, while a grace period
    /// lasts: what the worker recorded while they held the child still reaches the server
    /// (see [`Access::Former`]).
    pub former: HashMap<String, Timestamp>,
}

/// The right a connection has on one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read and write.
    ReadWrite,
    /// Read only.
    ReadOnly,
    /// The child was reallocated away from this worker a short while ago: they may read
    /// its documents, change the visits they created, create visits they started while
    /// they held the child, and change other documents only with changes made (by their
    /// device's clock) while they held it.
    Former,
}

impl AccessGrant {
    /// The right on a document indexed under `index`, if any.
    pub fn access(&self, index: &DocumentIndex) -> Option<Access> {
        self.children.get(&index.child_id).copied().or_else(|| {
            self.former
                .contains_key(&index.child_id)
                .then_some(Access::Former)
        })
    }

    /// Whether it may create a visit for `child` made at `created_at` (device time): a
    /// child it holds, or one it held until after then.
    pub fn may_create_visit(&self, child: &str, created_at: Option<Timestamp>) -> bool {
        self.may_create_for.contains(child)
            || self
                .former
                .get(child)
                .is_some_and(|until| created_at.is_some_and(|made| made <= until.plus(CLOCK_SKEW)))
    }

    /// Whether it may create any document at all.
    pub fn may_create(&self) -> bool {
        !self.may_create_for.is_empty() || !self.former.is_empty()
    }
}

/// How far a device's clock may run ahead when it says a change was made while its worker
/// still held the child.
pub const CLOCK_SKEW: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Why the core refused a connection something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DenialReason {
    /// The document is not one the connection may read (or does not exist: the two are
    /// answered alike).
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
    /// A former holder's change made after they stopped holding the child.
    NoLongerAllocated,
    /// The document was erased for good (deleted after its retention): whatever the peer
    /// sends about it is answered as for a document that never existed.
    Erased,
    /// The connection's changes touched what it may not write (see
    /// `shared::model::integrity`): refused, nothing stored, the connection closed.
    Integrity(IntegrityViolation),
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
            DenialReason::NoLongerAllocated => f.write_str(
                "changes made after the child was reallocated are refused: the child is no longer allocated to you",
            ),
            DenialReason::Erased => f.write_str("document deleted after its retention"),
            DenialReason::Integrity(violation) => write!(f, "change refused: {violation}"),
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
    /// The child it belongs to, when the server's index knows (for the audit row).
    pub child: Option<String>,
    /// What.
    pub kind: AccessKind,
}
