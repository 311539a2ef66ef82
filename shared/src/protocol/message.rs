//! The protocol's messages as Rust values.

use crate::{DocumentId, PeerId};

/// What a peer says about its storage in `join` and `peer` messages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerMetadata {
    /// The peer's storage id, when it persists documents.
    pub storage_id: Option<String>,
    /// Whether the peer forgets everything when it disconnects.
    pub is_ephemeral: bool,
}

/// One automerge-repo protocol message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// First message of the dialling peer: who it is and which versions it speaks.
    Join {
        /// The dialler's peer id.
        sender_id: PeerId,
        /// Protocol versions the dialler supports (we need "1").
        supported_protocol_versions: Vec<String>,
        /// The dialler's storage metadata, if sent.
        peer_metadata: Option<PeerMetadata>,
    },
    /// The accepting peer's answer to `join`.
    Peer {
        /// The acceptor's peer id.
        sender_id: PeerId,
        /// The dialler's peer id.
        target_id: PeerId,
        /// The version chosen from the dialler's list.
        selected_protocol_version: String,
        /// The acceptor's storage metadata.
        peer_metadata: Option<PeerMetadata>,
    },
    /// The sender is going away.
    Leave {
        /// Who is leaving.
        sender_id: PeerId,
    },
    /// A sync message from a peer that does not have the document yet.
    Request {
        /// Sender.
        sender_id: PeerId,
        /// Receiver.
        target_id: PeerId,
        /// The document asked for.
        document_id: DocumentId,
        /// An encoded automerge sync message.
        data: Vec<u8>,
    },
    /// An automerge sync message for a document both sides are syncing.
    Sync {
        /// Sender.
        sender_id: PeerId,
        /// Receiver.
        target_id: PeerId,
        /// The document being synced.
        document_id: DocumentId,
        /// An encoded automerge sync message.
        data: Vec<u8>,
    },
    /// The sender does not have (or will not share) the document.
    DocUnavailable {
        /// Sender.
        sender_id: PeerId,
        /// Receiver.
        target_id: PeerId,
        /// The document that is unavailable.
        document_id: DocumentId,
    },
    /// Application data about a document, passed on and never stored (automerge-repo's
    /// `ephemeral`; an app receives its `data`, decoded from CBOR, as the document
    /// handle's `ephemeral-message` event). The server sends one to tell a peer it refused
    /// that peer's change ([`crate::sync::refusal_notice`]); peers' own are ignored.
    Ephemeral {
        /// Sender.
        sender_id: PeerId,
        /// Receiver.
        target_id: PeerId,
        /// The document it is about.
        document_id: DocumentId,
        /// The sender's session: with `count`, how receivers drop repeats (a receiver
        /// passes on only a count above the last it saw from this session).
        session_id: String,
        /// Increases with every ephemeral message of the session.
        count: u64,
        /// The payload, CBOR-encoded.
        data: Vec<u8>,
    },
    /// The sender hit a protocol error and will close the connection.
    Error {
        /// What went wrong, for the peer's logs.
        message: String,
    },
    /// Messages this server accepts and ignores: `remote-heads-changed`,
    /// `remote-subscription-change`, and an `ephemeral` without every field.
    Ignored {
        /// The message's `type`.
        kind: String,
    },
}

impl Message {
    /// The protocol's name for this message type.
    pub fn kind(&self) -> &str {
        match self {
            Message::Join { .. } => "join",
            Message::Peer { .. } => "peer",
            Message::Leave { .. } => "leave",
            Message::Request { .. } => "request",
            Message::Sync { .. } => "sync",
            Message::DocUnavailable { .. } => "doc-unavailable",
            Message::Ephemeral { .. } => "ephemeral",
            Message::Error { .. } => "error",
            Message::Ignored { kind } => kind,
        }
    }
}
