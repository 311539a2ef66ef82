//! [`SignedIn`]: the extractor every API handler that acts for a signed-in person takes.
//!
//! It finds the access token (`Authorization: Bearer`, else the session cookie), checks it
//! against the directory at the server clock's time and yields the session's
//! [`Identity`]; no token, or one that is expired, revoked or unknown, is answered
//! `401`, a revoked device `403` with `wipe`. Handlers never read tokens themselves.
//! `/sync` is the exception: it is opened with a single-use ticket (a WebSocket cannot
//! carry headers), redeemed in `sync_socket`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::session_api::bearer_or_cookie;
use super::{ApiError, AppState};
use crate::directory::sessions::{self, Identity};

/// The signed-in session a request was made in, checked when the request arrived.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// Who is signed in, on which device and session.
    pub identity: Identity,
    /// The server clock's time when the session was checked (ms since the epoch): the
    /// handler's "now" for everything it does in this request.
    pub now: i64,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_or_cookie(&parts.headers).ok_or(ApiError::Unauthorized)?;
        let now = state.clock.now_ms();
        let identity = state
            .with_directory(move |conn| sessions::authenticate(conn, &token, now))
            .await?;
        Ok(SignedIn { identity, now })
    }
}
