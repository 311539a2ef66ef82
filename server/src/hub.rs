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

use shared::DocumentId;
use shared::protocol::Message;
use shared::sync::{
    AccessEvent, AccessGrant, AccessKind, CloseReason, ConnectionId, CoreStats, Direction, Effects,
    Event, SyncCore, Timestamp,
};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error};

use crate::directory::audit::{AuditEntry, Outcome};
use crate::directory::sessions::{self, Identity, SessionError};
use crate::directory::{Role, grants};
use crate::store::{StorageHandle, StorageReport};

/// How many inputs may wait for the hub before senders wait.
const INBOX_CAPACITY: usize = 4096;

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
    /// A binary frame arrived.
    Frame {
        /// From where.
        connection: ConnectionId,
        /// The frame.
        bytes: Vec<u8>,
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
    /// Stop: flush storage, then answer.
    Shutdown(oneshot::Sender<()>),
}

/// A cloneable way to talk to the hub.
#[derive(Clone)]
pub struct HubHandle {
    inbox: mpsc::Sender<HubInput>,
    next_connection: Arc<AtomicU64>,
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
) -> std::io::Result<(HubHandle, std::thread::JoinHandle<()>)> {
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
                grants: HashMap::new(),
                owners: HashMap::new(),
                audited_reads: HashSet::new(),
                directory,
                directory_version: -1,
                storage: Some(storage),
                stopping: None,
            };
            while let Some(input) = receiver.blocking_recv() {
                if hub.on_input(input) == Flow::Stop {
                    break;
                }
            }
        })?;
    Ok((
        HubHandle {
            inbox,
            next_connection: Arc::new(AtomicU64::new(1)),
        },
        thread,
    ))
}

struct Hub {
    core: SyncCore,
    outboxes: HashMap<ConnectionId, mpsc::UnboundedSender<Outbound>>,
    /// Who is signed in on each connection.
    identities: HashMap<ConnectionId, Identity>,
    /// The grant each connection has (as last given to the core).
    grants: HashMap<ConnectionId, AccessGrant>,
    /// The child each granted document belongs to (for audit rows).
    owners: HashMap<DocumentId, i64>,
    /// (session, document) pairs whose first read is already audited.
    audited_reads: HashSet<(i64, DocumentId)>,
    /// A read connection for grants and session checks (writes go to the storage thread).
    directory: rusqlite::Connection,
    /// The directory version the grants were computed at.
    directory_version: i64,
    storage: Option<StorageHandle>,
    /// Set once shutdown began: who to tell when storage has flushed.
    stopping: Option<oneshot::Sender<()>>,
}

/// Whether the hub loop goes on.
#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

impl Hub {
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
            HubInput::Frame { connection, bytes } => {
                self.handle(Event::Received { connection, bytes })
            }
            HubInput::Disconnected { connection } => {
                self.outboxes.remove(&connection);
                self.identities.remove(&connection);
                self.grants.remove(&connection);
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
            }
            HubInput::Stats(reply) => {
                let _ = reply.send(self.core.stats());
            }
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
    }

    /// Recomputes one connection's grant from the directory and gives it to the core.
    fn refresh_grant(&mut self, connection: ConnectionId) {
        let Some(identity) = self.identities.get(&connection) else {
            return;
        };
        match grants::grant_for(&self.directory, identity) {
            Ok(granted) => {
                self.owners.extend(granted.owners);
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
        if version == self.directory_version {
            return;
        }
        self.directory_version = version;
        let now = now().as_millis() as i64;
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
        self.grants.insert(connection, grant.clone());
        self.handle(Event::AccessChanged { connection, grant });
    }

    /// A worker created a visit: everyone else entitled to it (the child's other allocated
    /// workers, the team's managers) may sync it at once, without waiting for the next
    /// directory check.
    fn share_new_document(&mut self, document: DocumentId, child_ref: &str) {
        let team = match grants::team_of_child(&self.directory, child_ref) {
            Ok(team) => team,
            Err(err) => {
                error!(cause = %err, "cannot read the child's team");
                return;
            }
        };
        let mut updates = Vec::new();
        for (connection, grant) in &mut self.grants {
            let Some(identity) = self.identities.get(connection) else {
                continue;
            };
            let added = if grant.may_create_for.contains(child_ref) {
                grant.read_write.insert(document)
            } else if identity.role == Role::TeamManager
                && team.is_some()
                && identity.team_id == team
            {
                grant.read_only.insert(document)
            } else {
                false
            };
            if added {
                updates.push((*connection, grant.clone()));
            }
        }
        for (connection, grant) in updates {
            self.set_grant(connection, grant);
        }
    }

    fn close(&mut self, connection: ConnectionId, reason: CloseReason) {
        if let Some(outbox) = self.outboxes.remove(&connection) {
            let _ = outbox.send(Outbound::Close(reason));
        }
        self.identities.remove(&connection);
        self.grants.remove(&connection);
        self.handle(Event::Disconnected { connection });
    }

    /// Turns the core's access events into audit rows (first read per session only).
    fn audit_access(&mut self, events: Vec<AccessEvent>) {
        let mut entries = Vec::with_capacity(events.len());
        let mut created = Vec::new();
        for event in events {
            let Some(identity) = self.identities.get(&event.connection) else {
                continue;
            };
            let child = self.owners.get(&event.document).copied();
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
                    created.push((event.document, child_id));
                    ("create", Outcome::Allowed, Some(detail))
                }
                AccessKind::Denied(reason) => ("sync", Outcome::Denied, Some(reason.to_string())),
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
        for (document, child_ref) in created {
            self.share_new_document(document, &child_ref);
        }
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
        self.audit_access(effects.access);

        for (connection, message) in effects.outbound {
            if let Some(outbox) = self.outboxes.get(&connection) {
                let _ = outbox.send(Outbound::Send(message));
            }
        }
        if let Some(storage) = &self.storage {
            for task in effects.storage {
                storage.submit(task);
            }
        }
        for (connection, reason) in effects.close {
            debug!(%connection, ?reason, "closing connection");
            if let Some(outbox) = self.outboxes.remove(&connection) {
                let _ = outbox.send(Outbound::Close(reason));
            }
            self.identities.remove(&connection);
            self.grants.remove(&connection);
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

/// The driver reads the clock; the core never does.
fn now() -> Timestamp {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    Timestamp::from_millis(millis)
}

/// An audit row for something `identity` did.
fn entry(
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
