//! The hub: one OS thread that owns the [`SyncCore`] and carries out its effects.
//!
//! Connection tasks send it [`HubInput`]s over a bounded channel (which pushes back on
//! fast peers); it runs the core, hands messages to each connection's outbox, and storage
//! tasks to the storage thread, whose results come back on the same channel. All
//! automerge work happens here, off the async reactor.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use automerge::{Automerge, ChangeHash};
use shared::DocumentId;
use shared::protocol::Message;
use shared::schedule::SchedulePolicy;
use shared::sync::{
    AccessEvent, AccessGrant, AccessKind, CloseReason, ConnectionId, CoreConfig, CoreStats,
    Direction, DocumentStatus, Effects, Event, Incoming, StorageTaskKind, SyncCore, Timestamp,
};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tracing::{debug, error};

use crate::directory::audit::{AuditEntry, Outcome};
use crate::directory::grants;
use crate::directory::sessions::{self, Identity, SessionError};
use denials::DenialLog;

mod denials;
mod erasure;
use crate::projection::{DocumentRows, ProjectionUpdate};
use crate::store::{StorageHandle, StorageReport};

/// How many inputs may wait for the hub before senders wait.
const INBOX_CAPACITY: usize = 4096;

/// Frames up to this size are decoded on the connection's task; larger ones on a blocking
/// thread under a preload permit (a typed edit's frame is a few hundred bytes).
const INLINE_DECODE_BYTES: usize = 64 * 1024;

/// What a connection's task is told to do.
#[derive(Debug)]
pub enum Outbound {
    /// Send this message.
    Send(Message),
    /// Close the connection (after what was sent before).
    Close(CloseReason),
}

/// Everything the hub reacts to.
#[derive(Debug)]
pub enum HubInput {
    /// An authenticated WebSocket opened; `outbox` reaches its task.
    Connected {
        /// The new connection.
        connection: ConnectionId,
        /// Who signed in on it.
        identity: Identity,
        /// Where to put messages for it.
        outbox: mpsc::UnboundedSender<Outbound>,
    },
    /// A binary frame arrived (decoded by [`HubHandle::prepare`]).
    Frame {
        /// From where.
        connection: ConnectionId,
        /// The frame.
        incoming: Incoming,
    },
    /// A WebSocket closed.
    Disconnected {
        /// Which.
        connection: ConnectionId,
    },
    /// The storage thread reported.
    Storage(StorageReport),
    /// Time passed (unloads idle documents).
    Tick,
    /// Report the core's counters.
    Stats(oneshot::Sender<CoreStats>),
    /// Change a document on the server's own behalf (a manager's sign-off).
    Edit(ServerEdit),
    /// Stop: flush storage, then answer.
    Shutdown(oneshot::Sender<()>),
}

/// A change the server makes to a document itself, e.g. recording a manager's decision.
///
/// It applies only if the document is still at `expected_heads` (the version the person
/// read); the reply comes once the change is durable.
pub struct ServerEdit {
    /// The document to change.
    pub document: DocumentId,
    /// The heads the person saw; any other version is refused with [`EditError::Changed`].
    pub expected_heads: Vec<ChangeHash>,
    /// Who the change is made for (recorded as the sender of its change batch).
    pub author: String,
    /// The change itself; an `Err` refuses it with that message and changes nothing.
    pub edit: DocumentEdit,
    /// The document's heads after the change, once durable.
    pub reply: oneshot::Sender<Result<Vec<ChangeHash>, EditError>>,
}

/// A change to make to a document; `Err` refuses it (with the message) and changes nothing.
pub type DocumentEdit = Box<dyn FnOnce(&mut Automerge) -> Result<(), String> + Send>;

impl std::fmt::Debug for ServerEdit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerEdit")
            .field("document", &self.document)
            .field("author", &self.author)
            .finish_non_exhaustive()
    }
}

/// Why a server edit was not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// No such document is stored.
    #[error("no such record")]
    NotFound,
    /// The document changed since the person read it.
    #[error("this record changed since you opened it")]
    Changed,
    /// The edit itself refused (e.g. the record is not in a state to sign off).
    #[error("{0}")]
    Refused(String),
    /// The change could not be stored.
    #[error("the change could not be stored: {0}")]
    Storage(String),
    /// The server is stopping.
    #[error("the server is stopping")]
    Stopping,
}

/// A cloneable way to talk to the hub.
#[derive(Clone)]
pub struct HubHandle {
    inbox: mpsc::Sender<HubInput>,
    next_connection: Arc<AtomicU64>,
    /// Permits for loading frames' changes ahead of the hub: one per core, plus one.
    preloads: Arc<Semaphore>,
    /// The core's settings: every frame is decoded and checked as the core would.
    core_config: Arc<CoreConfig>,
}

impl HubHandle {
    /// A fresh connection id.
    pub fn new_connection_id(&self) -> ConnectionId {
        ConnectionId(self.next_connection.fetch_add(1, Ordering::Relaxed))
    }

    /// Sends an input, waiting if the hub is busy. Returns false if the hub has stopped.
    pub async fn send(&self, input: HubInput) -> bool {
        self.inbox.send(input).await.is_ok()
    }

    /// Decodes a peer's frame and, when it carries changes from a peer that may write,
    /// loads them on a blocking thread (at most one per core, plus one, at once) so that the
    /// hub thread only applies them: loading a new visit is most of the CPU a sync storm
    /// costs, and it needs nothing but the bytes. A read-only peer's changes are refused
    /// unloaded. A large frame is also decoded there (checking it may inflate up to
    /// `--max-inflated-bytes`), so the reactor never does that work and the permits bound
    /// how much memory checking frames takes at once.
    ///
    /// # Errors
    /// A message for the peer if automerge panicked on its changes.
    pub async fn prepare(&self, bytes: Vec<u8>, may_write: bool) -> Result<Incoming, String> {
        let failed = |err: tokio::task::JoinError| {
            error!(cause = %err, "reading a peer's frame failed");
            "the sync message could not be read".to_owned()
        };
        if bytes.len() <= INLINE_DECODE_BYTES {
            let mut incoming = Incoming::decode(&bytes, &self.core_config);
            if !may_write || !incoming.has_changes() {
                return Ok(incoming);
            }
            let Ok(_permit) = self.preloads.acquire().await else {
                return Ok(incoming);
            };
            return tokio::task::spawn_blocking(move || {
                incoming.preload();
                incoming
            })
            .await
            .map_err(failed);
        }
        let Ok(_permit) = self.preloads.acquire().await else {
            return Err("the server is stopping".to_owned());
        };
        let core_config = self.core_config.clone();
        tokio::task::spawn_blocking(move || {
            let mut incoming = Incoming::decode(&bytes, &core_config);
            if may_write && incoming.has_changes() {
                incoming.preload();
            }
            incoming
        })
        .await
        .map_err(failed)
    }

    /// The core's counters, or `None` if the hub has stopped.
    pub async fn stats(&self) -> Option<CoreStats> {
        let (reply, answer) = oneshot::channel();
        if !self.send(HubInput::Stats(reply)).await {
            return None;
        }
        answer.await.ok()
    }
}

/// Starts the hub thread with its storage thread; returns the handle and the join handle.
///
/// # Errors
/// The OS error if a thread cannot be spawned.
pub fn spawn_hub(
    core: SyncCore,
    store: crate::store::SqliteStore,
    directory: rusqlite::Connection,
    policy: SchedulePolicy,
    reallocation_grace: std::time::Duration,
) -> std::io::Result<(HubHandle, std::thread::JoinHandle<()>)> {
    let core_config = Arc::new(core.config().clone());
    let (inbox, mut receiver) = mpsc::channel(INBOX_CAPACITY);
    let results_to_hub = inbox.clone();
    let storage = crate::store::spawn_storage_thread(store, move |report| {
        // blocking_send is fine: this is the storage thread, not the reactor. The hub
        // keeps draining its inbox while storage shuts down, so this cannot deadlock.
        let _ = results_to_hub.blocking_send(HubInput::Storage(report));
    })?;
    let thread = std::thread::Builder::new()
        .name("doorstep-hub".into())
        .spawn(move || {
            let mut hub = Hub {
                core,
                outboxes: HashMap::new(),
                identities: HashMap::new(),
                child_ids: HashMap::new(),
                audited_reads: HashSet::new(),
                denials: DenialLog::default(),
                reallocation_grace,
                grace_ends: None,
                directory,
                directory_version: -1,
                storage: Some(storage),
                stopping: None,
                policy,
                edits_loading: HashMap::new(),
                edits_storing: Vec::new(),
                edit_author: None,
                erased_through: 0,
            };
            hub.forget_erased();
            while let Some(input) = receiver.blocking_recv() {
                if hub.on_input_contained(input) == Flow::Stop {
                    break;
                }
            }
        })?;
    Ok((
        HubHandle {
            inbox,
            next_connection: Arc::new(AtomicU64::new(1)),
            // One more loader than cores: a connection waits for its frame's load before it
            // reads the next, so with exactly one per core the cores idled in every hand-over
            // from one load to the next (~20% idle in the sync storm). Measured in the storm,
            // interleaved: 2 permits 575-730 docs/s, 3 permits 720-873, 4 permits 690-876.
            preloads: Arc::new(Semaphore::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZero::get) + 1,
            )),
            core_config,
        },
        thread,
    ))
}

struct Hub {
    core: SyncCore,
    outboxes: HashMap<ConnectionId, mpsc::UnboundedSender<Outbound>>,
    /// Who is signed in on each connection.
    identities: HashMap<ConnectionId, Identity>,
    /// Each granted child's row id by its reference (for audit rows).
    child_ids: HashMap<String, i64>,
    /// (session, document) pairs whose first read is already audited.
    audited_reads: HashSet<(i64, DocumentId)>,
    /// Denials already audited, so a repeated one is counted rather than written again.
    denials: DenialLog,
    /// How long a worker still holds a child, as a former holder, after de-allocation.
    reallocation_grace: std::time::Duration,
    /// When the first former holder's grace ends (ms): grants are recomputed then.
    grace_ends: Option<i64>,
    /// A read connection for grants and session checks (writes go to the storage thread).
    directory: rusqlite::Connection,
    /// The directory version the grants were computed at.
    directory_version: i64,
    storage: Option<StorageHandle>,
    /// Set once shutdown began: who to tell when storage has flushed.
    stopping: Option<oneshot::Sender<()>>,
    /// The visit-schedule policy (for the projection's late flag).
    policy: SchedulePolicy,
    /// Server edits waiting for their document to load.
    edits_loading: HashMap<DocumentId, Vec<ServerEdit>>,
    /// Server edits made, waiting to be durable: document, heads after, reply.
    edits_storing: Vec<(DocumentId, Vec<ChangeHash>, EditReply)>,
    /// While a server edit's effects are carried out: who it was made for.
    edit_author: Option<String>,
    /// The last deletion after retention whose documents the core has erased (its
    /// `retention_deletions` row id; see `erasure`).
    erased_through: i64,
}

type EditReply = oneshot::Sender<Result<Vec<ChangeHash>, EditError>>;

/// Whether the hub loop goes on.
#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

impl Hub {
    /// Handles one input; a panic while handling a peer's frame is contained: that peer is
    /// told and closed, the document it was about is reloaded from storage, and the hub
    /// goes on. A panic nothing can be blamed on stops the hub (the process then exits
    /// non-zero, so a supervisor restarts it).
    fn on_input_contained(&mut self, input: HubInput) -> Flow {
        let culprit = match &input {
            HubInput::Frame {
                connection,
                incoming,
            } => Some((*connection, incoming.document())),
            _ => None,
        };
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.on_input(input))) {
            Ok(flow) => flow,
            Err(_) => match culprit {
                Some((connection, document)) => {
                    error!(%connection, ?document, "a peer's frame made the hub panic; closing that peer");
                    if let Some(identity) = self.identities.get(&connection) {
                        let row = entry(
                            identity,
                            "sync",
                            Outcome::Denied,
                            document.map(|id| (id, None)),
                            Some("message could not be handled"),
                        );
                        self.audit(vec![row]);
                    }
                    let effects = self.core.recover(now(), Some(connection), document);
                    self.carry_out(effects);
                    Flow::Continue
                }
                None => {
                    error!("the hub panicked outside any peer's input; stopping");
                    Flow::Stop
                }
            },
        }
    }

    fn on_input(&mut self, input: HubInput) -> Flow {
        if self.stopping.is_some() {
            return self.on_input_while_stopping(input);
        }
        match input {
            HubInput::Connected {
                connection,
                identity,
                outbox,
            } => {
                self.outboxes.insert(connection, outbox);
                self.audit(vec![entry(
                    &identity,
                    "sync-connect",
                    Outcome::Allowed,
                    None,
                    None,
                )]);
                self.identities.insert(connection, identity);
                self.handle(Event::Connected {
                    connection,
                    direction: Direction::Accepted,
                });
                self.refresh_grant(connection);
            }
            HubInput::Frame {
                connection,
                incoming,
            } => self.handle(Event::ReceivedDecoded {
                connection,
                incoming,
            }),
            HubInput::Disconnected { connection } => {
                self.outboxes.remove(&connection);
                self.identities.remove(&connection);
                self.handle(Event::Disconnected { connection });
            }
            HubInput::Storage(StorageReport::Results(results)) => {
                for result in results {
                    self.handle(Event::IoComplete(result));
                }
            }
            HubInput::Storage(StorageReport::Stopped) => {
                error!("storage thread stopped unexpectedly");
            }
            HubInput::Tick => {
                self.handle(Event::Tick);
                self.check_directory();
                let repeated = self.denials.flush(now().as_millis() as i64);
                self.audit(repeated);
            }
            HubInput::Stats(reply) => {
                let _ = reply.send(self.core.stats());
            }
            HubInput::Edit(edit) => self.on_edit(edit),
            HubInput::Shutdown(done) => {
                self.begin_shutdown();
                self.stopping = Some(done);
            }
        }
        Flow::Continue
    }

    /// While storage drains: finish storage work, refuse everything else.
    fn on_input_while_stopping(&mut self, input: HubInput) -> Flow {
        match input {
            HubInput::Storage(StorageReport::Stopped) => {
                if let Some(storage) = self.storage.take() {
                    storage.join();
                }
                if let Some(done) = self.stopping.take() {
                    let _ = done.send(());
                }
                return Flow::Stop;
            }
            HubInput::Storage(StorageReport::Results(results)) => {
                for result in results {
                    // Results still update the core, but nobody is left to hear about it.
                    let _ = self.core.handle(now(), Event::IoComplete(result));
                }
            }
            HubInput::Connected { outbox, .. } => {
                let _ = outbox.send(Outbound::Close(CloseReason::PeerLeft));
            }
            HubInput::Stats(reply) => {
                let _ = reply.send(self.core.stats());
            }
            HubInput::Edit(edit) => {
                let _ = edit.reply.send(Err(EditError::Stopping));
            }
            HubInput::Frame { .. }
            | HubInput::Disconnected { .. }
            | HubInput::Tick
            | HubInput::Shutdown(_) => {}
        }
        Flow::Continue
    }

    fn handle(&mut self, event: Event) {
        let effects = self.core.handle(now(), event);
        self.carry_out(effects);
        if !self.edits_loading.is_empty() {
            self.run_loaded_edits();
        }
        if !self.edits_storing.is_empty() {
            self.answer_durable_edits();
        }
    }

    /// A server edit: made at once if the document is in memory, else after it loads.
    fn on_edit(&mut self, edit: ServerEdit) {
        let document = edit.document;
        if self.core.is_erased(&document) {
            let _ = edit.reply.send(Err(EditError::NotFound));
            return;
        }
        match self.core.document_status(&document) {
            DocumentStatus::Ready => self.make_edit(edit),
            DocumentStatus::Loading => self.edits_loading.entry(document).or_default().push(edit),
            _ => {
                self.edits_loading.entry(document).or_default().push(edit);
                let effects = self.core.find(document);
                self.carry_out(effects);
            }
        }
    }

    /// Makes the edits whose documents have loaded (or answers that they are missing).
    fn run_loaded_edits(&mut self) {
        let settled: Vec<DocumentId> = self
            .edits_loading
            .keys()
            .filter(|id| {
                !matches!(
                    self.core.document_status(id),
                    DocumentStatus::Loading | DocumentStatus::Unknown
                )
            })
            .copied()
            .collect();
        for document in settled {
            for edit in self.edits_loading.remove(&document).unwrap_or_default() {
                if self.core.document_status(&document) == DocumentStatus::Ready {
                    self.make_edit(edit);
                } else {
                    let _ = edit.reply.send(Err(EditError::NotFound));
                }
            }
        }
    }

    fn make_edit(&mut self, edit: ServerEdit) {
        let ServerEdit {
            document,
            expected_heads,
            author,
            edit,
            reply,
        } = edit;
        let mut current = self
            .core
            .open_document(&document)
            .map(Automerge::get_heads)
            .unwrap_or_default();
        let mut expected = expected_heads;
        current.sort();
        expected.sort();
        if current != expected {
            let _ = reply.send(Err(EditError::Changed));
            return;
        }
        match self.core.change_document(document, edit) {
            Ok((Ok(()), effects)) => {
                self.edit_author = Some(author);
                self.carry_out(effects);
                self.edit_author = None;
                let heads = self
                    .core
                    .open_document(&document)
                    .map(Automerge::get_heads)
                    .unwrap_or_default();
                self.edits_storing.push((document, heads, reply));
                self.answer_durable_edits();
            }
            Ok((Err(refusal), _)) => {
                let _ = reply.send(Err(EditError::Refused(refusal)));
            }
            Err(_) => {
                let _ = reply.send(Err(EditError::NotFound));
            }
        }
    }

    /// Answers the server edits whose changes have committed (or failed to).
    fn answer_durable_edits(&mut self) {
        let mut waiting = Vec::new();
        for (document, heads, reply) in std::mem::take(&mut self.edits_storing) {
            match self.core.document_status(&document) {
                DocumentStatus::Unknown | DocumentStatus::Loading => {
                    let _ = reply.send(Err(EditError::Storage(
                        "the record was unloaded before it was stored".into(),
                    )));
                }
                _ if self.core.is_durable(&document) => {
                    let _ = reply.send(Ok(heads));
                }
                _ => waiting.push((document, heads, reply)),
            }
        }
        self.edits_storing = waiting;
    }

    /// Recomputes one connection's grant from the directory and gives it to the core.
    fn refresh_grant(&mut self, connection: ConnectionId) {
        let Some(identity) = self.identities.get(&connection) else {
            return;
        };
        let now_ms = now().as_millis() as i64;
        match grants::grant_for(&self.directory, identity, now_ms, self.reallocation_grace) {
            Ok(granted) => {
                self.child_ids.extend(granted.child_ids);
                // The grant changes again when a former holder's grace ends.
                let grace_ms = self.reallocation_grace.as_millis() as i64;
                for until in granted.grant.former.values() {
                    let ends = until.as_millis() as i64 + grace_ms;
                    self.grace_ends = Some(self.grace_ends.map_or(ends, |next| next.min(ends)));
                }
                self.set_grant(connection, granted.grant);
            }
            Err(err) => {
                error!(cause = %err, "cannot read the directory; closing the connection");
                self.close(
                    connection,
                    CloseReason::StorageError("directory unavailable".into()),
                );
            }
        }
    }

    /// On a directory change (allocation, revocation, new document): end connections whose
    /// session is no longer valid, and give the others their new grants.
    fn check_directory(&mut self) {
        let version = match grants::directory_version(&self.directory) {
            Ok(version) => version,
            Err(err) => {
                error!(cause = %err, "cannot read the directory version");
                return;
            }
        };
        let now = now().as_millis() as i64;
        let grace_ended = self.grace_ends.is_some_and(|ends| ends <= now);
        if version == self.directory_version && !grace_ended {
            return;
        }
        self.directory_version = version;
        self.forget_erased();
        if grace_ended {
            self.grace_ends = None;
        }
        let connections: Vec<ConnectionId> = self.identities.keys().copied().collect();
        for connection in connections {
            let Some(identity) = self.identities.get(&connection) else {
                continue;
            };
            match sessions::check_session(&self.directory, identity.session_id, now) {
                Ok(()) => self.refresh_grant(connection),
                Err(err) => {
                    let message = match err {
                        SessionError::DeviceRevoked => {
                            "device revoked: wipe the local copy of every record".to_owned()
                        }
                        _ => format!("session ended: {err}"),
                    };
                    let ended = entry(identity, "sync-end", Outcome::Denied, None, Some(&message));
                    self.audit(vec![ended]);
                    if let Some(outbox) = self.outboxes.get(&connection) {
                        let error = Message::Error {
                            message: message.clone(),
                        };
                        let _ = outbox.send(Outbound::Send(error));
                    }
                    self.close(connection, CloseReason::ProtocolError(message));
                }
            }
        }
    }

    fn set_grant(&mut self, connection: ConnectionId, grant: AccessGrant) {
        self.handle(Event::AccessChanged { connection, grant });
    }

    fn close(&mut self, connection: ConnectionId, reason: CloseReason) {
        if let Some(outbox) = self.outboxes.remove(&connection) {
            let _ = outbox.send(Outbound::Close(reason));
        }
        self.identities.remove(&connection);
        self.handle(Event::Disconnected { connection });
    }

    /// Turns the core's access events into audit rows: the first read per session, every
    /// write and creation, and each distinct denial once (repeats are counted, see
    /// [`DenialLog`]).
    fn audit_access(&mut self, events: Vec<AccessEvent>) {
        let mut entries = Vec::with_capacity(events.len());
        for event in events {
            let Some(identity) = self.identities.get(&event.connection) else {
                continue;
            };
            // Every access goes into its child's record, refusals of children the worker does
            // not hold included.
            let child = event.child.as_ref().and_then(|child| {
                self.child_ids.get(child).copied().or_else(|| {
                    let found = grants::child_row_id(&self.directory, child).ok().flatten();
                    if let Some(id) = found {
                        self.child_ids.insert(child.clone(), id);
                    }
                    found
                })
            });
            let (action, outcome, detail) = match event.kind {
                AccessKind::Read => {
                    if !self
                        .audited_reads
                        .insert((identity.session_id, event.document))
                    {
                        continue;
                    }
                    ("read", Outcome::Allowed, None)
                }
                AccessKind::Wrote { heads } => {
                    let heads: Vec<String> = heads.iter().map(ToString::to_string).collect();
                    let detail = format!("heads {}", heads.join(","));
                    ("write", Outcome::Allowed, Some(detail))
                }
                AccessKind::Created { child_id } => {
                    let detail = format!("visit for child {child_id}");
                    ("create", Outcome::Allowed, Some(detail))
                }
                AccessKind::Denied(reason) => {
                    let reason = reason.to_string();
                    if !self.denials.first(identity, event.document, child, &reason) {
                        continue;
                    }
                    ("sync", Outcome::Denied, Some(reason))
                }
            };
            entries.push(entry(
                identity,
                action,
                outcome,
                Some((event.document, child)),
                detail.as_deref(),
            ));
        }
        self.audit(entries);
    }

    fn audit(&self, entries: Vec<AuditEntry>) {
        if entries.is_empty() {
            return;
        }
        if let Some(storage) = &self.storage {
            storage.audit(entries);
        }
    }

    fn carry_out(&mut self, effects: Effects) {
        let writers = self.writers(&effects.access);
        self.audit_access(effects.access);

        for (connection, message) in effects.outbound {
            if let Some(outbox) = self.outboxes.get(&connection) {
                let _ = outbox.send(Outbound::Send(message));
            }
        }
        // The last append of each document carries the projection of the document as it
        // now is; earlier ones (if any) are covered by it in the same or an earlier batch.
        let mut last_append = HashMap::new();
        for (index, task) in effects.storage.iter().enumerate() {
            if matches!(task.kind, StorageTaskKind::Append { .. }) {
                last_append.insert(task.document, index);
            }
        }
        let mut tasks = Vec::with_capacity(effects.storage.len());
        for (index, task) in effects.storage.into_iter().enumerate() {
            let projection = (last_append.get(&task.document) == Some(&index))
                .then(|| self.projection_update(task.document, writers.get(&task.document)))
                .flatten();
            tasks.push((task, projection));
        }
        if let Some(storage) = &self.storage {
            storage.submit(tasks);
        }
        for (connection, reason) in effects.close {
            debug!(%connection, ?reason, "closing connection");
            if let Some(outbox) = self.outboxes.remove(&connection) {
                let _ = outbox.send(Outbound::Close(reason));
            }
            self.identities.remove(&connection);
        }
    }

    /// Who sent the changes in these effects, per document (from the core's access events,
    /// or the person a server edit is made for).
    fn writers(&self, events: &[AccessEvent]) -> HashMap<DocumentId, String> {
        let mut writers = HashMap::new();
        for event in events {
            if let AccessKind::Wrote { .. } | AccessKind::Created { .. } = event.kind
                && let Some(identity) = self.identities.get(&event.connection)
            {
                writers.insert(event.document, identity.username.clone());
            }
        }
        writers
    }

    /// The projection rows of a document as it is in memory, and its heads for the
    /// `change_batches` row.
    fn projection_update(
        &self,
        document: DocumentId,
        writer: Option<&String>,
    ) -> Option<ProjectionUpdate> {
        // A document with an append in flight is never packed.
        let doc = self.core.document(&document)?;
        Some(ProjectionUpdate {
            rows: DocumentRows::of(doc, &self.policy),
            heads: doc.get_heads(),
            worker_ref: self.edit_author.clone().or_else(|| writer.cloned()),
            received_at: now().as_millis() as i64,
        })
    }

    fn begin_shutdown(&mut self) {
        for (_, outbox) in self.outboxes.drain() {
            let _ = outbox.send(Outbound::Close(CloseReason::PeerLeft));
        }
        match &self.storage {
            Some(storage) => storage.request_shutdown(),
            None => error!("storage already stopped"),
        }
    }
}

/// The driver reads the clock; the core never does.
pub(super) fn now() -> Timestamp {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    Timestamp::from_millis(millis)
}

/// An audit row for something `identity` did.
pub(super) fn entry(
    identity: &Identity,
    action: &str,
    outcome: Outcome,
    document: Option<(DocumentId, Option<i64>)>,
    detail: Option<&str>,
) -> AuditEntry {
    AuditEntry {
        at: now().as_millis() as i64,
        actor_worker_id: Some(identity.worker_id),
        actor: Some(identity.username.clone()),
        device_id: Some(identity.device_id.clone()),
        action: action.to_owned(),
        outcome,
        document_id: document.map(|(id, _)| id.as_bytes().to_vec()),
        child_id: document.and_then(|(_, child)| child),
        detail: detail.map(str::to_owned),
    }
}
