//! [`SyncCore`]: peers, documents and storage tasks, driven by [`Event`]s.

use std::collections::{HashMap, HashSet, VecDeque};

use automerge::{Automerge, ChangeHash, sync, sync::SyncDoc};
use tracing::{debug, warn};

use super::connection::{Connection, Phase};
use super::document::{InFlightSave, Loaded, Slot, Waiting};
use super::{
    Access, AccessEvent, AccessGrant, AccessKind, CloseReason, ConnectionId, CoreConfig,
    DenialReason, Direction, DocumentIndex, Effects, Event, Incoming, IoResult, StorageOutcome,
    StorageTask, StorageTaskKind, SyncError, TaskId, Timestamp,
};
use crate::protocol::{Message, PROTOCOL_VERSION, PeerMetadata};
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
}

/// What [`Incoming`] decoded beyond the protocol message.
struct Decoded {
    sync: Option<Result<sync::Message, String>>,
    preloaded: Option<Box<Automerge>>,
}

/// What the core tracks about a storage task in flight.
#[derive(Debug, Clone, Copy)]
enum PendingTask {
    Load(DocumentId),
    Append(DocumentId),
    Compact(DocumentId),
}

/// The sync state machine shared by the server and the clients.
///
/// Feed it events with [`SyncCore::handle`]; local edits go through
/// [`SyncCore::create_document`] and [`SyncCore::change_document`].
#[derive(Debug)]
pub struct SyncCore {
    config: CoreConfig,
    connections: HashMap<ConnectionId, Connection>,
    documents: HashMap<DocumentId, Slot>,
    tasks: HashMap<TaskId, PendingTask>,
    next_task: u64,
    /// How many `find`s were made locally (zero on a server, which never calls `find`).
    wanted: usize,
    /// Documents that became idle, oldest first; entries are re-checked when popped.
    idle: VecDeque<(Timestamp, DocumentId)>,
    /// How many loaded documents are packed (recounted on every tick, as documents
    /// leave memory in several places).
    packed: usize,
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
        }
    }

    /// Our peer id.
    pub fn local_peer(&self) -> &PeerId {
        &self.config.local_peer
    }

    /// The single entry point for everything that happens outside the core.
    pub fn handle(&mut self, now: Timestamp, event: Event) -> Effects {
        let mut fx = Effects::default();
        match event {
            Event::Connected {
                connection,
                direction,
            } => self.on_connected(connection, direction, &mut fx),
            Event::Received { connection, bytes } => {
                self.on_received(now, connection, Incoming::decode(&bytes), &mut fx)
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
            Event::AccessAdded {
                connection,
                document,
                access,
            } => self.on_access_added(connection, document, access),
        }
        fx
    }

    /// Counters for health checks.
    pub fn stats(&self) -> CoreStats {
        let loading = self
            .documents
            .values()
            .filter(|slot| matches!(slot, Slot::Loading { .. }))
            .count();
        CoreStats {
            connections: self.connections.len(),
            ready_connections: self.ready_connections().len(),
            loaded_documents: self.documents.len() - loading,
            loading_documents: loading,
            packed_documents: self.count_packed(),
        }
    }

    /// The document, if it is in memory in working form (not packed: see
    /// [`SyncCore::open_document`]).
    pub fn document(&self, id: &DocumentId) -> Option<&Automerge> {
        match self.documents.get(id) {
            Some(Slot::Loaded(loaded)) if loaded.packed.is_none() => Some(&loaded.doc),
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
            Some(Slot::Loaded(loaded)) => loaded
                .peers
                .values()
                .any(|state| loaded.packed.is_some() || loaded.doc.has_our_changes(state)),
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
        let before = loaded.doc.get_heads();
        let result = edit(&mut loaded.doc);
        if loaded.doc.get_heads() != before {
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

    fn on_connected(&mut self, connection: ConnectionId, direction: Direction, fx: &mut Effects) {
        let phase = match direction {
            Direction::Accepted => Phase::AwaitingJoin,
            Direction::Dialled => {
                fx.outbound.push((
                    connection,
                    Message::Join {
                        sender_id: self.config.local_peer.clone(),
                        supported_protocol_versions: vec![PROTOCOL_VERSION.into()],
                        peer_metadata: Some(self.metadata()),
                    },
                ));
                Phase::AwaitingPeer
            }
        };
        self.connections.insert(
            connection,
            Connection {
                phase,
                documents: HashSet::new(),
                grant: AccessGrant::default(),
                created: HashMap::new(),
            },
        );
    }

    fn metadata(&self) -> PeerMetadata {
        PeerMetadata {
            storage_id: self.config.storage_id.clone(),
            is_ephemeral: self.config.storage_id.is_none(),
        }
    }

    fn on_received(
        &mut self,
        now: Timestamp,
        connection: ConnectionId,
        incoming: Incoming,
        fx: &mut Effects,
    ) {
        let Some(phase) = self.connections.get(&connection).map(|c| c.phase.clone()) else {
            return;
        };
        let Incoming {
            message,
            sync,
            preloaded,
        } = incoming;
        let message = match message {
            Ok(message) => message,
            Err(err) => return self.fail(now, connection, format!("{err}"), fx),
        };
        match (phase, message) {
            (
                Phase::AwaitingJoin,
                Message::Join {
                    sender_id,
                    supported_protocol_versions,
                    ..
                },
            ) => {
                if !supported_protocol_versions
                    .iter()
                    .any(|v| v == PROTOCOL_VERSION)
                {
                    let reason = format!(
                        "unsupported protocol versions {supported_protocol_versions:?}; this server speaks \"1\""
                    );
                    return self.fail(now, connection, reason, fx);
                }
                fx.outbound.push((
                    connection,
                    Message::Peer {
                        sender_id: self.config.local_peer.clone(),
                        target_id: sender_id.clone(),
                        selected_protocol_version: PROTOCOL_VERSION.into(),
                        peer_metadata: Some(self.metadata()),
                    },
                ));
                self.on_handshake_done(connection, sender_id, fx);
            }
            (Phase::AwaitingPeer, Message::Peer { sender_id, .. }) => {
                self.on_handshake_done(connection, sender_id, fx);
            }
            (Phase::Ready(remote), message) => {
                let decoded = Decoded { sync, preloaded };
                self.on_peer_message(now, connection, &remote, message, decoded, fx)
            }
            (_, Message::Error { message }) => {
                self.on_peer_error(now, connection, &message, fx);
            }
            (_, other) => {
                let reason = format!("unexpected `{}` before the handshake", other.kind());
                self.fail(now, connection, reason, fx);
            }
        }
    }

    fn on_handshake_done(&mut self, connection: ConnectionId, remote: PeerId, fx: &mut Effects) {
        if let Some(conn) = self.connections.get_mut(&connection) {
            conn.phase = Phase::Ready(remote);
        }
        // A client offers everything it holds, and asks for what it is waiting for. A server
        // announces nothing and waits for nothing, so it skips the scan (no work per
        // handshake proportional to the documents in memory).
        if !self.config.announce_documents && self.wanted == 0 {
            return;
        }
        let ids: Vec<DocumentId> = self
            .documents
            .iter()
            .filter_map(|(id, slot)| match slot {
                Slot::Loaded(loaded)
                    if (self.config.announce_documents && !loaded.is_empty()) || loaded.wanted =>
                {
                    Some(*id)
                }
                _ => None,
            })
            .collect();
        for id in ids {
            let _ = self.subscribe(connection, id);
            self.flush(id, fx);
        }
    }

    fn on_peer_message(
        &mut self,
        now: Timestamp,
        connection: ConnectionId,
        remote: &PeerId,
        message: Message,
        decoded: Decoded,
        fx: &mut Effects,
    ) {
        let (is_request, sender_id, document_id, data) = match message {
            Message::Request {
                sender_id,
                document_id,
                data,
                ..
            } => (true, sender_id, document_id, data),
            Message::Sync {
                sender_id,
                document_id,
                data,
                ..
            } => (false, sender_id, document_id, data),
            Message::DocUnavailable { document_id, .. } => {
                if let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&document_id) {
                    if loaded.is_empty() {
                        loaded.unavailable = true;
                    } else {
                        loaded.refused_by.insert(connection);
                    }
                }
                return;
            }
            Message::Leave { .. } => return fx.close.push((connection, CloseReason::PeerLeft)),
            Message::Error { message } => return self.on_peer_error(now, connection, &message, fx),
            Message::Ignored { .. } => return,
            other => {
                let reason = format!("unexpected `{}` after the handshake", other.kind());
                return self.fail(now, connection, reason, fx);
            }
        };
        if &sender_id != remote {
            let reason = format!("senderId {sender_id} does not match the handshake's {remote}");
            return self.fail(now, connection, reason, fx);
        }
        let sync_message = decoded
            .sync
            .unwrap_or_else(|| sync::Message::decode(&data).map_err(|err| err.to_string()));
        let message = match sync_message {
            Ok(message) => message,
            Err(err) => {
                let reason = format!("sync message for {document_id} rejected: {err}");
                return self.fail(now, connection, reason, fx);
            }
        };
        if let Err(reason) = self.admit(connection, document_id, is_request) {
            return self.deny(connection, document_id, reason, fx);
        }
        let waiting = Waiting {
            connection,
            is_request,
            message,
            preloaded: decoded.preloaded,
        };
        if let Some(conn) = self.connections.get_mut(&connection) {
            conn.documents.insert(document_id);
        }
        match self.documents.get_mut(&document_id) {
            Some(Slot::Loaded(loaded)) => {
                loaded.refused_by.remove(&connection);
                self.apply(now, document_id, waiting, fx);
            }
            Some(Slot::Loading { waiting: queue, .. }) => queue.push(waiting),
            None => self.start_load(document_id, vec![waiting], false, fx),
        }
    }

    /// Whether a sync message from `connection` about `id` may go further.
    ///
    /// Passes documents in the grant, and (for a peer that may create visits) messages about
    /// a document not in memory, which may be a new visit: [`Self::apply`] decides once it
    /// is known whether the document exists and which child it names.
    fn admit(
        &self,
        connection: ConnectionId,
        id: DocumentId,
        is_request: bool,
    ) -> Result<(), DenialReason> {
        if !self.config.enforce_access {
            return Ok(());
        }
        let Some(conn) = self.connections.get(&connection) else {
            return Err(DenialReason::NotGranted);
        };
        if conn.grant.access(&id).is_some() {
            return Ok(());
        }
        let may_create = !is_request && !conn.grant.may_create_for.is_empty();
        match self.documents.get(&id) {
            None if may_create => Ok(()),
            Some(Slot::Loading { waiting, .. })
                if may_create && waiting.iter().any(|w| w.connection == connection) =>
            {
                Ok(())
            }
            Some(Slot::Loaded(loaded)) if loaded.pending_owner == Some(connection) => Ok(()),
            _ => Err(DenialReason::NotGranted),
        }
    }

    /// Refuses a document exactly as if it did not exist, and reports the denial.
    fn deny(
        &mut self,
        connection: ConnectionId,
        id: DocumentId,
        reason: DenialReason,
        fx: &mut Effects,
    ) {
        debug!(%connection, document = %id, %reason, "access denied");
        fx.outbound
            .push((connection, self.unavailable(connection, id)));
        fx.access.push(AccessEvent {
            connection,
            document: id,
            kind: AccessKind::Denied(reason),
        });
    }

    fn start_load(
        &mut self,
        id: DocumentId,
        waiting: Vec<Waiting>,
        wanted: bool,
        fx: &mut Effects,
    ) {
        let task = self.new_task(PendingTask::Load(id));
        self.documents.insert(
            id,
            Slot::Loading {
                task,
                waiting,
                wanted,
            },
        );
        fx.storage.push(StorageTask {
            id: task,
            document: id,
            kind: StorageTaskKind::Load,
        });
    }

    fn new_task(&mut self, pending: PendingTask) -> TaskId {
        let id = TaskId(self.next_task);
        self.next_task += 1;
        self.tasks.insert(id, pending);
        id
    }

    /// Applies one peer sync message to a loaded document.
    fn apply(&mut self, now: Timestamp, id: DocumentId, waiting: Waiting, fx: &mut Effects) {
        let Waiting {
            connection,
            is_request,
            message,
            preloaded,
        } = waiting;
        if !self.connections.contains_key(&connection) {
            return;
        }
        let check_ownership = self.config.enforce_access && !self.has_access(connection, id);
        let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id) else {
            return;
        };
        // Asking for a document we hold nothing of: say so, exactly as for an unknown id.
        if is_request && loaded.is_empty() && !loaded.peers.contains_key(&connection) {
            fx.outbound
                .push((connection, self.unavailable(connection, id)));
            self.forget_if_unused(id);
            return;
        }
        if check_ownership {
            // Admitted as a possible new document: it is one only if nothing exists yet.
            let is_new = loaded.is_empty()
                && loaded.persisted_heads.is_empty()
                && loaded.peers.is_empty()
                && loaded.pending_owner.is_none();
            if !is_new || is_request {
                self.deny(connection, id, DenialReason::NotGranted, fx);
                self.forget_if_unused(id);
                return;
            }
            loaded.pending_owner = Some(connection);
        }
        let is_pending = matches!(self.documents.get(&id),
            Some(Slot::Loaded(loaded)) if loaded.pending_owner.is_some());
        if let Some(read) = self.subscribe(connection, id).filter(|_| !is_pending) {
            fx.access.push(read);
        }
        if !self.unpack(id) {
            return;
        }
        let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id) else {
            return;
        };
        // Replies wait until every change is durable (see `flush`).
        let reply_waits = !loaded.is_durable();
        let Some(state) = loaded.peers.get_mut(&connection) else {
            return;
        };
        // A read-only peer that sends changes, or announces heads we lack (an automerge
        // peer told we are read-only keeps its changes back), is trying to write.
        let tries_to_write = !message.changes.is_empty()
            || message
                .heads
                .iter()
                .any(|head| loaded.doc.get_change_meta_by_hash(head).is_none());
        if state.read_only && tries_to_write && loaded.read_only_writers.insert(connection) {
            fx.access.push(AccessEvent {
                connection,
                document: id,
                kind: AccessKind::Denied(DenialReason::ReadOnly),
            });
        }
        let before = loaded.doc.get_heads();
        let fills_empty_document = before.is_empty()
            && loaded.persisted_heads.is_empty()
            && loaded.saving.is_none()
            && !message.changes.is_empty();
        let raw_changes = fills_empty_document.then(|| {
            message
                .changes
                .iter()
                .flatten()
                .copied()
                .collect::<Vec<u8>>()
        });
        // A message without changes announcing exactly our heads makes automerge record
        // those heads as sent to the peer (`last_sent_heads`): it assumes we answered the
        // peer's earlier messages at once. If our answer is still waiting for an append, the
        // peer has not been told we hold its changes; keep what we really sent, so the
        // answer still goes out once the append commits.
        let echoes_our_heads = message.changes.is_empty() && message.heads == before;
        let last_sent = state.last_sent_heads.clone();
        // The driver may have loaded the changes already (`Incoming::preload`): use that
        // document where automerge would load the same bytes into an empty one, then let
        // automerge take the rest of the message without them.
        let preloaded = preloaded.filter(|doc| {
            fills_empty_document
                && !state.read_only
                && message
                    .heads
                    .iter()
                    .all(|head| doc.get_change_meta_by_hash(head).is_some())
        });
        let outcome = match preloaded {
            Some(doc) => {
                let actor = loaded.doc.get_actor().clone();
                loaded.doc = doc.with_actor(actor);
                let mut message = message;
                message.changes = Vec::<Vec<u8>>::new().into();
                let outcome = loaded.doc.receive_sync_message(state, message);
                // Without changes, a message naming our heads reads to automerge as an
                // echo of heads we sent; we have not.
                state.last_sent_heads = last_sent;
                outcome
            }
            None => {
                let outcome = loaded.doc.receive_sync_message(state, message);
                if echoes_our_heads && reply_waits {
                    state.last_sent_heads = last_sent;
                }
                outcome
            }
        };
        let after = loaded.doc.get_heads();
        if after != before {
            loaded.first_chunk = raw_changes.map(|bytes| (after.clone(), bytes));
            loaded.dirty = true;
            if loaded.pending_owner.is_none() {
                fx.access.push(AccessEvent {
                    connection,
                    document: id,
                    kind: AccessKind::Wrote { heads: after },
                });
            }
        }
        if let Err(err) = outcome {
            let reason = format!("sync message for {id} rejected: {err}");
            self.fail(now, connection, reason, fx);
        }
        if !self.settle_new_document(connection, id, fx) {
            return;
        }
        self.after_change(id, fx);
    }

    /// Whether the connection's grant (or its pending creation) covers the document.
    fn has_access(&self, connection: ConnectionId, id: DocumentId) -> bool {
        let granted = self
            .connections
            .get(&connection)
            .is_some_and(|conn| conn.grant.access(&id).is_some());
        // A possible new document this connection sent counts as its own until decided:
        // held unstored (pending), or still being looked up in storage.
        granted
            || match self.documents.get(&id) {
                Some(Slot::Loaded(loaded)) => loaded.pending_owner == Some(connection),
                Some(Slot::Loading { waiting, .. }) => {
                    waiting.iter().any(|w| w.connection == connection)
                }
                None => false,
            }
    }

    /// Decides a new document once it has content: kept (and indexed under its child on
    /// its first append) if it is a visit for a child the author may create records for,
    /// otherwise dropped unstored. Returns whether the document is still there.
    fn settle_new_document(
        &mut self,
        connection: ConnectionId,
        id: DocumentId,
        fx: &mut Effects,
    ) -> bool {
        let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id) else {
            return false;
        };
        if loaded.pending_owner != Some(connection) || loaded.is_empty() {
            return true;
        }
        // A pending document is never packed (see `Loaded::is_settled`).
        let child_id = crate::model::visit_child_id(&loaded.doc);
        let allowed = child_id.as_ref().is_some_and(|child| {
            self.connections
                .get(&connection)
                .is_some_and(|conn| conn.grant.may_create_for.contains(child))
        });
        match (child_id, allowed) {
            (Some(child_id), true) => {
                loaded.pending_owner = None;
                loaded.index_on_save = Some(DocumentIndex {
                    child_id: child_id.clone(),
                });
                if let Some(conn) = self.connections.get_mut(&connection) {
                    conn.grant.read_write.insert(id);
                    conn.created.insert(id, child_id.clone());
                }
                fx.access.push(AccessEvent {
                    connection,
                    document: id,
                    kind: AccessKind::Created { child_id },
                });
                true
            }
            (child_id, _) => {
                let reason = match child_id {
                    Some(child_id) => DenialReason::ChildNotAllocated { child_id },
                    None => DenialReason::NotAVisit,
                };
                // Never stored: drop the copy and tell the peer it does not exist here.
                self.documents.remove(&id);
                if let Some(conn) = self.connections.get_mut(&connection) {
                    conn.documents.remove(&id);
                }
                self.deny(connection, id, reason, fx);
                false
            }
        }
    }

    /// Applies new rights; documents no longer covered stop syncing at once.
    fn on_access_changed(
        &mut self,
        now: Timestamp,
        connection: ConnectionId,
        mut grant: AccessGrant,
        fx: &mut Effects,
    ) {
        let Some(conn) = self.connections.get(&connection) else {
            return;
        };
        // Documents this connection created stay its own while it holds their child (the
        // grant may have been computed before their index committed).
        for (id, child) in &conn.created {
            if grant.may_create_for.contains(child) {
                grant.read_write.insert(*id);
            }
        }
        let documents: Vec<DocumentId> = conn.documents.iter().copied().collect();
        if let Some(conn) = self.connections.get_mut(&connection) {
            conn.grant = grant;
        }
        if !self.config.enforce_access {
            return;
        }
        for id in documents {
            if self.has_access(connection, id) {
                let read_only = self
                    .connections
                    .get(&connection)
                    .and_then(|c| c.grant.access(&id))
                    == Some(Access::ReadOnly);
                if let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id)
                    && let Some(state) = loaded.peers.get_mut(&connection)
                {
                    state.set_read_only(read_only);
                }
                continue;
            }
            self.unsubscribe(now, connection, id);
            self.deny(connection, id, DenialReason::Revoked, fx);
        }
    }

    fn on_access_added(&mut self, connection: ConnectionId, id: DocumentId, access: Access) {
        let Some(conn) = self.connections.get_mut(&connection) else {
            return;
        };
        match access {
            Access::ReadWrite => {
                conn.grant.read_only.remove(&id);
                conn.grant.read_write.insert(id);
            }
            Access::ReadOnly => {
                if !conn.grant.read_write.contains(&id) {
                    conn.grant.read_only.insert(id);
                }
            }
        }
        let read_only = conn.grant.access(&id) == Some(Access::ReadOnly);
        if let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id)
            && let Some(state) = loaded.peers.get_mut(&connection)
        {
            state.set_read_only(read_only);
        }
    }

    /// Stops syncing one document with one connection.
    fn unsubscribe(&mut self, now: Timestamp, connection: ConnectionId, id: DocumentId) {
        if let Some(conn) = self.connections.get_mut(&connection) {
            conn.documents.remove(&id);
        }
        match self.documents.get_mut(&id) {
            Some(Slot::Loaded(loaded)) => {
                loaded.peers.remove(&connection);
                loaded.refused_by.remove(&connection);
                loaded.read_only_writers.remove(&connection);
                if loaded.peers.is_empty() {
                    loaded.idle_since = Some(now);
                    self.idle.push_back((now, id));
                }
            }
            Some(Slot::Loading { waiting, .. }) => waiting.retain(|w| w.connection != connection),
            None => {}
        }
    }

    fn unavailable(&self, connection: ConnectionId, id: DocumentId) -> Message {
        Message::DocUnavailable {
            sender_id: self.config.local_peer.clone(),
            target_id: self.remote_of(connection),
            document_id: id,
        }
    }

    fn remote_of(&self, connection: ConnectionId) -> PeerId {
        match self.connections.get(&connection).map(|c| &c.phase) {
            Some(Phase::Ready(remote)) => remote.clone(),
            _ => PeerId::new("unknown"),
        }
    }

    fn ready_connections(&self) -> Vec<ConnectionId> {
        self.connections
            .iter()
            .filter(|(_, c)| matches!(c.phase, Phase::Ready(_)))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Starts syncing a loaded document with a connection (read-only if so granted).
    fn subscribe(&mut self, connection: ConnectionId, id: DocumentId) -> Option<AccessEvent> {
        let enforce = self.config.enforce_access;
        let conn = self.connections.get_mut(&connection)?;
        let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id) else {
            return None;
        };
        conn.documents.insert(id);
        loaded.idle_since = None;
        if loaded.peers.contains_key(&connection) {
            return None;
        }
        let read_only = enforce && conn.grant.access(&id) == Some(Access::ReadOnly);
        let state = if read_only {
            sync::State::new_read_only()
        } else {
            sync::State::new()
        };
        loaded.peers.insert(connection, state);
        Some(AccessEvent {
            connection,
            document: id,
            kind: AccessKind::Read,
        })
    }

    /// After the document changed (or a peer spoke): store what is new, then reply.
    fn after_change(&mut self, id: DocumentId, fx: &mut Effects) {
        self.start_save(id, fx);
        self.flush(id, fx);
    }

    fn start_save(&mut self, id: DocumentId, fx: &mut Effects) {
        let Some(Slot::Loaded(loaded)) = self.documents.get(&id) else {
            return;
        };
        if !loaded.dirty || loaded.saving.is_some() || loaded.pending_owner.is_some() {
            return;
        }
        // A dirty document is never packed (see `Loaded::is_settled`).
        let task = self.new_task(PendingTask::Append(id));
        let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id) else {
            return;
        };
        let heads = loaded.doc.get_heads();
        let changes = match loaded.first_chunk.take() {
            // Exactly what one message brought into the empty document: store it as it came.
            Some((filled, bytes)) if filled == heads && loaded.persisted_heads.is_empty() => bytes,
            // Nothing stored yet: one compact document chunk. `save_after(&[])` would encode
            // every change on its own, about 20 times the work for a visit typed in bursts.
            _ if loaded.persisted_heads.is_empty() => loaded.doc.save(),
            _ => loaded.doc.save_after(&loaded.persisted_heads),
        };
        loaded.first_stored = loaded
            .persisted_heads
            .is_empty()
            .then(|| (heads.clone(), changes.clone()));
        let index = loaded.index_on_save.take();
        loaded.saving = Some(InFlightSave { task, heads });
        loaded.dirty = false;
        fx.storage.push(StorageTask {
            id: task,
            document: id,
            kind: StorageTaskKind::Append { changes, index },
        });
    }

    /// Sends each syncing peer what it lacks, once every change is durable.
    fn flush(&mut self, id: DocumentId, fx: &mut Effects) {
        let local = self.config.local_peer.clone();
        let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id) else {
            return;
        };
        if !loaded.is_durable() {
            return;
        }
        if loaded.packed.is_some() {
            // Packed only while every peer held our heads, and a peer's state changes only
            // by a message, which unpacks it: nothing to send.
            return;
        }
        let requesting = loaded.wanted && loaded.is_empty();
        let mut peers: Vec<ConnectionId> = loaded.peers.keys().copied().collect();
        peers.sort();
        for connection in peers {
            let Some(Phase::Ready(remote)) = self.connections.get(&connection).map(|c| &c.phase)
            else {
                continue;
            };
            let Some(state) = loaded.peers.get_mut(&connection) else {
                continue;
            };
            let Some(message) = loaded.doc.generate_sync_message(state) else {
                continue;
            };
            let data = message.encode();
            let (sender_id, target_id, document_id) = (local.clone(), remote.clone(), id);
            let message = if requesting {
                Message::Request {
                    sender_id,
                    target_id,
                    document_id,
                    data,
                }
            } else {
                Message::Sync {
                    sender_id,
                    target_id,
                    document_id,
                    data,
                }
            };
            fx.outbound.push((connection, message));
        }
        self.pack_if_over(id);
    }

    /// How many loaded documents are packed, counted afresh.
    fn count_packed(&self) -> usize {
        self.documents
            .values()
            .filter(|slot| matches!(slot, Slot::Loaded(loaded) if loaded.packed.is_some()))
            .count()
    }

    /// Packs a settled document while more than `live_documents` are in working form.
    fn pack_if_over(&mut self, id: DocumentId) {
        if self.documents.len().saturating_sub(self.packed) <= self.config.live_documents {
            return;
        }
        if let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id)
            && loaded.is_settled()
        {
            loaded.pack();
            self.packed += 1;
        }
    }

    /// Brings a packed document back into working form; false if it is not in memory or
    /// cannot be (then it stays packed and untouched).
    fn unpack(&mut self, id: DocumentId) -> bool {
        let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id) else {
            return false;
        };
        if loaded.unpack() {
            if loaded.packed.is_some() {
                return false;
            }
            self.packed = self.packed.saturating_sub(1);
        }
        true
    }

    fn on_io_complete(&mut self, now: Timestamp, result: IoResult, fx: &mut Effects) {
        let Some(pending) = self.tasks.remove(&result.task) else {
            warn!(task = result.task.0, "storage result for an unknown task");
            return;
        };
        match pending {
            PendingTask::Load(id) => self.on_loaded(now, id, result, fx),
            PendingTask::Append(id) => self.on_appended(now, id, result, fx),
            PendingTask::Compact(id) => {
                if let StorageOutcome::Failed(cause) = result.outcome {
                    // The chunks it would have replaced are still stored: nothing is lost.
                    warn!(document = %id, %cause, "compaction failed");
                }
            }
        }
    }

    fn on_loaded(&mut self, now: Timestamp, id: DocumentId, result: IoResult, fx: &mut Effects) {
        let Some(Slot::Loading {
            task,
            waiting,
            wanted,
        }) = self.documents.remove(&id)
        else {
            return;
        };
        if task != result.task {
            return;
        }
        let loaded = match result.outcome {
            StorageOutcome::Loaded(Some(chunks)) => match Automerge::load(&chunks.bytes) {
                Ok(doc) => Loaded::new(doc, chunks.count),
                Err(err) => {
                    let reason = format!("stored document {id} cannot be read: {err}");
                    return self.fail_waiting(now, waiting, reason, fx);
                }
            },
            StorageOutcome::Loaded(None) => {
                let mut empty = Loaded::new(Automerge::new(), 0);
                empty.persisted_heads = Vec::new();
                empty
            }
            StorageOutcome::Written => Loaded::new(Automerge::new(), 0),
            StorageOutcome::Failed(cause) => {
                return self.fail_waiting(now, waiting, format!("storage failed: {cause}"), fx);
            }
        };
        self.documents.insert(id, Slot::Loaded(Box::new(loaded)));
        if wanted {
            let asked = self.find(id);
            fx.extend(asked);
        }
        for message in waiting {
            self.apply(now, id, message, fx);
        }
        self.forget_if_unused(id);
    }

    fn fail_waiting(
        &mut self,
        now: Timestamp,
        waiting: Vec<Waiting>,
        reason: String,
        fx: &mut Effects,
    ) {
        warn!(%reason, "document load failed");
        for waiting in waiting {
            self.close_for_storage(now, waiting.connection, &reason, fx);
        }
    }

    fn on_appended(&mut self, now: Timestamp, id: DocumentId, result: IoResult, fx: &mut Effects) {
        let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id) else {
            return;
        };
        let Some(save) = loaded.saving.take_if(|save| save.task == result.task) else {
            return;
        };
        match result.outcome {
            StorageOutcome::Written => {
                loaded.persisted_heads = save.heads;
                loaded.chunks_since_snapshot += 1;
                if loaded.dirty {
                    return self.start_save(id, fx);
                }
                if loaded.chunks_since_snapshot >= self.config.compact_after_chunks {
                    self.compact(id, fx);
                }
                self.flush(id, fx);
                self.forget_if_unused(id);
            }
            other => {
                let cause = match other {
                    StorageOutcome::Failed(cause) => cause,
                    _ => "unexpected storage result for an append".into(),
                };
                warn!(document = %id, %cause, "append failed; unloading the document");
                // Drop the in-memory copy: it holds changes that are not durable, and
                // peers resend them after reconnecting.
                let reason = format!("storage error: could not store changes to {id}");
                if let Some(Slot::Loaded(loaded)) = self.documents.remove(&id) {
                    for connection in loaded.peers.keys() {
                        self.close_for_storage(now, *connection, &reason, fx);
                    }
                }
            }
        }
    }

    fn compact(&mut self, id: DocumentId, fx: &mut Effects) {
        let task = self.new_task(PendingTask::Compact(id));
        let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id) else {
            return;
        };
        loaded.chunks_since_snapshot = 1;
        fx.storage.push(StorageTask {
            id: task,
            document: id,
            kind: StorageTaskKind::Compact {
                snapshot: loaded.snapshot(),
            },
        });
    }

    /// Forgets a connection; touches only the documents it synced or waited for.
    fn on_disconnected(&mut self, now: Timestamp, connection: ConnectionId) {
        let Some(conn) = self.connections.remove(&connection) else {
            return;
        };
        for id in conn.documents {
            match self.documents.get_mut(&id) {
                Some(Slot::Loaded(loaded)) => {
                    loaded.peers.remove(&connection);
                    loaded.refused_by.remove(&connection);
                    loaded.read_only_writers.remove(&connection);
                    if loaded.peers.is_empty() {
                        loaded.idle_since = Some(now);
                        self.idle.push_back((now, id));
                    }
                }
                Some(Slot::Loading { waiting, .. }) => {
                    waiting.retain(|w| w.connection != connection);
                }
                None => {}
            }
        }
    }

    fn on_tick(&mut self, now: Timestamp, fx: &mut Effects) {
        self.packed = self.count_packed();
        while let Some(&(since, id)) = self.idle.front() {
            if since.plus(self.config.idle_unload_after) > now {
                break;
            }
            self.idle.pop_front();
            let Some(Slot::Loaded(loaded)) = self.documents.get(&id) else {
                continue;
            };
            if loaded.idle_since != Some(since) || !loaded.is_durable() || loaded.wanted {
                continue;
            }
            if loaded.chunks_since_snapshot > 1 {
                self.compact(id, fx);
            }
            debug!(document = %id, "unloading idle document");
            self.documents.remove(&id);
        }
    }

    /// Drops an empty document nobody syncs (e.g. after answering `doc-unavailable`).
    fn forget_if_unused(&mut self, id: DocumentId) {
        if let Some(Slot::Loaded(loaded)) = self.documents.get(&id)
            && loaded.is_empty()
            && loaded.peers.is_empty()
            && !loaded.wanted
            && loaded.is_durable()
        {
            self.documents.remove(&id);
        }
    }

    fn on_peer_error(
        &mut self,
        now: Timestamp,
        connection: ConnectionId,
        message: &str,
        fx: &mut Effects,
    ) {
        warn!(%connection, error = %message, "peer reported an error");
        fx.close.push((
            connection,
            CloseReason::ProtocolError(format!("peer error: {message}")),
        ));
        self.on_disconnected(now, connection);
    }

    /// Tells the peer what it did wrong, then closes its connection.
    fn fail(&mut self, now: Timestamp, connection: ConnectionId, reason: String, fx: &mut Effects) {
        warn!(%connection, %reason, "closing connection after a protocol error");
        fx.outbound.push((
            connection,
            Message::Error {
                message: reason.clone(),
            },
        ));
        fx.close
            .push((connection, CloseReason::ProtocolError(reason)));
        self.on_disconnected(now, connection);
    }

    fn close_for_storage(
        &mut self,
        now: Timestamp,
        connection: ConnectionId,
        reason: &str,
        fx: &mut Effects,
    ) {
        fx.outbound.push((
            connection,
            Message::Error {
                message: reason.to_owned(),
            },
        ));
        fx.close
            .push((connection, CloseReason::StorageError(reason.to_owned())));
        self.on_disconnected(now, connection);
    }
}
