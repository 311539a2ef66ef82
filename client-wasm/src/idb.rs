//! [`Idb`]: the few IndexedDB operations the device store needs, as futures.
//!
//! Every operation creates its transaction synchronously when called, before the returned
//! future is first polled. IndexedDB runs read-write transactions over the same store in
//! the order they were created, so writes issued in order are applied in order: the sync
//! core relies on that for its appends and compactions.
//!
//! Keys are strings; values are `Uint8Array`s (sealed records) or strings.

use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    IdbDatabase, IdbKeyRange, IdbObjectStore, IdbRequest, IdbTransaction, IdbTransactionMode,
};

use crate::ClientError;
use crate::client_error::describe_js;

/// The object stores, created in version 1.
pub const STORES: [&str; 3] = [VAULT_STORE, RECORDS_STORE, CHUNKS_STORE];
/// The wrapped data key (not child data: see `vault`).
pub const VAULT_STORE: &str = "vault";
/// Sealed small records: the session, the cached caseload.
pub const RECORDS_STORE: &str = "records";
/// Sealed document chunks, keyed `documentId/sequence`.
pub const CHUNKS_STORE: &str = "chunks";

/// An open IndexedDB database.
#[derive(Clone)]
pub struct Idb {
    db: IdbDatabase,
}

/// Turns a request's success/error events into a future of its result.
fn request_done(request: &IdbRequest) -> JsFuture {
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    JsFuture::from(promise)
}

/// Turns a transaction's complete/error/abort events into a future.
fn transaction_done(transaction: &IdbTransaction) -> JsFuture {
    let promise = Promise::new(&mut |resolve, reject| {
        transaction.set_oncomplete(Some(&resolve));
        transaction.set_onerror(Some(&reject));
        transaction.set_onabort(Some(&reject));
    });
    JsFuture::from(promise)
}

fn storage_error(value: JsValue) -> ClientError {
    ClientError::Storage(describe_js(&value))
}

impl Idb {
    /// Opens (creating or upgrading) the database `name`.
    ///
    /// # Errors
    /// [`ClientError::Storage`] if IndexedDB is unavailable or refuses.
    pub async fn open(name: &str) -> Result<Idb, ClientError> {
        let factory = web_sys::window()
            .ok_or_else(|| ClientError::Storage("no window".into()))?
            .indexed_db()
            .map_err(storage_error)?
            .ok_or_else(|| ClientError::Storage("this browser has no IndexedDB".into()))?;
        let request = factory.open_with_u32(name, 1).map_err(storage_error)?;
        let upgrade_target = request.clone();
        let on_upgrade = wasm_bindgen::closure::Closure::once(move |_event: JsValue| {
            if let Ok(result) = upgrade_target.result()
                && let Ok(db) = result.dyn_into::<IdbDatabase>()
            {
                let existing = db.object_store_names();
                for store in STORES {
                    if !existing.contains(store) {
                        let _ = db.create_object_store(store);
                    }
                }
            }
        });
        request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        let opened = request_done(&request).await;
        drop(on_upgrade);
        opened.map_err(storage_error)?;
        let db = request
            .result()
            .map_err(storage_error)?
            .dyn_into::<IdbDatabase>()
            .map_err(storage_error)?;
        Ok(Idb { db })
    }

    fn transaction(
        &self,
        stores: &[&str],
        mode: IdbTransactionMode,
    ) -> Result<IdbTransaction, ClientError> {
        let names = stores
            .iter()
            .map(|s| JsValue::from_str(s))
            .collect::<Array>();
        self.db
            .transaction_with_str_sequence_and_mode(&names, mode)
            .map_err(storage_error)
    }

    fn store(transaction: &IdbTransaction, name: &str) -> Result<IdbObjectStore, ClientError> {
        transaction.object_store(name).map_err(storage_error)
    }

    /// Reads one value.
    ///
    /// # Errors
    /// [`ClientError::Storage`].
    pub fn get(
        &self,
        store: &str,
        key: &str,
    ) -> Result<impl Future<Output = Result<Option<JsValue>, ClientError>> + use<>, ClientError>
    {
        let transaction = self.transaction(&[store], IdbTransactionMode::Readonly)?;
        let request = Self::store(&transaction, store)?
            .get(&JsValue::from_str(key))
            .map_err(storage_error)?;
        Ok(async move {
            request_done(&request).await.map_err(storage_error)?;
            let value = request.result().map_err(storage_error)?;
            Ok((!value.is_undefined()).then_some(value))
        })
    }

    /// Writes a batch in one transaction: first deletes every key in `[from, to)` of each
    /// range, then puts each value. The future resolves once the transaction committed.
    ///
    /// # Errors
    /// [`ClientError::Storage`].
    pub fn write(
        &self,
        store: &str,
        delete_ranges: &[(String, String)],
        puts: Vec<(String, JsValue)>,
    ) -> Result<impl Future<Output = Result<(), ClientError>> + use<>, ClientError> {
        let transaction = self.transaction(&[store], IdbTransactionMode::Readwrite)?;
        let object_store = Self::store(&transaction, store)?;
        for (from, to) in delete_ranges {
            let range = IdbKeyRange::bound_with_lower_open_and_upper_open(
                &JsValue::from_str(from),
                &JsValue::from_str(to),
                false,
                true,
            )
            .map_err(storage_error)?;
            object_store.delete(&range).map_err(storage_error)?;
        }
        for (key, value) in puts {
            object_store
                .put_with_key(&value, &JsValue::from_str(&key))
                .map_err(storage_error)?;
        }
        let done = transaction_done(&transaction);
        Ok(async move { done.await.map(|_| ()).map_err(storage_error) })
    }

    /// Every key and value in `[from, to)`, in key order.
    ///
    /// # Errors
    /// [`ClientError::Storage`].
    pub fn range(
        &self,
        store: &str,
        from: &str,
        to: &str,
    ) -> Result<
        impl Future<Output = Result<Vec<(String, JsValue)>, ClientError>> + use<>,
        ClientError,
    > {
        let transaction = self.transaction(&[store], IdbTransactionMode::Readonly)?;
        let object_store = Self::store(&transaction, store)?;
        let range = IdbKeyRange::bound_with_lower_open_and_upper_open(
            &JsValue::from_str(from),
            &JsValue::from_str(to),
            false,
            true,
        )
        .map_err(storage_error)?;
        let keys = object_store
            .get_all_keys_with_key(&range)
            .map_err(storage_error)?;
        let values = object_store
            .get_all_with_key(&range)
            .map_err(storage_error)?;
        Ok(async move {
            request_done(&keys).await.map_err(storage_error)?;
            request_done(&values).await.map_err(storage_error)?;
            let keys = Array::from(&keys.result().map_err(storage_error)?);
            let values = Array::from(&values.result().map_err(storage_error)?);
            Ok(keys
                .iter()
                .zip(values.iter())
                .filter_map(|(key, value)| key.as_string().map(|key| (key, value)))
                .collect())
        })
    }

    /// Every key of a store, in order.
    ///
    /// # Errors
    /// [`ClientError::Storage`].
    pub async fn keys(&self, store: &str) -> Result<Vec<String>, ClientError> {
        let transaction = self.transaction(&[store], IdbTransactionMode::Readonly)?;
        let request = Self::store(&transaction, store)?
            .get_all_keys()
            .map_err(storage_error)?;
        request_done(&request).await.map_err(storage_error)?;
        let keys = Array::from(&request.result().map_err(storage_error)?);
        Ok(keys.iter().filter_map(|key| key.as_string()).collect())
    }

    /// Empties every store (sign-out, revocation).
    ///
    /// # Errors
    /// [`ClientError::Storage`].
    pub async fn clear_everything(&self) -> Result<(), ClientError> {
        let transaction = self.transaction(&STORES, IdbTransactionMode::Readwrite)?;
        for store in STORES {
            Self::store(&transaction, store)?
                .clear()
                .map_err(storage_error)?;
        }
        transaction_done(&transaction)
            .await
            .map_err(storage_error)?;
        Ok(())
    }
}

/// Copies bytes into a `Uint8Array` for storing.
pub fn bytes_value(bytes: &[u8]) -> JsValue {
    Uint8Array::from(bytes).into()
}

/// Reads bytes back from a stored `Uint8Array` (or `ArrayBuffer`).
pub fn value_bytes(value: &JsValue) -> Option<Vec<u8>> {
    if let Some(array) = value.dyn_ref::<Uint8Array>() {
        return Some(array.to_vec());
    }
    value
        .dyn_ref::<js_sys::ArrayBuffer>()
        .map(|buffer| Uint8Array::new(buffer).to_vec())
}
