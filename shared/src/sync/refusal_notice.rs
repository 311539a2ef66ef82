//! Telling a peer that its change was refused: an `ephemeral` notice on the document.
//!
//! A refused change used to be only audited: a manager's edit (read-only access) was
//! dropped and the client, told nothing, kept it pending forever. Now the core sends the
//! peer a [`Message::Ephemeral`] about the document whose data is the CBOR map
//! `{"type": "doorstep/refused", "reason": "read-only" | "integrity" | "no-longer-allocated",
//! "message": "…", "documentId": "…"}`. An automerge-repo app receives it as the document handle's
//! `ephemeral-message` event (`handle.on("ephemeral-message", ({ message }) => …)`) and
//! can show it; the change stays out of the server either way. A read-only refusal leaves
//! the connection open (the peer may go on reading); an integrity refusal is followed by
//! the protocol's `error` and a close, as before. A former holder's change made after a
//! reallocation (`no-longer-allocated`) is told, then answered `doc-unavailable` for that
//! record only.
//!
//! automerge-repo passes an ephemeral message on only if its `count` is above the last one
//! seen from its `sessionId`, so the session ([`super::CoreConfig::notice_session`]) must
//! be new for every run of the server and the count grows with every notice.

use super::{CoreConfig, DenialReason};
use crate::protocol::Message;
use crate::protocol::cbor::{self, Value, Writer};
use crate::{DocumentId, PeerId};

/// The `type` of a refusal notice's data.
pub const REFUSAL_NOTICE_TYPE: &str = "doorstep/refused";

/// A refusal notice as a client reads it ([`read_refusal_notice`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusalNotice {
    /// `read-only`, `integrity`, or another reason word.
    pub reason: String,
    /// What was refused, in words for a person.
    pub message: String,
    /// The document whose change was refused.
    pub document_id: String,
}

/// The word a notice gives for a reason.
pub fn refusal_word(reason: &DenialReason) -> &'static str {
    match reason {
        DenialReason::ReadOnly => "read-only",
        DenialReason::Integrity(_) => "integrity",
        DenialReason::NotGranted => "not-granted",
        DenialReason::ChildNotAllocated { .. } => "child-not-allocated",
        DenialReason::NotAVisit => "not-a-visit",
        DenialReason::Revoked => "revoked",
        DenialReason::NoLongerAllocated => "no-longer-allocated",
        DenialReason::Erased => "erased",
    }
}

/// The notice telling `target` that its change to `document` was refused for `reason`;
/// `count` is the core's next notice number.
pub fn refusal_notice(
    config: &CoreConfig,
    count: u64,
    target: PeerId,
    document: DocumentId,
    reason: &DenialReason,
) -> Message {
    let mut data = Writer::default();
    data.map(4)
        .text("type")
        .text(REFUSAL_NOTICE_TYPE)
        .text("reason")
        .text(refusal_word(reason))
        .text("message")
        .text(&reason.to_string())
        .text("documentId")
        .text(&document.to_string());
    Message::Ephemeral {
        sender_id: config.local_peer.clone(),
        target_id: target,
        document_id: document,
        session_id: config.notice_session.clone(),
        count,
        data: data.0,
    }
}

/// Reads a refusal notice from an ephemeral message's data; `None` if it is something else.
pub fn read_refusal_notice(data: &[u8]) -> Option<RefusalNotice> {
    let Ok(Value::Map(entries)) = cbor::read(data) else {
        return None;
    };
    let field = |key: &str| {
        entries.iter().find_map(|(k, v)| match (k, v) {
            (Value::Text(k), Value::Text(v)) if k == key => Some(v.to_string()),
            _ => None,
        })
    };
    (field("type")? == REFUSAL_NOTICE_TYPE).then_some(())?;
    Some(RefusalNotice {
        reason: field("reason")?,
        message: field("message")?,
        document_id: field("documentId")?,
    })
}
