//! What the driver must do after each event.

use super::{AccessEvent, ConnectionId, StorageTask};
use crate::protocol::Message;

/// How a [`CloseReason::ProtocolError`] begins when the peer sent an `error` message: the
/// rest is the peer's words (from a server: why it refused what this device sent).
pub const PEER_ERROR_PREFIX: &str = "peer error: ";

/// Why the core wants a connection closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The peer broke the protocol; an `error` message has been queued before the close.
    ProtocolError(String),
    /// Storage failed for a document this connection was syncing.
    StorageError(String),
    /// The peer said `leave`.
    PeerLeft,
}

/// Effects of one event, to be carried out in order: send, store, close.
#[derive(Debug, Default)]
pub struct Effects {
    /// Messages to send, in order, per connection.
    pub outbound: Vec<(ConnectionId, Message)>,
    /// Storage tasks to run; their results come back as `Event::IoComplete`.
    /// Writes must be applied in the order given.
    pub storage: Vec<StorageTask>,
    /// Connections to close after their outbound messages are sent.
    pub close: Vec<(ConnectionId, CloseReason)>,
    /// Reads, writes, creations and denials, for the audit log.
    pub access: Vec<AccessEvent>,
}

impl Effects {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.outbound.is_empty()
            && self.storage.is_empty()
            && self.close.is_empty()
            && self.access.is_empty()
    }

    /// Appends another set of effects after these.
    pub fn extend(&mut self, other: Effects) {
        self.outbound.extend(other.outbound);
        self.storage.extend(other.storage);
        self.close.extend(other.close);
        self.access.extend(other.access);
    }
}
