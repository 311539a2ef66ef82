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

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::audit::{AuditEntry, Outcome, append_audit};
use super::{Role, hash_password};

/// How long an access token is valid.
pub const ACCESS_TTL_MS: i64 = 8 * 60 * 60 * 1000;
/// How long a refresh token is valid (offline for days, then back online).
pub const REFRESH_TTL_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// How long a sync ticket is valid; it is used once, right after it is fetched.
pub const TICKET_TTL_MS: i64 = 30 * 1000;
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
    /// The database failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
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

/// A hash to verify against when the username is unknown, so both paths cost the same.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        let password: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        hash_password(&password).unwrap_or_default()
    })
}

fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
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

fn find_worker(conn: &Connection, username: &str) -> rusqlite::Result<Option<WorkerRow>> {
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

/// One sign-in attempt.
#[derive(Debug, Clone, Copy)]
pub struct SignIn<'a> {
    /// The username typed.
    pub username: &'a str,
    /// The password typed.
    pub password: &'a str,
    /// The client's address as [`address_key`] gives it; `None` when unknown (then only
    /// the username is throttled).
    pub address: Option<&'a str>,
    /// The device id from an earlier sign-in on this device, to keep the same device.
    pub device_hint: Option<&'a str>,
    /// A label for a new device.
    pub device_label: &'a str,
}

/// The key a client address is throttled by: an IPv4 address as it is, an IPv6 address by
/// its /64 prefix (one subscriber's whole allocation; IPv4-mapped addresses as IPv4).
pub fn address_key(address: std::net::IpAddr) -> String {
    use std::net::IpAddr;
    match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let prefix = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{prefix}/64")
            }
        },
    }
}

/// Signs a worker in on a device (reusing `device_hint` if it is theirs and not revoked).
///
/// The attempt is first counted as a failure (see the module doc), so no burst of
/// attempts gets more than the allowed guesses; a locked-out attempt is refused without
/// checking the password, and is not audited here (the HTTP layer audits it, coalescing
/// repeats).
///
/// # Errors
/// [`SessionError::LockedOut`] after too many failures, [`SessionError::BadCredentials`]
/// (the same answer, after the same work, for an unknown user, a wrong password or an
/// inactive account), or [`SessionError::DeviceRevoked`] for a revoked device.
pub fn login(
    conn: &mut Connection,
    attempt: &SignIn<'_>,
    now: i64,
) -> Result<(IssuedSession, Identity), SessionError> {
    let username = attempt.username;
    let provisional = reserve_attempt(conn, username, attempt.address, now)?;
    let worker = find_worker(conn, username)?;
    let stored = worker
        .as_ref()
        .map_or(dummy_hash(), |w| w.password_hash.as_str());
    let password_ok = verify(attempt.password, stored);
    let from = attempt
        .address
        .map_or(String::new(), |address| format!(" from {address}"));
    let worker = match worker {
        Some(worker) if password_ok && worker.active => worker,
        _ => {
            // The provisional failure stays: it was one.
            audit_login(
                conn,
                now,
                None,
                username,
                None,
                Outcome::Denied,
                &format!("bad credentials{from}"),
            )?;
            return Err(SessionError::BadCredentials);
        }
    };

    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute("DELETE FROM login_failures WHERE rowid = ?1", [provisional])?;
    let device_id = match attempt.device_hint {
        Some(hint) => {
            let owned: Option<(i64, Option<i64>)> = tx
                .query_row(
                    "SELECT worker_id, revoked_at FROM devices WHERE device_id = ?1",
                    [hint],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            match owned {
                Some((owner, Some(_))) if owner == worker.worker_id => {
                    tx.commit()?;
                    audit_login(
                        conn,
                        now,
                        Some(worker.worker_id),
                        username,
                        Some(hint),
                        Outcome::Denied,
                        "device revoked",
                    )?;
                    return Err(SessionError::DeviceRevoked);
                }
                Some((owner, None)) if owner == worker.worker_id => hint.to_owned(),
                _ => new_device(&tx, worker.worker_id, attempt.device_label, now)?,
            }
        }
        None => new_device(&tx, worker.worker_id, attempt.device_label, now)?,
    };
    let (issued, session_id) = insert_session(&tx, worker.worker_id, &device_id, now)?;
    append_audit(
        &tx,
        &AuditEntry {
            at: now,
            actor_worker_id: Some(worker.worker_id),
            actor: Some(worker.username.clone()),
            device_id: Some(device_id.clone()),
            action: "login".into(),
            outcome: Outcome::Allowed,
            document_id: None,
            child_id: None,
            detail: attempt.address.map(|address| format!("from {address}")),
        },
    )?;
    tx.commit()?;
    let identity = Identity {
        worker_id: worker.worker_id,
        username: worker.username,
        display_name: worker.display_name,
        role: worker.role,
        team_id: worker.team_id,
        device_id,
        session_id,
    };
    Ok((issued, identity))
}

/// Counts the recent failures for `username` and `address` and, below both limits, records
/// this attempt as a failure, all in one IMMEDIATE transaction (so concurrent attempts see
/// each other's rows). Returns the row's id, to remove if the password is right.
fn reserve_attempt(
    conn: &mut Connection,
    username: &str,
    address: Option<&str>,
    now: i64,
) -> Result<i64, SessionError> {
    let since = now - LOCKOUT_WINDOW_MS;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let (by_user, user_oldest): (i64, Option<i64>) = tx.query_row(
        "SELECT count(*), min(at) FROM login_failures WHERE username = ?1 COLLATE NOCASE AND at > ?2",
        params![username, since],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let (by_address, address_oldest): (i64, Option<i64>) = match address {
        Some(address) => tx.query_row(
            "SELECT count(*), min(at) FROM login_failures WHERE address = ?1 AND at > ?2",
            params![address, since],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?,
        None => (0, None),
    };
    let locked = if by_user >= MAX_FAILURES {
        Some(("username", user_oldest))
    } else if by_address >= MAX_ADDRESS_FAILURES {
        Some(("address", address_oldest))
    } else {
        None
    };
    if let Some((limit, oldest)) = locked {
        let oldest = oldest.unwrap_or(now);
        return Err(SessionError::LockedOut {
            retry_after_secs: ((oldest + LOCKOUT_WINDOW_MS - now) / 1000).max(1),
            limit,
        });
    }
    tx.execute(
        "INSERT INTO login_failures (username, address, at) VALUES (?1, ?2, ?3)",
        params![username, address, now],
    )?;
    let row = tx.last_insert_rowid();
    tx.commit()?;
    Ok(row)
}

fn audit_login(
    conn: &Connection,
    now: i64,
    worker_id: Option<i64>,
    username: &str,
    device_id: Option<&str>,
    outcome: Outcome,
    detail: &str,
) -> rusqlite::Result<()> {
    append_audit(
        conn,
        &AuditEntry {
            at: now,
            actor_worker_id: worker_id,
            actor: Some(username.chars().take(100).collect()),
            device_id: device_id.map(str::to_owned),
            action: "login".into(),
            outcome,
            document_id: None,
            child_id: None,
            detail: Some(detail.into()),
        },
    )
}

fn new_device(
    conn: &Connection,
    worker_id: i64,
    label: &str,
    now: i64,
) -> rusqlite::Result<String> {
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    let device_id: String = std::iter::once("dev-".to_owned())
        .chain(bytes.iter().map(|b| format!("{b:02x}")))
        .collect();
    conn.execute(
        "INSERT INTO devices (device_id, worker_id, label, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            device_id,
            worker_id,
            label.chars().take(100).collect::<String>(),
            now
        ],
    )?;
    Ok(device_id)
}

fn insert_session(
    conn: &Connection,
    worker_id: i64,
    device_id: &str,
    now: i64,
) -> rusqlite::Result<(IssuedSession, i64)> {
    let (token, token_hash) = new_token();
    let (refresh_token, refresh_hash) = new_token();
    let issued = IssuedSession {
        token,
        token_expires_at: now + ACCESS_TTL_MS,
        refresh_token,
        refresh_expires_at: now + REFRESH_TTL_MS,
        device_id: device_id.to_owned(),
    };
    conn.execute(
        "INSERT INTO sessions (token_hash, refresh_hash, worker_id, device_id, created_at,
                               expires_at, refresh_expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            token_hash,
            refresh_hash,
            worker_id,
            device_id,
            now,
            issued.token_expires_at,
            issued.refresh_expires_at
        ],
    )?;
    Ok((issued, conn.last_insert_rowid()))
}

/// The identity behind a valid session, looked up by a column holding a token hash.
fn identity_where(
    conn: &Connection,
    condition: &str,
    hash: &[u8],
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
        .query_row(&sql, [hash], |row| {
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
        &token_hash(token),
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
    let mut identity = identity_where(
        conn,
        "s.refresh_hash = ?1",
        &token_hash(refresh_token),
        now,
        "refresh_expires_at",
    )?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
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

/// A single-use ticket for opening `/sync`, valid [`TICKET_TTL_MS`].
///
/// # Errors
/// [`SessionError::Sqlite`] if it cannot be stored.
pub fn issue_ticket(
    conn: &Connection,
    identity: &Identity,
    now: i64,
) -> Result<(String, i64), SessionError> {
    let (ticket, hash) = new_token();
    let expires_at = now + TICKET_TTL_MS;
    conn.execute(
        "INSERT INTO sync_tickets (ticket_hash, session_id, expires_at) VALUES (?1, ?2, ?3)",
        params![hash, identity.session_id, expires_at],
    )?;
    Ok((ticket, expires_at))
}

/// Uses up a ticket and returns who it was issued to.
///
/// # Errors
/// [`SessionError::Invalid`] for an unknown, used or expired ticket, or a dead session.
pub fn redeem_ticket(conn: &Connection, ticket: &str, now: i64) -> Result<Identity, SessionError> {
    let hash = token_hash(ticket);
    // Using a ticket need not survive a power cut: it expires within 30 seconds and using it
    // again needs the ticket itself. Without the fsync, tablets reconnecting together do
    // not queue behind each other's disk flushes (and SQLite's sleeping busy handler).
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let used = conn.execute(
        "UPDATE sync_tickets SET used_at = ?2
         WHERE ticket_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
        params![hash, now],
    );
    conn.pragma_update(None, "synchronous", "FULL")?;
    let used = used?;
    if used != 1 {
        return Err(SessionError::Invalid);
    }
    let session_id: i64 = conn.query_row(
        "SELECT session_id FROM sync_tickets WHERE ticket_hash = ?1",
        [&hash],
        |row| row.get(0),
    )?;
    let token_hash: Vec<u8> = conn.query_row(
        "SELECT token_hash FROM sessions WHERE session_id = ?1",
        [session_id],
        |row| row.get(0),
    )?;
    identity_where(conn, "s.token_hash = ?1", &token_hash, now, "expires_at")
}

/// Whether a session may still sync: `Ok(())`, or why not.
///
/// # Errors
/// [`SessionError::Invalid`] if it was revoked or expired or its worker deactivated;
/// [`SessionError::DeviceRevoked`] if its device was revoked.
pub fn check_session(conn: &Connection, session_id: i64, now: i64) -> Result<(), SessionError> {
    let token_hash: Option<Vec<u8>> = conn
        .query_row(
            "SELECT token_hash FROM sessions WHERE session_id = ?1",
            [session_id],
            |row| row.get(0),
        )
        .optional()?;
    let hash = token_hash.ok_or(SessionError::Invalid)?;
    identity_where(conn, "s.token_hash = ?1", &hash, now, "expires_at").map(|_| ())
}
