//! `GET /healthz`: liveness plus the sync core's counters.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::AppState;

/// The body of `/healthz`.
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

async fn health(State(state): State<AppState>) -> Result<Json<Health>, StatusCode> {
    let stats = state
        .hub
        .stats()
        .await
        .ok_or(StatusCode::SERVICE_UNAVAILABLE)?;
    Ok(Json(Health {
        status: "ok",
        connections: stats.connections,
        loaded_documents: stats.loaded_documents,
        loading_documents: stats.loading_documents,
        packed_documents: stats.packed_documents,
    }))
}
