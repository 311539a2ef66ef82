//! The HTTP surface: `/sync` (WebSocket), `/healthz`, the API under `/api` (sign-in,
//! caseload, team dashboard, visit review and sign-off; see `server/openapi.yaml`) and
//! the web app (the PWA's static files) at `/`.

mod api_error;
mod break_glass_api;
mod caseload_api;
mod client_address;
mod corrections_api;
mod dashboard_api;
mod health;
mod json_errors;
mod metrics_api;
mod origin_check;
mod pacer;
mod records_api;
mod review_api;
mod security_headers;
mod serve;
mod session_api;
mod signed_in;
mod sync_socket;
mod web_app;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use api_error::ApiError;
pub use client_address::ClientAddress;
pub use metrics_api::serve_metrics;
pub use serve::serve;
pub use signed_in::SignedIn;

use crate::health::Health;
use crate::hub::HubHandle;
use crate::store::ConnectionPool;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The hub that owns the sync core.
    pub hub: HubHandle,
    /// The API's database connections, opened once at start.
    pub directory: Arc<ConnectionPool>,
    /// Storage and component health (a failing database refuses API work with 503).
    pub health: Arc<Health>,
    /// Counts repeated identical denials so each is audited once per window, with a count.
    pub denials: Arc<crate::directory::denial_audit::DenialAudit>,
    /// A TLS-terminating proxy is in front (the origin is `https`, and the client's
    /// address is the last hop of `X-Forwarded-For`).
    pub behind_tls_proxy: bool,
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
    /// The visit-schedule rules the dashboard applies (and the devices, told with their
    /// caseload).
    pub schedule_policy: shared::schedule::SchedulePolicy,
    /// What workers' devices do about wrong PINs and long silences.
    pub device_policy: crate::config::DevicePolicy,
    /// Sync messages per second each connection may send on average.
    pub max_messages_per_sec: u32,
    /// Sync messages a connection may send at once before pacing starts.
    pub message_burst: u32,
    /// The threads that check passwords (each with one reused Argon2id buffer).
    pub hashers: Arc<crate::directory::password_hashers::PasswordHashers>,
    /// How long a sign-in may wait for a hashing thread (then `503` + `Retry-After`).
    pub sign_in_wait: std::time::Duration,
    /// The single-use sync tickets issued and not yet used (in memory).
    pub tickets: Arc<crate::directory::sync_tickets::SyncTickets>,
    /// The figures `/metrics` serves.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The time of day (the server's one clock; tests may pass a fixed one).
    pub clock: crate::clock::Clock,
    /// How long a break-glass access lasts.
    pub break_glass_for: std::time::Duration,
}

impl AppState {
    /// Runs blocking directory work on a pooled connection, off the async reactor.
    ///
    /// While storage is failing (the database file removed or replaced, the disk full,
    /// the file read-only) nothing runs: the answer is 503, so no sign-in, session or audit
    /// row is written into a file that is not the database. A storage fault the work itself
    /// meets is recorded for `/healthz` and answered the same way.
    ///
    /// # Errors
    /// The closure's error, [`ApiError::StorageUnavailable`] while storage is failing, or
    /// [`ApiError::Unavailable`] if the server is stopping.
    pub async fn with_directory<T, E>(
        &self,
        work: impl FnOnce(&mut crate::directory::Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, ApiError>
    where
        T: Send + 'static,
        E: Into<ApiError> + Send + 'static,
    {
        self.health
            .storage()
            .map_err(ApiError::StorageUnavailable)?;
        let outcome = self
            .directory
            .run(move |conn| work(conn).map_err(Into::into))
            .await
            .map_err(|err| match err {
                crate::store::StoreError::PoolClosed => {
                    ApiError::Unavailable("the server is stopping".into())
                }
                other => ApiError::Internal(other.to_string()),
            })?;
        if let Err(ApiError::StorageUnavailable(fault)) = &outcome {
            self.health.write_failed(fault);
        }
        outcome
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
        .merge(corrections_api::router())
        .merge(records_api::router())
        .merge(break_glass_api::router())
        .merge(sync_socket::router())
        .layer(axum::middleware::from_fn(json_errors::json_errors));
    web_app::add_to(api, state.web_dir.as_deref())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            origin_check::refuse_cross_origin,
        ))
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
