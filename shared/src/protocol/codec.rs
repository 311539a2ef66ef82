//! CBOR encoding and decoding of [`Message`], by hand over `ciborium::Value`.
//!
//! Decoding goes through a generic CBOR value first so that every shape error
//! becomes a precise [`DecodeError`]; ciborium bounds recursion depth, and the
//! driver bounds the frame size before bytes reach this module.

use ciborium::Value;

use super::{DecodeError, Message, PeerMetadata};
use crate::{DocumentId, PeerId};

/// Encodes a message as the CBOR map automerge-repo expects.
pub fn encode(message: &Message) -> Vec<u8> {
    let text = |s: &str| Value::Text(s.to_owned());
    let mut map: Vec<(Value, Value)> = vec![(text("type"), text(message.kind()))];
    let mut put = |key: &str, value: Value| map.push((text(key), value));
    match message {
        Message::Join {
            sender_id,
            supported_protocol_versions,
            peer_metadata,
        } => {
            put("senderId", text(sender_id.as_str()));
            put(
                "supportedProtocolVersions",
                Value::Array(
                    supported_protocol_versions
                        .iter()
                        .map(|v| text(v))
                        .collect(),
                ),
            );
            if let Some(meta) = peer_metadata {
                put("peerMetadata", encode_metadata(meta));
            }
        }
        Message::Peer {
            sender_id,
            target_id,
            selected_protocol_version,
            peer_metadata,
        } => {
            put("senderId", text(sender_id.as_str()));
            put("targetId", text(target_id.as_str()));
            put("selectedProtocolVersion", text(selected_protocol_version));
            if let Some(meta) = peer_metadata {
                put("peerMetadata", encode_metadata(meta));
            }
        }
        Message::Leave { sender_id } => put("senderId", text(sender_id.as_str())),
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
            put("senderId", text(sender_id.as_str()));
            put("targetId", text(target_id.as_str()));
            put("documentId", text(&document_id.to_string()));
            put("data", Value::Bytes(data.clone()));
        }
        Message::DocUnavailable {
            sender_id,
            target_id,
            document_id,
        } => {
            put("senderId", text(sender_id.as_str()));
            put("targetId", text(target_id.as_str()));
            put("documentId", text(&document_id.to_string()));
        }
        Message::Ephemeral {
            sender_id,
            target_id,
            document_id,
            session_id,
            count,
            data,
        } => {
            put("senderId", text(sender_id.as_str()));
            put("targetId", text(target_id.as_str()));
            put("documentId", text(&document_id.to_string()));
            put("sessionId", text(session_id));
            put("count", Value::Integer((*count).into()));
            put("data", Value::Bytes(data.clone()));
        }
        Message::Error { message } => put("message", text(message)),
        Message::Ignored { .. } => {}
    }
    let mut bytes = Vec::new();
    // Writing into a Vec cannot fail, and every value above is encodable.
    ciborium::into_writer(&Value::Map(map), &mut bytes).unwrap_or_default();
    bytes
}

fn encode_metadata(meta: &PeerMetadata) -> Value {
    let mut map = vec![(
        Value::Text("isEphemeral".into()),
        Value::Bool(meta.is_ephemeral),
    )];
    if let Some(storage_id) = &meta.storage_id {
        map.push((
            Value::Text("storageId".into()),
            Value::Text(storage_id.clone()),
        ));
    }
    Value::Map(map)
}

/// Decodes one frame from a peer.
///
/// # Errors
/// [`DecodeError`] for anything that is not a well-formed protocol message.
pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
    let value: Value =
        ciborium::from_reader(bytes).map_err(|e| DecodeError::Cbor(e.to_string()))?;
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
struct Fields(Vec<(Value, Value)>);

impl Fields {
    fn get(&self, key: &'static str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(k, _)| matches!(k, Value::Text(t) if t == key))
            .map(|(_, v)| v)
    }

    fn required(&self, key: &'static str) -> Result<&Value, DecodeError> {
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
            Value::Bytes(b) => Ok(b.clone()),
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
                Value::Text(t) => Ok(t.clone()),
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
        let count = match self.get("count")? {
            Value::Integer(count) => u64::try_from(*count).ok()?,
            _ => return None,
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
                    Some(Value::Text(t)) => Some(t.clone()),
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
