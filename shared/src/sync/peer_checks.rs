//! [`PeerChecks`]: what a server checks of its peers beyond their framing.
//!
//! A server checks everything a peer sends: each sync message against [`SyncLimits`]
//! before automerge sees it, each new document and each change against who may write
//! what (`model::integrity`), and every document against the connection's grant. A client
//! trusts the server it dialled and checks none of it; since only
//! [`super::CoreConfig::server`] names these functions, a client build (the browser's
//! wasm) carries none of their code.

use std::collections::HashSet;

use automerge::Automerge;

use super::{CheckedMessage, GuardError, SyncLimits, check_sync_message};
use crate::model::{IntegrityViolation, check_new_visit, check_peer_change};

/// Decides a document a peer creates: given the document, its author's `workerId` and the
/// children the author may create records for, the child it is for, or why it is refused.
pub type NewDocumentCheck =
    fn(&Automerge, Option<&str>, &HashSet<String>) -> Result<String, IntegrityViolation>;

/// The checks a core runs on its peers' input; present on a server, absent on a client.
#[derive(Debug, Clone, Copy)]
pub struct PeerChecks {
    /// Bounds and structure of a sync message ([`check_sync_message`]).
    pub message: fn(&[u8], &SyncLimits) -> Result<CheckedMessage, GuardError>,
    /// A document a peer creates ([`check_new_visit`]).
    pub new_document: NewDocumentCheck,
    /// A peer's change to a stored document, given before and after
    /// ([`check_peer_change`]).
    pub change: fn(&Automerge, &Automerge) -> Result<(), IntegrityViolation>,
}

impl PeerChecks {
    /// Doorstep's checks: the sync message guard and the visit integrity rules.
    pub const STANDARD: PeerChecks = PeerChecks {
        message: check_sync_message,
        new_document: check_new_visit,
        change: check_peer_change,
    };
}
