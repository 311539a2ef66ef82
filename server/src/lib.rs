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
use shared::PeerId;
use shared::sync::{CoreConfig, SyncCore};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::info;

pub use config::ServerConfig;
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
    core_config.join_deadline = config.handshake_timeout;
    core_config.limits.max_inflated_bytes = config.max_inflated_bytes;
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
        max_messages_per_sec: config.max_messages_per_sec,
        message_burst: config.message_burst,
    });

    let stop = token.clone();
    tokio::spawn(async move {
        shutdown.await;
        stop.cancel();
    });
    let tls = config.tls.as_ref().map(tls::acceptor).transpose()?;
    let served = http::serve(listener, app, tls, config.handshake_timeout, token.clone()).await;

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
