//! What each syncing peer is sent: automerge's next sync message for it, once every change
//! of the document is durable (the server never tells a peer of heads it could lose).

use automerge::sync::SyncDoc;

use super::admission::Standing;
use super::connection::Phase;
use super::document::Slot;
use super::{Access, ConnectionId, DenialReason, Effects, SyncCore};
use crate::protocol::Message;
use crate::{DocumentId, PeerId};

impl SyncCore {
    /// Sends each syncing peer what it lacks, once every change is durable.
    pub(super) fn flush(&mut self, id: DocumentId, fx: &mut Effects) {
        let local = self.config.local_peer.clone();
        let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id) else {
            return;
        };
        if !loaded.is_durable() {
            if !loaded.peers.is_empty() {
                self.replies_held_total += 1;
            }
            return;
        }
        let requesting = loaded.wanted && loaded.is_empty();
        // Packed only while every peer held our heads, and a peer's state changes only
        // by a message, which unpacks it: nothing to send.
        let super::document::Body::Working(doc) = &loaded.body else {
            return;
        };
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
            let Some(message) = doc.generate_sync_message(state) else {
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
        self.withdraw_from_former_holders(id, fx);
        self.pack_if_over(id);
    }

    /// A former holder keeps a record only until it has given the server what it recorded:
    /// once the server holds every change the peer holds (and has told it so, above), the
    /// record is withdrawn from it, as from anyone who no longer holds the child.
    pub(super) fn withdraw_from_former_holders(&mut self, id: DocumentId, fx: &mut Effects) {
        let Some(Slot::Loaded(loaded)) = self.documents.get(&id) else {
            return;
        };
        let (Some(doc), true) = (loaded.working(), loaded.is_durable()) else {
            return;
        };
        let settled: Vec<ConnectionId> = loaded
            .peers
            .iter()
            .filter(|(_, state)| {
                state.their_heads.as_ref().is_some_and(|heads| {
                    heads
                        .iter()
                        .all(|head| doc.get_change_meta_by_hash(head).is_some())
                })
            })
            .map(|(connection, _)| *connection)
            .filter(|connection| {
                self.standing(*connection, id) == Standing::Granted(Access::Former)
            })
            .collect();
        let child = loaded.index.as_ref().map(|index| index.child_id.clone());
        for connection in settled {
            if let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id) {
                loaded.peers.remove(&connection);
            }
            if let Some(conn) = self.connections.get_mut(&connection) {
                conn.documents.remove(&id);
            }
            self.deny(connection, id, child.clone(), DenialReason::Revoked, fx);
        }
    }

    pub(super) fn unavailable(&self, connection: ConnectionId, id: DocumentId) -> Message {
        Message::DocUnavailable {
            sender_id: self.config.local_peer.clone(),
            target_id: self.remote_of(connection),
            document_id: id,
        }
    }

    pub(super) fn remote_of(&self, connection: ConnectionId) -> PeerId {
        match self.connections.get(&connection).map(|c| &c.phase) {
            Some(Phase::Ready(remote)) => remote.clone(),
            _ => PeerId::new("unknown"),
        }
    }

    pub(super) fn ready_connections(&self) -> Vec<ConnectionId> {
        self.connections
            .iter()
            .filter(|(_, c)| matches!(c.phase, Phase::Ready(_)))
            .map(|(id, _)| *id)
            .collect()
    }
}
