//! A document as the core holds it: loading, or loaded with its per-peer sync state.

use std::collections::HashMap;

use automerge::{ActorId, Automerge, ChangeHash, ReadDoc, sync};
use tracing::error;

use super::{ConnectionId, DocumentIndex, TaskId, Timestamp};

/// A sync message that arrived while its document was still loading.
#[derive(Debug)]
pub(crate) struct Waiting {
    pub(crate) connection: ConnectionId,
    /// Whether the peer sent it as `request` (it lacks the document).
    pub(crate) is_request: bool,
    pub(crate) message: sync::Message,
    /// Its changes loaded ahead by the driver ([`super::Incoming::preload`]), if they were.
    pub(crate) preloaded: Option<Box<Automerge>>,
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

/// A document held as its saved bytes instead of in automerge's working form, which
/// takes about fifty times the memory (see [`super::CoreConfig::live_documents`]).
#[derive(Debug)]
pub(crate) struct Packed {
    bytes: Vec<u8>,
    heads: Vec<ChangeHash>,
    actor: ActorId,
}

/// A document in memory.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// The document; an empty placeholder while `packed` (call [`Loaded::unpack`] before
    /// touching it).
    pub(crate) doc: Automerge,
    /// The document's saved bytes while it is packed.
    pub(crate) packed: Option<Packed>,
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
    /// The whole document's bytes as its first append stored them, with their heads: packing
    /// at those heads keeps these instead of saving the document again.
    pub(crate) first_stored: Option<(Vec<ChangeHash>, Vec<u8>)>,
}

impl Loaded {
    pub(crate) fn new(doc: Automerge, stored_chunks: usize) -> Self {
        let heads = doc.get_heads();
        Self {
            doc,
            packed: None,
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
            first_stored: None,
        }
    }

    /// Whether every change in memory has committed to storage.
    pub(crate) fn is_durable(&self) -> bool {
        !self.dirty && self.saving.is_none()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.heads().is_empty()
    }

    /// The document's heads, packed or not.
    pub(crate) fn heads(&self) -> Vec<ChangeHash> {
        match &self.packed {
            Some(packed) => packed.heads.clone(),
            None => self.doc.get_heads(),
        }
    }

    /// Whether it may be packed: everything durable and every syncing peer holding
    /// exactly our heads, so that only a new message from a peer needs it again.
    pub(crate) fn is_settled(&self) -> bool {
        if self.packed.is_some()
            || !self.is_durable()
            || self.pending_owner.is_some()
            || self.index_on_save.is_some()
            || self.first_chunk.is_some()
        {
            return false;
        }
        let heads = self.doc.get_heads();
        let holds_our_heads = |state: &sync::State| {
            state.their_heads.as_ref().is_some_and(|theirs| {
                let mut theirs = theirs.clone();
                theirs.sort();
                theirs == heads
            })
        };
        !heads.is_empty()
            && self.doc.get_missing_deps(&[]).is_empty()
            && self.peers.values().all(holds_our_heads)
    }

    /// Holds the document as its saved bytes.
    pub(crate) fn pack(&mut self) {
        if self.packed.is_some() {
            return;
        }
        let doc = std::mem::take(&mut self.doc);
        let heads = doc.get_heads();
        let bytes = match self.first_stored.take() {
            Some((stored_heads, bytes)) if stored_heads == heads => bytes,
            _ => doc.save(),
        };
        self.packed = Some(Packed {
            bytes,
            heads,
            actor: doc.get_actor().clone(),
        });
    }

    /// Brings a packed document back into its working form; returns whether it was packed.
    pub(crate) fn unpack(&mut self) -> bool {
        let Some(packed) = self.packed.take() else {
            return false;
        };
        match Automerge::load(&packed.bytes) {
            Ok(doc) => self.doc = doc.with_actor(packed.actor),
            // Bytes automerge itself saved a moment ago; keep them rather than lose them.
            Err(err) => {
                error!(cause = %err, "a packed document does not load; keeping it packed");
                self.packed = Some(packed);
            }
        }
        true
    }

    /// The saved bytes of the whole document (its snapshot).
    pub(crate) fn snapshot(&self) -> Vec<u8> {
        match &self.packed {
            Some(packed) => packed.bytes.clone(),
            None => self.doc.save(),
        }
    }
}
