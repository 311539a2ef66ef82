//! CBOR encoding and decoding of [`Message`], over the small reader and writer in [`super::cbor`].
//!
//! Decoding goes through a generic CBOR value first so that every shape error
//! becomes a precise [`DecodeError`]; the reader bounds nesting depth, and the
//! driver bounds the frame size before bytes reach this module.

use super::cbor::{self, Value, Writer};
use super::{DecodeError, Message, PeerMetadata};
use crate::{DocumentId, PeerId};

/// Encodes a message as the CBOR map automerge-repo expects.
pub fn encode(message: &Message) -> Vec<u8> {
    let mut w = Writer::default();
    // How many keys the map below writes (CBOR maps state their length up front).
    let entries = match message {
        Message::Join { peer_metadata, .. } => 3 + usize::from(peer_metadata.is_some()),
        Message::Peer { peer_metadata, .. } => 4 + usize::from(peer_metadata.is_some()),
        Message::Leave { .. } | Message::Error { .. } => 2,
        Message::Request { .. } | Message::Sync { .. } => 5,
        Message::DocUnavailable { .. } => 4,
        Message::Ephemeral { .. } => 7,
        Message::Ignored { .. } => 1,
    };
    w.map(entries).text("type").text(message.kind());
    match message {
        Message::Join {
            sender_id,
            supported_protocol_versions,
            peer_metadata,
        } => {
            w.text("senderId").text(sender_id.as_str());
            w.text("supportedProtocolVersions")
                .array(supported_protocol_versions.len());
            for version in supported_protocol_versions {
                w.text(version);
            }
            encode_metadata(&mut w, peer_metadata.as_ref());
        }
        Message::Peer {
            sender_id,
            target_id,
            selected_protocol_version,
            peer_metadata,
        } => {
            w.text("senderId").text(sender_id.as_str());
            w.text("targetId").text(target_id.as_str());
            w.text("selectedProtocolVersion")
                .text(selected_protocol_version);
            encode_metadata(&mut w, peer_metadata.as_ref());
        }
        Message::Leave { sender_id } => {
            w.text("senderId").text(sender_id.as_str());
        }
        Message::Request {
            sender_id,
            target_id,
            document_id,
            data,
        }
        | Message::Sync {
            sender_id,
            target_id,
            document_id,
            data,
        } => {
            w.text("senderId").text(sender_id.as_str());
            w.text("targetId").text(target_id.as_str());
            w.text("documentId").text(&document_id.to_string());
            w.text("data").bytes(data);
        }
        Message::DocUnavailable {
            sender_id,
            target_id,
            document_id,
        } => {
            w.text("senderId").text(sender_id.as_str());
            w.text("targetId").text(target_id.as_str());
            w.text("documentId").text(&document_id.to_string());
        }
        Message::Error { message } => {
            w.text("message").text(message);
        }
        Message::Ephemeral {
            sender_id,
            target_id,
            document_id,
            session_id,
            count,
            data,
        } => {
            w.text("senderId").text(sender_id.as_str());
            w.text("targetId").text(target_id.as_str());
            w.text("documentId").text(&document_id.to_string());
            w.text("sessionId").text(session_id);
            w.text("count").unsigned(*count);
            w.text("data").bytes(data);
        }
        Message::Ignored { .. } => {}
    }
    w.0
}

fn encode_metadata(w: &mut Writer, meta: Option<&PeerMetadata>) {
    let Some(meta) = meta else { return };
    w.text("peerMetadata")
        .map(1 + usize::from(meta.storage_id.is_some()))
        .text("isEphemeral")
        .bool(meta.is_ephemeral);
    if let Some(storage_id) = &meta.storage_id {
        w.text("storageId").text(storage_id);
    }
}

/// Decodes one frame from a peer.
///
/// # Errors
/// [`DecodeError`] for anything that is not a well-formed protocol message.
pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
    let value = cbor::read(bytes).map_err(|e| DecodeError::Cbor(e.into()))?;
    let Value::Map(entries) = value else {
        return Err(DecodeError::NotAMap);
    };
    let fields = Fields(entries);
    let kind = fields.text("type")?;
    let message = match kind {
        "join" => Message::Join {
            sender_id: fields.peer_id("senderId")?,
            supported_protocol_versions: fields.text_list("supportedProtocolVersions")?,
            peer_metadata: fields.metadata()?,
        },
        "peer" => Message::Peer {
            sender_id: fields.peer_id("senderId")?,
            target_id: fields.peer_id("targetId")?,
            selected_protocol_version: fields.text("selectedProtocolVersion")?.to_owned(),
            peer_metadata: fields.metadata()?,
        },
        "leave" => Message::Leave {
            sender_id: fields.peer_id("senderId")?,
        },
        "request" => Message::Request {
            sender_id: fields.peer_id("senderId")?,
            target_id: fields.peer_id("targetId")?,
            document_id: fields.document_id()?,
            data: fields.bytes("data")?,
        },
        "sync" => Message::Sync {
            sender_id: fields.peer_id("senderId")?,
            target_id: fields.peer_id("targetId")?,
            document_id: fields.document_id()?,
            data: fields.bytes("data")?,
        },
        "doc-unavailable" => Message::DocUnavailable {
            sender_id: fields.peer_id("senderId")?,
            target_id: fields.peer_id("targetId")?,
            document_id: fields.document_id()?,
        },
        "error" => Message::Error {
            message: fields.text("message")?.to_owned(),
        },
        "ephemeral" => fields.ephemeral().unwrap_or(Message::Ignored {
            kind: kind.to_owned(),
        }),
        "remote-heads-changed" | "remote-subscription-change" => Message::Ignored {
            kind: kind.to_owned(),
        },
        other => return Err(DecodeError::UnknownType(other.chars().take(64).collect())),
    };
    Ok(message)
}

/// The entries of a decoded CBOR map, looked up by string key.
struct Fields<'a>(Vec<(Value<'a>, Value<'a>)>);

impl<'a> Fields<'a> {
    fn get(&self, key: &'static str) -> Option<&Value<'a>> {
        self.0
            .iter()
            .find(|(k, _)| matches!(k, Value::Text(t) if t == key))
            .map(|(_, v)| v)
    }

    fn required(&self, key: &'static str) -> Result<&Value<'a>, DecodeError> {
        self.get(key).ok_or(DecodeError::MissingField(key))
    }

    fn text(&self, key: &'static str) -> Result<&str, DecodeError> {
        match self.required(key)? {
            Value::Text(t) => Ok(t),
            _ => Err(DecodeError::WrongType {
                field: key,
                expected: "a string",
            }),
        }
    }

    fn bytes(&self, key: &'static str) -> Result<Vec<u8>, DecodeError> {
        match self.required(key)? {
            Value::Bytes(b) => Ok(b.to_vec()),
            _ => Err(DecodeError::WrongType {
                field: key,
                expected: "a byte string",
            }),
        }
    }

    fn text_list(&self, key: &'static str) -> Result<Vec<String>, DecodeError> {
        let wrong = DecodeError::WrongType {
            field: key,
            expected: "an array of strings",
        };
        let Value::Array(items) = self.required(key)? else {
            return Err(wrong);
        };
        items
            .iter()
            .map(|item| match item {
                Value::Text(t) => Ok(t.to_string()),
                _ => Err(wrong.clone()),
            })
            .collect()
    }

    fn peer_id(&self, key: &'static str) -> Result<PeerId, DecodeError> {
        let text = self.text(key)?;
        if text.is_empty() || text.len() > PeerId::MAX_LEN {
            return Err(DecodeError::PeerId(key));
        }
        Ok(PeerId::new(text))
    }

    /// An `ephemeral` with every field well formed, else `None` (then it is ignored, as
    /// any peer's ephemeral message is by this server).
    fn ephemeral(&self) -> Option<Message> {
        let Value::Unsigned(count) = *self.get("count")? else {
            return None;
        };
        Some(Message::Ephemeral {
            sender_id: self.peer_id("senderId").ok()?,
            target_id: self.peer_id("targetId").ok()?,
            document_id: self.document_id().ok()?,
            session_id: self.text("sessionId").ok()?.to_owned(),
            count,
            data: self.bytes("data").ok()?,
        })
    }

    fn document_id(&self) -> Result<DocumentId, DecodeError> {
        Ok(DocumentId::parse_url_or_id(self.text("documentId")?)?)
    }

    fn metadata(&self) -> Result<Option<PeerMetadata>, DecodeError> {
        let wrong = DecodeError::WrongType {
            field: "peerMetadata",
            expected: "a map",
        };
        match self.get("peerMetadata") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Map(entries)) => {
                let meta = Fields(entries.clone());
                let storage_id = match meta.get("storageId") {
                    Some(Value::Text(t)) => Some(t.to_string()),
                    _ => None,
                };
                let is_ephemeral = matches!(meta.get("isEphemeral"), Some(Value::Bool(true)));
                Ok(Some(PeerMetadata {
                    storage_id,
                    is_ephemeral,
                }))
            }
            Some(_) => Err(wrong),
        }
    }
}
