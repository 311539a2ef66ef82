//! [`Device`]: the data core the PWA's screens talk to, driving `shared`'s sync core on the
//! browser's event loop.
//!
//! It owns the [`Vault`] (locked or not), the sealed IndexedDB store, the WebSocket to
//! `/sync` with reconnect and backoff, and the [`SyncCore`]. The screens call its methods
//! and re-render when a subscriber callback fires; they never touch records directly.
//!
//! # Layout
//! This file holds the device's state ([`Device`], `Shared`, `State`) and small helpers;
//! each concern is a module of its own: `api` (the methods the screens call), `session`
//! (sign in, unlock, lock, sign out, wipe), `sealed` (sealed records), `online` (the
//! server's API), `records` (creating and editing visits, the unsent set), `sync_driver`
//! (the core and its effects), `connection` (the WebSocket, reconnects, online and
//! offline), `inspect` (the tests' search of what the device stores) and
//! `caseload_entry` (a child's entry and timescales for the screens).
//!
//! # Storage
//! The core asks for storage work as [`StorageTask`]s. Each document's chunks are sealed
//! and stored under `documentId/sequence` in the `chunks` store; an append is one put, a
//! compaction deletes the older chunks and puts the snapshot in one transaction. A change
//! is "saved on this device" once its transaction has committed, which happens before the
//! core is told ([`Event::IoComplete`]), and the core only sends what it has stored.
//!
//! # Invariants
//! - Nothing about a child reaches IndexedDB unsealed: every chunk and record goes
//!   through [`Vault::seal`] with its storage key as associated data.
//! - No `RefCell` borrow is held across an `await` or while calling into JavaScript
//!   callbacks (subscribers, socket sends that may re-enter).
//! - Locking waits until every write the core asked for has committed.
//!
//! # Records deleted after retention
//! The caseload names the documents the server deleted after their retention
//! (`erased`); the device forgets them and deletes their sealed chunks before it lists
//! the caseload (`online::forget_erased`). Syncing one meanwhile gets `doc-unavailable`.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use automerge::Automerge;
use automerge::transaction::CommitOptions;
use js_sys::{Function, Promise, Uint8Array};
use sha2::{Digest, Sha256};
use shared::model::{
    self, CalendarDate, ChangeAuthor, Child, NewVisit, Visit, VisitMaker, VisitSummary,
};
use shared::protocol;
use shared::schedule::documents_schedule;
use shared::sync::{
    CloseReason, ConnectionId, CoreConfig, Direction, Effects, Event, IoResult, PEER_ERROR_PREFIX,
    StorageOutcome, StorageTask, StorageTaskKind, StoredChunks, SyncCore,
};
use shared::{DocumentId, PeerId};
use wasm_bindgen::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{future_to_promise, spawn_local};
use web_sys::{BinaryType, MessageEvent, WebSocket};

use crate::clock::{now, now_ms};
use crate::guard::{self, Guard, WrongPin};
use crate::idb::{CHUNKS_STORE, Idb, RECORDS_STORE, VAULT_STORE, bytes_value, value_bytes};
use crate::js::{self, Obj, array};
use crate::server_api::{self, ApiFailure, Caseload, Session};
use crate::vault::{KdfParams, NONCE_BYTES, Vault, VaultSeed, WrappedKey};
use crate::visit_form::{EditFields, FormEdit, apply_edit};
use crate::{ClientError, views};

mod api;
mod caseload_entry;
mod connection;
mod inspect;
mod online;
mod records;
mod sealed;
mod session;
mod sync_driver;
use caseload_entry::*;
use connection::*;
use online::*;
use records::*;
use sealed::*;
use session::*;
use sync_driver::*;

const DATABASE: &str = "doorstep";
const WRAPPED_KEY: &str = "wrappedKey";
const SESSION_RECORD: &str = "session";
const CASELOAD_RECORD: &str = "caseload";
const UNSENT_RECORD: &str = "unsent";
/// Renamed when the summaries gain fields, so older ones are recomputed.
const SUMMARIES_RECORD: &str = "summaries-2";
/// The team dashboard as last fetched (team managers), for reading it offline.
const DASHBOARD_RECORD: &str = "dashboard";
/// Form input not yet saved as part of a record (e.g. an action being written), sealed.
const DRAFTS_RECORD: &str = "drafts";
/// The old documents of expunged records whose unsent edits were carried over onto their
/// replacement and stored, so the carry-over is never made twice (sealed; `online`).
const CARRIED_RECORD: &str = "carried-over";
/// The plain-text record beside the wrapped key ([`Guard`]).
const GUARD_RECORD: &str = "guard";
/// Documents loaded per turn of the event loop when unlocking in the background.
const LOAD_BATCH: usize = 25;
/// Longest wait between reconnection attempts.
const MAX_BACKOFF_MS: f64 = 30_000.0;

/// The PWA's data core. Create it with [`Device::open`].
#[wasm_bindgen]
pub struct Device {
    shared: Rc<Shared>,
}

struct Shared {
    idb: Idb,
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    /// Whether a wrapped key exists (someone signed in on this device).
    set_up: bool,
    vault: Option<Vault>,
    session: Option<Session>,
    core: Option<SyncCore>,
    /// Counts the cores made (one per unlock): work started for one core (a storage task,
    /// the loader) carries its generation and is dropped if it completes for another, whose
    /// task numbers mean other tasks.
    core_generation: u64,
    link: Option<Link>,
    next_connection: u64,
    next_seq: HashMap<DocumentId, u64>,
    pending_writes: HashMap<DocumentId, usize>,
    caseload: Caseload,
    /// The team dashboard as last fetched, as JSON text `{"fetchedAt": ms, "dashboard": …}`
    /// (the server's answer is kept as it came; the browser parses it for the screen).
    dashboard: Option<String>,
    /// Every document this device holds or was told about.
    documents: BTreeSet<DocumentId>,
    /// Documents changed here that the server has not confirmed yet (kept sealed in
    /// IndexedDB too, so a restart still knows what is waiting to be sent).
    unsent: BTreeSet<DocumentId>,
    /// Chunks read (and opened) in one go when the device is unlocked, handed to the
    /// core's first `Load` of each document: one IndexedDB transaction instead of one
    /// per document.
    preloaded: HashMap<DocumentId, Preloaded>,
    /// What the screens show of each document (visit summary, child profile), by document,
    /// recomputed only when the document's heads change. Kept sealed in IndexedDB too, so
    /// the caseload shows at once on unlock while the documents load in the background.
    summaries: RefCell<HashMap<DocumentId, CachedSummary>>,
    /// Whether `summaries` changed since it was last stored.
    summaries_dirty: std::cell::Cell<bool>,
    listeners: Vec<Function>,
    offline_since: Option<f64>,
    /// Something the worker must know about syncing (e.g. "sign in again").
    problem: Option<String>,
    /// What the server said when it closed the link over this device's changes (a rule
    /// the server enforces and the device broke): kept until every record is on the
    /// server, so the worker is never told their records "will be sent" while the server
    /// refuses them; reconnects back off meanwhile.
    server_refusal: Option<String>,
    reconnect_attempt: u32,
    reconnect_scheduled: bool,
    connecting: bool,
    window_hooked: bool,
    /// The plain-text record beside the wrapped key, as stored.
    guard: Guard,
    /// Form input the worker has typed that is not yet part of a record, by the screen's
    /// key (kept sealed, so a lock or a reload loses none of it).
    drafts: Vec<(String, JsValue)>,
    /// Expunged old documents whose unsent edits this unlock carried over onto their
    /// replacement (old → new), until the `carried-over` record names them and the old
    /// document is forgotten: a refresh meanwhile must not carry them over again.
    carried: HashMap<DocumentId, DocumentId>,
}

struct Preloaded {
    bytes: Vec<u8>,
    count: usize,
    next_seq: u64,
}

#[derive(Clone)]
struct CachedSummary {
    /// The heads it was computed at (hex).
    heads: Vec<String>,
    /// For a visit: the child it is about.
    child: Option<String>,
    /// For a visit: its line in the history (an object, or `null`).
    summary: JsValue,
    /// For a child document: the profile (an object, or `null`).
    profile: JsValue,
    /// Whether the Rust values below were read from the document (summaries restored
    /// from storage have only the screens' objects until their document loads).
    read: bool,
    /// For a visit: what the schedule and listings need of it.
    visit: Option<VisitSummary>,
    /// For a child document: the child (the schedule's facts come from it).
    child_doc: Option<Child>,
}

impl CachedSummary {
    /// As stored: `{heads, child, summary, profile}`.
    fn to_js(&self) -> JsValue {
        Obj::new()
            .set("heads", array(&self.heads))
            .set("child", self.child.as_ref())
            .set("summary", self.summary.clone())
            .set("profile", self.profile.clone())
            .done()
    }

    fn from_js(value: &JsValue) -> CachedSummary {
        CachedSummary {
            heads: js::texts(value, "heads"),
            child: js::text(value, "child"),
            summary: js::get(value, "summary"),
            profile: js::get(value, "profile"),
            read: false,
            visit: None,
            child_doc: None,
        }
    }

    /// The summary of `doc`, recomputed if its heads moved since `cached`.
    fn refresh(
        cached: Option<&CachedSummary>,
        id: &DocumentId,
        doc: &Automerge,
    ) -> Option<CachedSummary> {
        let heads: Vec<String> = doc.get_heads().iter().map(ToString::to_string).collect();
        if heads.is_empty() || cached.is_some_and(|c| c.read && c.heads == heads) {
            return None;
        }
        // Each document is read once: its listing and its schedule facts come from the same read.
        let visit = Visit::read(doc).ok();
        let child_doc = Child::read(doc).ok();
        Some(CachedSummary {
            heads,
            child: views::visit_child(doc),
            summary: visit
                .as_ref()
                .and_then(|visit| views::visit_summary(doc, visit.clone(), &id.to_string()))
                .map_or(JsValue::NULL, Obj::done),
            profile: child_doc
                .clone()
                .and_then(views::child_view)
                .map_or(JsValue::NULL, Obj::done),
            read: true,
            visit: visit.map(|visit| visit.summary()),
            child_doc,
        })
    }
}

struct Link {
    id: ConnectionId,
    socket: WebSocket,
    ready: bool,
    _on_open: Closure<dyn FnMut(JsValue)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(JsValue)>,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        self.socket.set_onerror(None);
        let _ = self.socket.close();
    }
}

fn random_bytes<const N: usize>() -> Result<[u8; N], ClientError> {
    let mut bytes = [0u8; N];
    fill_random(&mut bytes)?;
    Ok(bytes)
}

fn fill_random(bytes: &mut [u8]) -> Result<(), ClientError> {
    crypto()?
        .get_random_values_with_u8_array(bytes)
        .map(|_| ())
        .map_err(|_| ClientError::Crypto("no random numbers".into()))
}

fn crypto() -> Result<web_sys::Crypto, ClientError> {
    web_sys::window()
        .ok_or_else(|| ClientError::Crypto("no window".into()))?
        .crypto()
        .map_err(|_| ClientError::Crypto("no WebCrypto".into()))
}

/// A random UUID (v4) as text, for record ids made on the device.
fn new_uuid() -> String {
    crypto().map(|c| c.random_uuid()).unwrap_or_default()
}

fn is_online() -> bool {
    web_sys::window().is_some_and(|w| w.navigator().on_line())
}

fn chunk_prefix(document: &DocumentId) -> String {
    format!("{document}/")
}

fn chunk_key(document: &DocumentId, seq: u64) -> String {
    format!("{document}/{seq:012}")
}

/// The wrapped data key as stored (its layout is [`WrappedKey`]'s).
fn wrapped_to_js(wrapped: &WrappedKey) -> JsValue {
    let bytes = |b: &[u8]| JsValue::from(js_sys::Array::from(&Uint8Array::from(b)));
    Obj::new()
        .set("version", wrapped.version as usize)
        .set(
            "kdf",
            Obj::new()
                .set("memory_kib", wrapped.kdf.memory_kib as usize)
                .set("iterations", wrapped.kdf.iterations as usize),
        )
        .set("salt", bytes(&wrapped.salt))
        .set("nonce", bytes(&wrapped.nonce))
        .set("sealed_key", bytes(&wrapped.sealed_key))
        .done()
}

fn wrapped_from_js(value: &JsValue) -> Option<WrappedKey> {
    let bytes = |key| {
        let array = js::get(value, key);
        js_sys::Array::is_array(&array).then(|| Uint8Array::new(&array).to_vec())
    };
    let kdf = js::get(value, "kdf");
    Some(WrappedKey {
        version: js::number(value, "version")? as u32,
        kdf: KdfParams {
            memory_kib: js::number(&kdf, "memory_kib")? as u32,
            iterations: js::number(&kdf, "iterations")? as u32,
        },
        salt: bytes("salt")?,
        nonce: bytes("nonce")?,
        sealed_key: bytes("sealed_key")?,
    })
}
