//! Sealed storage: records and chunks go through [`Vault::seal`] with their storage key
//! as associated data before IndexedDB sees them, and are opened the same way.

use super::*;

/// A record's bytes: JSON, printed and parsed by the browser (no JSON code in the wasm).
pub(super) fn record_bytes(value: &JsValue) -> Result<Vec<u8>, ClientError> {
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|text| text.as_string())
        .map(String::into_bytes)
        .ok_or_else(|| ClientError::Storage("encoding a record failed".into()))
}

/// A record's value from its bytes (JSON).
pub(super) fn record_value(bytes: &[u8], key: &str) -> Result<JsValue, ClientError> {
    let text = std::str::from_utf8(bytes).map_err(|_| unreadable(key))?;
    js_sys::JSON::parse(text).map_err(|_| unreadable(key))
}

pub(super) fn unreadable(key: &str) -> ClientError {
    ClientError::Storage(format!("{key} is unreadable"))
}

pub(super) fn seal_record(
    vault: &Vault,
    key: &str,
    value: &JsValue,
) -> Result<JsValue, ClientError> {
    seal_bytes(vault, key, &record_bytes(value)?)
}

/// Seals `plain` as record `key` (the one non-generic sealing path for records).
pub(super) fn seal_bytes(vault: &Vault, key: &str, plain: &[u8]) -> Result<JsValue, ClientError> {
    Ok(bytes_value(&vault.seal(
        key,
        plain,
        random_bytes::<NONCE_BYTES>()?,
    )?))
}

pub(super) async fn open_record(
    shared: &Rc<Shared>,
    vault: &Vault,
    key: &str,
) -> Result<Option<JsValue>, ClientError> {
    match open_bytes(shared, vault, key).await? {
        Some(plain) => record_value(&plain, key).map(Some),
        None => Ok(None),
    }
}

/// The opened bytes of record `key`, if it is stored.
pub(super) async fn open_bytes(
    shared: &Rc<Shared>,
    vault: &Vault,
    key: &str,
) -> Result<Option<Vec<u8>>, ClientError> {
    let Some(value) = shared.idb.get(RECORDS_STORE, key)?.await? else {
        return Ok(None);
    };
    let sealed =
        value_bytes(&value).ok_or_else(|| ClientError::Storage(format!("{key} is not bytes")))?;
    vault.open(key, &sealed).map(Some)
}

/// Record `key` opened with the unlocked vault (read first, then opened: no borrow of
/// the state is held while IndexedDB answers).
pub(super) async fn open_unlocked(
    shared: &Rc<Shared>,
    key: &str,
) -> Result<Option<JsValue>, ClientError> {
    let Some(value) = shared.idb.get(RECORDS_STORE, key)?.await? else {
        return Ok(None);
    };
    let sealed =
        value_bytes(&value).ok_or_else(|| ClientError::Storage(format!("{key} is not bytes")))?;
    let plain = {
        let state = shared.state.borrow();
        let vault = state.vault.as_ref().ok_or(ClientError::Locked)?;
        vault.open(key, &sealed)?
    };
    record_value(&plain, key).map(Some)
}

/// Stores a new session (after a refresh) sealed.
pub(super) fn store_session(shared: &Rc<Shared>, session: Session) -> Result<(), ClientError> {
    let sealed = {
        let state = shared.state.borrow();
        let vault = state.vault.as_ref().ok_or(ClientError::Locked)?;
        seal_record(vault, SESSION_RECORD, &session.to_js())?
    };
    let write = shared
        .idb
        .write(RECORDS_STORE, &[], vec![(SESSION_RECORD.into(), sealed)])?;
    spawn_local(async move {
        let _ = write.await;
    });
    shared.state.borrow_mut().session = Some(session);
    Ok(())
}
