//! Why bytes from a peer are not a protocol message.

/// A frame that could not be decoded into a [`super::Message`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not well-formed CBOR (or end early).
    #[error("malformed cbor: {0}")]
    Cbor(String),
    /// The CBOR value is not a map.
    #[error("message is not a cbor map")]
    NotAMap,
    /// A required key is absent.
    #[error("message has no `{0}` field")]
    MissingField(&'static str),
    /// A key holds a value of the wrong CBOR type.
    #[error("field `{field}` should be {expected}")]
    WrongType {
        /// The offending key.
        field: &'static str,
        /// What the field should hold.
        expected: &'static str,
    },
    /// The `type` is none of the protocol's messages.
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    /// A `documentId` is not a valid automerge-repo id.
    #[error(transparent)]
    DocumentId(#[from] crate::DocumentIdError),
    /// A peer id is empty or too long.
    #[error("invalid peer id in `{0}`")]
    PeerId(&'static str),
}
