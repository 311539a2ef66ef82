//! The HTTP surface: `/sync` (WebSocket), `/healthz`, the API under `/api` (sign-in,
//! caseload, team dashboard, visit review and sign-off; see `server/openapi.yaml`) and
//! the web app (the PWA's static files) at `/`.

mod api_error;
mod caseload_api;
mod dashboard_api;
mod health;
mod pacer;
mod review_api;
mod security_headers;
mod serve;
mod session_api;
mod sync_socket;
mod web_app;

use std::path::PathBuf;

use axum::Router;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use api_error::ApiError;
pub use serve::serve;

use crate::hub::HubHandle;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The hub that owns the sync core.
    pub hub: HubHandle,
    /// The data directory (for directory connections).
    pub data_dir: PathBuf,
    /// Largest WebSocket frame accepted, in bytes.
    pub max_frame_bytes: usize,
    /// Whether cookies get the `Secure` flag (TLS is on, here or at a proxy).
    pub secure_cookies: bool,
    /// Cancelled when the server shuts down; socket loops watch it.
    pub shutdown: CancellationToken,
    /// Tracks socket tasks so shutdown can wait for them.
    pub sockets: TaskTracker,
    /// The built web app served at `/`, if any.
    pub web_dir: Option<PathBuf>,
    /// The visit-schedule rules the dashboard applies.
    pub schedule_policy: shared::schedule::SchedulePolicy,
    /// Sync messages per second each connection may send on average.
    pub max_messages_per_sec: u32,
    /// Sync messages a connection may send at once before pacing starts.
    pub message_burst: u32,
}

impl AppState {
    /// Runs blocking directory work on a fresh connection, off the async reactor.
    ///
    /// # Errors
    /// The closure's error, or [`ApiError::Internal`] if the database cannot be opened.
    pub async fn with_directory<T, E>(
        &self,
        work: impl FnOnce(&mut rusqlite::Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, ApiError>
    where
        T: Send + 'static,
        E: Into<ApiError> + Send + 'static,
    {
        let data_dir = self.data_dir.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = crate::directory::open_connection(&data_dir)
                .map_err(|err| ApiError::Internal(err.to_string()))?;
            work(&mut conn).map_err(Into::into)
        })
        .await
        .map_err(|err| ApiError::Internal(err.to_string()))?
    }
}

/// The whole router.
pub fn app(state: AppState) -> Router {
    let hsts = state.secure_cookies;
    let api = Router::new()
        .merge(health::router())
        .merge(session_api::router())
        .merge(caseload_api::router())
        .merge(dashboard_api::router())
        .merge(review_api::router())
        .merge(sync_socket::router());
    web_app::add_to(api, state.web_dir.as_deref())
        .layer(axum::middleware::from_fn_with_state(
            hsts,
            security_headers::add_security_headers,
        ))
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(|request: &axum::http::Request<_>| {
                    // The path only: a query string may hold a sync ticket.
                    tracing::debug_span!("http", method = %request.method(), path = %request.uri().path())
                }),
        )
        .with_state(state)
}
