//! [`SyncCore`]: peers, documents and storage tasks, driven by [`Event`]s.
//!
//! This file holds the core's state, its one entry point and its local API. The phases of
//! its work live beside it, each an `impl SyncCore` of its own:
//! - `handshake`: a connection from accept to `join`/`peer` (and the `join` deadline).
//! - `receiving`: a peer's `sync` or `request`, applied (to a copy, checked) or refused.
//! - `admission`: who may read, write or create what (grants by child), and new documents.
//! - `persisting`: storage tasks and their results (load, append, compact).
//! - `replying`: what each syncing peer is sent, once every change is durable.
//! - `lifecycle`: disconnects, ticks (idle unload, packing), eviction and closing.

use std::collections::{HashMap, HashSet, VecDeque};

use automerge::{Automerge, ChangeHash};

use super::admission::MoveOffer;
use super::connection::Connection;
use super::document::{Loaded, Slot};
use super::{
    ConnectionId, CoreConfig, DocumentIndex, Effects, Event, Incoming, SyncError, TaskId, Timestamp,
};
use crate::{DocumentId, PeerId};

/// What a local caller can know about one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentStatus {
    /// Not in memory and not being fetched.
    Unknown,
    /// Being read from storage.
    Loading,
    /// Asked for from peers; nothing received yet.
    Requesting,
    /// In memory with content.
    Ready,
    /// No peer has it.
    Unavailable,
}

/// Counters for health checks and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CoreStats {
    /// Open connections (any phase).
    pub connections: usize,
    /// Connections whose handshake is done.
    pub ready_connections: usize,
    /// Documents held in memory.
    pub loaded_documents: usize,
    /// Documents being read from storage.
    pub loading_documents: usize,
    /// Loaded documents held packed (counted in `loaded_documents`).
    pub packed_documents: usize,
    /// Documents whose replies to syncing peers wait for their changes to be durable now.
    pub replies_held: usize,
    /// How many times a reply waited for durability, since the core started.
    pub replies_held_total: u64,
}

/// What the core tracks about a storage task in flight.
#[derive(Debug, Clone, Copy)]
pub(super) enum PendingTask {
    Load(DocumentId),
    Append(DocumentId),
    Compact(DocumentId),
}

impl PendingTask {
    /// Whether the task is about this document.
    pub(super) fn concerns(&self, id: DocumentId) -> bool {
        match self {
            PendingTask::Load(doc) | PendingTask::Append(doc) | PendingTask::Compact(doc) => {
                *doc == id
            }
        }
    }
}

/// The sync state machine shared by the server and the clients.
///
/// Feed it events with [`SyncCore::handle`]; local edits go through
/// [`SyncCore::create_document`] and [`SyncCore::change_document`].
#[derive(Debug)]
pub struct SyncCore {
    pub(super) config: CoreConfig,
    pub(super) connections: HashMap<ConnectionId, Connection>,
    pub(super) documents: HashMap<DocumentId, Slot>,
    pub(super) tasks: HashMap<TaskId, PendingTask>,
    pub(super) next_task: u64,
    /// How many `find`s were made locally (zero on a server, which never calls `find`).
    pub(super) wanted: usize,
    /// Documents that became idle, oldest first; entries are re-checked when popped.
    pub(super) idle: VecDeque<(Timestamp, DocumentId)>,
    /// How many loaded documents are packed (recounted on every tick, as documents
    /// leave memory in several places).
    pub(super) packed: usize,
    /// Documents the driver erased for good (`SyncCore::erase_document`): never loaded,
    /// applied or stored again, and answered exactly as documents that never existed.
    pub(super) erased: HashSet<DocumentId>,
    /// How many times replies waited for a document's changes to be durable.
    pub(super) replies_held_total: u64,
    /// Refusal notices sent (each notice's `count`, see `refusal_notice`).
    pub(super) notices_sent: u64,
    /// Documents moved to another child (`SyncCore::refile`) whose new child's writers
    /// are still to be offered them, each on its connection's next grant.
    pub(super) move_offers: HashMap<DocumentId, MoveOffer>,
}

impl SyncCore {
    /// A core with no connections and no documents.
    pub fn new(config: CoreConfig) -> Self {
        Self {
            config,
            connections: HashMap::new(),
            documents: HashMap::new(),
            tasks: HashMap::new(),
            next_task: 0,
            wanted: 0,
            idle: VecDeque::new(),
            packed: 0,
            erased: HashSet::new(),
            replies_held_total: 0,
            notices_sent: 0,
            move_offers: HashMap::new(),
        }
    }

    /// Our peer id.
    pub fn local_peer(&self) -> &PeerId {
        &self.config.local_peer
    }

    /// The settings this core was made with.
    pub fn config(&self) -> &CoreConfig {
        &self.config
    }

    /// The single entry point for everything that happens outside the core.
    pub fn handle(&mut self, now: Timestamp, event: Event) -> Effects {
        let mut fx = Effects::default();
        match event {
            Event::Connected {
                connection,
                direction,
            } => self.on_connected(now, connection, direction, &mut fx),
            Event::Received { connection, bytes } => {
                let incoming = Incoming::decode(&bytes, &self.config);
                self.on_received(now, connection, incoming, &mut fx)
            }
            Event::ReceivedDecoded {
                connection,
                incoming,
            } => self.on_received(now, connection, incoming, &mut fx),
            Event::Disconnected { connection } => self.on_disconnected(now, connection),
            Event::IoComplete(result) => self.on_io_complete(now, result, &mut fx),
            Event::Tick => self.on_tick(now, &mut fx),
            Event::AccessChanged { connection, grant } => {
                self.on_access_changed(now, connection, grant, &mut fx)
            }
        }
        fx
    }

    /// Counters for health checks.
    pub fn stats(&self) -> CoreStats {
        let (mut loading, mut held) = (0, 0);
        for slot in self.documents.values() {
            match slot {
                Slot::Loading { .. } => loading += 1,
                Slot::Loaded(loaded) if !loaded.is_durable() && !loaded.peers.is_empty() => {
                    held += 1;
                }
                Slot::Loaded(_) => {}
            }
        }
        CoreStats {
            connections: self.connections.len(),
            ready_connections: self.ready_connections().len(),
            loaded_documents: self.documents.len() - loading,
            loading_documents: loading,
            packed_documents: self.count_packed(),
            replies_held: held,
            replies_held_total: self.replies_held_total,
        }
    }

    /// The document, if it is in memory in working form (not packed: see
    /// [`SyncCore::open_document`]).
    pub fn document(&self, id: &DocumentId) -> Option<&Automerge> {
        match self.documents.get(id) {
            Some(Slot::Loaded(loaded)) => loaded.working(),
            _ => None,
        }
    }

    /// The document in working form, unpacking it first if it was packed (see
    /// [`CoreConfig::live_documents`]); `None` if it is not in memory.
    pub fn open_document(&mut self, id: &DocumentId) -> Option<&Automerge> {
        if !self.unpack(*id) {
            return None;
        }
        self.document(id)
    }

    /// Where the server's index places a loaded document (`None` on a client, or if it
    /// is not in memory).
    pub fn index_of(&self, id: &DocumentId) -> Option<&DocumentIndex> {
        match self.documents.get(id) {
            Some(Slot::Loaded(loaded)) => loaded.index.as_ref(),
            _ => None,
        }
    }

    /// Files a loaded document under another child (a manager moving a visit recorded
    /// against the wrong child): access is checked by `index` from now on, and the next
    /// append records it in the store with its changes. Returns the index it had.
    ///
    /// The driver then hands every connection its grant again ([`Event::AccessChanged`]):
    /// a connection that may no longer read the document is told it is unavailable, and one
    /// that may now write it and does not sync it is offered it, as a new document is (see
    /// `SyncCore::offer_moved`). Filing it back where it came from before the grants are
    /// handed out (a move whose change was refused) offers it to nobody.
    ///
    /// # Errors
    /// [`SyncError::NotLoaded`] if the document is not in memory.
    pub fn refile(
        &mut self,
        id: DocumentId,
        index: DocumentIndex,
    ) -> Result<Option<DocumentIndex>, SyncError> {
        match self.documents.get_mut(&id) {
            Some(Slot::Loaded(loaded)) => {
                loaded.index_on_save = Some(index.clone());
                let before = loaded.index.replace(index.clone());
                self.note_move(id, before.clone(), &index);
                Ok(before)
            }
            _ => Err(SyncError::NotLoaded(id)),
        }
    }

    /// Where a document stands, for a local caller waiting on it.
    pub fn document_status(&self, id: &DocumentId) -> DocumentStatus {
        match self.documents.get(id) {
            None => DocumentStatus::Unknown,
            Some(Slot::Loading { .. }) => DocumentStatus::Loading,
            Some(Slot::Loaded(loaded)) if !loaded.is_empty() => DocumentStatus::Ready,
            Some(Slot::Loaded(loaded)) if loaded.unavailable => DocumentStatus::Unavailable,
            Some(Slot::Loaded(_)) => DocumentStatus::Requesting,
        }
    }

    /// Whether some connected peer has confirmed it holds every change of the document.
    ///
    /// Against a Doorstep server this means the changes are durable there.
    pub fn is_acknowledged(&self, id: &DocumentId) -> bool {
        match self.documents.get(id) {
            Some(Slot::Loaded(loaded)) => loaded.peers.values().any(|state| {
                loaded
                    .working()
                    .is_none_or(|doc| doc.has_our_changes(state))
            }),
            _ => false,
        }
    }

    /// Whether the document is in memory with every change committed to storage (no
    /// change waiting to be stored, no append in flight). A server-side edit is reported
    /// done only once this holds.
    pub fn is_durable(&self, id: &DocumentId) -> bool {
        match self.documents.get(id) {
            Some(Slot::Loaded(loaded)) => loaded.is_durable(),
            _ => false,
        }
    }

    /// Whether a connected peer answered `doc-unavailable` for a document we hold: a
    /// server that refuses it (no access, or a new record for a child not allocated to us).
    /// Nothing of it was stored there.
    pub fn is_refused(&self, id: &DocumentId) -> bool {
        match self.documents.get(id) {
            Some(Slot::Loaded(loaded)) => !loaded.refused_by.is_empty(),
            _ => false,
        }
    }

    /// How many connected peers the document is being synced with.
    pub fn peer_count(&self, id: &DocumentId) -> usize {
        match self.documents.get(id) {
            Some(Slot::Loaded(loaded)) => loaded.peers.len(),
            _ => 0,
        }
    }

    /// The heads each connected peer last reported for the document.
    pub fn peer_heads(&self, id: &DocumentId) -> Vec<Vec<ChangeHash>> {
        match self.documents.get(id) {
            Some(Slot::Loaded(loaded)) => loaded
                .peers
                .values()
                .filter_map(|state| state.their_heads.clone())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Adds a document made locally, stores it and offers it to peers (if announcing).
    ///
    /// # Errors
    /// [`SyncError::AlreadyExists`] if a document with this id is loaded or loading.
    pub fn create_document(
        &mut self,
        id: DocumentId,
        doc: Automerge,
    ) -> Result<Effects, SyncError> {
        if self.documents.contains_key(&id) {
            return Err(SyncError::AlreadyExists(id));
        }
        let mut loaded = Loaded::new(doc, 0);
        loaded.persisted_heads = Vec::new();
        loaded.dirty = !loaded.is_empty();
        self.documents.insert(id, Slot::Loaded(Box::new(loaded)));
        let mut fx = Effects::default();
        if self.config.announce_documents {
            for connection in self.ready_connections() {
                let _ = self.subscribe(connection, id);
            }
        }
        self.after_change(id, &mut fx);
        Ok(fx)
    }

    /// Edits a loaded document in place, then stores the change and syncs it.
    ///
    /// # Errors
    /// [`SyncError::NotLoaded`] if the document is not in memory.
    pub fn change_document<R>(
        &mut self,
        id: DocumentId,
        edit: impl FnOnce(&mut Automerge) -> R,
    ) -> Result<(R, Effects), SyncError> {
        if !self.unpack(id) {
            return Err(SyncError::NotLoaded(id));
        }
        let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id) else {
            return Err(SyncError::NotLoaded(id));
        };
        let Some(doc) = loaded.working_mut() else {
            return Err(SyncError::NotLoaded(id));
        };
        let before = doc.get_heads();
        let result = edit(doc);
        if doc.get_heads() != before {
            loaded.dirty = true;
        }
        let mut fx = Effects::default();
        self.after_change(id, &mut fx);
        Ok((result, fx))
    }

    /// Finds a document: from memory, else storage, else by asking every peer.
    pub fn find(&mut self, id: DocumentId) -> Effects {
        self.wanted += 1;
        let mut fx = Effects::default();
        match self.documents.get_mut(&id) {
            Some(Slot::Loaded(loaded)) => {
                if loaded.is_empty() {
                    loaded.wanted = true;
                    loaded.unavailable = false;
                    for connection in self.ready_connections() {
                        let _ = self.subscribe(connection, id);
                    }
                    self.flush(id, &mut fx);
                }
            }
            Some(Slot::Loading { wanted, .. }) => *wanted = true,
            None => self.start_load(id, Vec::new(), true, &mut fx),
        }
        fx
    }

    /// After the document changed (or a peer spoke): store what is new, then reply.
    pub(super) fn after_change(&mut self, id: DocumentId, fx: &mut Effects) {
        self.start_save(id, fx);
        self.flush(id, fx);
    }
}
