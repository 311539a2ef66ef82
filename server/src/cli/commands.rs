//! What each command does: `serve` (logging, signals, the runtime), `seed-demo` and the
//! `admin` commands, each on the data directory's database.

use super::*;

pub(super) fn parse_jurisdiction(text: &str) -> Result<shared::schedule::Jurisdiction, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not england, wales or scotland"))
}

/// Parses the command line and runs it; the whole of `main`. The process's one
/// [`Clock`](crate::clock::Clock) is made here and passed to whatever the command runs.
pub fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let clock = crate::clock::Clock::system();
    let outcome = match cli.command {
        Command::Serve(args) => run_server(args, clock),
        Command::SeedDemo(args) => seed_demo(&args, &clock),
        Command::Admin(args) => run_admin(args, &clock),
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

pub(super) fn run_server(args: ServeArgs, clock: crate::clock::Clock) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(serve(args, clock))
}

/// Opens the database for a command run beside (or without) the server: the PostgreSQL
/// database at `database_url` (migrated), or the SQLite one in `data_dir`, refusing to
/// create one where the directory's lock file says a database was served and is now missing.
pub(super) fn open_directory(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
) -> anyhow::Result<crate::directory::Connection> {
    if let Some(url) = database_url {
        return Ok(crate::directory::open_postgres(url)?);
    }
    crate::data_dir_lock::refuse_recreating(data_dir, &data_dir.join(crate::DATABASE_FILE))?;
    Ok(crate::directory::open_connection(data_dir)?)
}

pub(super) fn seed_demo(args: &SeedDemoArgs, clock: &crate::clock::Clock) -> anyhow::Result<()> {
    let mut conn = open_directory(&args.data_dir, args.database_url.as_deref())?;
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
    let council = demo_council::seed(&mut conn, clock.now_ms())?;
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

pub(super) fn run_admin(args: AdminArgs, clock: &crate::clock::Clock) -> anyhow::Result<()> {
    let mut conn = open_directory(&args.data_dir, args.database_url.as_deref())?;
    // One reading for the whole command: everything it writes carries the same time.
    let now = clock.now_ms();
    let mut out = std::io::stdout().lock();
    match args.command {
        AdminCommand::Team(TeamCommand::Add { name }) => {
            admin::add_team(&mut conn, &name, now)?;
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
                now,
            )?;
            writeln!(out, "Added {} {username}.", role.code())?;
        }
        AdminCommand::User(UserCommand::SetPassword { username, .. }) => {
            let password = read_password()?;
            admin::set_password(&mut conn, &username, &password, now)?;
            writeln!(out, "Set a new password for {username}.")?;
        }
        AdminCommand::Child(ChildCommand::Import { file }) => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let rows = child_import::parse(&bytes)?;
            let added = child_import::import(&mut conn, &rows, now)?;
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
            super::retention::run(&mut conn, command, &mut out, clock)?;
        }
        AdminCommand::Restricted(command) => {
            super::restricted::run(&mut conn, command, &mut out, clock.now_ms())?;
        }
        AdminCommand::Allocate {
            child_ref,
            username,
        } => {
            admin::allocate(&mut conn, &child_ref, &username, now)?;
            writeln!(out, "Allocated {child_ref} to {username}.")?;
        }
        AdminCommand::Deallocate {
            child_ref,
            username,
        } => {
            admin::deallocate(&mut conn, &child_ref, &username, now)?;
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
            admin::revoke_device(&mut conn, &device_id, now)?;
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
            admin::record_audit_export(&conn, &child, now)?;
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
pub(super) fn read_password() -> anyhow::Result<String> {
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

pub(super) async fn serve(args: ServeArgs, clock: crate::clock::Clock) -> anyhow::Result<()> {
    // The lock first: a second `serve` on the same directory names the holder, even when
    // it was also given the holder's address.
    let lock = crate::DataDirLock::acquire(&args.data_dir)?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    let mut config = args.config();
    config.clock = clock;
    crate::run_with_lock(lock, listener, config, shutdown_signal()).await
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed at once, when this is called
/// (before the server listens), not when the future is first polled: a SIGTERM sent as soon
/// as the server says it is listening must stop it gracefully, not kill it.
pub(super) fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
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

pub(super) fn init_logging() {
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
