//! `GET /healthz`: the truth about the server's parts, plus the sync core's counters.
//!
//! `200 {"status":"ok",…}` only when the hub answers, no component has died and the
//! database files are the ones opened at start and writable. Otherwise `503` with a JSON
//! reason: `{"status":"degraded","storage":"database file removed"}` while storage fails
//! (writes are not acknowledged), `{"status":"failed","component":"hub thread panicked: …"}`
//! after a component died (the server is stopping, so that a supervisor restarts it), or
//! `{"status":"unresponsive"}` if the hub does not answer within [`HUB_DEADLINE`].

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;

use super::AppState;

/// How long the hub may take to report its counters before the server counts as unresponsive.
const HUB_DEADLINE: Duration = Duration::from_secs(5);

/// The body of `/healthz` when all is well.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Health {
    status: &'static str,
    connections: usize,
    loaded_documents: usize,
    loading_documents: usize,
    /// Of the loaded documents, how many are held packed (see `--live-documents`).
    packed_documents: usize,
}

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(health))
}

async fn health(State(state): State<AppState>) -> Response {
    let unavailable =
        |body: serde_json::Value| (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
    if let Some(component) = state.health.dead_component() {
        return unavailable(json!({ "status": "failed", "component": component }));
    }
    if let Err(storage) = state.health.storage() {
        return unavailable(json!({ "status": "degraded", "storage": storage }));
    }
    match tokio::time::timeout(HUB_DEADLINE, state.hub.stats()).await {
        Ok(Some(stats)) => Json(Health {
            status: "ok",
            connections: stats.connections,
            loaded_documents: stats.loaded_documents,
            loading_documents: stats.loading_documents,
            packed_documents: stats.packed_documents,
        })
        .into_response(),
        Ok(None) => unavailable(json!({ "status": "failed", "component": "hub thread stopped" })),
        Err(_) => unavailable(json!({ "status": "unresponsive" })),
    }
}
