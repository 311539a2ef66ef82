//! [`Health`]: what the server knows about its own parts, shared by the storage thread
//! (which writes it), `/healthz` and the API (which read it), and [`crate::run`] (which
//! ends the process when a part has died).
//!
//! Two kinds of trouble:
//! - **Storage faults.** The database file or its log was removed or replaced (checked
//!   live against the identity taken at start, see `store::DatabaseFiles`), or the last
//!   write failed because the disk is full, the file is read-only or I/O failed (sticky
//!   until a write succeeds: the storage thread probes every second while it lasts). While
//!   storage is faulty no write is acknowledged, `/healthz` answers 503 with the reason and
//!   the API answers 503, so nothing is written into a file that is no longer the database.
//! - **A dead component.** The hub or storage thread ended while the server was not
//!   stopping. `/healthz` answers 503 and [`crate::run`] stops the server and returns an
//!   error, so the process exits non-zero and a supervisor restarts it: never a zombie that
//!   signs people in but syncs nothing.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio_util::sync::CancellationToken;
use tracing::{error, info};

use crate::store::DatabaseFiles;

/// The server's health, shared between its parts.
#[derive(Debug)]
pub struct Health {
    /// The database files as opened at start; `None` checks nothing (tests of parts).
    files: Option<DatabaseFiles>,
    /// The last write's storage fault, until a write succeeds.
    write_fault: Mutex<Option<String>>,
    /// The storage fault last logged, so each change is logged once.
    logged: Mutex<Option<String>>,
    /// Every component that died, and how (one death often brings another: the storage
    /// thread ends when the hub that fed it dies).
    dead: Mutex<Vec<String>>,
    /// Cancelled when a component dies.
    died: CancellationToken,
    /// Set when shutdown begins: components ending then are not deaths.
    stopping: AtomicBool,
}

impl Health {
    /// Health watching the database files `files` (as opened at start).
    pub fn new(files: Option<DatabaseFiles>) -> Self {
        Self {
            files,
            write_fault: Mutex::new(None),
            logged: Mutex::new(None),
            dead: Mutex::new(Vec::new()),
            died: CancellationToken::new(),
            stopping: AtomicBool::new(false),
        }
    }

    /// Whether the database can take writes now: `Err` names the fault.
    ///
    /// # Errors
    /// The fault, e.g. "database file removed" or "disk full".
    pub fn storage(&self) -> Result<(), String> {
        let fault = self
            .file_fault()
            .map(str::to_owned)
            .or_else(|| lock(&self.write_fault).clone());
        self.log_change(fault.as_deref());
        fault.map_or(Ok(()), Err)
    }

    /// Whether the database files are still the ones opened at start (the check before
    /// and after each commit).
    ///
    /// # Errors
    /// The fault, e.g. "database file removed".
    pub fn files(&self) -> Result<(), String> {
        match self.file_fault() {
            Some(fault) => {
                self.log_change(Some(fault));
                Err(fault.to_owned())
            }
            None => Ok(()),
        }
    }

    fn file_fault(&self) -> Option<&'static str> {
        self.files.as_ref().and_then(|files| files.check().err())
    }

    /// Whether a write fault is standing (the storage thread probes while it does).
    pub fn has_write_fault(&self) -> bool {
        lock(&self.write_fault).is_some()
    }

    /// A write failed because of the storage itself (disk full, read-only, I/O error).
    pub fn write_failed(&self, fault: &str) {
        *lock(&self.write_fault) = Some(fault.to_owned());
        let _ = self.storage();
    }

    /// A write committed: any standing write fault is over.
    pub fn write_succeeded(&self) {
        let had = lock(&self.write_fault).take().is_some();
        if had {
            let _ = self.storage();
        }
    }

    fn log_change(&self, fault: Option<&str>) {
        let mut logged = lock(&self.logged);
        if logged.as_deref() == fault {
            return;
        }
        match fault {
            Some(fault) => error!(
                storage = fault,
                "storage failing: writes are not acknowledged and sign-in is refused until it recovers"
            ),
            None => info!("storage recovered: writes are acknowledged again"),
        }
        *logged = fault.map(str::to_owned);
    }

    /// A component (the hub or storage thread) ended: it died if it panicked, or if it
    /// stopped while the server was not stopping. Then `/healthz` fails and the server
    /// stops with an error.
    pub fn component_ended(&self, component: &str, how: &str) {
        if self.stopping.load(Ordering::SeqCst) && !how.starts_with("panicked") {
            return;
        }
        self.component_died(component, how);
    }

    /// A component is known to have died (e.g. the hub was gone before shutdown asked it
    /// to stop), whether or not the server is stopping.
    pub fn component_died(&self, component: &str, how: &str) {
        error!(
            component,
            how, "a server component died; stopping so that a supervisor restarts the server"
        );
        lock(&self.dead).push(format!("{component} {how}"));
        self.died.cancel();
    }

    /// Which components died and how (panics first: they are the causes), if any did.
    pub fn dead_component(&self) -> Option<String> {
        let mut dead = lock(&self.dead).clone();
        if dead.is_empty() {
            return None;
        }
        dead.sort_by_key(|death| !death.contains("panicked"));
        Some(dead.join("; "))
    }

    /// Resolves when a component dies.
    pub async fn died(&self) {
        self.died.cancelled().await;
    }

    /// Shutdown has begun: components ending from now on are not deaths.
    pub fn stopping(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Tells `health` when the thread behind `handle` ends, with whether it panicked; returns
/// the watcher's join handle (it ends when the watched thread does).
///
/// # Errors
/// The OS error if the watcher thread cannot be spawned.
pub fn watch_thread(
    health: std::sync::Arc<Health>,
    component: &'static str,
    handle: std::thread::JoinHandle<()>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("doorstep-watch-{component}"))
        .spawn(move || {
            let how = match handle.join() {
                Ok(()) => "stopped".to_owned(),
                Err(panic) => format!("panicked: {}", panic_message(panic.as_ref())),
            };
            health.component_ended(component, &how);
        })
}

/// The message of a panic payload, when it has one.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_thread_that_dies_is_reported_and_wakes_the_server() {
        let health = Arc::new(Health::new(None));
        let doomed = std::thread::spawn(|| panic!("hub bug"));
        let watcher = watch_thread(health.clone(), "hub thread", doomed).expect("watch");
        tokio::time::timeout(std::time::Duration::from_secs(5), health.died())
            .await
            .expect("death noticed");
        watcher.join().expect("watcher");
        let dead = health.dead_component().expect("dead");
        assert!(dead.contains("hub thread panicked: hub bug"), "{dead}");
    }

    #[test]
    fn a_thread_ending_during_shutdown_is_not_a_death() {
        let health = Arc::new(Health::new(None));
        health.stopping();
        let ends = std::thread::spawn(|| {});
        watch_thread(health.clone(), "storage thread", ends)
            .expect("watch")
            .join()
            .expect("watcher");
        assert_eq!(health.dead_component(), None);
    }

    #[test]
    fn a_write_fault_lasts_until_a_write_succeeds() {
        let health = Health::new(None);
        assert_eq!(health.storage(), Ok(()));
        health.write_failed("disk full");
        assert_eq!(health.storage(), Err("disk full".to_owned()));
        assert!(health.has_write_fault());
        health.write_succeeded();
        assert_eq!(health.storage(), Ok(()));
    }
}
