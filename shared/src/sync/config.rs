//! How one sync core behaves: who it is and what it shares.

use std::time::Duration;

use super::{PeerChecks, SyncLimits};
use crate::PeerId;

/// Settings of a [`super::SyncCore`], fixed at construction.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Our peer id on the wire.
    pub local_peer: PeerId,
    /// Our storage id, sent in `peer`/`join` metadata when we persist documents.
    pub storage_id: Option<String>,
    /// Whether to start syncing every loaded document with every peer unasked.
    /// A client sets this (it pushes its work to the server); the server must not,
    /// because it may only send a document to a peer that asked for it.
    pub announce_documents: bool,
    /// How long a document nobody is syncing stays in memory before it is unloaded.
    pub idle_unload_after: Duration,
    /// After this many appended change chunks a document is compacted into one snapshot.
    pub compact_after_chunks: usize,
    /// Whether (and how) peers are checked: every sync message against [`Self::limits`],
    /// every document against the connection's [`super::AccessGrant`], every new document
    /// and change against who may write what. The server sets this; a client trusts the
    /// server it dialled.
    pub peer_checks: Option<PeerChecks>,
    /// How many documents may be held in automerge's working form (about 50 KB for a
    /// visit typed in bursts, fifty times its saved size). Beyond it, a document that is
    /// durable and in sync with every peer is held as its saved bytes until a peer sends
    /// or asks for something, so memory follows what is being synced, not what was.
    pub live_documents: usize,
    /// Bounds on each peer's automerge sync messages (checked before automerge sees them,
    /// when [`Self::peer_checks`] is set).
    pub limits: SyncLimits,
    /// How long an accepted connection may take to send `join`; then it is closed.
    pub join_deadline: Duration,
    /// How many documents one connection may sync or wait for at once; a peer asking for
    /// more is told so and closed. A manager's team of 40 children with ten years of
    /// six-weekly visits is under 4,000.
    pub max_documents_per_connection: usize,
    /// The `sessionId` of the ephemeral notices this core sends (see
    /// [`super::refusal_notice`]): automerge-repo drops a notice whose count is not above
    /// the last one it saw from the same session, so a driver whose peer id outlives a
    /// run (the server's) sets a fresh one at every start.
    pub notice_session: String,
}

impl CoreConfig {
    /// Whether this core checks its peers (a server).
    pub fn enforces_access(&self) -> bool {
        self.peer_checks.is_some()
    }

    /// Settings for a server: announce nothing, enforce access, unload after 30 s idle,
    /// at most 256 documents in working form, `join` within 10 s, at most 20,000
    /// documents per connection.
    pub fn server(local_peer: PeerId, storage_id: String) -> Self {
        Self {
            storage_id: Some(storage_id),
            announce_documents: false,
            idle_unload_after: Duration::from_secs(30),
            compact_after_chunks: 32,
            peer_checks: Some(PeerChecks::STANDARD),
            live_documents: 256,
            limits: SyncLimits::default(),
            join_deadline: Duration::from_secs(10),
            max_documents_per_connection: 20_000,
            notice_session: local_peer_session(&local_peer),
            local_peer,
        }
    }

    /// Settings for a client: announce every document to the server it dials.
    pub fn client(local_peer: PeerId) -> Self {
        Self {
            storage_id: None,
            announce_documents: true,
            idle_unload_after: Duration::MAX,
            compact_after_chunks: 32,
            peer_checks: None,
            live_documents: usize::MAX,
            limits: SyncLimits::default(),
            join_deadline: Duration::from_secs(10),
            max_documents_per_connection: usize::MAX,
            notice_session: local_peer_session(&local_peer),
            local_peer,
        }
    }
}

/// The default notice session: the peer id (a driver that reuses peer ids across runs
/// replaces it).
fn local_peer_session(peer: &PeerId) -> String {
    peer.as_str().to_owned()
}
