//! One connection to a peer, and where it is in the handshake.

use std::collections::HashSet;

use super::Timestamp;
use crate::{DocumentId, PeerId};

/// The driver's name for one connection (unique for the core's lifetime).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

impl std::fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "conn-{}", self.0)
    }
}

/// Who opened the connection, which decides who speaks first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// We accepted it: we wait for `join` and answer `peer`.
    Accepted,
    /// We dialled it: we send `join` and wait for `peer`.
    Dialled,
}

/// The handshake phase of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Accepted; waiting for the peer's `join`.
    AwaitingJoin,
    /// Dialled; `join` sent, waiting for the peer's `peer`.
    AwaitingPeer,
    /// Handshake done with this remote peer.
    Ready(PeerId),
}

/// What the core remembers about one connection.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) phase: Phase,
    /// Documents this connection syncs or waits for, so a disconnect touches only those.
    pub(crate) documents: HashSet<DocumentId>,
    /// What it may do (checked when the core enforces access).
    pub(crate) grant: super::AccessGrant,
    /// When it opened (an accepted connection must send `join` within
    /// [`super::CoreConfig::join_deadline`]).
    pub(crate) opened_at: Timestamp,
}
