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
    Retention(crate::cli_retention::RetentionCommand),
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
    /// Days after a child is reallocated during which its former worker's devices may still
    /// send what they recorded while they held the child.
    #[arg(long, env = "DOORSTEP_REALLOCATION_GRACE_DAYS", default_value_t = 7)]
    pub reallocation_grace_days: u64,
}

impl ServeArgs {
    /// The server configuration these options describe.
    pub fn config(&self) -> ServerConfig {
        let mut config = ServerConfig::new(self.data_dir.clone());
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
            pin_attempts_before_wait: self.pin_attempts_before_wait.max(1),
            pin_wait_secs: self.pin_wait_secs,
            pin_attempts_before_wipe: self
                .pin_attempts_before_wipe
                .max(self.pin_attempts_before_wait.max(1) + 1),
            offline_wipe_days: self.offline_wipe_days.max(1),
            offline_warning_days: self.offline_warning_days,
        };
        config.handshake_timeout = Duration::from_secs(self.handshake_timeout_secs);
        config.max_inflated_bytes = self.max_inflated_bytes;
        config.max_messages_per_sec = self.max_messages_per_sec.max(1);
        config.message_burst = self.max_messages_per_sec.max(1).saturating_mul(10);
        config.reallocation_grace =
            Duration::from_secs(self.reallocation_grace_days * 24 * 60 * 60);
        config
    }
}

fn parse_jurisdiction(text: &str) -> Result<shared::schedule::Jurisdiction, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not england, wales or scotland"))
}

/// Parses the command line and runs it; the whole of `main`.
pub fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve(args) => run_server(args),
        Command::SeedDemo(args) => seed_demo(&args),
        Command::Admin(args) => run_admin(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            error!(cause = format!("{err:#}"), "doorstep-server failed");
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_server(args: ServeArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(serve(args))
}

/// Opens the database for a command run beside (or without) the server, refusing to create
/// one where the directory's lock file says a database was served and is now missing.
fn open_directory(data_dir: &std::path::Path) -> anyhow::Result<rusqlite::Connection> {
    crate::data_dir_lock::refuse_recreating(data_dir, &data_dir.join(crate::DATABASE_FILE))?;
    Ok(crate::directory::open_connection(data_dir)?)
}

fn seed_demo(args: &SeedDemoArgs) -> anyhow::Result<()> {
    let mut conn = open_directory(&args.data_dir)?;
    let mut out = std::io::stdout().lock();
    if args.if_empty && demo_council::has_directory(&conn)? {
        writeln!(
            out,
            "The directory in {} already has teams; nothing seeded. Demo passwords were printed \
             when it was seeded; set a new one with `doorstep-server admin user set-password`.",
            args.data_dir.display()
        )?;
        return Ok(());
    }
    let today = shared::model::uk_civil_date(now_ms());
    let council = demo_council::seed(&mut conn, today)?;
    writeln!(
        out,
        "Seeded a fictional demo council in {}: {} children, {} past visits.",
        args.data_dir.display(),
        council.children,
        council.visits
    )?;
    writeln!(
        out,
        "Demo accounts (passwords are shown only now; keep them):"
    )?;
    writeln!(
        out,
        "  {:<12} {:<14} {:<6} password",
        "username", "role", "team"
    )?;
    for account in &council.accounts {
        writeln!(
            out,
            "  {:<12} {:<14} {:<6} {}",
            account.username,
            account.role.code(),
            account.team.as_deref().unwrap_or("-"),
            account.password
        )?;
    }
    Ok(())
}

fn run_admin(args: AdminArgs) -> anyhow::Result<()> {
    let mut conn = open_directory(&args.data_dir)?;
    let mut out = std::io::stdout().lock();
    match args.command {
        AdminCommand::Team(TeamCommand::Add { name }) => {
            admin::add_team(&mut conn, &name)?;
            writeln!(out, "Added team {name}.")?;
        }
        AdminCommand::User(UserCommand::Add {
            username,
            role,
            team,
            display_name,
            password_stdin: _,
        }) => {
            let role = Role::from(role);
            if matches!(role, Role::SocialWorker | Role::TeamManager) && team.is_none() {
                bail!("a {} needs --team", role.code());
            }
            let password = read_password()?;
            admin::add_user(
                &mut conn,
                &NewUser {
                    username: &username,
                    display_name: display_name.as_deref().unwrap_or(&username),
                    role,
                    team: team.as_deref(),
                    password: &password,
                },
            )?;
            writeln!(out, "Added {} {username}.", role.code())?;
        }
        AdminCommand::User(UserCommand::SetPassword { username, .. }) => {
            let password = read_password()?;
            admin::set_password(&mut conn, &username, &password)?;
            writeln!(out, "Set a new password for {username}.")?;
        }
        AdminCommand::Child(ChildCommand::Import { file }) => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let rows = child_import::parse(&bytes)?;
            let added = child_import::import(&mut conn, &rows)?;
            writeln!(out, "Imported {added} children from {}.", file.display())?;
        }
        AdminCommand::Projection(ProjectionCommand::Rebuild { jurisdiction }) => {
            let policy = shared::schedule::SchedulePolicy::statutory(jurisdiction);
            let documents = crate::projection::rebuild(&mut conn, &policy)?;
            writeln!(out, "Rebuilt the projection from {documents} documents.")?;
        }
        AdminCommand::Projection(ProjectionCommand::Check { jurisdiction }) => {
            let policy = shared::schedule::SchedulePolicy::statutory(jurisdiction);
            match crate::projection::check(&mut conn, &policy)? {
                None => writeln!(out, "The projection matches the documents.")?,
                Some(report) => bail!("the projection differs from the documents:\n{report}"),
            }
        }
        AdminCommand::Retention(command) => {
            crate::cli_retention::run(&mut conn, command, &mut out)?;
        }
        AdminCommand::Allocate {
            child_ref,
            username,
        } => {
            admin::allocate(&mut conn, &child_ref, &username)?;
            writeln!(out, "Allocated {child_ref} to {username}.")?;
        }
        AdminCommand::Deallocate {
            child_ref,
            username,
        } => {
            admin::deallocate(&mut conn, &child_ref, &username)?;
            writeln!(out, "Deallocated {child_ref} from {username}.")?;
        }
        AdminCommand::Device(DeviceCommand::List { username }) => {
            for (device, revoked) in admin::devices_of(&conn, &username)? {
                let state = if revoked { "revoked" } else { "active" };
                writeln!(out, "{device}\t{state}")?;
            }
        }
        AdminCommand::Device(DeviceCommand::Revoke { device_id }) => {
            let reported = admin::unsent_reported(&conn, &device_id)?;
            admin::revoke_device(&mut conn, &device_id)?;
            writeln!(
                out,
                "Revoked device {device_id}; it will be told to wipe its local copy."
            )?;
            if let Some((unsent, at)) = reported.filter(|(unsent, _)| *unsent > 0) {
                let when = shared::model::uk_civil_date(u64::try_from(at).unwrap_or(0));
                writeln!(
                    out,
                    "Warning: at its last contact ({}) the device had {unsent} record(s) not yet \
                     on the server; wiping it loses them unless it reaches the server first.",
                    when.long_form()
                )?;
            }
        }
        AdminCommand::Audit(AuditCommand::Export { child, format }) => {
            let Some(rows) = audit::child_audit_trail(&conn, &child)? else {
                bail!("no child with reference {child:?}");
            };
            admin::record_audit_export(&conn, &child)?;
            match format {
                ExportFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &rows)?;
                    writeln!(out)?;
                }
                ExportFormat::Csv => {
                    // Every cell through the one neutralising helper (formula injection).
                    let mut writer = csv::Writer::from_writer(&mut out);
                    writer.write_record([
                        "audit_id",
                        "at",
                        "actor",
                        "device_id",
                        "action",
                        "outcome",
                        "document_id",
                        "detail",
                        "occurrences",
                    ])?;
                    for row in &rows {
                        let cells = [
                            row.audit_id.to_string(),
                            row.at.to_string(),
                            row.actor.clone().unwrap_or_default(),
                            row.device_id.clone().unwrap_or_default(),
                            row.action.clone(),
                            row.outcome.clone(),
                            row.document_id.clone().unwrap_or_default(),
                            row.detail.clone().unwrap_or_default(),
                            row.occurrences.to_string(),
                        ];
                        writer.write_record(
                            cells
                                .iter()
                                .map(|cell| crate::csv_cell::neutralise(cell).into_owned()),
                        )?;
                    }
                    writer.flush()?;
                }
            }
        }
    }
    Ok(())
}

/// Reads a password from standard input: the first line, without its line ending.
fn read_password() -> anyhow::Result<String> {
    let mut input = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut input)
        .context("cannot read the password from standard input")?;
    let password = input.lines().next().unwrap_or("").to_owned();
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    // The lock first: a second `serve` on the same directory names the holder, even when
    // it was also given the holder's address.
    let lock = crate::DataDirLock::acquire(&args.data_dir)?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    crate::run_with_lock(lock, listener, args.config(), shutdown_signal()).await
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed at once, when this is called
/// (before the server listens), not when the future is first polled: a SIGTERM sent as soon
/// as the server says it is listening must stop it gracefully, not kill it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let terminate = signal(SignalKind::terminate());
        let interrupt = signal(SignalKind::interrupt());
        async move {
            match (terminate, interrupt) {
                (Ok(mut terminate), Ok(mut interrupt)) => {
                    tokio::select! {
                        _ = terminate.recv() => {}
                        _ = interrupt.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn init_logging() {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("DOORSTEP_LOG")
        .unwrap_or_else(|_| EnvFilter::new("server=info,tower_http=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
