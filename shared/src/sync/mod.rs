//! The sans-IO sync core: automerge-repo's protocol as a state machine.
//!
//! Events go in ([`Event`]): a connection opened, bytes from a peer, a storage task
//! finished, a tick with the current time. Effects come out ([`Effects`]): messages
//! to send, storage tasks to run, connections to close. The core never reads the
//! clock, sleeps, spawns or touches a socket, so the tokio server and the browser
//! client drive the same logic.
//!
//! **Architecture Invariant:** the core never puts into an outgoing sync message heads
//! that it has not made durable: after a peer's changes are applied, replies for that
//! document wait until the storage task appending those changes has completed.
//!
//! **Architecture Invariant:** on a server ([`CoreConfig::peer_checks`]), every sync message
//! passes [`check_sync_message`] (bounds on counts, sizes, bloom filters, chunk headers and
//! inflation) before automerge sees it.
//!
//! **Architecture Invariant:** with `peer_checks`, no sync message reaches or leaves a
//! document unless the connection's [`AccessGrant`] covers the document's child (from the
//! server's own index); a refusal is answered exactly as for a document that does not
//! exist; a new document is stored only once it is a visit its author may create
//! (`model::check_new_visit`), and a change to a stored one only if it writes nothing its
//! sender may not (`model::check_peer_change`, applied to a copy first).
//!
//! **Architecture Invariant:** a peer whose change is refused is told so, with an
//! `ephemeral` notice on the document ([`refusal_notice`]); nothing of the change is kept.
//!
//! **Architecture Invariant:** the core never sends a document to a peer that did not
//! ask for it, unless it was configured to announce its documents (a client does, the
//! server does not).

mod access;
mod admission;
mod config;
mod connection;
mod core;
mod document;
mod effects;
mod event;
mod handshake;
mod incoming;
mod lifecycle;
mod limits;
mod message_guard;
mod peer_checks;
mod persisting;
mod receiving;
mod refusal_notice;
mod replying;
mod storage_task;
mod sync_error;
mod timestamp;

pub use access::{Access, AccessEvent, AccessGrant, AccessKind, DenialReason};
pub use config::CoreConfig;
pub use connection::{ConnectionId, Direction};
pub use core::{CoreStats, DocumentStatus, SyncCore};
pub use effects::{CloseReason, Effects, PEER_ERROR_PREFIX};
pub use event::Event;
pub use incoming::Incoming;
pub use limits::SyncLimits;
pub use message_guard::{CheckedMessage, GuardError, check_sync_message};
pub use peer_checks::PeerChecks;
pub use refusal_notice::{
    REFUSAL_NOTICE_TYPE, RefusalNotice, read_refusal_notice, refusal_notice, refusal_word,
};
pub use storage_task::{
    DocumentIndex, IoResult, StorageOutcome, StorageTask, StorageTaskKind, StoredChunks, TaskId,
};
pub use sync_error::SyncError;
pub use timestamp::Timestamp;

#[cfg(test)]
mod access_tests;
#[cfg(test)]
mod erasure_tests;
#[cfg(test)]
mod hostile_tests;
#[cfg(test)]
mod message_guard_tests;
#[cfg(test)]
mod test_network;
#[cfg(test)]
mod tests;
