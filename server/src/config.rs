//! The server's settings.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use automerge::ChangeHash;
use shared::DocumentId;

use shared::schedule::{Jurisdiction, SchedulePolicy};

/// Everything [`crate::run`] needs besides the listener.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where the SQLite database lives (and, with PostgreSQL, the lock file only).
    pub data_dir: PathBuf,
    /// The PostgreSQL database to use instead of SQLite (`--database postgres://...`);
    /// several servers may share one.
    pub database_url: Option<String>,
    /// Largest WebSocket frame accepted; bigger frames get a protocol error.
    pub max_frame_bytes: usize,
    /// How long a document nobody syncs stays in memory.
    pub idle_unload_after: Duration,
    /// How many documents the hub holds in automerge's working form (see
    /// [`shared::sync::CoreConfig::live_documents`]).
    pub live_documents: usize,
    /// How often the hub is ticked (idle unloading, directory changes).
    pub tick_every: Duration,
    /// Serve HTTPS with this certificate and key; `None` serves plain HTTP (behind a proxy).
    pub tls: Option<TlsFiles>,
    /// A TLS-terminating proxy is in front: mark cookies `Secure` and send HSTS.
    pub behind_tls_proxy: bool,
    /// The built web app (the PWA) to serve at `/`; `None` serves only the API.
    pub web_dir: Option<PathBuf>,
    /// The visit-schedule rules (jurisdiction, local intervals) for the dashboard and the
    /// late write-up flag; the workers' devices get them with their caseload, so their
    /// timescales are computed by the same rules.
    pub schedule_policy: SchedulePolicy,
    /// What the workers' devices do about wrong PINs and long silences (domain
    /// requirement D7); sent to each device when it signs in.
    pub device_policy: DevicePolicy,
    /// How long a peer has to finish each step of connecting: the TLS handshake, each
    /// HTTP request's headers (the WebSocket upgrade among them) and the sync `join`.
    pub handshake_timeout: Duration,
    /// Bytes one sync message's compressed chunks may inflate to (a deflate bomb is
    /// refused before it grows past this).
    pub max_inflated_bytes: usize,
    /// Sync messages per second each connection may send, on average; a faster peer is
    /// read more slowly (its socket pushes back), bursts of [`Self::message_burst`] pass.
    pub max_messages_per_sec: u32,
    /// Sync messages a connection may send at once before pacing starts (a device
    /// reconnecting offers one message per record it holds).
    pub message_burst: u32,
    /// How long after a child is reallocated its former worker's devices may still send
    /// what they recorded while they held the child (visits they started, edits they made
    /// then); after it, such changes are refused.
    pub reallocation_grace: Duration,
    /// How long a break-glass access to a child lasts (domain D6): short, since it is
    /// for an emergency; asking again makes a new, audited one.
    pub break_glass_for: Duration,
    /// How many SQLite connections the HTTP API keeps open (opened once, at start).
    pub api_connections: usize,
    /// Threads checking passwords, each with its own 19 MiB Argon2id buffer allocated once
    /// (see `directory::password_hashers`): this many times 19 MiB is all sign-in ever
    /// holds.
    pub password_hashers: usize,
    /// How long a sign-in may wait for a hashing thread before it is answered `503` with
    /// `Retry-After`.
    pub sign_in_wait: Duration,
    /// Where to serve Prometheus metrics (`/metrics`); `None`: nowhere.
    pub metrics_addr: Option<SocketAddr>,
    /// Identical denials (same session or address, action, record, reason) within this
    /// long of the first are counted, not appended one by one (see
    /// `directory::denial_audit`).
    pub denial_audit_window: Duration,
    /// Faults an end-to-end test injects to see the server's answer; never set by the
    /// binary (no flag or variable reaches it).
    #[doc(hidden)]
    pub injected_faults: Option<Arc<InjectedFaults>>,
    /// The time of day every part of the server reads (a test may pass a fixed one).
    pub clock: crate::clock::Clock,
}

/// The rules a worker's device applies offline, set by the council (the one type, shared
/// with the device).
pub use shared::device_policy::DevicePolicy;

/// Faults a test can inject into a running in-process server (see
/// [`ServerConfig::injected_faults`]): a component that dies as a bug would kill it.
#[doc(hidden)]
#[derive(Default)]
pub struct InjectedFaults {
    pub(crate) panic_storage: Arc<AtomicBool>,
    pub(crate) hub: OnceLock<crate::hub::HubHandle>,
}

impl std::fmt::Debug for InjectedFaults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InjectedFaults").finish_non_exhaustive()
    }
}

impl InjectedFaults {
    /// The storage thread panics at its next batch of work.
    pub fn panic_storage_thread(&self) {
        self.panic_storage.store(true, Ordering::SeqCst);
    }

    /// The hub thread panics while making a server edit of `document` at `heads` (a
    /// document it can load, at its current heads). Returns false if the hub is gone.
    pub async fn panic_hub_thread(&self, document: DocumentId, heads: Vec<ChangeHash>) -> bool {
        let Some(hub) = self.hub.get() else {
            return false;
        };
        let (reply, _answer) = tokio::sync::oneshot::channel();
        let edit = crate::hub::ServerEdit {
            document,
            expected_heads: heads,
            author: "injected-fault".into(),
            work: crate::hub::EditWork::Change {
                edit: Box::new(|_| panic!("hub fault injected by a test")),
                refile: None,
                reply,
            },
        };
        hub.send(crate::hub::HubInput::Edit(edit)).await
    }
}

/// PEM files for serving TLS directly.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Certificate chain (PEM).
    pub cert: PathBuf,
    /// Private key (PEM).
    pub key: PathBuf,
}

impl ServerConfig {
    /// Defaults for a data directory: 8 MiB frames, 30 s idle unload, 256 live documents,
    /// 1 s ticks, plain HTTP, no web app, England's statutory visit schedule, 10 s to
    /// connect, 16 MiB inflated per message, 500 messages a second (bursts of 5,000), 8 API
    /// connections, one password hasher per core with sign-ins waiting up to 10 s, no
    /// metrics listener, a 60 s window for coalescing repeated denials, the default
    /// [`DevicePolicy`], the system clock.
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            database_url: None,
            max_frame_bytes: 8 * 1024 * 1024,
            idle_unload_after: Duration::from_secs(30),
            live_documents: 256,
            tick_every: Duration::from_secs(1),
            tls: None,
            behind_tls_proxy: false,
            web_dir: None,
            schedule_policy: SchedulePolicy::statutory(Jurisdiction::England),
            device_policy: DevicePolicy::default(),
            handshake_timeout: Duration::from_secs(10),
            max_inflated_bytes: 16 * 1024 * 1024,
            max_messages_per_sec: 500,
            message_burst: 5_000,
            reallocation_grace: Duration::from_secs(7 * 24 * 60 * 60),
            break_glass_for: Duration::from_secs(2 * 60 * 60),
            api_connections: 8,
            password_hashers: crate::directory::password_hashers::PasswordHashers::default_threads(
            ),
            sign_in_wait: Duration::from_secs(10),
            metrics_addr: None,
            denial_audit_window: Duration::from_secs(60),
            injected_faults: None,
            clock: crate::clock::Clock::system(),
        }
    }
}
