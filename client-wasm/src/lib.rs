//! The PWA's data core, compiled to `wasm32-unknown-unknown` with wasm-bindgen.
//!
//! **Only this crate knows `JsValue`.** It will drive `shared::sync::SyncCore` on the
//! browser's event loop (IndexedDB storage, a WebSocket transport); for now it exposes
//! the pieces of `shared` the web shell needs first, so that the wasm build, its size and
//! the JS boundary are exercised from the start.
//!
//! # Layout
//! - [`protocol_version`]: the automerge-repo protocol version the core speaks.
//! - [`parse_document_url`]: validates an `automerge:` URL or bare document id.

use wasm_bindgen::prelude::*;

/// The automerge-repo protocol version this client speaks (`"1"`).
#[wasm_bindgen(js_name = protocolVersion)]
pub fn protocol_version() -> String {
    shared::protocol::PROTOCOL_VERSION.to_owned()
}

/// Parses an `automerge:` URL or bare id and returns the canonical document id.
///
/// # Errors
/// A JS `Error` naming what is wrong with the text.
#[wasm_bindgen(js_name = parseDocumentUrl)]
pub fn parse_document_url(text: &str) -> Result<String, JsError> {
    shared::DocumentId::parse_url_or_id(text)
        .map(|id| id.to_string())
        .map_err(|err| JsError::new(&err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls_natively() {
        let id = shared::DocumentId::from_bytes([3; 16]);
        assert_eq!(parse_document_url(&id.url()).ok(), Some(id.to_string()));
        assert_eq!(protocol_version(), "1");
    }
}
