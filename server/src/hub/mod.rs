//! The hub: one OS thread that owns the [`SyncCore`] and carries out its effects.
//!
//! Connection tasks send it [`HubInput`]s over a bounded channel (which pushes back on
//! fast peers); it runs the core, hands messages to each connection's outbox, and storage
//! tasks to the storage thread, whose results come back on the same channel. All
//! automerge work happens here, off the async reactor.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use automerge::{Automerge, ChangeHash};
use shared::DocumentId;
use shared::protocol::Message;
use shared::schedule::SchedulePolicy;
use shared::sync::{
    AccessEvent, AccessGrant, AccessKind, CloseReason, ConnectionId, CoreConfig, CoreStats,
    DenialReason, Direction, DocumentStatus, Effects, Event, Incoming, StorageTaskKind, SyncCore,
};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tracing::{debug, error};

use crate::clock::Clock;
use crate::directory::access;
use crate::directory::audit::{AuditEntry, Outcome};
use crate::directory::sessions::{self, Identity, SessionError};
use crate::metrics::Metrics;
use denials::DenialLog;

mod denials;
mod effects;
mod erasure;
mod grants;
mod server_edits;
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
    /// Serve an erased document again: its expunge's transaction failed, so the database
    /// still holds it as the record and never listed it in `erased_documents`.
    Restore(DocumentId),
    /// Stop: flush storage, then answer.
    Shutdown(oneshot::Sender<()>),
}

/// A change the server makes to a document itself: recording a manager's decision,
/// moving a visit to the right child, or rebuilding it without expunged content.
///
/// A change applies only if the document is still at `expected_heads` (the version the
/// person read); the reply comes once the change is durable.
pub struct ServerEdit {
    /// The document to change.
    pub document: DocumentId,
    /// The heads the person saw; any other version is refused with [`EditError::Changed`].
    pub expected_heads: Vec<ChangeHash>,
    /// Who the change is made for (recorded as the sender of its change batch).
    pub author: String,
    /// What to do.
    pub work: EditWork,
}

/// What a [`ServerEdit`] does.
pub enum EditWork {
    /// Change the document in place; with `refile`, first file it under another child (a
    /// visit moved to the right child), so the change is stored with its new index.
    Change {
        /// The change itself.
        edit: DocumentEdit,
        /// Where the document belongs from now on, when it moves.
        refile: Option<shared::sync::DocumentIndex>,
        /// The document's heads after the change, once durable.
        reply: EditReply,
    },
    /// Build a new document from it (an expunge's new lineage) and erase it from memory,
    /// so nothing more is accepted into it; the caller stores the new document and erases
    /// the old one from the database. No heads check: the new document holds everything.
    Rebuild {
        /// Builds the new document from the current one; `Err` refuses with the message.
        rebuild: DocumentRebuild,
        /// The new document's bytes and every change the old one held.
        reply: oneshot::Sender<Result<Rebuilt, EditError>>,
    },
}

/// A change to make to a document; `Err` refuses it (with the message) and changes nothing.
pub type DocumentEdit = Box<dyn FnOnce(&mut Automerge) -> Result<(), String> + Send>;

/// A new document built from one; `Err` refuses it (with the message) and changes nothing.
pub type DocumentRebuild = Box<dyn FnOnce(&Automerge) -> Result<Automerge, String> + Send>;

/// A document rebuilt by [`EditWork::Rebuild`].
#[derive(Debug)]
pub struct Rebuilt {
    /// The new document.
    pub document: Automerge,
    /// Every change the old document held when it was rebuilt (a device holding changes
    /// outside these made them offline, and carries them over).
    pub server_had: Vec<ChangeHash>,
}

impl ServerEdit {
    /// Answers the edit with `err`, doing nothing.
    pub(crate) fn refuse(self, err: EditError) {
        match self.work {
            EditWork::Change { reply, .. } => {
                let _ = reply.send(Err(err));
            }
            EditWork::Rebuild { reply, .. } => {
                let _ = reply.send(Err(err));
            }
        }
    }
}

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
    store: crate::store::DocumentStore,
    directory: crate::directory::Connection,
    policy: SchedulePolicy,
    reallocation_grace: std::time::Duration,
    clock: Clock,
    metrics: Arc<Metrics>,
) -> std::io::Result<(HubHandle, std::thread::JoinHandle<()>)> {
    let core_config = Arc::new(core.config().clone());
    let (inbox, mut receiver) = mpsc::channel(INBOX_CAPACITY);
    let results_to_hub = inbox.clone();
    let storage = crate::store::spawn_storage_thread(store, metrics.clone(), move |report| {
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
                grants_change_at: None,
                directory,
                directory_version: -1,
                storage: Some(storage),
                stopping: None,
                policy,
                edits_loading: HashMap::new(),
                edits_storing: Vec::new(),
                edit_author: None,
                erased_through: 0,
                clock,
                metrics,
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
    /// When a grant next changes by time alone (ms): the first former holder's grace or
    /// break-glass to end. Grants are recomputed then.
    grants_change_at: Option<i64>,
    /// A read connection for grants and session checks (writes go to the storage thread).
    directory: crate::directory::Connection,
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
    /// The last erasure (after retention or an expunge) the core has carried out (its
    /// `erased_documents` row's `seq`; see `erasure`).
    erased_through: i64,
    /// The server's clock: read once per input, for the core's `now` and audit rows.
    clock: Clock,
    /// Refusals are counted here for `/metrics`.
    metrics: Arc<Metrics>,
}

/// The answer to a changing [`ServerEdit`]: the heads after it, once durable.
pub type EditReply = oneshot::Sender<Result<Vec<ChangeHash>, EditError>>;

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
                        let mut row = AuditEntry::new(self.clock.now_ms(), "sync", Outcome::Denied)
                            .by(identity)
                            .detail("message could not be handled");
                        if let Some(document) = &document {
                            row = row.document(document);
                        }
                        self.audit(vec![row]);
                    }
                    let effects = self
                        .core
                        .recover(self.clock.now(), Some(connection), document);
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
                let connected =
                    AuditEntry::new(self.clock.now_ms(), "sync-connect", Outcome::Allowed)
                        .by(&identity);
                self.audit(vec![connected]);
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
                let repeated = self.denials.flush(self.clock.now_ms());
                self.audit(repeated);
            }
            HubInput::Stats(reply) => {
                let _ = reply.send(self.core.stats());
            }
            HubInput::Edit(edit) => self.on_edit(edit),
            HubInput::Restore(document) => self.restore_erased(document),
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
                    let _ = self
                        .core
                        .handle(self.clock.now(), Event::IoComplete(result));
                }
            }
            HubInput::Connected { outbox, .. } => {
                let _ = outbox.send(Outbound::Close(CloseReason::PeerLeft));
            }
            HubInput::Stats(reply) => {
                let _ = reply.send(self.core.stats());
            }
            HubInput::Edit(edit) => {
                edit.refuse(EditError::Stopping);
            }
            HubInput::Frame { .. }
            | HubInput::Disconnected { .. }
            | HubInput::Tick
            | HubInput::Restore(_)
            | HubInput::Shutdown(_) => {}
        }
        Flow::Continue
    }

    fn handle(&mut self, event: Event) {
        let effects = self.core.handle(self.clock.now(), event);
        self.carry_out(effects);
        if !self.edits_loading.is_empty() {
            self.run_loaded_edits();
        }
        if !self.edits_storing.is_empty() {
            self.answer_durable_edits();
        }
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
