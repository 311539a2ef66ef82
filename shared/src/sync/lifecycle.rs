//! How connections and documents leave: disconnects, ticks (idle unload, silent
//! connections, packing), eviction after a failure, erasure for good (a record deleted
//! after its retention), and closing a peer with a reason.

use tracing::{debug, warn};

use super::document::{Slot, Waiting};
use super::{
    AccessEvent, AccessKind, CloseReason, ConnectionId, DenialReason, Effects, PEER_ERROR_PREFIX,
    SyncCore, Timestamp,
};
use crate::DocumentId;
use crate::protocol::Message;

impl SyncCore {
    /// Forgets a connection; touches only the documents it synced or waited for.
    pub(super) fn on_disconnected(&mut self, now: Timestamp, connection: ConnectionId) {
        let Some(conn) = self.connections.remove(&connection) else {
            return;
        };
        for id in conn.documents {
            match self.documents.get_mut(&id) {
                Some(Slot::Loaded(loaded)) => {
                    loaded.peers.remove(&connection);
                    loaded.refused_by.remove(&connection);
                    loaded.read_only_writers.remove(&connection);
                    if loaded.pending_owner == Some(connection) {
                        // A new document its sender never finished: nothing was stored.
                        self.documents.remove(&id);
                        continue;
                    }
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

    pub(super) fn on_tick(&mut self, now: Timestamp, fx: &mut Effects) {
        self.packed = self.count_packed();
        self.close_silent_connections(now, fx);
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

    /// Drops a document and every storage task about it, whatever its state, without
    /// writing anything: a client whose server deleted the record after its retention
    /// (the caseload's `erased`) forgets it before deleting its stored copy. Peers syncing
    /// it are not told; the server already answers it as unavailable.
    pub fn forget_document(&mut self, id: DocumentId) {
        self.documents.remove(&id);
        self.tasks.retain(|_, task| !task.concerns(id));
    }

    /// Erases a document for good (the server deleted the record after its retention):
    /// it leaves memory with every storage task about it, so nothing of it is written
    /// again (not even the compaction an idle unload would make); every peer syncing or
    /// awaiting it is told `doc-unavailable`; and from now on any message about it is
    /// answered exactly as for a document that never existed, whatever the peer sends:
    /// its changes are neither applied nor stored, and a peer that asks for it or sends
    /// changes is reported ([`DenialReason::Erased`]). The driver calls this for every
    /// erased document when it starts and whenever one is erased while it runs.
    pub fn erase_document(&mut self, id: DocumentId) -> Effects {
        let mut fx = Effects::default();
        self.erased.insert(id);
        let peers: Vec<ConnectionId> = match self.documents.remove(&id) {
            Some(Slot::Loaded(loaded)) => loaded.peers.keys().copied().collect(),
            Some(Slot::Loading { waiting, .. }) => waiting.iter().map(|w| w.connection).collect(),
            None => Vec::new(),
        };
        self.tasks.retain(|_, task| !task.concerns(id));
        for connection in peers {
            if let Some(conn) = self.connections.get_mut(&connection) {
                conn.documents.remove(&id);
            }
            fx.outbound
                .push((connection, self.unavailable(connection, id)));
        }
        fx
    }

    /// Undoes [`SyncCore::erase_document`] for a document whose erasure the store did not
    /// carry out (an expunge whose transaction failed): it is loaded from storage again
    /// when next asked for. Nothing else of it was kept, so nothing else is restored.
    pub fn restore_erased(&mut self, id: DocumentId) {
        self.erased.remove(&id);
    }

    /// Whether [`SyncCore::erase_document`] erased this document.
    pub fn is_erased(&self, id: &DocumentId) -> bool {
        self.erased.contains(id)
    }

    /// Answers a message about an erased document as one about a document that never
    /// existed; a request or changes are reported.
    pub(super) fn answer_erased(&mut self, waiting: Waiting, id: DocumentId, fx: &mut Effects) {
        if waiting.is_request || !waiting.message.changes.is_empty() {
            debug!(connection = %waiting.connection, document = %id, "erased document refused");
            fx.access.push(AccessEvent {
                connection: waiting.connection,
                document: id,
                child: None,
                kind: AccessKind::Denied(DenialReason::Erased),
            });
        }
        self.answer_as_absent(waiting, id, None, fx);
    }

    /// Drops an empty document nobody syncs (e.g. after answering `doc-unavailable`).
    pub(super) fn forget_if_unused(&mut self, id: DocumentId) {
        if let Some(Slot::Loaded(loaded)) = self.documents.get(&id)
            && loaded.is_empty()
            && loaded.peers.is_empty()
            && loaded.pending_owner.is_none()
            && !loaded.wanted
            && loaded.is_durable()
        {
            self.documents.remove(&id);
        }
    }

    /// How many loaded documents are packed, counted afresh.
    pub(super) fn count_packed(&self) -> usize {
        self.documents
            .values()
            .filter(|slot| matches!(slot, Slot::Loaded(loaded) if loaded.is_packed()))
            .count()
    }

    /// Packs a settled document while more than `live_documents` are in working form.
    pub(super) fn pack_if_over(&mut self, id: DocumentId) {
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
    pub(super) fn unpack(&mut self, id: DocumentId) -> bool {
        let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id) else {
            return false;
        };
        if loaded.unpack() {
            if loaded.is_packed() {
                return false;
            }
            self.packed = self.packed.saturating_sub(1);
        }
        true
    }

    /// Recovers from a failure while handling one peer's input (a driver that caught a
    /// panic calls this): the connection is told and closed, and the document it was about
    /// is dropped from memory, so it is read again from storage, which holds only what was
    /// durable. Peers syncing that document are closed too (they reconnect and resync from
    /// the stored copy); nobody else is touched.
    pub fn recover(
        &mut self,
        now: Timestamp,
        connection: Option<ConnectionId>,
        document: Option<DocumentId>,
    ) -> Effects {
        let mut fx = Effects::default();
        if let Some(id) = document {
            self.evict_document(now, id, "the record was reloaded; reconnect", &mut fx);
        }
        if let Some(connection) = connection
            && self.connections.contains_key(&connection)
        {
            let reason = "this message could not be handled".to_owned();
            self.fail(now, connection, reason, &mut fx);
        }
        fx
    }

    /// Drops a document from memory and closes every peer syncing or awaiting it.
    pub(super) fn evict_document(
        &mut self,
        now: Timestamp,
        id: DocumentId,
        reason: &str,
        fx: &mut Effects,
    ) {
        let peers: Vec<ConnectionId> = match self.documents.remove(&id) {
            Some(Slot::Loaded(loaded)) => loaded.peers.keys().copied().collect(),
            Some(Slot::Loading { waiting, .. }) => waiting.iter().map(|w| w.connection).collect(),
            None => Vec::new(),
        };
        self.tasks.retain(|_, task| !task.concerns(id));
        for connection in peers {
            self.close_for_storage(now, connection, reason, fx);
        }
    }

    pub(super) fn on_peer_error(
        &mut self,
        now: Timestamp,
        connection: ConnectionId,
        message: &str,
        fx: &mut Effects,
    ) {
        warn!(%connection, error = %message, "peer reported an error");
        fx.close.push((
            connection,
            CloseReason::ProtocolError(format!("{PEER_ERROR_PREFIX}{message}")),
        ));
        self.on_disconnected(now, connection);
    }

    /// Tells the peer what it did wrong, then closes its connection.
    pub(super) fn fail(
        &mut self,
        now: Timestamp,
        connection: ConnectionId,
        reason: String,
        fx: &mut Effects,
    ) {
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

    pub(super) fn close_for_storage(
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
