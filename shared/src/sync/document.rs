//! A document as the core holds it: loading, or loaded with its per-peer sync state.

use std::collections::HashMap;

use automerge::{Automerge, ChangeHash, sync};

use super::{ConnectionId, DocumentIndex, TaskId, Timestamp};

/// A sync message that arrived while its document was still loading.
#[derive(Debug)]
pub(crate) struct Waiting {
    pub(crate) connection: ConnectionId,
    /// Whether the peer sent it as `request` (it lacks the document).
    pub(crate) is_request: bool,
    pub(crate) message: sync::Message,
}

/// A document slot: loading from storage, or in memory.
#[derive(Debug)]
pub(crate) enum Slot {
    /// A `Load` task is in flight; messages wait for it.
    Loading {
        task: TaskId,
        waiting: Vec<Waiting>,
        /// Whether a local `find` asked for it (then ask peers if storage lacks it).
        wanted: bool,
    },
    /// In memory.
    Loaded(Box<Loaded>),
}

/// An append whose commit the document is waiting for.
#[derive(Debug)]
pub(crate) struct InFlightSave {
    pub(crate) task: TaskId,
    /// The document's heads once this append has committed.
    pub(crate) heads: Vec<ChangeHash>,
}

/// A document in memory.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) doc: Automerge,
    /// Sync state per connection that syncs this document.
    pub(crate) peers: HashMap<ConnectionId, sync::State>,
    /// Heads whose changes have committed to storage.
    pub(crate) persisted_heads: Vec<ChangeHash>,
    /// The append in flight, if any; replies wait until it is `None` and nothing is dirty.
    pub(crate) saving: Option<InFlightSave>,
    /// Changes applied in memory and not yet handed to storage.
    pub(crate) dirty: bool,
    /// Chunks appended since the last snapshot.
    pub(crate) chunks_since_snapshot: usize,
    /// Since when no connection has synced it (for unloading).
    pub(crate) idle_since: Option<Timestamp>,
    /// A local `find` wants it and it is still empty: ask peers with `request`.
    pub(crate) wanted: bool,
    /// A peer told us it does not have it (for `find` on a client).
    pub(crate) unavailable: bool,
    /// Connections that answered `doc-unavailable` although we hold content: they refuse
    /// the document (a server denying access). Cleared when they sync it after all.
    pub(crate) refused_by: std::collections::BTreeSet<ConnectionId>,
    /// Read-only connections whose changes were refused (reported once per connection).
    pub(crate) read_only_writers: std::collections::BTreeSet<ConnectionId>,
    /// A possible new document sent by this connection, held unstored until it shows
    /// which child it names (see `SyncCore::settle_new_document`).
    pub(crate) pending_owner: Option<ConnectionId>,
    /// Set when a new document was accepted: its first append also indexes it.
    pub(crate) index_on_save: Option<DocumentIndex>,
    /// The change bytes of the one sync message that filled this empty, never-stored
    /// document, with the heads they produced: stored verbatim as the first chunk instead
    /// of re-encoding the same changes with `save_after`.
    pub(crate) first_chunk: Option<(Vec<ChangeHash>, Vec<u8>)>,
}

impl Loaded {
    pub(crate) fn new(doc: Automerge, stored_chunks: usize) -> Self {
        let heads = doc.get_heads();
        Self {
            doc,
            peers: HashMap::new(),
            persisted_heads: heads,
            saving: None,
            dirty: false,
            chunks_since_snapshot: stored_chunks,
            idle_since: None,
            wanted: false,
            unavailable: false,
            refused_by: std::collections::BTreeSet::new(),
            read_only_writers: std::collections::BTreeSet::new(),
            pending_owner: None,
            index_on_save: None,
            first_chunk: None,
        }
    }

    /// Whether every change in memory has committed to storage.
    pub(crate) fn is_durable(&self) -> bool {
        !self.dirty && self.saving.is_none()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.doc.get_heads().is_empty()
    }
}
