//! [`ApiError`]: every way an API request fails, as an HTTP status and a JSON message.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tracing::error;

/// A failed API request. 4xx answers say what is wrong; 5xx answers say only
/// "internal error" and the cause goes to the log.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// Sign-in failed (same answer for unknown user and wrong password).
    #[error("username or password is not right")]
    BadCredentials,
    /// No valid session: sign in again.
    #[error("sign in again")]
    Unauthorized,
    /// The device was revoked; the client must wipe its local copy.
    #[error("this device has been revoked; its local data must be wiped")]
    DeviceRevoked,
    /// Too many failed sign-ins.
    #[error("too many failed sign-ins; try again in {retry_after_secs} seconds")]
    TooManyAttempts {
        /// Seconds until another attempt is allowed.
        retry_after_secs: i64,
    },
    /// Signed in, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// No such thing (or not one the caller may know about).
    #[error("{0}")]
    NotFound(String),
    /// The thing changed since the caller read it.
    #[error("{0}")]
    Conflict(String),
    /// The request is well formed but the record is not in a state for it.
    #[error("{0}")]
    Unprocessable(String),
    /// The server is stopping or cannot take the work now.
    #[error("{0}")]
    Unavailable(String),
    /// Too many sign-ins at once: this one could not get a password-hashing thread in time.
    #[error("too many people are signing in at once; try again in {retry_after_secs} seconds")]
    SignInBusy {
        /// Seconds to wait before trying again.
        retry_after_secs: u64,
    },
    /// The database cannot be written (its file removed, the disk full, ...): nothing is
    /// done until storage recovers.
    #[error("the server cannot store anything right now ({0}); try again later")]
    StorageUnavailable(String),
    /// Something broke on the server.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status for this error.
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::BadCredentials | ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::DeviceRevoked | ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_)
            | ApiError::StorageUnavailable(_)
            | ApiError::SignInBusy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            error!(%cause, "request failed");
        }
        let body = match &self {
            ApiError::DeviceRevoked => json!({ "error": self.to_string(), "wipe": true }),
            _ => json!({ "error": self.to_string() }),
        };
        let mut response = (self.status_code(), Json(body)).into_response();
        match self {
            ApiError::TooManyAttempts { retry_after_secs } => {
                super::session_api::retry_after(&mut response, retry_after_secs);
            }
            ApiError::SignInBusy { retry_after_secs } => {
                super::session_api::retry_after(&mut response, retry_after_secs as i64);
            }
            _ => {}
        }
        response
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(err: crate::store::StoreError) -> Self {
        match crate::store::storage_fault(&err) {
            Some(fault) => ApiError::StorageUnavailable(fault.to_owned()),
            None => ApiError::Internal(err.to_string()),
        }
    }
}
