//! The server's settings.

use std::path::PathBuf;
use std::time::Duration;

use shared::schedule::{Jurisdiction, SchedulePolicy};

/// Everything [`crate::run`] needs besides the listener.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where the SQLite database lives.
    pub data_dir: PathBuf,
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
    /// late write-up flag.
    pub schedule_policy: SchedulePolicy,
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
    /// connect, 16 MiB inflated per message, 500 messages a second (bursts of 5,000).
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            max_frame_bytes: 8 * 1024 * 1024,
            idle_unload_after: Duration::from_secs(30),
            live_documents: 256,
            tick_every: Duration::from_secs(1),
            tls: None,
            behind_tls_proxy: false,
            web_dir: None,
            schedule_policy: SchedulePolicy::statutory(Jurisdiction::England),
            handshake_timeout: Duration::from_secs(10),
            max_inflated_bytes: 16 * 1024 * 1024,
            max_messages_per_sec: 500,
            message_burst: 5_000,
        }
    }
}
