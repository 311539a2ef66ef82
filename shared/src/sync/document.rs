//! A document as the core holds it: loading, or loaded (in working form or packed) with
//! its per-peer sync state.

use std::collections::{BTreeSet, HashMap};

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

/// The document's content: automerge's working form, or its saved bytes.
// The working form is the common case and `Loaded` is boxed in its `Slot` already.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Body {
    /// Ready to read, change and sync.
    Working(Automerge),
    /// Held as its saved bytes, about a fiftieth of the working form's memory (see
    /// [`super::CoreConfig::live_documents`]); unpacked before anything reads it.
    Packed(Packed),
}

/// A settled document's saved bytes, with what a packed document must still answer.
#[derive(Debug)]
pub(crate) struct Packed {
    bytes: Vec<u8>,
    heads: Vec<ChangeHash>,
    actor: ActorId,
}

/// A document in memory.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// The content.
    pub(crate) body: Body,
    /// Which child it belongs to, as the server's index says (`None` on a client, or for a
    /// new document until it is accepted).
    pub(crate) index: Option<DocumentIndex>,
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
    pub(crate) refused_by: BTreeSet<ConnectionId>,
    /// Read-only connections whose changes were refused (reported once per connection).
    pub(crate) read_only_writers: BTreeSet<ConnectionId>,
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
            body: Body::Working(doc),
            index: None,
            peers: HashMap::new(),
            persisted_heads: heads,
            saving: None,
            dirty: false,
            chunks_since_snapshot: stored_chunks,
            idle_since: None,
            wanted: false,
            unavailable: false,
            refused_by: BTreeSet::new(),
            read_only_writers: BTreeSet::new(),
            pending_owner: None,
            index_on_save: None,
            first_chunk: None,
            first_stored: None,
        }
    }

    /// The document in working form, `None` while packed.
    pub(crate) fn working(&self) -> Option<&Automerge> {
        match &self.body {
            Body::Working(doc) => Some(doc),
            Body::Packed(_) => None,
        }
    }

    /// The document in working form to change, `None` while packed.
    pub(crate) fn working_mut(&mut self) -> Option<&mut Automerge> {
        match &mut self.body {
            Body::Working(doc) => Some(doc),
            Body::Packed(_) => None,
        }
    }

    pub(crate) fn is_packed(&self) -> bool {
        matches!(self.body, Body::Packed(_))
    }

    /// Whether every change in memory has committed to storage.
    pub(crate) fn is_durable(&self) -> bool {
        !self.dirty && self.saving.is_none()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.heads().is_empty()
    }

    /// Whether nothing of it exists anywhere yet: empty, never stored, nobody's.
    pub(crate) fn is_unclaimed(&self) -> bool {
        self.is_empty()
            && self.persisted_heads.is_empty()
            && self.saving.is_none()
            && self.peers.is_empty()
            && self.pending_owner.is_none()
    }

    /// The document's heads, packed or not.
    pub(crate) fn heads(&self) -> Vec<ChangeHash> {
        match &self.body {
            Body::Packed(packed) => packed.heads.clone(),
            Body::Working(doc) => doc.get_heads(),
        }
    }

    /// Whether it may be packed: everything durable and every syncing peer holding
    /// exactly our heads, so that only a new message from a peer needs it again.
    pub(crate) fn is_settled(&self) -> bool {
        let Body::Working(doc) = &self.body else {
            return false;
        };
        if !self.is_durable()
            || self.pending_owner.is_some()
            || self.index_on_save.is_some()
            || self.first_chunk.is_some()
        {
            return false;
        }
        let heads = doc.get_heads();
        let holds_our_heads = |state: &sync::State| {
            state.their_heads.as_ref().is_some_and(|theirs| {
                let mut theirs = theirs.clone();
                theirs.sort();
                theirs == heads
            })
        };
        !heads.is_empty()
            && doc.get_missing_deps(&[]).is_empty()
            && self.peers.values().all(holds_our_heads)
    }

    /// Holds the document as its saved bytes.
    pub(crate) fn pack(&mut self) {
        let Body::Working(doc) = &self.body else {
            return;
        };
        let heads = doc.get_heads();
        let bytes = match self.first_stored.take() {
            Some((stored_heads, bytes)) if stored_heads == heads => bytes,
            _ => doc.save(),
        };
        let actor = doc.get_actor().clone();
        self.body = Body::Packed(Packed {
            bytes,
            heads,
            actor,
        });
    }

    /// Brings a packed document back into its working form; returns whether it was packed.
    /// If automerge cannot load the bytes it saved (not expected), the document stays
    /// packed and untouched.
    pub(crate) fn unpack(&mut self) -> bool {
        let Body::Packed(packed) = &self.body else {
            return false;
        };
        match Automerge::load(&packed.bytes) {
            Ok(doc) => self.body = Body::Working(doc.with_actor(packed.actor.clone())),
            Err(err) => error!(cause = %err, "a packed document does not load; keeping it packed"),
        }
        true
    }

    /// The saved bytes of the whole document (its snapshot).
    pub(crate) fn snapshot(&self) -> Vec<u8> {
        match &self.body {
            Body::Packed(packed) => packed.bytes.clone(),
            Body::Working(doc) => doc.save(),
        }
    }
}
