//! The PWA's data core, compiled to `wasm32-unknown-unknown` with wasm-bindgen.
//!
//! **Only this crate knows `JsValue`.** It drives `shared::sync::SyncCore` on the browser's
//! event loop: an encrypted IndexedDB store, a WebSocket to the server with reconnect and
//! backoff, online/offline detection, and the small API the screens use ([`Device`]). All
//! record logic is Rust; the JavaScript in `web/` only renders and forwards input.
//!
//! # Layout
//! - [`device`]: [`Device`], the JS-facing API and the driver of the sync core.
//! - [`vault`]: encryption at rest (AES-256-GCM, data key wrapped under an Argon2id PIN key).
//! - [`guard`]: the plain-text record beside the wrapped key (wrong PINs, last contact,
//!   the device policy, an offline sign-out to send, the notice after a wipe).
//! - [`idb`]: IndexedDB operations as futures.
//! - [`server_api`]: sign-in, refresh, sync tickets, caseload (HTTP).
//! - [`visit_form`]: form edits as JSON → typed model edits.
//! - [`views`]: records → the plain objects the screens render.
//! - [`wording`](mod@wording): the one wording of a visit's fields and answers, for the screens.
//! - [`js`]: building and reading those objects.
//! - [`client_error`]: [`ClientError`], this layer's one error type.
//! - [`clock`]: the device's one clock.
//!
//! The web app shell (HTML, CSS, the view script, the service worker, the manifest) lives
//! in `client-wasm/web/`; `scripts/build-web.sh` builds the wasm and assembles `target/web`.

pub mod client_error;
pub mod clock;
pub mod device;
pub mod guard;
pub mod idb;
pub mod js;
pub mod server_api;
pub mod vault;
pub mod views;
pub mod visit_form;
pub mod wording;

pub use client_error::ClientError;
pub use device::Device;
