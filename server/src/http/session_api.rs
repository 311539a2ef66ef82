//! The sign-in API: `POST /api/session`, `POST /api/session/refresh`, `DELETE /api/session`,
//! `POST /api/sync-ticket`, `POST /api/sync-credential`.
//!
//! A password is checked on the fixed pool of hashing threads (`AppState::hashers`), never
//! on the request's own thread; a sign-in that cannot get a thread within
//! `--sign-in-wait-secs` is answered `503` with `Retry-After`, and its attempt is not
//! counted against the lockout (its password was never checked).
//!
//! A browser keeps its access token in an HttpOnly cookie; scripts and tests send it as
//! `Authorization: Bearer`. A device that signed out while offline keeps only the SHA-256
//! of its refresh token and sends it with `DELETE /api/session` at its next contact, so
//! the session (and the browser's cookie) stops working even though the device no longer
//! holds a token. Signing in also tells the device the council's [`DevicePolicy`]. `/sync` is opened with a single-use ticket from
//! `/api/sync-ticket` (a WebSocket cannot carry headers) or with the cookie.
//! Tokens never reach the logs: handlers do not log them and the request span records
//! only the path.

use axum::extract::State;
use axum::http::header::{AUTHORIZATION, COOKIE, RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{ApiError, AppState, ClientAddress, SignedIn};
use crate::config::DevicePolicy;
use crate::directory::audit::{AuditEntry, Outcome};
use crate::directory::denial_audit::Denied;
use crate::directory::password_hashers::HashError;
use crate::directory::sessions::{self, Identity, IssuedSession, SessionError, SignIn as Attempt};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "doorstep_session";

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/session", post(sign_in).delete(sign_out))
        .route("/api/session/refresh", post(refresh))
        .route("/api/sync-ticket", post(sync_ticket))
        .route("/api/sync-credential", post(sync_credential))
}

/// `POST /api/session` body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignIn {
    username: String,
    password: String,
    /// The device id from an earlier sign-in on this device, to keep the same device.
    device_id: Option<String>,
    /// A label for a new device, e.g. "Tablet".
    device_label: Option<String>,
}

/// `POST /api/session/refresh` body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Refresh {
    refresh_token: String,
}

/// `DELETE /api/session` body of a device without a token (it signed out offline).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SignOutBody {
    /// Hex SHA-256 of the session's refresh token.
    refresh_token_hash: String,
}

/// A signed-in session as the client sees it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionBody {
    token: String,
    token_expires_at: i64,
    refresh_token: String,
    refresh_expires_at: i64,
    device_id: String,
    worker: WorkerBody,
    device_policy: DevicePolicyBody,
}

/// What the device does about wrong PINs and long silences.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DevicePolicyBody {
    pin_attempts_before_wait: u32,
    pin_wait_secs: u32,
    pin_attempts_before_wipe: u32,
    offline_wipe_days: u32,
    offline_warning_days: u32,
}

impl From<DevicePolicy> for DevicePolicyBody {
    fn from(policy: DevicePolicy) -> Self {
        DevicePolicyBody {
            pin_attempts_before_wait: policy.pin_attempts_before_wait,
            pin_wait_secs: policy.pin_wait_secs,
            pin_attempts_before_wipe: policy.pin_attempts_before_wipe,
            offline_wipe_days: policy.offline_wipe_days,
            offline_warning_days: policy.offline_warning_days,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WorkerBody {
    username: String,
    display_name: String,
    role: &'static str,
    team_id: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TicketBody {
    ticket: String,
    expires_at: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CredentialBody {
    credential: String,
    expires_at: i64,
}

async fn sign_in(
    State(state): State<AppState>,
    client: ClientAddress,
    Json(body): Json<SignIn>,
) -> Result<Response, ApiError> {
    let started = crate::clock::monotonic();
    let answer = sign_in_steps(&state, client, body).await;
    state.metrics.sign_in_seconds.observe(started.elapsed());
    state.metrics.sign_ins.add(match &answer {
        Ok(_) => "ok",
        Err(ApiError::BadCredentials) => "bad_credentials",
        Err(ApiError::TooManyAttempts { .. }) => "locked_out",
        Err(ApiError::SignInBusy { .. }) => "busy",
        Err(ApiError::DeviceRevoked) => "device_revoked",
        Err(ApiError::BadRequest(_)) => "bad_request",
        Err(_) => "unavailable",
    });
    answer
}

/// Counts the attempt and reads the stored hash, checks the password on the hashing
/// pool, then opens the session.
async fn sign_in_steps(
    state: &AppState,
    client: ClientAddress,
    body: SignIn,
) -> Result<Response, ApiError> {
    if body.username.is_empty() || body.password.is_empty() || body.username.len() > 200 {
        return Err(ApiError::BadRequest(
            "enter your username and password".into(),
        ));
    }
    let SignIn {
        username,
        password,
        device_id,
        device_label,
    } = body;
    let label = device_label.unwrap_or_else(|| "unnamed device".into());
    let address = client.key();
    let denials = state.denials.clone();
    let now = state.clock.now_ms();
    let (user, from) = (username.clone(), address.clone());
    let pending = state
        .with_directory(move |conn| {
            let attempt = Attempt {
                username: &user,
                password: "",
                address: from.as_deref(),
                device_hint: None,
                device_label: "",
            };
            let outcome = sessions::begin_login(conn, &attempt, now);
            if let Err(SessionError::LockedOut { limit, .. }) = &outcome {
                // A guesser hammering a locked account: one row per window, with a count.
                let who = Denied::Address(from.clone().unwrap_or_default());
                let entry = AuditEntry::new(now, "login", Outcome::Denied)
                    .by_name(None, user.chars().take(100).collect::<String>())
                    .detail(format!(
                        "locked out ({limit} limit){}",
                        from.as_deref()
                            .map_or(String::new(), |address| format!(" from {address}"))
                    ));
                denials.record(conn, who, entry)?;
            }
            outcome
        })
        .await
        .inspect_err(|err| tracing::warn!(%username, reason = %err, "sign-in refused"))?;
    let stored = pending.stored_hash().map(str::to_owned);
    let checked = state
        .hashers
        .verify(password.clone(), stored, state.sign_in_wait)
        .await;
    let password_ok = match checked {
        Ok(ok) => ok,
        Err(err) => {
            // Nothing was checked: the attempt's allowance goes back.
            let _ = state
                .with_directory(move |conn| sessions::abandon_login(conn, pending))
                .await;
            tracing::warn!(%username, reason = %err, "sign-in not checked");
            return Err(match err {
                HashError::Busy { retry_after_secs } => ApiError::SignInBusy { retry_after_secs },
                HashError::Stopped => ApiError::Unavailable("the server is stopping".into()),
            });
        }
    };
    let user = username.clone();
    let now = state.clock.now_ms();
    let signed_in = state
        .with_directory(move |conn| {
            let attempt = Attempt {
                username: &user,
                password: &password,
                address: address.as_deref(),
                device_hint: device_id.as_deref(),
                device_label: &label,
            };
            sessions::finish_login(conn, pending, password_ok, &attempt, now)
        })
        .await;
    let (issued, identity) = match signed_in {
        Ok(signed_in) => signed_in,
        Err(err) => {
            tracing::warn!(%username, reason = %err, "sign-in refused");
            return Err(err);
        }
    };
    tracing::info!(username = %identity.username, device = %identity.device_id, "signed in");
    Ok(session_response(
        state,
        StatusCode::CREATED,
        issued,
        &identity,
    ))
}

async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<Refresh>,
) -> Result<Response, ApiError> {
    let now = state.clock.now_ms();
    let (issued, identity) = state
        .with_directory(move |conn| sessions::refresh(conn, &body.refresh_token, now))
        .await?;
    Ok(session_response(&state, StatusCode::OK, issued, &identity))
}

async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Option<Json<SignOutBody>>,
) -> Result<Response, ApiError> {
    let now = state.clock.now_ms();
    match (bearer_or_cookie(&headers), body) {
        // A device that signed out offline names its session by its refresh token's hash
        // (the cookie, if the browser still sends one, may be for the same session).
        (_, Some(Json(body))) => {
            let hash = hex_bytes(&body.refresh_token_hash).ok_or_else(|| {
                ApiError::BadRequest("refreshTokenHash must be 64 hex digits".into())
            })?;
            let revoked = state
                .with_directory(move |conn| sessions::logout_by_refresh_hash(conn, &hash, now))
                .await?;
            tracing::info!(revoked, "offline sign-out completed");
        }
        (Some(token), None) => {
            state
                .with_directory(move |conn| sessions::logout(conn, &token, now))
                .await?;
        }
        (None, None) => return Err(ApiError::Unauthorized),
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let expired = format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    if let Ok(value) = HeaderValue::from_str(&expired) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    Ok(response)
}

/// A single-use ticket for `/sync?ticket=…`: the bearer token checked (one indexed read),
/// then the ticket drawn and kept in memory (see `directory::sync_tickets`).
async fn sync_ticket(
    State(state): State<AppState>,
    SignedIn { identity, now }: SignedIn,
) -> Result<Json<TicketBody>, ApiError> {
    let (ticket, expires_at) = state.tickets.issue(&identity, now);
    Ok(Json(TicketBody { ticket, expires_at }))
}

/// The session's sync credential for `/sync?credential=…`, usable for every reconnect
/// until the session ends (issuing again replaces it).
async fn sync_credential(
    State(state): State<AppState>,
    SignedIn { identity, now }: SignedIn,
) -> Result<Response, ApiError> {
    let (credential, expires_at) = state
        .with_directory(move |conn| sessions::issue_sync_credential(conn, &identity, now))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CredentialBody {
            credential,
            expires_at,
        }),
    )
        .into_response())
}

fn session_response(
    state: &AppState,
    status: StatusCode,
    issued: IssuedSession,
    identity: &Identity,
) -> Response {
    let max_age = (issued.token_expires_at - state.clock.now_ms()) / 1000;
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}",
        issued.token
    );
    let body = SessionBody {
        token: issued.token,
        token_expires_at: issued.token_expires_at,
        refresh_token: issued.refresh_token,
        refresh_expires_at: issued.refresh_expires_at,
        device_id: issued.device_id,
        worker: WorkerBody {
            username: identity.username.clone(),
            display_name: identity.display_name.clone(),
            role: identity.role.code(),
            team_id: identity.team_id,
        },
        device_policy: state.device_policy.into(),
    };
    let mut response = (status, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}

/// 32 bytes from 64 hex digits.
fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    (0..32)
        .map(|index| u8::from_str_radix(&text[index * 2..index * 2 + 2], 16).ok())
        .collect()
}

/// The access token from `Authorization: Bearer …` or the session cookie.
pub(super) fn bearer_or_cookie(headers: &HeaderMap) -> Option<String> {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    bearer.or_else(|| {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|pair| {
                pair.trim()
                    .strip_prefix(&format!("{SESSION_COOKIE}="))
                    .map(str::to_owned)
            })
    })
}

impl From<SessionError> for ApiError {
    fn from(err: SessionError) -> Self {
        match err {
            SessionError::BadCredentials => ApiError::BadCredentials,
            SessionError::LockedOut {
                retry_after_secs, ..
            } => ApiError::TooManyAttempts { retry_after_secs },
            SessionError::DeviceRevoked => ApiError::DeviceRevoked,
            SessionError::Invalid => ApiError::Unauthorized,
            SessionError::Database(err) => ApiError::from(err),
        }
    }
}

/// Adds `Retry-After` to 429 and 503 answers.
pub(super) fn retry_after(response: &mut Response, secs: i64) {
    if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
}
