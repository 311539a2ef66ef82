//! Errors from the core's local API (not from peers: peers' faults close their connection).

use crate::DocumentId;

/// A local call into the core that cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// The document is not loaded in this core.
    #[error("document {0} is not loaded")]
    NotLoaded(DocumentId),
    /// A document with this id already exists here.
    #[error("document {0} already exists")]
    AlreadyExists(DocumentId),
}
