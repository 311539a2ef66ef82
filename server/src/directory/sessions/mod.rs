//! Sign-in, sessions bound to devices, refresh, logout and single-use sync tickets.
//!
//! Tokens are 32 random bytes shown to the client once as hex; only their SHA-256 hash is
//! stored, so a copy of the database does not let anyone sign in. Access tokens live
//! [`ACCESS_TTL_MS`]; refresh tokens live [`REFRESH_TTL_MS`] (a worker may be offline for
//! days) and rotate on every refresh.
//!
//! Password guessing is throttled per username ([`MAX_FAILURES`] within
//! [`LOCKOUT_WINDOW_MS`]) and per client address ([`MAX_ADDRESS_FAILURES`]; an IPv6 address
//! counts by its /64). The count is taken and the attempt recorded as a failure in one
//! IMMEDIATE transaction *before* the password is checked; a right password then removes
//! its own row. So however many attempts arrive at once, no more than the limit are ever
//! checked, and once the limit is reached even the right password is refused until the
//! window has passed. A successful sign-in does not wipe earlier failures (else each one
//! would give a concurrent guesser a fresh allowance).
//!
//! Signing in is three steps so that the password is checked off the database
//! connection, on the fixed pool of `password_hashers`: [`begin_login`] counts the attempt
//! and reads the stored hash, the caller checks the password, [`finish_login`] opens the
//! session (or [`abandon_login`] gives the allowance back when the pool was too busy to
//! check anything). [`login`] does all three inline, for tools and tests.
//!
//! A session can also carry one **sync credential** ([`issue_sync_credential`]): a random
//! secret, stored hashed, that opens `/sync?credential=…` as often as needed while its
//! session lives, for clients that reconnect with the same URL (the official
//! automerge-repo WebSocket adapter). It dies with its session: sign-out, refresh (which
//! ends the session it refreshes), expiry, device revocation, a new password.

use crate::store::sql::{Connection, OptionalExtension, params};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::Role;
use super::audit::{AuditEntry, Outcome, append_audit};

mod sign_in;
mod sync_credential;

pub use sign_in::{
    PendingLogin, SignIn, abandon_login, address_key, begin_login, finish_login, login,
};
use sign_in::{insert_session, without_fsync};
pub use sync_credential::{issue_sync_credential, redeem_sync_credential};

/// How long an access token is valid.
pub const ACCESS_TTL_MS: i64 = 8 * 60 * 60 * 1000;
/// How long a refresh token is valid (offline for days, then back online).
pub const REFRESH_TTL_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// The window in which failures are counted, and the lockout's length.
pub const LOCKOUT_WINDOW_MS: i64 = 15 * 60 * 1000;
/// Failures within the window that lock a username.
pub const MAX_FAILURES: i64 = 5;
/// Failures within the window, over all usernames, that lock a client address (an office
/// behind one NAT shares it, so it is well above [`MAX_FAILURES`]).
pub const MAX_ADDRESS_FAILURES: i64 = 20;

/// Who is on the other end of an authenticated request or connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The worker's row id.
    pub worker_id: i64,
    /// The worker's username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Team, if any.
    pub team_id: Option<i64>,
    /// The device the session is bound to.
    pub device_id: String,
    /// The session's row id.
    pub session_id: i64,
}

/// A freshly issued session: the only time the tokens exist in clear.
#[derive(Debug, Clone)]
pub struct IssuedSession {
    /// Bearer token for API calls (and the session cookie).
    pub token: String,
    /// When `token` expires (ms since the epoch).
    pub token_expires_at: i64,
    /// Token to get a new pair.
    pub refresh_token: String,
    /// When `refresh_token` expires.
    pub refresh_expires_at: i64,
    /// The device the session is bound to.
    pub device_id: String,
}

/// Why a sign-in or token was refused.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Unknown user, wrong password, or inactive account (never says which).
    #[error("username or password is not right")]
    BadCredentials,
    /// Too many failures: try again later.
    #[error("too many failed sign-ins; try again in {retry_after_secs} seconds")]
    LockedOut {
        /// Seconds until the lockout ends.
        retry_after_secs: i64,
        /// Which limit was reached: `"username"` or `"address"` (for the audit row).
        limit: &'static str,
    },
    /// The device was revoked: it must wipe its local copy.
    #[error("this device has been revoked; its local data must be wiped")]
    DeviceRevoked,
    /// The token or ticket is unknown, used, revoked or expired.
    #[error("sign in again")]
    Invalid,
    /// The database reported an error.
    #[error(transparent)]
    Database(#[from] crate::store::StoreError),
}

/// A new random token (hex) and its stored hash.
fn new_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let hash = token_hash(&token);
    (token, hash)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

struct WorkerRow {
    worker_id: i64,
    username: String,
    display_name: String,
    role: Role,
    team_id: Option<i64>,
    password_hash: String,
    active: bool,
}

fn find_worker(conn: &Connection, username: &str) -> crate::store::sql::Result<Option<WorkerRow>> {
    conn.query_row(
        "SELECT worker_id, username, display_name, role, team_id, password_hash, active
         FROM workers WHERE username = ?1",
        [username],
        |row| {
            Ok(WorkerRow {
                worker_id: row.get(0)?,
                username: row.get(1)?,
                display_name: row.get(2)?,
                role: Role::from_code(&row.get::<_, String>(3)?).unwrap_or(Role::SocialWorker),
                team_id: row.get(4)?,
                password_hash: row.get(5)?,
                active: row.get(6)?,
            })
        },
    )
    .optional()
}

/// The identity behind a valid session, looked up by a column holding a token hash.
fn identity_where(
    conn: &Connection,
    condition: &str,
    key: impl crate::store::sql::ToSql,
    now: i64,
    expiry_column: &str,
) -> Result<Identity, SessionError> {
    let sql = format!(
        "SELECT s.session_id, s.revoked_at, s.{expiry_column}, d.revoked_at,
                w.worker_id, w.username, w.display_name, w.role, w.team_id, w.active, d.device_id
         FROM sessions s JOIN workers w ON w.worker_id = s.worker_id
                         JOIN devices d ON d.device_id = s.device_id
         WHERE {condition}"
    );
    let row = conn
        .prepare_cached(&sql)?
        .query_row([key], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, Option<i64>>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, Option<i64>>(3)?,
                Identity {
                    worker_id: row.get(4)?,
                    username: row.get(5)?,
                    display_name: row.get(6)?,
                    role: Role::from_code(&row.get::<_, String>(7)?).unwrap_or(Role::SocialWorker),
                    team_id: row.get(8)?,
                    device_id: row.get(10)?,
                    session_id: row.get(0)?,
                },
                row.get::<_, bool>(9)?,
            ))
        })
        .optional()?;
    match row {
        None => Err(SessionError::Invalid),
        Some((_, _, _, Some(_), _, _)) => Err(SessionError::DeviceRevoked),
        Some((_, Some(_), _, _, _, _)) => Err(SessionError::Invalid),
        Some((_, None, expires, None, identity, active)) if expires > now && active => Ok(identity),
        Some(_) => Err(SessionError::Invalid),
    }
}

/// The identity behind an access token.
///
/// # Errors
/// [`SessionError::Invalid`] for an unknown, expired or revoked token;
/// [`SessionError::DeviceRevoked`] if its device was revoked.
pub fn authenticate(conn: &Connection, token: &str, now: i64) -> Result<Identity, SessionError> {
    identity_where(
        conn,
        "s.token_hash = ?1",
        token_hash(token),
        now,
        "expires_at",
    )
}

/// Rotates a session's tokens.
///
/// # Errors
/// As [`authenticate`], for the refresh token.
pub fn refresh(
    conn: &mut Connection,
    refresh_token: &str,
    now: i64,
) -> Result<(IssuedSession, Identity), SessionError> {
    without_fsync(conn, |conn| rotate(conn, refresh_token, now))
}

fn rotate(
    conn: &mut Connection,
    refresh_token: &str,
    now: i64,
) -> Result<(IssuedSession, Identity), SessionError> {
    let mut identity = identity_where(
        conn,
        "s.refresh_hash = ?1",
        token_hash(refresh_token),
        now,
        "refresh_expires_at",
    )?;
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    tx.execute(
        "UPDATE sessions SET revoked_at = ?2 WHERE session_id = ?1",
        params![identity.session_id, now],
    )?;
    let (issued, session_id) = insert_session(&tx, identity.worker_id, &identity.device_id, now)?;
    tx.commit()?;
    identity.session_id = session_id;
    Ok((issued, identity))
}

/// Ends the session behind `token`.
///
/// # Errors
/// As [`authenticate`].
pub fn logout(conn: &Connection, token: &str, now: i64) -> Result<Identity, SessionError> {
    let identity = authenticate(conn, token, now)?;
    conn.execute(
        "UPDATE sessions SET revoked_at = ?2 WHERE session_id = ?1",
        params![identity.session_id, now],
    )?;
    append_audit(
        conn,
        &AuditEntry {
            at: now,
            actor_worker_id: Some(identity.worker_id),
            actor: Some(identity.username.clone()),
            device_id: Some(identity.device_id.clone()),
            action: "logout".into(),
            outcome: Outcome::Allowed,
            document_id: None,
            child_id: None,
            detail: None,
        },
    )?;
    Ok(identity)
}

/// Signs out the session whose refresh token hashes (SHA-256) to `refresh_hash`: what a
/// device that signed out offline sends at its next contact, having kept only the hash
/// (which authenticates nothing: only the token itself does). The session is revoked
/// whether or not it has expired; an unknown or already revoked session changes
/// nothing. Returns whether a session was revoked.
///
/// # Errors
/// [`SessionError::Sqlite`] if the directory cannot be written.
pub fn logout_by_refresh_hash(
    conn: &Connection,
    refresh_hash: &[u8],
    now: i64,
) -> Result<bool, SessionError> {
    let found: Option<(i64, i64, String, String)> = conn
        .query_row(
            "SELECT s.session_id, w.worker_id, w.username, s.device_id
             FROM sessions s JOIN workers w ON w.worker_id = s.worker_id
             WHERE s.refresh_hash = ?1 AND s.revoked_at IS NULL",
            [refresh_hash],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .optional()?;
    let Some((session_id, worker_id, username, device_id)) = found else {
        return Ok(false);
    };
    conn.execute(
        "UPDATE sessions SET revoked_at = ?2 WHERE session_id = ?1",
        params![session_id, now],
    )?;
    append_audit(
        conn,
        &AuditEntry {
            at: now,
            actor_worker_id: Some(worker_id),
            actor: Some(username),
            device_id: Some(device_id),
            action: "logout".into(),
            outcome: Outcome::Allowed,
            document_id: None,
            child_id: None,
            detail: Some("signed out while offline; revoked at the device's next contact".into()),
        },
    )?;
    Ok(true)
}

/// The identity behind a session that may still sync (not revoked, not expired, its
/// worker active and its device not revoked).
///
/// # Errors
/// [`SessionError::Invalid`] if it was revoked or expired or its worker deactivated;
/// [`SessionError::DeviceRevoked`] if its device was revoked.
pub fn session_identity(
    conn: &Connection,
    session_id: i64,
    now: i64,
) -> Result<Identity, SessionError> {
    identity_where(conn, "s.session_id = ?1", session_id, now, "expires_at")
}

/// Whether a session may still sync: `Ok(())`, or why not.
///
/// # Errors
/// As [`session_identity`].
pub fn check_session(conn: &Connection, session_id: i64, now: i64) -> Result<(), SessionError> {
    session_identity(conn, session_id, now).map(|_| ())
}
