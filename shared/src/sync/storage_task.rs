//! Storage work the core asks the driver to do, and its results.

use crate::DocumentId;

/// Names one storage task so its result can be matched to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskId(pub u64);

/// One unit of storage work for one document.
#[derive(Debug, Clone)]
pub struct StorageTask {
    /// Echoed back in the [`IoResult`].
    pub id: TaskId,
    /// The document concerned.
    pub document: DocumentId,
    /// What to do.
    pub kind: StorageTaskKind,
}

/// The storage operations the core needs.
#[derive(Debug, Clone)]
pub enum StorageTaskKind {
    /// Read every stored chunk of the document, concatenated in the order written.
    Load,
    /// Durably append a chunk of changes. Only when this has committed may the core
    /// tell peers about the heads it contains.
    Append {
        /// Encoded automerge changes (`Automerge::save_after`).
        changes: Vec<u8>,
        /// Set on a new document's first append: index it under its child in the same
        /// transaction, so a stored document is never without its owner.
        index: Option<DocumentIndex>,
    },
    /// Replace every chunk stored so far with one snapshot that contains them all.
    Compact {
        /// A full `Automerge::save` of the document.
        snapshot: Vec<u8>,
    },
}

/// Where a document belongs, as the server's own index records it (never read from what a
/// peer wrote into the document after it was accepted).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocumentIndex {
    /// The child the document is about (the child's reference, as visits name it).
    pub child_id: String,
    /// Who created it (their `workerId`); `None` for documents the server made itself.
    pub created_by: Option<String>,
}

/// The outcome of a storage task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageOutcome {
    /// A `Load` finished: the stored chunks, or `None` if nothing is stored.
    Loaded(Option<StoredChunks>),
    /// An `Append` or `Compact` has committed.
    Written,
    /// The task failed; the message says why.
    Failed(String),
}

/// Every chunk stored for one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChunks {
    /// The chunks concatenated in the order written (loadable by `Automerge::load`).
    pub bytes: Vec<u8>,
    /// How many chunks there were (the core compacts when there are many).
    pub count: usize,
    /// Where the document belongs, if the store indexes documents (a server does).
    pub index: Option<DocumentIndex>,
}

/// A finished storage task, fed back as `Event::IoComplete`.
#[derive(Debug, Clone)]
pub struct IoResult {
    /// The task's id.
    pub task: TaskId,
    /// What happened.
    pub outcome: StorageOutcome,
}
