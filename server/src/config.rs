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
    /// late write-up flag; the workers' devices get them with their caseload, so their
    /// timescales are computed by the same rules.
    pub schedule_policy: SchedulePolicy,
    /// What the workers' devices do about wrong PINs and long silences (domain
    /// requirement D7); sent to each device when it signs in.
    pub device_policy: DevicePolicy,
}

/// The rules a worker's device applies offline, set by the council.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DevicePolicy {
    /// Wrong PINs in a row after which the device makes the worker wait.
    pub pin_attempts_before_wait: u32,
    /// How long it waits, in seconds, after each wrong PIN from then on.
    pub pin_wait_secs: u32,
    /// Wrong PINs in a row after which the device wipes its records.
    pub pin_attempts_before_wipe: u32,
    /// Days without reaching the server after which the device wipes its records on its
    /// next opening.
    pub offline_wipe_days: u32,
    /// How many days before that wipe the worker is warned, each time the app opens.
    pub offline_warning_days: u32,
}

impl Default for DevicePolicy {
    /// 5 wrong PINs, then a 60-second wait after each; 10 wipe. 30 days without contact
    /// wipe, warned from 7 days before.
    fn default() -> Self {
        DevicePolicy {
            pin_attempts_before_wait: 5,
            pin_wait_secs: 60,
            pin_attempts_before_wipe: 10,
            offline_wipe_days: 30,
            offline_warning_days: 7,
        }
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
    /// 1 s ticks, plain HTTP,
    /// no web app, England's statutory visit schedule, the default [`DevicePolicy`].
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
            device_policy: DevicePolicy::default(),
        }
    }
}
