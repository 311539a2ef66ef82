//! The storage thread: runs storage tasks off the async reactor, in group commits.
//!
//! Tasks arrive over a channel in the order the hub issued them, one hub step at a time.
//! The thread takes everything queued (up to [`MAX_BATCH`] tasks, never splitting a step)
//! and runs it as one SQLite transaction, so one fsync covers many writes under load while
//! a lone write still commits at once. Under load (the last transaction held several tasks)
//! it also waits up to [`GATHER_WINDOW`] for more before committing.
//!
//! While a write fault stands (disk full, read-only file, I/O errors; see
//! `crate::health`) the thread probes with a tiny write every [`PROBE_EVERY`] when idle,
//! so that storage recovers by itself once the disk has room again. If the thread ends
//! other than by [`StorageHandle::request_shutdown`] (a panic, or the hub letting go of
//! it), it tells the server's health, and the server stops with an error.

use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use shared::sync::{IoResult, StorageTask};

use crate::directory::audit::AuditEntry;
use crate::health::panic_message;
use crate::metrics::Metrics;
use crate::projection::ProjectionUpdate;
use tracing::{error, info};

use super::DocumentStore;

/// The most tasks in one transaction.
const MAX_BATCH: usize = 512;

/// How long, under load, a transaction waits for more tasks after its first. Each commit
/// rewrites every index page it touches (a new visit touches about a dozen B-trees keyed by
/// random document ids): in the sync storm, commits of whatever happened to be queued wrote
/// ~18 WAL pages per document. Gathering for a few milliseconds when the previous
/// transaction was already shared halves the storage thread's CPU there, and costs a lone
/// write nothing (it follows a quiet spell, so it commits at once).
const GATHER_WINDOW: Duration = Duration::from_millis(5);

/// How often, while a write fault stands and no work arrives, a probe write is tried.
const PROBE_EVERY: Duration = Duration::from_secs(1);

enum Command {
    /// The storage tasks of one hub step, each with the projection rows to write in the
    /// same transaction. They always go into one batch, so a step's projection (computed
    /// with its last append of a document) never commits apart from that step's earlier
    /// appends of the same document.
    Run(Vec<(StorageTask, Option<ProjectionUpdate>)>),
    /// Append audit rows (in the same group commit as the writes queued before them).
    Audit(Vec<AuditEntry>),
    /// Finish every queued task, checkpoint, and stop.
    Shutdown,
}

/// The hub's side of the storage thread.
pub struct StorageHandle {
    commands: mpsc::Sender<Command>,
    thread: Option<JoinHandle<()>>,
}

impl StorageHandle {
    /// Queues one hub step's tasks (each with the projection update it brings, written in
    /// the same transaction) to run in one batch; results arrive through the callback given
    /// at spawn, in order.
    pub fn submit(&self, tasks: Vec<(StorageTask, Option<ProjectionUpdate>)>) {
        if tasks.is_empty() {
            return;
        }
        if self.commands.send(Command::Run(tasks)).is_err() {
            error!("storage thread has stopped; tasks dropped");
        }
    }

    /// Queues audit rows.
    pub fn audit(&self, entries: Vec<AuditEntry>) {
        if self.commands.send(Command::Audit(entries)).is_err() {
            error!("storage thread has stopped; audit rows dropped");
        }
    }

    /// Asks the thread to run every queued task, checkpoint and stop; it then
    /// reports [`StorageReport::Stopped`].
    pub fn request_shutdown(&self) {
        let _ = self.commands.send(Command::Shutdown);
    }

    /// Waits for the thread to end (after [`StorageReport::Stopped`]).
    pub fn join(mut self) {
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            error!("storage thread panicked");
        }
    }
}

/// What the storage thread reports back.
#[derive(Debug)]
pub enum StorageReport {
    /// One batch's results, in task order.
    Results(Vec<IoResult>),
    /// Every task has run and the database is checkpointed.
    Stopped,
}

/// Starts the storage thread; `report` receives each batch's results in order, then `Stopped`.
/// If the store watches the server's health ([`DocumentStore::watch`]), an unexpected end of
/// the thread is reported to it.
///
/// # Errors
/// The OS error if the thread cannot be spawned.
pub fn spawn_storage_thread(
    store: DocumentStore,
    metrics: Arc<Metrics>,
    report: impl Fn(StorageReport) + Send + 'static,
) -> std::io::Result<StorageHandle> {
    let (commands, inbox) = mpsc::channel::<Command>();
    let health = store.health();
    let thread = std::thread::Builder::new()
        .name("doorstep-storage".into())
        .spawn(move || {
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run_storage(store, &inbox, &metrics, &report)
            }));
            let how = match ran {
                Ok(Ended::Shutdown) => return,
                Ok(Ended::Abandoned) => "stopped: the hub let go of it".to_owned(),
                Err(panic) => format!("panicked: {}", panic_message(panic.as_ref())),
            };
            error!(%how, "storage thread ended unexpectedly");
            if let Some(health) = health {
                health.component_ended("storage thread", &how);
            }
        })?;
    Ok(StorageHandle {
        commands,
        thread: Some(thread),
    })
}

/// How the storage loop ended.
enum Ended {
    /// Asked to: every task ran, the database is checkpointed.
    Shutdown,
    /// Every sender is gone without a shutdown (the hub died).
    Abandoned,
}

fn run_storage(
    mut store: DocumentStore,
    inbox: &mpsc::Receiver<Command>,
    metrics: &Metrics,
    report: &impl Fn(StorageReport),
) -> Ended {
    let mut stopping = false;
    let mut under_load = false;
    while !stopping {
        // Wake every PROBE_EVERY when idle: a write fault (possibly met by the API, not by
        // this thread) is probed until a write succeeds again.
        let first = match inbox.recv_timeout(PROBE_EVERY) {
            Ok(command) => command,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if store.has_write_fault() {
                    store.probe_write();
                } else {
                    store.note_lost_connection();
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return Ended::Abandoned,
        };
        let gather_until = crate::clock::monotonic() + GATHER_WINDOW;
        let mut batch = Vec::new();
        let mut audit = Vec::new();
        let mut next = Some(first);
        while let Some(command) = next.take() {
            match command {
                Command::Run(tasks) => batch.extend(tasks),
                Command::Audit(entries) => audit.extend(entries),
                Command::Shutdown => stopping = true,
            }
            if batch.len() + audit.len() < MAX_BATCH && !stopping {
                next = match inbox.try_recv() {
                    Ok(command) => Some(command),
                    Err(_) if under_load => inbox
                        .recv_timeout(
                            gather_until.saturating_duration_since(crate::clock::monotonic()),
                        )
                        .ok(),
                    Err(_) => None,
                };
            }
        }
        under_load = batch.len() > 1;
        if store.panic_requested() {
            panic!("storage fault injected by a test");
        }
        if !batch.is_empty() || !audit.is_empty() {
            let started = crate::clock::monotonic();
            let results = store.run_batch(batch, &audit);
            metrics.storage_commit_seconds.observe(started.elapsed());
            report(StorageReport::Results(results));
        }
    }
    match store.checkpoint() {
        Ok(()) => info!("storage flushed and checkpointed"),
        Err(err) => error!(cause = %err, "checkpoint on shutdown failed"),
    }
    report(StorageReport::Stopped);
    Ended::Shutdown
}
