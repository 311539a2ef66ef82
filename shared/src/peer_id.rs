//! Peer identifiers as automerge-repo sends them (`senderId` / `targetId`).

use std::fmt;

/// A peer's self-chosen name on the wire, e.g. `peer-3f2a…` or `storage-server-x`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(String);

impl PeerId {
    /// The longest peer id accepted from the wire.
    pub const MAX_LEN: usize = 256;

    /// Wraps a peer id chosen by this process.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PeerId({})", self.0)
    }
}
