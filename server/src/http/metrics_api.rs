//! `GET /metrics` (Prometheus text format), served on its own listener
//! (`--metrics-addr`), never on the public address: the figures are for the operator's
//! scraper, and nothing on that listener authenticates.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::AppState;

/// How long a scrape waits for the hub's gauges.
const HUB_DEADLINE: Duration = Duration::from_secs(2);

/// Binds `addr` and serves `/metrics` there until `stop` is cancelled.
///
/// # Errors
/// If `addr` cannot be bound.
pub async fn serve_metrics(
    addr: SocketAddr,
    state: AppState,
    stop: CancellationToken,
) -> std::io::Result<JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    info!(metrics_addr = %listener.local_addr()?, "metrics endpoint ready");
    let app = Router::new()
        .route("/metrics", get(metrics))
        .with_state(state);
    Ok(tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
        if let Err(err) = served {
            warn!(cause = %err, "the metrics listener stopped");
        }
    }))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let core = tokio::time::timeout(HUB_DEADLINE, state.hub.stats())
        .await
        .ok()
        .flatten();
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(core),
    )
}
