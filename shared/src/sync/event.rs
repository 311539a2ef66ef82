//! What can happen to the core.

use super::{ConnectionId, Direction, IoResult};

/// One input to [`super::SyncCore::handle`].
#[derive(Debug)]
pub enum Event {
    /// A transport connection opened.
    Connected {
        /// The driver's id for it.
        connection: ConnectionId,
        /// Whether we dialled or accepted it.
        direction: Direction,
    },
    /// One complete frame arrived from a connection.
    Received {
        /// Where it came from.
        connection: ConnectionId,
        /// The undecoded frame.
        bytes: Vec<u8>,
    },
    /// One frame arrived, decoded (and perhaps its changes loaded) ahead by the driver.
    ReceivedDecoded {
        /// Where it came from.
        connection: ConnectionId,
        /// The frame.
        incoming: super::Incoming,
    },
    /// A connection closed (either side).
    Disconnected {
        /// Which one.
        connection: ConnectionId,
    },
    /// A storage task finished.
    IoComplete(IoResult),
    /// Time passed; lets the core unload idle documents.
    Tick,
    /// A connection's rights were set or changed (login, allocation change, revocation).
    AccessChanged {
        /// Whose rights.
        connection: ConnectionId,
        /// The rights from now on; documents no longer in it stop syncing at once.
        grant: super::AccessGrant,
    },
}
