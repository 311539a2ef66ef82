//! doorstep-server: the sync server for Doorstep's visit records.
//!
//! It speaks automerge-repo's WebSocket sync protocol at `/sync`, keeps every
//! document in one SQLite file, and answers `/healthz`.
//!
//! # Layout
//! - [`cli`]: the `doorstep-server` command line (subcommands, env variables).
//! - [`config`]: the [`ServerConfig`] settings.
//! - `hub`: the thread owning `shared::sync::SyncCore`; carries out its effects.
//! - `store`: SQLite storage (migrations, group commits on a storage thread).
//! - [`directory`]: teams, workers, children, allocations, devices, sessions, audit log.
//! - [`projection`]: SQL tables mirroring the documents for the dashboard and sign-off.
//! - `http`: the axum router (`/sync` relay, `/api` sign-in, `/healthz`).
//! - `tls`: serving HTTPS directly with rustls.
//!
//! # Typical workflow
//! `main` parses the command line and calls [`run`] with a bound listener, the
//! configuration and a shutdown future (Ctrl-C or SIGTERM); tests pass a oneshot.

pub mod cli;
pub mod config;
pub mod directory;
mod http;
mod hub;
pub mod projection;
mod store;
mod tls;

use std::future::Future;

use anyhow::Context;
use axum::serve::ListenerExt;
use shared::PeerId;
use shared::sync::{CoreConfig, SyncCore};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::info;

pub use config::{DevicePolicy, ServerConfig};
pub use store::{SqliteStore, StoreError};

/// Serves until `shutdown` resolves, then closes sockets and flushes storage.
///
/// # Errors
/// If the database cannot be opened or the listener fails.
pub async fn run(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = SqliteStore::open(&config.data_dir)
        .with_context(|| format!("opening the database in {}", config.data_dir.display()))?;
    let storage_id = store.storage_id()?;
    info!(database = %store.path().display(), %storage_id, "storage ready");

    let mut core_config = CoreConfig::server(
        PeerId::new(format!("doorstep-server-{storage_id}")),
        storage_id,
    );
    core_config.idle_unload_after = config.idle_unload_after;
    core_config.live_documents = config.live_documents;
    let mut directory =
        directory::open_connection(&config.data_dir).context("opening the directory")?;
    projection::rebuild_if_empty(&mut directory, &config.schedule_policy)
        .context("building the projection")?;
    let (hub, hub_thread) = hub::spawn_hub(
        SyncCore::new(core_config),
        store,
        directory,
        config.schedule_policy.clone(),
    )
    .context("starting the hub")?;

    let token = CancellationToken::new();
    let sockets = TaskTracker::new();
    let ticker = tokio::spawn(tick(hub.clone(), config.tick_every, token.clone()));
    let app = http::app(http::AppState {
        hub: hub.clone(),
        data_dir: config.data_dir.clone(),
        secure_cookies: config.tls.is_some() || config.behind_tls_proxy,
        max_frame_bytes: config.max_frame_bytes,
        shutdown: token.clone(),
        sockets: sockets.clone(),
        web_dir: config.web_dir.clone(),
        schedule_policy: config.schedule_policy.clone(),
        device_policy: config.device_policy,
    });

    let stop = token.clone();
    tokio::spawn(async move {
        shutdown.await;
        stop.cancel();
    });
    let served = match &config.tls {
        None => {
            info!(addr = %listener.local_addr()?, "listening");
            // Sync replies are small frames written back to back: without TCP_NODELAY,
            // Nagle's algorithm holds each behind the peer's delayed ACK of the one before.
            let listener = listener.tap_io(|tcp| {
                if let Err(err) = tcp.set_nodelay(true) {
                    tracing::debug!(cause = %err, "could not set TCP_NODELAY");
                }
            });
            axum::serve(listener, app)
                .with_graceful_shutdown(token.clone().cancelled_owned())
                .await
                .context("serving http")
        }
        Some(files) => tls::serve(listener, app, files, token.clone()).await,
    };

    info!("shutting down: closing sockets");
    sockets.close();
    sockets.wait().await;
    ticker.abort();
    let (done, flushed) = tokio::sync::oneshot::channel();
    if hub.send(hub::HubInput::Shutdown(done)).await {
        let _ = flushed.await;
    }
    tokio::task::spawn_blocking(move || hub_thread.join())
        .await
        .ok();
    info!("stopped");
    served
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
