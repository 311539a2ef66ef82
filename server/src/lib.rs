//! doorstep-server: the sync server for Doorstep's visit records.
//!
//! It speaks automerge-repo's WebSocket sync protocol at `/sync`, keeps every
//! document in one SQLite file, and answers `/healthz`.
//!
//! # Layout
//! - [`cli`]: the `doorstep-server` command line (subcommands, env variables).
//! - [`config`]: the [`ServerConfig`] settings.
//! - [`clock`]: the one [`clock::Clock`] every part of the server is given.
//! - `hub`: the thread owning `shared::sync::SyncCore`; carries out its effects.
//! - `store`: SQLite storage (migrations, group commits on a storage thread).
//! - [`directory`]: teams, workers, children, allocations, devices, sessions, audit log.
//! - [`projection`]: SQL tables mirroring the documents for the dashboard and sign-off.
//! - `http`: the axum router (`/sync` relay, `/api` sign-in, `/healthz`).
//! - `tls`: serving HTTPS directly with rustls.
//! - [`data_dir_lock`]: one `serve` per data directory.
//! - [`csv_cell`]: CSV cells neutralised against formula injection.
//! - `health`: what `/healthz` and sign-in know about storage and the threads.
//! - [`metrics`]: the counters `/metrics` serves on `--metrics-addr`.
//!
//! # Typical workflow
//! `main` parses the command line and calls [`run`] with a bound listener, the
//! configuration and a shutdown future (Ctrl-C or SIGTERM); tests pass a oneshot.

pub mod cli;
pub mod clock;
pub mod config;
pub mod csv_cell;
pub mod data_dir_lock;
pub mod directory;
mod health;
mod http;
mod hub;
pub mod metrics;
pub mod projection;
pub mod record_print;
mod store;
mod tls;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use shared::PeerId;
use shared::sync::{CoreConfig, SyncCore};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info};

pub use config::{DevicePolicy, InjectedFaults, ServerConfig};
pub use data_dir_lock::{DataDirLock, LockError};
pub use store::{DATABASE_FILE, Database, DocumentStore, StoreError, sql};

use health::Health;

/// How long shutdown waits for storage to flush after a component died (a dead storage
/// thread never reports, and a live one has committed everything it acknowledged; the
/// process exits regardless).
const FLUSH_AFTER_DEATH: Duration = Duration::from_secs(2);

/// Sign-ins that may wait for a password-hashing thread at once; more are answered `503`
/// at once (each waits at most `ServerConfig::sign_in_wait` anyway).
const SIGN_IN_QUEUE: usize = 2048;

/// Serves until `shutdown` resolves, then closes sockets and flushes storage. Takes the
/// data directory's lock first (see [`DataDirLock`]).
///
/// # Errors
/// If another server holds the data directory, the database cannot be opened, the
/// listener fails, or a component (hub or storage thread) died while serving.
pub async fn run(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let lock = DataDirLock::acquire(&config.data_dir)?;
    run_with_lock(lock, listener, config, shutdown).await
}

/// [`run`] with the data directory's lock already taken (the command line takes it before
/// binding, so that a second `serve` names the holder rather than the busy address).
///
/// # Errors
/// As [`run`].
pub async fn run_with_lock(
    mut lock: DataDirLock,
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (mut store, storage_id) = match &config.database_url {
        None => {
            lock.check_database_present(&config.data_dir.join(DATABASE_FILE))?;
            let store =
                DocumentStore::open(&config.data_dir, config.clock.clone()).with_context(|| {
                    format!("opening the database in {}", config.data_dir.display())
                })?;
            let storage_id = store.storage_id()?;
            (store, storage_id)
        }
        Some(url) => {
            // PostgreSQL's client runs its own runtime: never on the reactor.
            let (url, clock) = (url.clone(), config.clock.clone());
            tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let store = DocumentStore::open_postgres(&url, clock)?;
                let storage_id = store.storage_id()?;
                Ok((store, storage_id))
            })
            .await
            .context("opening PostgreSQL")?
            .context("opening PostgreSQL")?
        }
    };
    let database = store.database().clone();
    if let Database::Sqlite(file) = &database {
        lock.check_storage_id(file, &storage_id)?;
    }
    let addr = listener.local_addr()?;
    lock.record(&addr.to_string(), &storage_id, config.clock.now_ms())?;
    info!(%database, %storage_id, lock = %lock.path().display(), "storage ready");

    // From here on the database is only ever opened as the one opened now: the storage
    // thread, the hub's directory reader and the API's pool, each without CREATE.
    let files = store.files().context("examining the database file")?;
    let health = Arc::new(Health::new(files));
    store.watch(health.clone());
    if let Some(faults) = &config.injected_faults {
        store.panic_when(faults.panic_storage.clone());
    }
    let (directory, pool) = {
        let (database, policy, size) = (
            database.clone(),
            config.schedule_policy.clone(),
            config.api_connections,
        );
        tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let mut directory = database.connect().context("opening the directory")?;
            projection::rebuild_if_empty(&mut directory, &policy)
                .context("building the projection")?;
            let pool = store::ConnectionPool::open(&database, size)
                .context("opening the API's database connections")?;
            Ok((directory, Arc::new(pool)))
        })
        .await
        .context("opening the database connections")??
    };

    let mut core_config = CoreConfig::server(
        PeerId::new(format!("doorstep-server-{storage_id}")),
        storage_id,
    );
    core_config.idle_unload_after = config.idle_unload_after;
    core_config.live_documents = config.live_documents;
    core_config.join_deadline = config.handshake_timeout;
    core_config.limits.max_inflated_bytes = config.max_inflated_bytes;
    // A fresh session for this run's refusal notices (the peer id outlives runs).
    core_config.notice_session = format!("{:016x}", rand::random::<u64>());
    let metrics = metrics::Metrics::new();
    let (hub, hub_thread) = hub::spawn_hub(
        SyncCore::new(core_config),
        store,
        directory,
        config.schedule_policy.clone(),
        config.reallocation_grace,
        config.clock.clone(),
        metrics.clone(),
    )
    .context("starting the hub")?;
    let hashers = Arc::new(
        directory::password_hashers::PasswordHashers::start(config.password_hashers, SIGN_IN_QUEUE)
            .context("starting the password hashers")?,
    );
    *metrics
        .hashers
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(hashers.stats());
    if let Some(faults) = &config.injected_faults {
        let _ = faults.hub.set(hub.clone());
    }
    let hub_watch = health::watch_thread(health.clone(), "hub thread", hub_thread)
        .context("watching the hub")?;

    let token = CancellationToken::new();
    let sockets = TaskTracker::new();
    let ticker = tokio::spawn(tick(hub.clone(), config.tick_every, token.clone()));
    let denials = Arc::new(directory::denial_audit::DenialAudit::new(
        config.denial_audit_window,
    ));
    let state = http::AppState {
        hub: hub.clone(),
        directory: pool.clone(),
        health: health.clone(),
        denials: denials.clone(),
        behind_tls_proxy: config.behind_tls_proxy,
        secure_cookies: config.tls.is_some() || config.behind_tls_proxy,
        max_frame_bytes: config.max_frame_bytes,
        shutdown: token.clone(),
        sockets: sockets.clone(),
        web_dir: config.web_dir.clone(),
        schedule_policy: config.schedule_policy.clone(),
        device_policy: config.device_policy,
        max_messages_per_sec: config.max_messages_per_sec,
        message_burst: config.message_burst,
        hashers: hashers.clone(),
        sign_in_wait: config.sign_in_wait,
        tickets: Arc::new(directory::sync_tickets::SyncTickets::new()),
        metrics: metrics.clone(),
        clock: config.clock.clone(),
        break_glass_for: config.break_glass_for,
    };
    let flusher = tokio::spawn(flush_denials(state.clone(), token.clone()));
    let app = http::app(state.clone());

    // Stop on the caller's signal, or when a component dies (never serve as a zombie).
    let stop = token.clone();
    let watched = health.clone();
    tokio::spawn(async move {
        tokio::select! {
            () = shutdown => {}
            () = watched.died() => {}
        }
        stop.cancel();
    });
    let metrics_server = match config.metrics_addr {
        Some(addr) => Some(
            http::serve_metrics(addr, state.clone(), token.clone())
                .await
                .with_context(|| format!("cannot serve metrics on {addr}"))?,
        ),
        None => None,
    };
    let tls = config.tls.as_ref().map(tls::acceptor).transpose()?;
    let served = http::serve(listener, app, tls, config.handshake_timeout, token.clone()).await;
    if let Some(metrics_server) = metrics_server {
        metrics_server.abort();
    }
    hashers.close();

    let died = health.dead_component().is_some();
    health.stopping();
    info!("shutting down: closing sockets");
    sockets.close();
    sockets.wait().await;
    ticker.abort();
    flusher.abort();
    write_repeats(&state, None).await;
    pool.close();
    let (done, flushed) = tokio::sync::oneshot::channel();
    // Whether the hub answered that storage has flushed; `None` if it did not in time.
    let answered = if !hub.send(hub::HubInput::Shutdown(done)).await {
        Some(false)
    } else if !died {
        Some(flushed.await.is_ok())
    } else {
        tokio::time::timeout(FLUSH_AFTER_DEATH, flushed)
            .await
            .ok()
            .map(|answer| answer.is_ok())
    };
    match answered {
        Some(true) => {}
        // Gone before it could answer (it stopped itself after a panic it could not pin on
        // a peer, or died of one): a death, even if its watcher is late to say so.
        Some(false) => health.component_died("hub thread", "stopped before shutdown"),
        None => error!("storage did not flush after a component died"),
    }
    let hub_ended = tokio::task::spawn_blocking(move || hub_watch.join());
    if !died {
        hub_ended.await.ok();
    } else if tokio::time::timeout(FLUSH_AFTER_DEATH, hub_ended)
        .await
        .is_err()
    {
        error!("the hub thread did not end");
    }
    if let Some(dead) = health.dead_component() {
        error!(component = %dead, "stopped because a component died");
        bail!("stopped because the {dead}");
    }
    info!("stopped");
    served
}

/// Appends the rows for repeated denials whose window has closed, every few seconds.
async fn flush_denials(state: http::AppState, stop: CancellationToken) {
    let every =
        (state.denials.window() / 4).clamp(Duration::from_millis(100), Duration::from_secs(5));
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => write_repeats(&state, Some(state.clock.now_ms())).await,
            () = stop.cancelled() => return,
        }
    }
}

/// Appends the rows for repeated denials whose window closed by `now` (all if `None`).
async fn write_repeats(state: &http::AppState, now: Option<i64>) {
    let repeats = state.denials.take_expired(now);
    if repeats.is_empty() {
        return;
    }
    let count: u64 = repeats.iter().map(|r| r.occurrences()).sum();
    let written = state
        .with_directory(move |conn| {
            let tx = conn.transaction()?;
            for run in &repeats {
                run.append(&tx)?;
            }
            tx.commit()
        })
        .await;
    if let Err(err) = written {
        error!(cause = %err, denials = count, "repeated denials could not be audited");
    }
}

/// Ticks the hub so it can unload idle documents.
async fn tick(hub: hub::HubHandle, every: std::time::Duration, stop: CancellationToken) {
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {
                if !hub.send(hub::HubInput::Tick).await {
                    return;
                }
            }
            () = stop.cancelled() => return,
        }
    }
}
