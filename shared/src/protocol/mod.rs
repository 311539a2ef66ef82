//! The automerge-repo WebSocket sync protocol, version "1": wire messages and their CBOR codec.
//!
//! **API Boundary:** these are the only wire types in Doorstep. Each message is one CBOR map
//! with a `type` key, exactly as the official `@automerge/automerge-repo-network-websocket`
//! client encodes it (string keys, byte strings for `data`). Decoding untrusted bytes never
//! panics: every failure is a [`DecodeError`] naming what was wrong.

pub(crate) mod cbor;
mod codec;
mod decode_error;
mod message;

pub use codec::{decode, encode};
pub use decode_error::DecodeError;
pub use message::{Message, PeerMetadata};

/// The protocol version this implementation speaks.
pub const PROTOCOL_VERSION: &str = "1";

#[cfg(test)]
mod tests;
