//! Looking through everything the device stores for a text, opened as the device opens it
//! (the end-to-end tests' check that an expunged passage is on no device: `holdsText`).
//!
//! Sealed bytes cannot be searched as they are stored, so each record and chunk is opened
//! with the vault first. A document is searched in its current state (every text and
//! string value of every object) and in its history (the strings each change inserted or
//! set, in the change's order), so a passage deleted later but still in a change is found.

use automerge::{ObjId, ObjType, ReadDoc, ScalarValue, Value};

use super::*;

/// Whether any record (sealed or plain), any stored document or any document in the
/// core's memory holds `needle`.
///
/// # Errors
/// [`ClientError::Locked`] if the device is locked; a storage failure.
pub(super) async fn holds_text(shared: &Rc<Shared>, needle: &str) -> Result<bool, ClientError> {
    let records = shared.idb.range(RECORDS_STORE, "", "\u{ffff}")?.await?;
    let chunks = shared.idb.range(CHUNKS_STORE, "", "\u{ffff}")?.await?;
    // The plain records beside the wrapped key (the guard) hold no child data; searched
    // as they are stored, to be sure.
    let plain = shared.idb.range(VAULT_STORE, "", "\u{ffff}")?.await?;
    for (_, value) in &plain {
        let text = match value_bytes(value) {
            Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            None => js_sys::JSON::stringify(value)
                .ok()
                .and_then(|text| text.as_string())
                .unwrap_or_default(),
        };
        if text.contains(needle) {
            return Ok(true);
        }
    }
    let state = shared.state.borrow();
    let vault = state.vault.as_ref().ok_or(ClientError::Locked)?;
    let open = |key: &str, value: &JsValue| -> Result<Vec<u8>, ClientError> {
        let sealed = value_bytes(value)
            .ok_or_else(|| ClientError::Storage(format!("{key} is not bytes")))?;
        vault.open(key, &sealed)
    };
    for (key, value) in &records {
        if String::from_utf8_lossy(&open(key, value)?).contains(needle) {
            return Ok(true);
        }
    }
    let mut stored: HashMap<&str, Vec<u8>> = HashMap::new();
    for (key, value) in &chunks {
        let document = key.split_once('/').map_or(key.as_str(), |(id, _)| id);
        stored
            .entry(document)
            .or_default()
            .extend(open(key, value)?);
    }
    for bytes in stored.values() {
        let mut doc = Automerge::new();
        doc.load_incremental(bytes).map_err(|err| {
            ClientError::Storage(format!("a stored document is unreadable: {err}"))
        })?;
        if document_holds(&doc, needle) {
            return Ok(true);
        }
    }
    if let Some(core) = state.core.as_ref() {
        for id in &state.documents {
            if core
                .document(id)
                .is_some_and(|doc| document_holds(doc, needle))
            {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Whether `doc` holds `needle` now or in any of its changes.
fn document_holds(doc: &Automerge, needle: &str) -> bool {
    object_holds(doc, &automerge::ROOT, ObjType::Map, needle)
        || doc.get_changes(&[]).iter().any(|change| {
            let inserted: String = change
                .decode()
                .operations
                .iter()
                .filter_map(|op| match &op.action {
                    automerge::legacy::OpType::Put(ScalarValue::Str(text)) => Some(text.as_str()),
                    _ => None,
                })
                .collect();
            inserted.contains(needle)
        })
}

/// Whether the object `obj` (of type `kind`) or anything in it holds `needle` now.
fn object_holds(doc: &Automerge, obj: &ObjId, kind: ObjType, needle: &str) -> bool {
    let value_holds = |value: Value<'_>, id: ObjId| match value {
        Value::Object(kind) => object_holds(doc, &id, kind, needle),
        Value::Scalar(scalar) => {
            matches!(scalar.as_ref(), ScalarValue::Str(text) if text.contains(needle))
        }
    };
    match kind {
        ObjType::Text => doc.text(obj).is_ok_and(|text| text.contains(needle)),
        ObjType::List => (0..doc.length(obj)).any(|index| {
            doc.get_all(obj, index)
                .unwrap_or_default()
                .into_iter()
                .any(|(value, id)| value_holds(value, id))
        }),
        ObjType::Map | ObjType::Table => doc.keys(obj).any(|key| {
            doc.get_all(obj, key.as_str())
                .unwrap_or_default()
                .into_iter()
                .any(|(value, id)| value_holds(value, id))
        }),
    }
}
