//! [`ClientError`]: every way the device's data core fails, in words a worker can act on.

use wasm_bindgen::{JsCast, JsValue};

/// A failure of the PWA's data core. The message is shown to the worker as it is.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The PIN did not unlock this device.
    #[error("That PIN is not right. Try again.")]
    WrongPin,
    /// A wrong PIN, or too many: what happens now (try again, wait, wiped), in words.
    #[error("{0}")]
    Pin(String),
    /// A new PIN is too short.
    #[error("Your PIN must be at least {} characters", crate::vault::MIN_PIN_CHARS)]
    PinTooShort,
    /// The device is locked; unlock it first.
    #[error("Unlock Doorstep with your PIN first")]
    Locked,
    /// Nobody has signed in on this device yet.
    #[error("Sign in first")]
    NotSignedIn,
    /// The server refused the username or password.
    #[error("{0}")]
    SignInRefused(String),
    /// The server said this device was revoked; its data has been wiped.
    #[error("This device has been revoked. Its records have been wiped from it.")]
    DeviceRevoked,
    /// No network, and the action needs it. The JavaScript error's `name` is
    /// `"OfflineError"`.
    #[error("You are offline. {0}")]
    Offline(String),
    /// The server answered with an error.
    #[error("The server said: {0}")]
    Server(String),
    /// Encryption or decryption failed.
    #[error("Encryption failed: {0}")]
    Crypto(String),
    /// IndexedDB failed.
    #[error("Saving on this device failed: {0}")]
    Storage(String),
    /// A record could not be read or changed.
    #[error("{0}")]
    Record(String),
    /// The record changed at the server since the screen read it (a manager's decision
    /// names the version read). The JavaScript error's `name` is `"ChangedError"`.
    #[error("This record changed since you opened it")]
    Changed,
    /// The caller passed something the core does not understand.
    #[error("{0}")]
    BadArgument(String),
}

impl From<shared::model::ModelError> for ClientError {
    fn from(err: shared::model::ModelError) -> Self {
        ClientError::Record(err.to_string())
    }
}

impl From<shared::sync::SyncError> for ClientError {
    fn from(err: shared::sync::SyncError) -> Self {
        ClientError::Record(err.to_string())
    }
}

impl From<ClientError> for JsValue {
    fn from(err: ClientError) -> Self {
        let error = js_sys::Error::new(&err.to_string());
        match err {
            ClientError::Changed => error.set_name("ChangedError"),
            ClientError::Offline(_) => error.set_name("OfflineError"),
            _ => {}
        }
        error.into()
    }
}

/// Describes a JavaScript exception (IndexedDB, fetch, WebSocket) for a [`ClientError`].
pub(crate) fn describe_js(value: &JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    if let Some(event) = value.dyn_ref::<web_sys::Event>()
        && let Some(target) = event.target()
        && let Some(request) = target.dyn_ref::<web_sys::IdbRequest>()
        && let Ok(Some(error)) = request.error()
    {
        return error.message();
    }
    value
        .as_string()
        .unwrap_or_else(|| "an unexpected browser error".into())
}
