//! [`Device`]: the data core the PWA's screens talk to, driving `shared`'s sync core on the
//! browser's event loop.
//!
//! It owns the [`Vault`] (locked or not), the sealed IndexedDB store, the WebSocket to
//! `/sync` with reconnect and backoff, and the [`SyncCore`]. The screens call its methods
//! and re-render when a subscriber callback fires; they never touch records directly.
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
//! the caseload (`forget_erased`). Syncing one meanwhile gets `doc-unavailable`.

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
    ConnectionId, CoreConfig, Direction, Effects, Event, IoResult, StorageOutcome, StorageTask,
    StorageTaskKind, StoredChunks, SyncCore, Timestamp,
};
use shared::{DocumentId, PeerId};
use wasm_bindgen::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{future_to_promise, spawn_local};
use web_sys::{BinaryType, MessageEvent, WebSocket};

use crate::guard::{self, Guard, WrongPin};
use crate::idb::{CHUNKS_STORE, Idb, RECORDS_STORE, VAULT_STORE, bytes_value, value_bytes};
use crate::js::{self, Obj, array};
use crate::server_api::{self, ApiFailure, Caseload, Session};
use crate::vault::{KdfParams, NONCE_BYTES, Vault, VaultSeed, WrappedKey};
use crate::visit_form::{EditFields, FormEdit, apply_edit};
use crate::{ClientError, views};

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
    reconnect_attempt: u32,
    reconnect_scheduled: bool,
    connecting: bool,
    window_hooked: bool,
    /// The plain-text record beside the wrapped key, as stored.
    guard: Guard,
    /// Form input the worker has typed that is not yet part of a record, by the screen's
    /// key (kept sealed, so a lock or a reload loses none of it).
    drafts: Vec<(String, JsValue)>,
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

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn now() -> Timestamp {
    Timestamp::from_millis(now_ms() as u64)
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

#[wasm_bindgen]
impl Device {
    /// Opens the device store. The device is then `new` (nobody signed in here), or `locked`.
    ///
    /// # Errors
    /// If IndexedDB cannot be opened.
    pub async fn open() -> Result<Device, JsValue> {
        let idb = Idb::open(DATABASE).await?;
        let set_up = idb.get(VAULT_STORE, WRAPPED_KEY)?.await?.is_some();
        let guard = idb
            .get(VAULT_STORE, GUARD_RECORD)?
            .await?
            .map(|value| Guard::from_js(&value))
            .unwrap_or_default();
        let shared = Rc::new(Shared {
            idb,
            state: RefCell::new(State {
                set_up,
                offline_since: (!is_online()).then(now_ms),
                guard,
                ..State::default()
            }),
        });
        // Domain requirement D7: a device that has not reached the server for too long
        // wipes itself when it is opened (the worker was warned on the openings before).
        let expired = set_up && shared.state.borrow().guard.contact_expired(now_ms());
        if expired {
            let unsent = shared.state.borrow().guard.unsent;
            wipe_with_notice(&shared, guard::notice("offlineWipe", unsent, now_ms())).await?;
        }
        hook_window(&shared);
        send_pending_sign_out(&shared).await;
        Ok(Device { shared })
    }

    /// What the device knows before (or without) the PIN: `notice` (what the worker must
    /// be told after a wipe: `{kind, unsent, at}`, `kind` being `signedOut`, `revoked`,
    /// `pinWipe` or `offlineWipe`; or `null`), `pin` (wrong PINs so far: `{failures,
    /// beforeWait, beforeWipe, waitSeconds}`) and `contactDaysLeft` (days before the device
    /// wipes itself for not reaching the server, once the council's warning window has
    /// begun, else `null`: domain requirement D7).
    #[wasm_bindgen(js_name = guardState)]
    pub fn guard_state(&self) -> JsValue {
        let state = self.shared.state.borrow();
        let days_left = state
            .guard
            .contact_days_left(now_ms())
            .filter(|_| state.set_up);
        Obj::new()
            .set("notice", state.guard.notice.clone())
            .set("pin", state.guard.pin_state(now_ms()))
            .set("contactDaysLeft", days_left.map(|days| days as usize))
            .done()
    }

    /// Forgets the notice once the worker has read it.
    #[wasm_bindgen(js_name = dismissNotice)]
    pub fn dismiss_notice(&self) {
        self.shared.state.borrow_mut().guard.notice = JsValue::NULL;
        save_guard(&self.shared);
        notify(&self.shared);
    }

    /// Form input not yet part of a record, kept under `key` (sealed on the device), or
    /// `null`.
    #[wasm_bindgen(js_name = formDraft)]
    pub fn form_draft(&self, key: String) -> JsValue {
        self.shared
            .state
            .borrow()
            .drafts
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(JsValue::NULL, |(_, value)| value.clone())
    }

    /// Keeps form input under `key` (`null` forgets it), sealed on the device at once.
    #[wasm_bindgen(js_name = setFormDraft)]
    pub fn set_form_draft(&self, key: String, value: JsValue) -> Result<(), JsValue> {
        {
            let mut state = self.shared.state.borrow_mut();
            if state.vault.is_none() {
                return Err(ClientError::Locked.into());
            }
            state.drafts.retain(|(k, _)| *k != key);
            if !value.is_null() && !value.is_undefined() {
                state.drafts.push((key, value));
            }
        }
        save_drafts(&self.shared);
        Ok(())
    }

    /// What stops a new action being added: `[{field, message}]` for `description`,
    /// `ownerName` and `dueDate` (`YYYY-MM-DD`), empty when it can be.
    #[wasm_bindgen(js_name = actionProblems)]
    pub fn action_problems(description: String, owner_name: String, due_date: String) -> JsValue {
        array(
            model::new_action_problems(&description, &owner_name, &due_date)
                .into_iter()
                .map(|p| Obj::new().set("field", p.field).set("message", p.message)),
        )
    }

    /// `"new"`, `"locked"` or `"unlocked"`.
    pub fn status(&self) -> String {
        let state = self.shared.state.borrow();
        if state.vault.is_some() {
            "unlocked".into()
        } else if state.set_up {
            "locked".into()
        } else {
            "new".into()
        }
    }

    /// Calls `listener` (no arguments) after anything changes: records, sync state, lock.
    pub fn subscribe(&self, listener: Function) {
        self.shared.state.borrow_mut().listeners.push(listener);
    }

    /// Signs in with the server (online only) and sets up this device with a PIN that
    /// unlocks it from then on, online or not. Resolves to the worker as JSON.
    #[wasm_bindgen(js_name = signIn)]
    pub fn sign_in(&self, username: String, password: String, pin: String) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move { Ok(sign_in(&shared, &username, &password, &pin).await?) })
    }

    /// Unlocks the device with its PIN (works offline) and starts syncing.
    pub fn unlock(&self, pin: String) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move { Ok(unlock(&shared, &pin).await?) })
    }

    /// Locks the device: waits for pending writes, then forgets the key and every record
    /// in memory and closes the connection.
    pub fn lock(&self) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            lock(&shared).await;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Signs out: tells the server and wipes everything from this device. Offline (or if
    /// the server cannot be reached), the device keeps only its refresh token's hash and
    /// sends it at its next contact, before anything else, so the session ends then.
    #[wasm_bindgen(js_name = signOut)]
    pub fn sign_out(&self) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            let (token, hash, unsent) = {
                let state = shared.state.borrow();
                (
                    state.session.as_ref().map(|s| s.token.clone()),
                    state.session.as_ref().map(|s| sha256_hex(&s.refresh_token)),
                    state.unsent.len(),
                )
            };
            let told = match &token {
                Some(token) => server_api::sign_out(token).await.is_ok(),
                None => false,
            };
            wipe_with_notice(&shared, guard::notice("signedOut", unsent, now_ms())).await?;
            if !told && let Some(hash) = hash {
                shared.state.borrow_mut().guard.pending_sign_out = Some(hash);
                save_guard(&shared);
            }
            Ok(JsValue::NULL)
        })
    }

    /// The signed-in worker (`null` while locked).
    pub fn worker(&self) -> JsValue {
        let state = self.shared.state.borrow();
        state
            .session
            .as_ref()
            .map_or(JsValue::NULL, |s| s.worker.to_js())
    }

    /// The sync state: `online`, `connected`, `offlineSince` (ms), `unsent` (records the
    /// server does not have yet and has not refused), `refused` (records the server
    /// refused: they are kept here, never shown as being sent), `saving`, `allSaved`
    /// (connected, and every record on this device is on the server), `problem`.
    #[wasm_bindgen(js_name = syncState)]
    pub fn sync_state(&self) -> JsValue {
        let state = self.shared.state.borrow();
        let refused = state.core.as_ref().map_or(0, |core| {
            state.unsent.iter().filter(|id| core.is_refused(id)).count()
        });
        let connected = state.link.as_ref().is_some_and(|l| l.ready);
        let saving = state.pending_writes.values().sum::<usize>();
        let unsent = state.unsent.len() - refused;
        Obj::new()
            .set("online", is_online())
            .set("connected", connected)
            .set("offlineSince", state.offline_since)
            .set("unsent", unsent)
            .set("refused", refused)
            .set("saving", saving)
            .set(
                "allSaved",
                connected && unsent == 0 && refused == 0 && saving == 0 && state.problem.is_none(),
            )
            .set("problem", state.problem.as_ref())
            .done()
    }

    /// The caseload: each child with name, placement, its visits, and (with `today`,
    /// `YYYY-MM-DD`) the statutory timescales worked out on this device by the rules and
    /// from the facts the team dashboard uses (`schedule`: `status`, `nextDue`, `rule`,
    /// `reason`, `lastQualifyingVisit`; `null` while the child's records are still
    /// loading). Children no longer allocated to the worker whose records this device
    /// still holds come last, with `former: true`.
    pub fn caseload(&self, today: Option<String>) -> JsValue {
        let state = self.shared.state.borrow();
        let today = today.as_deref().and_then(CalendarDate::parse);
        let current = state.caseload.children.iter().map(|child| (child, false));
        let former = state.caseload.former.iter().map(|child| (child, true));
        let children = current.chain(former).map(|(child, former)| {
            let entry = child_entry(&state, &child.child_ref, child.child_document_id.as_deref());
            let schedule = today.and_then(|today| child_schedule_view(&state, child, today));
            Obj::copy(&entry)
                .set("former", former)
                .set("schedule", schedule)
                .done()
        });
        Obj::new().set("children", array(children)).done()
    }

    /// The team dashboard as last fetched, `{fetchedAt, dashboard}` (the server's JSON),
    /// or `null` if it never was (or the worker is not a team manager).
    pub fn dashboard(&self) -> JsValue {
        let state = self.shared.state.borrow();
        state
            .dashboard
            .as_deref()
            .and_then(|text| js_sys::JSON::parse(text).ok())
            .unwrap_or(JsValue::NULL)
    }

    /// Fetches the team dashboard again and keeps it sealed on the device (team managers,
    /// online). Rejects with the reason if it could not (the stored one stays).
    #[wasm_bindgen(js_name = refreshDashboard)]
    pub fn refresh_dashboard(&self) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            refresh_dashboard(&shared).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// A manager's review of a visit from the server (online only): each section with its
    /// author and times, the review state, the signed version and what changed since.
    pub fn review(&self, document_id: String) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move { Ok(review(&shared, &document_id, None).await?) })
    }

    /// Records a manager's decision (`signOff` or `return`, with a comment, required to
    /// return) on the version of the record read (`heads`, from [`Device::review`]).
    /// Resolves to the review after it; rejects with a `ChangedError` if the record
    /// changed since it was read.
    pub fn decide(
        &self,
        document_id: String,
        decision: String,
        comment: String,
        heads: JsValue,
    ) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            if decision == "return" && comment.trim().is_empty() {
                return Err(ClientError::BadArgument(
                    "Say what needs to change before returning the record".into(),
                )
                .into());
            }
            let body = js_sys::Object::new();
            for (key, value) in [
                ("decision", JsValue::from(decision)),
                ("comment", JsValue::from(comment)),
                ("heads", heads),
            ] {
                let _ = js_sys::Reflect::set(&body, &JsValue::from(key), &value);
            }
            Ok(review(&shared, &document_id, Some(body.into())).await?)
        })
    }

    /// The handover summary of a child on the caseload, from the documents on this device
    /// (works offline): profile and placement, the visits oldest first, the child's words
    /// over time, and the open actions (`overdue` against `today`, `YYYY-MM-DD`). `null`
    /// if the child is not on the caseload.
    pub fn handover(&self, child_ref: String, today: String) -> JsValue {
        let state = self.shared.state.borrow();
        let Some(child) = state
            .caseload
            .children
            .iter()
            .find(|c| c.child_ref == child_ref)
        else {
            return JsValue::NULL;
        };
        let entry = child_entry(&state, &child.child_ref, child.child_document_id.as_deref());
        views::handover(&entry, &today)
    }

    /// A visit record, with its sync state; with `today` (`YYYY-MM-DD`) it also
    /// lists what stops it being submitted.
    pub fn visit(&self, document_id: String, today: Option<String>) -> Result<JsValue, JsValue> {
        let id = parse_id(&document_id)?;
        let state = self.shared.state.borrow();
        let core = state.core.as_ref().ok_or(ClientError::Locked)?;
        let Some(doc) = core.document(&id) else {
            // Still loading (after an unlock or a reload): the screen waits for the next
            // change notice and asks again.
            return Ok(Obj::new()
                .set("documentId", document_id)
                .set("loading", true)
                .done());
        };
        let device = state.session.as_ref().map(|s| s.device_id.as_str());
        Ok(
            views::visit_view(doc, &document_id, today.as_deref(), device)
                .set("sync", document_sync(&state, &id))
                .done(),
        )
    }

    /// Starts a visit record for a child on the caseload; returns its document id.
    #[wasm_bindgen(js_name = createVisit)]
    pub fn create_visit(&self, child_ref: String, visit_date: String) -> Result<String, JsValue> {
        let result = create_visit(&self.shared, &child_ref, &visit_date);
        notify(&self.shared);
        Ok(result?)
    }

    /// Applies one form edit (an object, see `visit_form`) to a visit and saves it on the
    /// device at once. Returns the index of a new entry, or `undefined`.
    #[wasm_bindgen(js_name = editVisit)]
    pub fn edit_visit(&self, document_id: String, edit: JsValue) -> Result<JsValue, JsValue> {
        let id = parse_id(&document_id)?;
        let edit = FormEdit::read(&JsFields(edit))?;
        let result = edit_visit(&self.shared, id, &edit);
        notify(&self.shared);
        Ok(result?.map_or(JsValue::UNDEFINED, |index| JsValue::from(index as u32)))
    }
}

/// A form edit object from the screens, read field by field.
struct JsFields(JsValue);

impl JsFields {
    fn get(&self, key: &str) -> JsValue {
        js_sys::Reflect::get(&self.0, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }
}

impl EditFields for JsFields {
    fn text(&self, key: &str) -> Option<String> {
        self.get(key).as_string()
    }
    fn number(&self, key: &str) -> Option<f64> {
        self.get(key).as_f64()
    }
    fn flag(&self, key: &str) -> Option<bool> {
        self.get(key).as_bool()
    }
}

fn parse_id(text: &str) -> Result<DocumentId, ClientError> {
    DocumentId::parse_url_or_id(text).map_err(|err| ClientError::BadArgument(err.to_string()))
}

/// `"saving"`, `"device"` (saved here only), `"sending"`, `"server"` or `"refused"`.
fn document_sync(state: &State, id: &DocumentId) -> &'static str {
    if state.pending_writes.get(id).copied().unwrap_or(0) > 0 {
        return "saving";
    }
    if !state.unsent.contains(id) {
        return "server";
    }
    let Some(core) = state.core.as_ref() else {
        return "device";
    };
    if core.is_refused(id) {
        "refused"
    } else if state.link.as_ref().is_some_and(|l| l.ready) {
        "sending"
    } else {
        "device"
    }
}

fn child_entry(state: &State, child_ref: &str, child_document: Option<&str>) -> JsValue {
    let core = state.core.as_ref();
    let mut cache = state.summaries.borrow_mut();
    // Bring the cache up to date with every document in memory; documents still loading
    // are shown as last summarised.
    for id in &state.documents {
        if let Some(doc) = core.and_then(|c| c.document(id))
            && let Some(fresh) = CachedSummary::refresh(cache.get(id), id, doc)
        {
            cache.insert(*id, fresh);
            state.summaries_dirty.set(true);
        }
    }
    let profile = child_document
        .and_then(|id| DocumentId::parse_url_or_id(id).ok())
        .and_then(|id| cache.get(&id))
        .map_or(JsValue::NULL, |c| c.profile.clone());
    // Each visit's summary (a copy, with its sync state), newest first.
    let mut visits: Vec<(Option<String>, JsValue)> = state
        .documents
        .iter()
        .filter_map(|id| {
            let cached = cache.get(id)?;
            (cached.child.as_deref() == Some(child_ref) && cached.summary.is_object())
                .then_some(())?;
            let summary = Obj::copy(&cached.summary)
                .set("sync", document_sync(state, id))
                .done();
            Some((js::text(&summary, "visitDate"), summary))
        })
        .collect();
    shared::small_sort::sort_small_by(&mut visits, |a, b| a.0 > b.0);
    let needs_decision = visits
        .iter()
        .filter(|(_, v)| js::number(v, "conflicts").is_some_and(|n| n > 0.0))
        .count();
    Obj::new()
        .set("childRef", child_ref)
        .set("profile", profile)
        .set("needsDecision", needs_decision)
        .set("visits", array(visits.into_iter().map(|(_, v)| v)))
        .done()
}

/// The child's timescales on `today` from the documents on this device, by the council's
/// rules (`shared::schedule::documents_schedule`, what the dashboard computes from the
/// same facts); `None` while the child's document or one of its listed visits has not
/// been read yet (the answer would be wrong, not late).
fn child_schedule_view(
    state: &State,
    child: &crate::server_api::CaseloadChild,
    today: CalendarDate,
) -> Option<Obj> {
    let cache = state.summaries.borrow();
    let child_id = DocumentId::parse_url_or_id(child.child_document_id.as_deref()?).ok()?;
    let child_doc = cache.get(&child_id)?.child_doc.clone()?;
    let listed: Vec<DocumentId> = child
        .visit_document_ids
        .iter()
        .filter_map(|id| DocumentId::parse_url_or_id(id).ok())
        .collect();
    if listed
        .iter()
        .any(|id| cache.get(id).is_none_or(|cached| !cached.read))
    {
        return None;
    }
    let visits: Vec<VisitSummary> = state
        .documents
        .iter()
        .filter_map(|id| cache.get(id)?.visit.clone())
        .filter(|visit| visit.child_id == child.child_ref)
        .collect();
    let schedule = documents_schedule(&child_doc, &visits, &state.caseload.policy, today);
    let next = schedule.next_due.as_ref();
    Some(
        Obj::new()
            .set("status", schedule.status.as_str())
            .set("nextDue", next.map(|r| r.due.to_string()))
            .set("rule", next.map(|r| r.rule.to_string()))
            .set(
                "reason",
                next.map(|r| r.reason.clone())
                    .or(schedule.no_schedule_reason.clone()),
            )
            .set(
                "lastQualifyingVisit",
                schedule.last_qualifying_visit.map(|d| d.to_string()),
            ),
    )
}

/// The hex SHA-256 of `text` (a refresh token, for an offline sign-out).
fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Stores the guard record as it is now (plain text: see [`Guard`]).
fn save_guard(shared: &Rc<Shared>) {
    let value = shared.state.borrow().guard.to_js();
    if let Ok(write) = shared
        .idb
        .write(VAULT_STORE, &[], vec![(GUARD_RECORD.into(), value)])
    {
        spawn_local(async move {
            let _ = write.await;
        });
    }
}

/// Stores the form drafts (sealed).
fn save_drafts(shared: &Rc<Shared>) {
    let sealed = {
        let state = shared.state.borrow();
        let Some(vault) = state.vault.as_ref() else {
            return;
        };
        let mut drafts = Obj::new();
        for (key, value) in &state.drafts {
            drafts = drafts.set(key, value.clone());
        }
        seal_record(vault, DRAFTS_RECORD, &drafts.done())
    };
    if let Ok(sealed) = sealed
        && let Ok(write) =
            shared
                .idb
                .write(RECORDS_STORE, &[], vec![(DRAFTS_RECORD.into(), sealed)])
    {
        spawn_local(async move {
            let _ = write.await;
        });
    }
}

/// Tells the server about an offline sign-out, if one is pending and there is signal;
/// done before anything else is sent (it runs when the app opens, before signing in, and
/// when the browser comes online).
async fn send_pending_sign_out(shared: &Rc<Shared>) {
    let pending = shared.state.borrow().guard.pending_sign_out.clone();
    let Some(hash) = pending else {
        return;
    };
    if !is_online() {
        return;
    }
    if server_api::sign_out_offline(&hash).await.is_ok() {
        let mut state = shared.state.borrow_mut();
        if state.guard.pending_sign_out.as_deref() == Some(hash.as_str()) {
            state.guard.pending_sign_out = None;
        }
        drop(state);
        save_guard(shared);
    }
}

/// Notes that the server answered this device now (domain requirement D7).
fn contact_made(shared: &Rc<Shared>) {
    shared.state.borrow_mut().guard.last_contact = now_ms();
    save_guard(shared);
}

async fn sign_in(
    shared: &Rc<Shared>,
    username: &str,
    password: &str,
    pin: &str,
) -> Result<JsValue, ClientError> {
    crate::vault::check_pin(pin)?;
    if shared.state.borrow().set_up {
        return Err(ClientError::BadArgument(
            "Someone is already signed in on this device. Unlock it, or sign out first.".into(),
        ));
    }
    // An earlier offline sign-out reaches the server before this session begins.
    send_pending_sign_out(shared).await;
    let (session, policy) = server_api::sign_in(username, password, None).await?;
    let seed = VaultSeed {
        data_key: random_bytes()?,
        salt: random_bytes()?,
        nonce: random_bytes()?,
    };
    let (vault, wrapped) = Vault::create(pin, &seed, KdfParams::default())?;
    let wrapped_bytes = record_bytes(&wrapped_to_js(&wrapped))?;
    let sealed_session = seal_record(&vault, SESSION_RECORD, &session.to_js())?;
    shared
        .idb
        .write(
            VAULT_STORE,
            &[],
            vec![(WRAPPED_KEY.into(), bytes_value(&wrapped_bytes))],
        )?
        .await?;
    shared
        .idb
        .write(
            RECORDS_STORE,
            &[],
            vec![(SESSION_RECORD.into(), sealed_session)],
        )?
        .await?;
    let worker = session.worker.to_js();
    {
        let mut state = shared.state.borrow_mut();
        state.set_up = true;
        state.vault = Some(vault);
        state.session = Some(session);
        // A notice from before this sign-in has been read by now.
        state.guard = Guard {
            policy,
            last_contact: now_ms(),
            ..Guard::default()
        };
    }
    save_guard(shared);
    start(shared).await?;
    Ok(worker)
}

async fn unlock(shared: &Rc<Shared>, pin: &str) -> Result<JsValue, ClientError> {
    if shared.state.borrow().vault.is_some() {
        return Ok(JsValue::NULL);
    }
    let wrapped = shared
        .idb
        .get(VAULT_STORE, WRAPPED_KEY)?
        .await?
        .and_then(|v| value_bytes(&v))
        .ok_or(ClientError::NotSignedIn)?;
    let wrapped = wrapped_from_js(&record_value(&wrapped, WRAPPED_KEY)?)
        .ok_or_else(|| unreadable(WRAPPED_KEY))?;
    let wait = shared.state.borrow().guard.wait_left(now_ms());
    if wait > 0 {
        return Err(ClientError::Pin(format!(
            "You have entered too many wrong PINs. Wait {wait} second{} before you try again.",
            plural(wait as usize)
        )));
    }
    let vault = match Vault::unlock(pin, &wrapped) {
        Ok(vault) => vault,
        Err(ClientError::WrongPin) => return Err(wrong_pin(shared).await),
        Err(err) => return Err(err),
    };
    if shared.state.borrow().guard.failures > 0 {
        let mut state = shared.state.borrow_mut();
        state.guard.failures = 0;
        state.guard.wait_until = 0.0;
        drop(state);
        save_guard(shared);
    }
    let session = open_record(shared, &vault, SESSION_RECORD)
        .await?
        .and_then(|value| Session::from_js(&value))
        .ok_or(ClientError::NotSignedIn)?;
    let caseload = open_record(shared, &vault, CASELOAD_RECORD)
        .await?
        .and_then(|value| Caseload::from_js(&value))
        .unwrap_or_default();
    let unsent: Vec<String> = open_record(shared, &vault, UNSENT_RECORD)
        .await?
        .map(|ids| {
            js::list(&ids)
                .iter()
                .filter_map(JsValue::as_string)
                .collect()
        })
        .unwrap_or_default();
    let summaries = open_record(shared, &vault, SUMMARIES_RECORD)
        .await?
        .map(|value| js_sys::Object::entries(&js_sys::Object::from(value)).to_vec())
        .unwrap_or_default();
    let dashboard = open_bytes(shared, &vault, DASHBOARD_RECORD)
        .await?
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let drafts: Vec<(String, JsValue)> = open_record(shared, &vault, DRAFTS_RECORD)
        .await?
        .map(|value| {
            js_sys::Object::entries(&js_sys::Object::from(value))
                .iter()
                .filter_map(|entry| {
                    let entry = js_sys::Array::from(&entry);
                    Some((entry.get(0).as_string()?, entry.get(1)))
                })
                .collect()
        })
        .unwrap_or_default();
    let worker = session.worker.to_js();
    {
        let mut state = shared.state.borrow_mut();
        state.vault = Some(vault);
        state.session = Some(session);
        state.caseload = caseload;
        state.dashboard = dashboard;
        state.drafts = drafts;
        state.unsent = unsent
            .iter()
            .filter_map(|id| DocumentId::parse_url_or_id(id).ok())
            .collect();
        // Each entry is `[documentId, summary]`.
        *state.summaries.borrow_mut() = summaries
            .iter()
            .filter_map(|entry| {
                let entry = js_sys::Array::from(entry);
                let id = DocumentId::parse_url_or_id(&entry.get(0).as_string()?).ok()?;
                Some((id, CachedSummary::from_js(&entry.get(1))))
            })
            .collect();
    }
    start(shared).await?;
    Ok(worker)
}

/// Counts a wrong PIN and answers what the worker must be told; after too many, wipes
/// the device first.
async fn wrong_pin(shared: &Rc<Shared>) -> ClientError {
    let outcome = shared.state.borrow_mut().guard.wrong_pin(now_ms());
    save_guard(shared);
    match outcome {
        WrongPin::TryAgain {
            before_wait,
            before_wipe,
        } => ClientError::Pin(format!(
            "That PIN is not right. Try again. After {before_wait} more wrong PIN{} you will have to wait; after {before_wipe} more, Doorstep wipes this device.",
            plural(before_wait as usize)
        )),
        WrongPin::Wait {
            seconds,
            before_wipe,
        } => ClientError::Pin(format!(
            "That PIN is not right. Wait {seconds} second{} before you try again. After {before_wipe} more wrong PIN{}, Doorstep wipes this device.",
            plural(seconds as usize),
            plural(before_wipe as usize)
        )),
        WrongPin::Wipe => {
            let unsent = shared.state.borrow().guard.unsent;
            let _ = wipe_with_notice(shared, guard::notice("pinWipe", unsent, now_ms())).await;
            ClientError::Pin(format!(
                "Too many wrong PINs: Doorstep has wiped every record from this device{}. Sign in again to use it.",
                lost(unsent)
            ))
        }
    }
}

/// `"s"` unless there is one.
fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// What a wipe lost, for a sentence: ", including 2 records that had not reached the
/// server", or nothing.
fn lost(unsent: usize) -> String {
    match unsent {
        0 => String::new(),
        1 => ", including 1 record that had not reached the server".into(),
        n => format!(", including {n} records that had not reached the server"),
    }
}

/// Loads every stored document into a fresh core and connects if online.
async fn start(shared: &Rc<Shared>) -> Result<(), ClientError> {
    let rows = shared.idb.range(CHUNKS_STORE, "", "\u{ffff}")?.await?;
    let mut preloaded: HashMap<DocumentId, Preloaded> = HashMap::new();
    {
        let state = shared.state.borrow();
        let vault = state.vault.as_ref().ok_or(ClientError::Locked)?;
        for (key, value) in &rows {
            let Some((id, seq)) = key.split_once('/') else {
                continue;
            };
            let (Ok(id), Ok(seq)) = (DocumentId::parse_url_or_id(id), seq.parse::<u64>()) else {
                continue;
            };
            let sealed = value_bytes(value)
                .ok_or_else(|| ClientError::Storage(format!("{key} is not bytes")))?;
            let chunk = vault.open(key, &sealed)?;
            let entry = preloaded.entry(id).or_insert(Preloaded {
                bytes: Vec::new(),
                count: 0,
                next_seq: 0,
            });
            entry.bytes.extend(chunk);
            entry.count += 1;
            entry.next_seq = seq + 1;
        }
    }
    let stored: BTreeSet<DocumentId> = preloaded.keys().copied().collect();
    let load_order = {
        let mut state = shared.state.borrow_mut();
        state.preloaded = preloaded;
        let username = state
            .session
            .as_ref()
            .map(|s| s.worker.username.clone())
            .unwrap_or_default();
        let suffix: [u8; 8] = random_bytes()?;
        let peer = PeerId::new(format!(
            "{username}-{}",
            suffix
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ));
        state.core = Some(SyncCore::new(CoreConfig::client(peer)));
        // Child documents first (names, placements), then everything else.
        let mut order: Vec<DocumentId> = state
            .caseload
            .children
            .iter()
            .filter_map(|c| c.child_document_id.as_deref())
            .filter_map(|id| DocumentId::parse_url_or_id(id).ok())
            .collect();
        order.extend(caseload_documents(&state.caseload));
        order.extend(stored.iter().copied());
        let mut seen = BTreeSet::new();
        order.retain(|id| seen.insert(*id));
        state.documents.extend(order.iter().copied());
        order
    };
    // The screens can show the caseload from the stored summaries at once; the documents
    // load in batches, yielding to the event loop between them.
    let loader = shared.clone();
    spawn_local(async move {
        for batch in load_order.chunks(LOAD_BATCH) {
            let fx = {
                let mut state = loader.state.borrow_mut();
                let Some(core) = state.core.as_mut() else {
                    return;
                };
                let mut fx = Effects::default();
                for id in batch {
                    fx.extend(core.find(*id));
                }
                fx
            };
            carry_out(&loader, fx);
            sleep_ms(0).await;
        }
    });
    let keeper = shared.clone();
    spawn_local(async move {
        while keeper.state.borrow().vault.is_some() {
            sleep_ms(2_000).await;
            persist_summaries(&keeper);
        }
    });
    hook_window(shared);
    if is_online() {
        connect(shared);
        refresh_in_background(shared);
    }
    notify(shared);
    Ok(())
}

fn caseload_documents(caseload: &Caseload) -> Vec<DocumentId> {
    caseload
        .children
        .iter()
        .flat_map(|child| {
            child
                .child_document_id
                .iter()
                .chain(child.visit_document_ids.iter())
        })
        .filter_map(|id| DocumentId::parse_url_or_id(id).ok())
        .collect()
}

/// Stores the screens' summaries (sealed) if they changed.
fn persist_summaries(shared: &Rc<Shared>) {
    let sealed = {
        let state = shared.state.borrow();
        let Some(vault) = state.vault.as_ref() else {
            return;
        };
        if !state.summaries_dirty.replace(false) {
            return;
        }
        let mut summaries = Obj::new();
        for (id, summary) in state.summaries.borrow().iter() {
            summaries = summaries.set(&id.to_string(), summary.to_js());
        }
        seal_record(vault, SUMMARIES_RECORD, &summaries.done())
    };
    if let Ok(sealed) = sealed
        && let Ok(write) =
            shared
                .idb
                .write(RECORDS_STORE, &[], vec![(SUMMARIES_RECORD.into(), sealed)])
    {
        spawn_local(async move {
            let _ = write.await;
        });
    }
}

async fn lock(shared: &Rc<Shared>) {
    persist_summaries(shared);
    save_drafts(shared);
    // Let every write the core asked for commit before forgetting the key.
    for _ in 0..250 {
        if shared
            .state
            .borrow()
            .pending_writes
            .values()
            .all(|n| *n == 0)
        {
            break;
        }
        sleep_ms(20).await;
    }
    {
        let mut state = shared.state.borrow_mut();
        forget_everything(&mut state);
    }
    notify(shared);
}

/// Drops the key, the session, every record in memory and the connection.
fn forget_everything(state: &mut State) {
    if let Some(link) = state.link.take() {
        // Possibly inside one of the link's callbacks: drop it once that has returned.
        spawn_local(async move { drop(link) });
    }
    state.core = None;
    state.vault = None;
    state.session = None;
    state.caseload = Caseload::default();
    state.dashboard = None;
    state.documents.clear();
    state.unsent.clear();
    state.preloaded.clear();
    state.summaries.borrow_mut().clear();
    state.next_seq.clear();
    state.pending_writes.clear();
    state.drafts.clear();
}

/// Wipes every record from the device, then keeps only `notice` (what the worker must
/// be told) and an offline sign-out still to send, in the guard record.
async fn wipe_with_notice(shared: &Rc<Shared>, notice: JsValue) -> Result<(), ClientError> {
    let pending = {
        let mut state = shared.state.borrow_mut();
        forget_everything(&mut state);
        state.set_up = false;
        state.guard.pending_sign_out.take()
    };
    let result = shared.idb.clear_everything().await;
    {
        let mut state = shared.state.borrow_mut();
        let policy = state.guard.policy;
        state.guard = Guard {
            policy,
            pending_sign_out: pending,
            notice,
            ..Guard::default()
        };
    }
    save_guard(shared);
    notify(shared);
    result
}

async fn sleep_ms(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// A record's bytes: JSON, printed and parsed by the browser (no JSON code in the wasm).
fn record_bytes(value: &JsValue) -> Result<Vec<u8>, ClientError> {
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|text| text.as_string())
        .map(String::into_bytes)
        .ok_or_else(|| ClientError::Storage("encoding a record failed".into()))
}

/// A record's value from its bytes (JSON).
fn record_value(bytes: &[u8], key: &str) -> Result<JsValue, ClientError> {
    let text = std::str::from_utf8(bytes).map_err(|_| unreadable(key))?;
    js_sys::JSON::parse(text).map_err(|_| unreadable(key))
}

fn unreadable(key: &str) -> ClientError {
    ClientError::Storage(format!("{key} is unreadable"))
}

fn seal_record(vault: &Vault, key: &str, value: &JsValue) -> Result<JsValue, ClientError> {
    seal_bytes(vault, key, &record_bytes(value)?)
}

/// Seals `plain` as record `key` (the one non-generic sealing path for records).
fn seal_bytes(vault: &Vault, key: &str, plain: &[u8]) -> Result<JsValue, ClientError> {
    Ok(bytes_value(&vault.seal(
        key,
        plain,
        random_bytes::<NONCE_BYTES>()?,
    )?))
}

async fn open_record(
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
async fn open_bytes(
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

/// Stores a new session (after a refresh) sealed.
fn store_session(shared: &Rc<Shared>, session: Session) -> Result<(), ClientError> {
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

/// A valid access token: the stored one, refreshed if it has expired.
async fn access_token(shared: &Rc<Shared>) -> Result<String, ApiFailure> {
    let session = shared.state.borrow().session.clone();
    let Some(session) = session else {
        return Err(ApiFailure::Unauthorized("not signed in".into()));
    };
    if session.token_expires_at > now_ms() as i64 + 60_000 {
        return Ok(session.token);
    }
    let fresh = server_api::refresh(&session.refresh_token).await?;
    let token = fresh.token.clone();
    let _ = store_session(shared, fresh);
    Ok(token)
}

/// Handles an API failure that affects the whole device (revoked, signed out).
async fn on_api_failure(shared: &Rc<Shared>, failure: &ApiFailure) {
    match failure {
        ApiFailure::Revoked => {
            // Several requests in flight may each hear "revoked": the first wipes and
            // tells; the later ones find nothing left (and must not replace the notice).
            if shared.state.borrow().session.is_none() {
                return;
            }
            let unsent = shared.state.borrow().unsent.len();
            let notice = guard::notice("revoked", unsent, now_ms());
            let _ = wipe_with_notice(shared, notice).await;
            shared.state.borrow_mut().problem = Some(format!(
                "This device has been revoked. Doorstep has wiped every record from it{}.",
                lost(unsent)
            ));
        }
        ApiFailure::Unauthorized(_) => {
            shared.state.borrow_mut().problem = Some(
                "Your session has ended. Your records are safe on this device; sign out and in again to send them."
                    .into(),
            );
        }
        _ => {}
    }
    notify(shared);
}

/// Fetches the caseload without waiting. (The team dashboard is fetched when its screen
/// opens: [`Device::refresh_dashboard`].)
fn refresh_in_background(shared: &Rc<Shared>) {
    let shared = shared.clone();
    spawn_local(async move {
        let _ = refresh_caseload(&shared).await;
    });
}

/// A valid access token; a failure is first acted on (revoked device, ended session).
async fn token_or_fail(shared: &Rc<Shared>) -> Result<String, ApiFailure> {
    let token = access_token(shared).await;
    if let Err(failure) = &token {
        on_api_failure(shared, failure).await;
    }
    token
}

/// An API failure of something that needs the server (`needs`: what, for the worker).
fn online_failure(failure: ApiFailure, needs: &str) -> ClientError {
    match failure {
        ApiFailure::Unreachable(_) => ClientError::Offline(needs.into()),
        ApiFailure::Refused(409, _) => ClientError::Changed,
        other => other.into(),
    }
}

/// Fetches the team dashboard (team managers only) and stores it sealed with the time
/// it was fetched, so it opens offline as of then.
async fn refresh_dashboard(shared: &Rc<Shared>) -> Result<(), ClientError> {
    const NEEDS: &str = "Updating the dashboard needs a connection to the server.";
    let manager = shared
        .state
        .borrow()
        .session
        .as_ref()
        .is_some_and(|s| s.worker.role == "team-manager");
    if !manager {
        return Ok(());
    }
    let fetched = match token_or_fail(shared).await {
        Ok(token) => server_api::team_dashboard(&token).await,
        Err(failure) => Err(failure),
    };
    let text = fetched.map_err(|failure| online_failure(failure, NEEDS))?;
    let record = format!("{{\"fetchedAt\":{},\"dashboard\":{text}}}", now_ms() as u64);
    let sealed = {
        let state = shared.state.borrow();
        let vault = state.vault.as_ref().ok_or(ClientError::Locked)?;
        seal_bytes(vault, DASHBOARD_RECORD, record.as_bytes())?
    };
    shared
        .idb
        .write(RECORDS_STORE, &[], vec![(DASHBOARD_RECORD.into(), sealed)])?
        .await?;
    shared.state.borrow_mut().dashboard = Some(record);
    notify(shared);
    Ok(())
}

/// Reads a visit's review from the server, or (with `decision`) posts a manager's decision
/// and reads the review after it. Online only.
async fn review(
    shared: &Rc<Shared>,
    document_id: &str,
    decision: Option<JsValue>,
) -> Result<JsValue, ClientError> {
    const NEEDS: &str = "Reviewing a record needs a connection to the server.";
    let id = parse_id(document_id)?.to_string();
    if !is_online() {
        return Err(ClientError::Offline(NEEDS.into()));
    }
    let token = token_or_fail(shared)
        .await
        .map_err(|failure| online_failure(failure, NEEDS))?;
    let answer = match decision {
        None => server_api::visit_review(&token, &id).await,
        Some(body) => server_api::decide(&token, &id, body).await,
    };
    let text = answer.map_err(|failure| online_failure(failure, NEEDS))?;
    js_sys::JSON::parse(&text)
        .map_err(|_| ClientError::Server("unexpected answer from the server".into()))
}

async fn refresh_caseload(shared: &Rc<Shared>) -> Result<(), ClientError> {
    let token = token_or_fail(shared).await?;
    let unsent = shared.state.borrow().unsent.len();
    let mut caseload = match server_api::caseload(&token, unsent).await {
        Ok(caseload) => caseload,
        Err(failure) => {
            on_api_failure(shared, &failure).await;
            return Err(failure.into());
        }
    };
    contact_made(shared);
    let (sealed, effects, erased) = {
        let mut state = shared.state.borrow_mut();
        let erased = forget_erased(&mut state, &caseload.erased);
        caseload.former = former_children(&state, &caseload);
        let vault = state.vault.as_ref().ok_or(ClientError::Locked)?;
        let sealed = seal_record(vault, CASELOAD_RECORD, &caseload.to_js())?;
        let mut effects = Vec::new();
        for id in caseload_documents(&caseload) {
            if state.documents.insert(id)
                && let Some(core) = state.core.as_mut()
            {
                effects.push(core.find(id));
            }
        }
        state.caseload = caseload;
        (sealed, effects, erased)
    };
    shared
        .idb
        .write(RECORDS_STORE, &[], vec![(CASELOAD_RECORD.into(), sealed)])?
        .await?;
    if !erased.is_empty() {
        shared.idb.write(CHUNKS_STORE, &erased, Vec::new())?.await?;
        save_unsent(shared);
        persist_summaries(shared);
    }
    for fx in effects {
        carry_out(shared, fx);
    }
    notify(shared);
    Ok(())
}

/// Forgets the documents the server deleted after their retention (the caseload's
/// `erased`): the core drops them, they leave the unsent set and the summaries, and the
/// returned key ranges (their sealed chunks) are deleted by the caller.
fn forget_erased(state: &mut State, erased: &[String]) -> Vec<(String, String)> {
    let mut ranges = Vec::new();
    for id in erased
        .iter()
        .filter_map(|text| text.parse::<DocumentId>().ok())
    {
        if let Some(core) = state.core.as_mut() {
            core.forget_document(id);
        }
        state.documents.remove(&id);
        state.unsent.remove(&id);
        state.next_seq.remove(&id);
        state.preloaded.remove(&id);
        if state.summaries.borrow_mut().remove(&id).is_some() {
            state.summaries_dirty.set(true);
        }
        let prefix = chunk_prefix(&id);
        ranges.push((prefix.clone(), format!("{prefix}~")));
    }
    ranges
}

/// The children no longer on `fresh` (the server's new caseload) about whom this device
/// still holds records the server does not have: they stay listed, so the worker sees
/// what became of each record instead of "child not found".
fn former_children(state: &State, fresh: &Caseload) -> Vec<crate::server_api::CaseloadChild> {
    let cache = state.summaries.borrow();
    let holds_unsent = |child_ref: &str| {
        state.unsent.iter().any(|id| {
            cache
                .get(id)
                .is_some_and(|cached| cached.child.as_deref() == Some(child_ref))
        })
    };
    state
        .caseload
        .children
        .iter()
        .chain(state.caseload.former.iter())
        .filter(|old| !fresh.children.iter().any(|c| c.child_ref == old.child_ref))
        .filter(|old| holds_unsent(&old.child_ref))
        .cloned()
        .collect()
}

/// Who makes this device's changes, for their commit messages.
fn author(state: &State) -> Result<ChangeAuthor, ClientError> {
    let session = state.session.as_ref().ok_or(ClientError::Locked)?;
    Ok(ChangeAuthor {
        worker_id: session.worker.username.clone(),
        device: session.device_id.clone(),
    })
}

fn create_visit(
    shared: &Rc<Shared>,
    child_ref: &str,
    visit_date: &str,
) -> Result<String, ClientError> {
    let fx_and_id = {
        let mut state = shared.state.borrow_mut();
        let worker = state
            .session
            .as_ref()
            .map(|s| s.worker.username.clone())
            .ok_or(ClientError::Locked)?;
        if !state
            .caseload
            .children
            .iter()
            .any(|c| c.child_ref == child_ref)
        {
            return Err(ClientError::BadArgument(format!(
                "{child_ref} is not on your caseload"
            )));
        }
        let date = CalendarDate::parse(visit_date).ok_or_else(|| {
            ClientError::BadArgument("The date of the visit must be a real date".into())
        })?;
        let author = author(&state)?;
        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        model::create_visit(
            &mut tx,
            &NewVisit {
                visit_id: new_uuid(),
                child_id: child_ref.to_owned(),
                worker_id: worker,
                visit_date: date,
                created_at: now(),
            },
        )?;
        // Social workers record their own visits; the form can say a personal adviser
        // made it instead.
        model::set_made_by(&mut tx, VisitMaker::SocialWorker)?;
        tx.commit_with(
            CommitOptions::default()
                .with_time((now_ms() / 1000.0) as i64)
                .with_message(author.message()),
        );
        let id = DocumentId::from_bytes(random_bytes()?);
        let core = state.core.as_mut().ok_or(ClientError::Locked)?;
        let fx = core.create_document(id, doc)?;
        state.documents.insert(id);
        state.unsent.insert(id);
        (fx, id)
    };
    let (fx, id) = fx_and_id;
    save_unsent(shared);
    carry_out(shared, fx);
    Ok(id.to_string())
}

fn edit_visit(
    shared: &Rc<Shared>,
    id: DocumentId,
    edit: &FormEdit,
) -> Result<Option<usize>, ClientError> {
    let (result, fx) = {
        let mut state = shared.state.borrow_mut();
        let state = &mut *state;
        let author = author(state)?;
        let core = state.core.as_mut().ok_or(ClientError::Locked)?;
        core.change_document(id, |doc| apply_edit(doc, edit, new_uuid, now(), &author))?
    };
    if result.is_ok() && shared.state.borrow_mut().unsent.insert(id) {
        save_unsent(shared);
    }
    carry_out(shared, fx);
    result
}

/// Stores the set of documents waiting for the server (sealed), after it changed.
fn save_unsent(shared: &Rc<Shared>) {
    let count = shared.state.borrow().unsent.len();
    if shared.state.borrow().guard.unsent != count {
        shared.state.borrow_mut().guard.unsent = count;
        save_guard(shared);
    }
    let sealed = {
        let state = shared.state.borrow();
        let Some(vault) = state.vault.as_ref() else {
            return;
        };
        let ids = array(state.unsent.iter().map(ToString::to_string));
        seal_record(vault, UNSENT_RECORD, &ids)
    };
    let Ok(sealed) = sealed else {
        return;
    };
    if let Ok(write) = shared
        .idb
        .write(RECORDS_STORE, &[], vec![(UNSENT_RECORD.into(), sealed)])
    {
        spawn_local(async move {
            let _ = write.await;
        });
    }
}

/// Drops from the unsent set every document the server has now confirmed.
fn settle_unsent(shared: &Rc<Shared>) {
    let changed = {
        let mut state = shared.state.borrow_mut();
        let state = &mut *state;
        let Some(core) = state.core.as_ref() else {
            return;
        };
        let pending = &state.pending_writes;
        let before = state.unsent.len();
        state
            .unsent
            .retain(|id| pending.get(id).copied().unwrap_or(0) > 0 || !core.is_acknowledged(id));
        state.unsent.len() != before
    };
    if changed {
        save_unsent(shared);
    }
}

/// Feeds one event to the core and carries out what it asks.
fn drive(shared: &Rc<Shared>, event: Event) {
    let fx = {
        let mut state = shared.state.borrow_mut();
        let Some(core) = state.core.as_mut() else {
            return;
        };
        core.handle(now(), event)
    };
    carry_out(shared, fx);
}

/// Sends, stores and closes as the core asked, then tells subscribers.
fn carry_out(shared: &Rc<Shared>, fx: Effects) {
    let mut sends = Vec::new();
    let mut close = false;
    {
        let state = shared.state.borrow();
        if let Some(link) = state.link.as_ref() {
            for (connection, message) in &fx.outbound {
                if *connection == link.id {
                    sends.push((link.socket.clone(), protocol::encode(message)));
                }
            }
            close = fx
                .close
                .iter()
                .any(|(connection, _)| *connection == link.id);
        }
    }
    for (socket, bytes) in sends {
        let _ = socket.send_with_u8_array(&bytes);
    }
    for task in fx.storage {
        run_storage(shared, task);
    }
    if close {
        disconnected(shared);
    }
    settle_unsent(shared);
    notify(shared);
}

/// Starts one storage task: its IndexedDB transaction is created now (so writes keep
/// their order); the result goes back to the core when it completes.
fn run_storage(shared: &Rc<Shared>, task: StorageTask) {
    let document = task.document;
    let is_write = !matches!(task.kind, StorageTaskKind::Load);
    let started = {
        let mut state = shared.state.borrow_mut();
        start_storage(shared, &mut state, task)
    };
    let (id, work) = match started {
        Ok(started) => started,
        Err((id, err)) => {
            drive(
                shared,
                Event::IoComplete(IoResult {
                    task: id,
                    outcome: StorageOutcome::Failed(err.to_string()),
                }),
            );
            return;
        }
    };
    if is_write {
        *shared
            .state
            .borrow_mut()
            .pending_writes
            .entry(document)
            .or_default() += 1;
    }
    let shared = shared.clone();
    spawn_local(async move {
        let outcome = work
            .await
            .unwrap_or_else(|err| StorageOutcome::Failed(err.to_string()));
        if is_write && let Some(n) = shared.state.borrow_mut().pending_writes.get_mut(&document) {
            *n = n.saturating_sub(1);
        }
        drive(&shared, Event::IoComplete(IoResult { task: id, outcome }));
    });
}

type StorageWork = std::pin::Pin<Box<dyn Future<Output = Result<StorageOutcome, ClientError>>>>;

fn start_storage(
    shared: &Rc<Shared>,
    state: &mut State,
    task: StorageTask,
) -> Result<(shared::sync::TaskId, StorageWork), (shared::sync::TaskId, ClientError)> {
    let id = task.id;
    let fail = |err| (id, err);
    let document = task.document;
    let Some(vault) = state.vault.as_ref() else {
        return Err(fail(ClientError::Locked));
    };
    let prefix = chunk_prefix(&document);
    match task.kind {
        StorageTaskKind::Load if state.preloaded.contains_key(&document) => {
            let preloaded = state
                .preloaded
                .remove(&document)
                .ok_or((id, ClientError::Locked))?;
            state.next_seq.insert(document, preloaded.next_seq);
            let chunks = StoredChunks {
                bytes: preloaded.bytes,
                count: preloaded.count,
                index: None,
            };
            Ok((
                id,
                Box::pin(async move { Ok(StorageOutcome::Loaded(Some(chunks))) }),
            ))
        }
        StorageTaskKind::Load => {
            let read = shared
                .idb
                .range(CHUNKS_STORE, &prefix, &format!("{prefix}~"))
                .map_err(fail)?;
            let shared = shared.clone();
            Ok((
                id,
                Box::pin(async move {
                    let rows = read.await?;
                    let state = shared.state.borrow();
                    let vault = state.vault.as_ref().ok_or(ClientError::Locked)?;
                    let mut bytes = Vec::new();
                    let mut last_seq = None;
                    for (key, value) in &rows {
                        let sealed = value_bytes(value)
                            .ok_or_else(|| ClientError::Storage(format!("{key} is not bytes")))?;
                        bytes.extend(vault.open(key, &sealed)?);
                        last_seq = key.rsplit('/').next().and_then(|s| s.parse::<u64>().ok());
                    }
                    drop(state);
                    if let Some(seq) = last_seq {
                        shared.state.borrow_mut().next_seq.insert(document, seq + 1);
                    }
                    let count = rows.len();
                    Ok(StorageOutcome::Loaded((count > 0).then_some(
                        StoredChunks {
                            bytes,
                            count,
                            index: None,
                        },
                    )))
                }),
            ))
        }
        StorageTaskKind::Append { changes, .. } => {
            let key = chunk_key(&document, next_seq(&mut state.next_seq, document));
            write_chunk(shared, vault, key, &changes, &[])
                .map(|work| (id, work))
                .map_err(fail)
        }
        StorageTaskKind::Compact { snapshot } => {
            // The snapshot replaces every chunk before it, in the same transaction.
            let key = chunk_key(&document, next_seq(&mut state.next_seq, document));
            let older = [(prefix, key.clone())];
            write_chunk(shared, vault, key, &snapshot, &older)
                .map(|work| (id, work))
                .map_err(fail)
        }
    }
}

/// The sequence number of a document's next chunk (and counts it as used).
fn next_seq(next: &mut HashMap<DocumentId, u64>, document: DocumentId) -> u64 {
    let seq = next.get(&document).copied().unwrap_or(0);
    next.insert(document, seq + 1);
    seq
}

/// Seals `bytes` as chunk `key` and starts writing it, deleting `older` key ranges first.
fn write_chunk(
    shared: &Rc<Shared>,
    vault: &Vault,
    key: String,
    bytes: &[u8],
    older: &[(String, String)],
) -> Result<StorageWork, ClientError> {
    let sealed = vault.seal(&key, bytes, random_bytes::<NONCE_BYTES>()?)?;
    let write = shared.idb.write(
        CHUNKS_STORE,
        older,
        vec![(key, Uint8Array::from(sealed.as_slice()).into())],
    )?;
    Ok(Box::pin(async move {
        write.await.map(|()| StorageOutcome::Written)
    }))
}

/// Opens the WebSocket to `/sync` (with a fresh ticket) unless one is open or opening.
fn connect(shared: &Rc<Shared>) {
    {
        let mut state = shared.state.borrow_mut();
        if state.link.is_some() || state.connecting || state.core.is_none() || !is_online() {
            return;
        }
        state.connecting = true;
    }
    let shared = shared.clone();
    spawn_local(async move {
        let opened = open_socket(&shared).await;
        shared.state.borrow_mut().connecting = false;
        if let Err(failure) = opened {
            on_api_failure(&shared, &failure).await;
            if matches!(
                failure,
                ApiFailure::Unreachable(_) | ApiFailure::Refused(..)
            ) {
                schedule_reconnect(&shared);
            }
        }
    });
}

async fn open_socket(shared: &Rc<Shared>) -> Result<(), ApiFailure> {
    let token = access_token(shared).await?;
    let ticket = server_api::sync_ticket(&token).await?;
    let location = web_sys::window()
        .ok_or_else(|| ApiFailure::Unreachable("no window".into()))?
        .location();
    let scheme = if location.protocol().unwrap_or_default() == "https:" {
        "wss"
    } else {
        "ws"
    };
    let host = location.host().unwrap_or_default();
    let socket = WebSocket::new(&format!("{scheme}://{host}/sync?ticket={ticket}"))
        .map_err(|err| ApiFailure::Unreachable(crate::client_error::describe_js(&err)))?;
    socket.set_binary_type(BinaryType::Arraybuffer);
    let mut state = shared.state.borrow_mut();
    if state.core.is_none() {
        let _ = socket.close();
        return Ok(());
    }
    let id = ConnectionId(state.next_connection);
    state.next_connection += 1;
    let on_open = {
        let shared = shared.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |_| {
            if let Some(link) = shared.state.borrow_mut().link.as_mut() {
                link.ready = true;
            }
            {
                let mut state = shared.state.borrow_mut();
                state.reconnect_attempt = 0;
                state.offline_since = None;
                state.problem = None;
            }
            contact_made(&shared);
            drive(
                &shared,
                Event::Connected {
                    connection: id,
                    direction: Direction::Dialled,
                },
            );
        })
    };
    let on_message = {
        let shared = shared.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Ok(buffer) = event.data().dyn_into::<js_sys::ArrayBuffer>() {
                let bytes = Uint8Array::new(&buffer).to_vec();
                note_pushed_document(&shared, &bytes);
                drive(
                    &shared,
                    Event::Received {
                        connection: id,
                        bytes,
                    },
                );
            }
        })
    };
    let on_close = {
        let shared = shared.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |_| {
            let current = shared
                .state
                .borrow()
                .link
                .as_ref()
                .is_some_and(|l| l.id == id);
            if current {
                disconnected(&shared);
            }
        })
    };
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    state.link = Some(Link {
        id,
        socket,
        ready: false,
        _on_open: on_open,
        _on_message: on_message,
        _on_close: on_close,
    });
    Ok(())
}

/// A document the server sends without this device having asked for it (a record made on
/// the worker's other device, pushed live) joins the documents the screens list, so it
/// shows at once rather than at the next caseload fetch.
fn note_pushed_document(shared: &Rc<Shared>, bytes: &[u8]) {
    let document = match protocol::decode(bytes) {
        Ok(protocol::Message::Sync { document_id, .. })
        | Ok(protocol::Message::Request { document_id, .. }) => document_id,
        _ => return,
    };
    let mut state = shared.state.borrow_mut();
    if !state.documents.contains(&document) {
        state.documents.insert(document);
    }
}

/// The link closed (either side): tell the core, note when we went offline, and try again
/// later (at once when the browser says it is online again).
fn disconnected(shared: &Rc<Shared>) {
    let link = {
        let mut state = shared.state.borrow_mut();
        if state.offline_since.is_none() {
            state.offline_since = Some(now_ms());
        }
        state.link.take()
    };
    if let Some(link) = link {
        let id = link.id;
        // This may run inside one of the link's own callbacks: drop it (and its closures)
        // only after the callback has returned.
        spawn_local(async move { drop(link) });
        drive(shared, Event::Disconnected { connection: id });
        schedule_reconnect(shared);
    }
    notify(shared);
}

fn schedule_reconnect(shared: &Rc<Shared>) {
    let delay = {
        let mut state = shared.state.borrow_mut();
        if state.reconnect_scheduled || state.core.is_none() {
            return;
        }
        state.reconnect_scheduled = true;
        state.reconnect_attempt = state.reconnect_attempt.saturating_add(1);
        let base = (1000.0 * 2f64.powi(state.reconnect_attempt.min(6) as i32)).min(MAX_BACKOFF_MS);
        base * (0.5 + js_sys::Math::random() / 2.0)
    };
    let again = shared.clone();
    let callback = Closure::once_into_js(move || {
        again.state.borrow_mut().reconnect_scheduled = false;
        connect(&again);
    });
    if let Some(window) = web_sys::window() {
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            callback.unchecked_ref(),
            delay as i32,
        );
    }
}

/// Listens for the browser going online (reconnect at once) or offline (drop the link).
fn hook_window(shared: &Rc<Shared>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    {
        let mut state = shared.state.borrow_mut();
        if state.window_hooked {
            return;
        }
        state.window_hooked = true;
    }
    let online = {
        let shared = shared.clone();
        Closure::<dyn FnMut()>::new(move || {
            shared.state.borrow_mut().reconnect_attempt = 0;
            let pending = shared.clone();
            spawn_local(async move {
                // An offline sign-out goes first; then the session syncs.
                send_pending_sign_out(&pending).await;
                connect(&pending);
                if pending.state.borrow().vault.is_some() {
                    refresh_in_background(&pending);
                }
                notify(&pending);
            });
        })
    };
    let offline = {
        let shared = shared.clone();
        Closure::<dyn FnMut()>::new(move || disconnected(&shared))
    };
    let _ = window.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
    let _ = window.add_event_listener_with_callback("offline", offline.as_ref().unchecked_ref());
    // The device lives as long as the page; so do these listeners.
    online.forget();
    offline.forget();
}

/// Calls every subscriber (outside any borrow: a subscriber may call back in).
fn notify(shared: &Rc<Shared>) {
    let listeners = shared.state.borrow().listeners.clone();
    for listener in listeners {
        let _ = listener.call0(&JsValue::NULL);
    }
}
