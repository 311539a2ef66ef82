//! A connection from accept (or dial) to a finished `join`/`peer` handshake, and the
//! dispatch of every frame by the connection's phase.

use std::collections::HashSet;

use super::connection::{Connection, Phase};
use super::document::Slot;
use super::{AccessGrant, ConnectionId, Direction, Effects, Incoming, SyncCore, Timestamp};
use crate::PeerId;
use crate::protocol::{Message, PROTOCOL_VERSION, PeerMetadata};

impl SyncCore {
    pub(super) fn on_connected(
        &mut self,
        now: Timestamp,
        connection: ConnectionId,
        direction: Direction,
        fx: &mut Effects,
    ) {
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
                opened_at: now,
            },
        );
    }

    fn metadata(&self) -> PeerMetadata {
        PeerMetadata {
            storage_id: self.config.storage_id.clone(),
            is_ephemeral: self.config.storage_id.is_none(),
        }
    }

    pub(super) fn on_received(
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
                self.on_peer_message(now, connection, &remote, message, sync, preloaded, fx)
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
        let ids: Vec<_> = self
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

    /// Closes accepted connections that have not sent `join` within the deadline.
    pub(super) fn close_silent_connections(&mut self, now: Timestamp, fx: &mut Effects) {
        let deadline = self.config.join_deadline;
        let silent: Vec<ConnectionId> = self
            .connections
            .iter()
            .filter(|(_, conn)| {
                conn.phase == Phase::AwaitingJoin && conn.opened_at.plus(deadline) <= now
            })
            .map(|(id, _)| *id)
            .collect();
        for connection in silent {
            let reason = format!("no `join` within {} s", deadline.as_secs());
            self.fail(now, connection, reason, fx);
        }
    }
}
