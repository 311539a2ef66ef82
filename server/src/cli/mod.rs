//! The `doorstep-server` command line.
//!
//! ```text
//! doorstep-server serve [--addr 127.0.0.1:8080] [--data-dir ./data] [--max-frame-bytes N]
//!                       [--idle-unload-secs N] [--live-documents N] [--tls-cert PEM --tls-key PEM] [--behind-tls-proxy]
//!                       [--web-dir DIR]
//! doorstep-server seed-demo [--data-dir ./data] [--if-empty]
//! doorstep-server admin [--data-dir ./data] team add NAME
//! doorstep-server admin user add USERNAME --role ROLE [--team NAME] [--display-name TEXT] --password-stdin
//! doorstep-server admin user set-password USERNAME --password-stdin
//! doorstep-server admin child import FILE.csv
//! doorstep-server admin allocate CHILD_REF USERNAME
//! doorstep-server admin deallocate CHILD_REF USERNAME
//! doorstep-server admin device list USERNAME
//! doorstep-server admin device revoke DEVICE_ID
//! doorstep-server admin audit export --child CHILD_REF [--format csv|json]
//! doorstep-server admin retention report [--all] [--jurisdiction J]
//! doorstep-server admin retention show CHILD_REF | record-death CHILD_REF --date YYYY-MM-DD
//! doorstep-server admin retention hold|release CHILD_REF --reason TEXT
//! doorstep-server admin retention delete CHILD_REF --reason TEXT | deletions
//! ```
//! Every option can also come from the environment (`DOORSTEP_ADDR`, `DOORSTEP_DATA_DIR`, ...).
//! Admin commands work on the database directly, also while the server runs; a running
//! server notices access changes within a second.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use tracing::error;

use crate::ServerConfig;
use crate::config::TlsFiles;
use crate::directory::admin::{self, NewUser};
use crate::directory::{Role, audit, child_import, demo_council};

mod commands;
mod restricted;
mod retention;
pub use commands::main;
use commands::*;

/// Doorstep's sync server.
#[derive(Debug, Parser)]
#[command(name = "doorstep-server", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the sync server.
    Serve(ServeArgs),
    /// Create a fictional demo council (teams, accounts, children, past visits) and print
    /// the demo passwords once.
    SeedDemo(SeedDemoArgs),
    /// Administer the directory: teams, accounts, children, allocations, devices, audit.
    Admin(AdminArgs),
}

/// Options of `seed-demo`.
#[derive(Debug, clap::Args)]
pub struct SeedDemoArgs {
    /// Directory holding the SQLite database (created if missing).
    #[arg(long, env = "DOORSTEP_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Seed this PostgreSQL database instead.
    #[arg(long = "database", env = "DOORSTEP_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Do nothing (and succeed) when the directory already has teams.
    #[arg(long)]
    pub if_empty: bool,
}

/// Options of `admin`.
#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    /// Directory holding the SQLite database.
    #[arg(
        long,
        env = "DOORSTEP_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Administer this PostgreSQL database instead.
    #[arg(long = "database", env = "DOORSTEP_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// The administrative action.
    #[command(subcommand)]
    pub command: AdminCommand,
}

/// Administrative actions.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Teams.
    #[command(subcommand)]
    Team(TeamCommand),
    /// Accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Children.
    #[command(subcommand)]
    Child(ChildCommand),
    /// Give a child to a social worker's caseload.
    Allocate {
        /// The child's case reference.
        child_ref: String,
        /// The social worker's username.
        username: String,
    },
    /// Take a child off a social worker's caseload (takes effect on live connections).
    Deallocate {
        /// The child's case reference.
        child_ref: String,
        /// The social worker's username.
        username: String,
    },
    /// Devices.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The projection (the SQL tables the dashboard reads, mirroring the documents).
    #[command(subcommand)]
    Projection(ProjectionCommand),
    /// Retention of children's records: report, legal holds, deletion after retention.
    #[command(subcommand)]
    Retention(retention::RetentionCommand),
    /// Restricted records (D6): mark, unmark, name the people who may see them.
    #[command(subcommand)]
    Restricted(restricted::RestrictedCommand),
}

/// Projection actions.
#[derive(Debug, Subcommand)]
pub enum ProjectionCommand {
    /// Recreate the projection tables from the stored documents alone.
    Rebuild {
        /// Whose visit-schedule rules apply: england, wales or scotland.
        #[arg(long, env = "DOORSTEP_JURISDICTION", default_value = "england", value_parser = parse_jurisdiction)]
        jurisdiction: shared::schedule::Jurisdiction,
    },
    /// Compare the live projection with a rebuild from the documents (changes nothing);
    /// exits non-zero and prints the differences if they disagree.
    Check {
        /// Whose visit-schedule rules apply: england, wales or scotland.
        #[arg(long, env = "DOORSTEP_JURISDICTION", default_value = "england", value_parser = parse_jurisdiction)]
        jurisdiction: shared::schedule::Jurisdiction,
    },
}

/// Team actions.
#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Add a team.
    Add {
        /// The team's name.
        name: String,
    },
}

/// Account actions.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account; the password is read from standard input.
    Add {
        /// Sign-in name.
        username: String,
        /// Role.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Team (required for social workers and team managers).
        #[arg(long)]
        team: Option<String>,
        /// Name shown to people (defaults to the username).
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input (the only way to give it).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Set a new password, read from standard input.
    SetPassword {
        /// Sign-in name.
        username: String,
        /// Read the password from standard input (the only way to give it).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

/// Child actions.
#[derive(Debug, Subcommand)]
pub enum ChildCommand {
    /// Import children and placements from a CSV file (all rows or none; see the README
    /// for the columns).
    Import {
        /// The CSV file.
        file: PathBuf,
    },
}

/// Device actions.
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// List a user's devices.
    List {
        /// Sign-in name.
        username: String,
    },
    /// Revoke a device: its sessions end at once, and it is told to wipe its local copy.
    Revoke {
        /// The device id (see `device list`).
        device_id: String,
    },
}

/// Audit actions.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Print every audit row about one child (its record and visits), oldest first.
    Export {
        /// The child's case reference.
        #[arg(long)]
        child: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
    },
}

/// A role on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Holds a caseload.
    SocialWorker,
    /// Oversees a team.
    TeamManager,
    /// Administers the directory.
    Admin,
    /// Answers subject access requests (exports and redactions only).
    RecordsOfficer,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::SocialWorker => Role::SocialWorker,
            RoleArg::TeamManager => Role::TeamManager,
            RoleArg::Admin => Role::Admin,
            RoleArg::RecordsOfficer => Role::RecordsOfficer,
        }
    }
}

/// Audit export formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON array.
    Json,
}

/// Options of `serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on. Defaults to loopback; put a TLS proxy in front to expose it.
    #[arg(long, env = "DOORSTEP_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Directory holding the SQLite database (created if missing).
    #[arg(long, env = "DOORSTEP_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Keep everything in this PostgreSQL database instead (`postgres://user:password@host/name`,
    /// created `ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`); the data directory then holds
    /// only the lock file.
    #[arg(long = "database", env = "DOORSTEP_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Largest WebSocket frame accepted, in bytes; larger frames get a protocol error.
    #[arg(long, env = "DOORSTEP_MAX_FRAME_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_frame_bytes: usize,
    /// Seconds a document nobody is syncing stays in memory.
    #[arg(long, env = "DOORSTEP_IDLE_UNLOAD_SECS", default_value_t = 30)]
    pub idle_unload_secs: u64,
    /// Documents held in automerge's working form (about 50 KB each); beyond it, documents
    /// in sync with every peer are held as their saved bytes until needed.
    #[arg(long, env = "DOORSTEP_LIVE_DOCUMENTS", default_value_t = 256)]
    pub live_documents: usize,
    /// Serve HTTPS with this certificate chain (PEM); needs `--tls-key`.
    #[arg(long, env = "DOORSTEP_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) for `--tls-cert`.
    #[arg(long, env = "DOORSTEP_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// A TLS-terminating reverse proxy is in front: mark cookies Secure and send HSTS.
    #[arg(long, env = "DOORSTEP_BEHIND_TLS_PROXY")]
    pub behind_tls_proxy: bool,
    /// Directory of the built web app (`scripts/build-web.sh` writes `target/web`),
    /// served at `/`. Without it the server serves only the API and `/sync`.
    #[arg(long, env = "DOORSTEP_WEB_DIR")]
    pub web_dir: Option<PathBuf>,
    /// Whose visit-schedule rules apply: england, wales or scotland.
    #[arg(long, env = "DOORSTEP_JURISDICTION", default_value = "england", value_parser = parse_jurisdiction)]
    pub jurisdiction: shared::schedule::Jurisdiction,
    /// Wrong PINs in a row after which a worker's device makes them wait.
    #[arg(long, env = "DOORSTEP_PIN_ATTEMPTS_BEFORE_WAIT", default_value_t = 5)]
    pub pin_attempts_before_wait: u32,
    /// Seconds the device waits after each wrong PIN from then on.
    #[arg(long, env = "DOORSTEP_PIN_WAIT_SECS", default_value_t = 60)]
    pub pin_wait_secs: u32,
    /// Wrong PINs in a row after which the device wipes its records.
    #[arg(long, env = "DOORSTEP_PIN_ATTEMPTS_BEFORE_WIPE", default_value_t = 10)]
    pub pin_attempts_before_wipe: u32,
    /// Days without reaching the server after which a device wipes itself when opened.
    #[arg(long, env = "DOORSTEP_OFFLINE_WIPE_DAYS", default_value_t = 30)]
    pub offline_wipe_days: u32,
    /// Days before that wipe from which the worker is warned.
    #[arg(long, env = "DOORSTEP_OFFLINE_WARNING_DAYS", default_value_t = 7)]
    pub offline_warning_days: u32,
    /// Seconds a peer has for each step of connecting (TLS, each request's headers, the
    /// sync `join`); a peer still silent after it is disconnected.
    #[arg(long, env = "DOORSTEP_HANDSHAKE_TIMEOUT_SECS", default_value_t = 10)]
    pub handshake_timeout_secs: u64,
    /// Bytes one sync message's compressed changes may inflate to; beyond it the message
    /// is refused (a deflate bomb never grows past this).
    #[arg(long, env = "DOORSTEP_MAX_INFLATED_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_inflated_bytes: usize,
    /// Sync messages per second one connection may send on average (faster peers are
    /// read more slowly); bursts of ten seconds' worth pass at once.
    #[arg(long, env = "DOORSTEP_MAX_MESSAGES_PER_SEC", default_value_t = 500)]
    pub max_messages_per_sec: u32,
    /// Threads that check passwords (Argon2id, 19 MiB each, allocated once and reused);
    /// 0 means one per core.
    #[arg(long, env = "DOORSTEP_PASSWORD_HASHERS", default_value_t = 0)]
    pub password_hashers: usize,
    /// Seconds a sign-in may wait for a password-hashing thread before it is answered
    /// `503` with `Retry-After`.
    #[arg(long, env = "DOORSTEP_SIGN_IN_WAIT_SECS", default_value_t = 10)]
    pub sign_in_wait_secs: u64,
    /// Serve Prometheus metrics at `/metrics` on this separate address (off by default;
    /// keep it on loopback or a private network: it is not authenticated).
    #[arg(long, env = "DOORSTEP_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// Days after a child is reallocated during which its former worker's devices may still
    /// send what they recorded while they held the child.
    #[arg(long, env = "DOORSTEP_REALLOCATION_GRACE_DAYS", default_value_t = 7)]
    pub reallocation_grace_days: u64,
    /// Minutes a break-glass access to a restricted or out-of-team child lasts.
    #[arg(long, env = "DOORSTEP_BREAK_GLASS_MINUTES", default_value_t = 120)]
    pub break_glass_minutes: u64,
}

impl ServeArgs {
    /// The server configuration these options describe.
    pub fn config(&self) -> ServerConfig {
        let mut config = ServerConfig::new(self.data_dir.clone());
        config.database_url = self.database_url.clone();
        config.max_frame_bytes = self.max_frame_bytes;
        config.idle_unload_after = Duration::from_secs(self.idle_unload_secs);
        config.live_documents = self.live_documents;
        config.tls = self
            .tls_cert
            .clone()
            .zip(self.tls_key.clone())
            .map(|(cert, key)| TlsFiles { cert, key });
        config.behind_tls_proxy = self.behind_tls_proxy;
        config.web_dir = self.web_dir.clone();
        config.schedule_policy = shared::schedule::SchedulePolicy::statutory(self.jurisdiction);
        config.device_policy = crate::config::DevicePolicy {
            pin_attempts_before_wait: self.pin_attempts_before_wait,
            pin_wait_secs: self.pin_wait_secs,
            pin_attempts_before_wipe: self.pin_attempts_before_wipe,
            offline_wipe_days: self.offline_wipe_days,
            offline_warning_days: self.offline_warning_days,
        }
        .consistent();
        config.handshake_timeout = Duration::from_secs(self.handshake_timeout_secs);
        config.max_inflated_bytes = self.max_inflated_bytes;
        config.max_messages_per_sec = self.max_messages_per_sec.max(1);
        config.message_burst = self.max_messages_per_sec.max(1).saturating_mul(10);
        if self.password_hashers > 0 {
            config.password_hashers = self.password_hashers;
        }
        config.sign_in_wait = Duration::from_secs(self.sign_in_wait_secs);
        config.metrics_addr = self.metrics_addr;
        config.reallocation_grace =
            Duration::from_secs(self.reallocation_grace_days * 24 * 60 * 60);
        config.break_glass_for = Duration::from_secs(self.break_glass_minutes.max(1) * 60);
        config
    }
}
