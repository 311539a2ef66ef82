//! Document identifiers, wire-compatible with automerge-repo.
//!
//! automerge-repo names a document by 16 random bytes, written as bs58check
//! (base58 with a 4-byte double-SHA-256 checksum), and addresses it in URLs as
//! `automerge:<bs58check>`. Parsing untrusted text returns a typed error.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// The 16-byte identity of one Automerge document.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentId([u8; 16]);

/// Why a string is not a document id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentIdError {
    /// The text is not base58 or its checksum does not match.
    #[error("document id is not valid bs58check: {0}")]
    NotBs58Check(String),
    /// The text decodes, but not to 16 bytes.
    #[error("document id must be 16 bytes, found {0}")]
    WrongLength(usize),
}

impl DocumentId {
    /// The URL scheme prefix automerge-repo uses.
    pub const URL_PREFIX: &'static str = "automerge:";

    /// Wraps 16 bytes (from the caller's random source) as a document id.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The raw 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The `automerge:` URL for this document.
    pub fn url(&self) -> String {
        format!("{}{self}", Self::URL_PREFIX)
    }

    /// Parses either a bare bs58check id or an `automerge:` URL.
    ///
    /// # Errors
    /// [`DocumentIdError`] when the text is not a 16-byte bs58check value.
    pub fn parse_url_or_id(text: &str) -> Result<Self, DocumentIdError> {
        text.strip_prefix(Self::URL_PREFIX).unwrap_or(text).parse()
    }
}

impl FromStr for DocumentId {
    type Err = DocumentIdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        // A 16-byte id is 26 or so characters; refuse long input before decoding it.
        if text.len() > 64 {
            return Err(DocumentIdError::NotBs58Check("too long".into()));
        }
        let bytes = decode_check(text)?;
        let array: [u8; 16] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| DocumentIdError::WrongLength(bytes.len()))?;
        Ok(Self(array))
    }
}

/// The 4-byte bs58check checksum: the start of SHA-256(SHA-256(payload)). Computed with
/// the SHA-256 automerge already links (one SHA-256 in the wasm, not two).
fn checksum(payload: &[u8]) -> [u8; 4] {
    let twice = Sha256::digest(Sha256::digest(payload));
    [twice[0], twice[1], twice[2], twice[3]]
}

/// bs58check text of `payload`.
pub(crate) fn encode_check(payload: &[u8]) -> String {
    let mut bytes = payload.to_vec();
    bytes.extend_from_slice(&checksum(payload));
    bs58::encode(bytes).into_string()
}

/// The payload of bs58check `text`.
fn decode_check(text: &str) -> Result<Vec<u8>, DocumentIdError> {
    let mut bytes = bs58::decode(text)
        .into_vec()
        .map_err(|e| DocumentIdError::NotBs58Check(e.to_string()))?;
    if bytes.len() < 4 {
        return Err(DocumentIdError::NotBs58Check(
            "too short for a checksum".into(),
        ));
    }
    let payload_len = bytes.len() - 4;
    if bytes[payload_len..] != checksum(&bytes[..payload_len]) {
        return Err(DocumentIdError::NotBs58Check(
            "the checksum does not match".into(),
        ));
    }
    bytes.truncate(payload_len);
    Ok(bytes)
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encode_check(&self.0))
    }
}

impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text_and_url() {
        let id = DocumentId::from_bytes([7; 16]);
        assert_eq!(id.to_string().parse::<DocumentId>(), Ok(id));
        assert_eq!(DocumentId::parse_url_or_id(&id.url()), Ok(id));
    }

    #[test]
    fn rejects_bad_checksum_wrong_length_and_garbage() {
        let mut text = DocumentId::from_bytes([1; 16]).to_string();
        let last = text.pop().map(|c| if c == '2' { '3' } else { '2' });
        text.extend(last);
        assert!(matches!(
            text.parse::<DocumentId>(),
            Err(DocumentIdError::NotBs58Check(_))
        ));
        let short = encode_check(&[1u8; 8]);
        assert_eq!(
            short.parse::<DocumentId>(),
            Err(DocumentIdError::WrongLength(8))
        );
        assert!("not/base58!".parse::<DocumentId>().is_err());
        assert!("".parse::<DocumentId>().is_err());
    }

    #[test]
    fn parses_an_id_made_by_automerge_repo() {
        // From automerge-repo's own tests: a bs58check-encoded 16-byte UUID.
        let id: DocumentId = "4NMNnkMhL8jXrdJ9jamS58PAVdXu".parse().expect("valid id");
        assert_eq!(id.to_string(), "4NMNnkMhL8jXrdJ9jamS58PAVdXu");
    }
}
