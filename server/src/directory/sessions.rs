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

use rand::RngCore;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::Role;
use super::audit::{AuditEntry, Outcome, append_audit};

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

/// A sign-in attempt counted and its stored hash read ([`begin_login`]), waiting for its
/// password to be checked.
pub struct PendingLogin {
    /// The failure row recorded for this attempt (removed if the password is right).
    provisional: i64,
    worker: Option<WorkerRow>,
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the stored hash.
        f.debug_struct("PendingLogin")
            .field("provisional", &self.provisional)
            .field("known_user", &self.worker.is_some())
            .finish()
    }
}

impl PendingLogin {
    /// The stored PHC hash to check the password against; `None` for an unknown username
    /// (checked all the same, against nothing, so both cost the same).
    pub fn stored_hash(&self) -> Option<&str> {
        self.worker.as_ref().map(|w| w.password_hash.as_str())
    }
}

/// Counts a sign-in attempt and reads what its password must be checked against.
///
/// The attempt is first counted as a failure (see the module doc), so no burst of
/// attempts gets more than the allowed guesses; a locked-out attempt is refused without
/// checking the password, and is not audited here (the HTTP layer audits it, coalescing
/// repeats).
///
/// # Errors
/// [`SessionError::LockedOut`] after too many failures.
pub fn begin_login(
    conn: &mut Connection,
    attempt: &SignIn<'_>,
    now: i64,
) -> Result<PendingLogin, SessionError> {
    without_fsync(conn, |conn| {
        let provisional = reserve_attempt(conn, attempt.username, attempt.address, now)?;
        let worker = find_worker(conn, attempt.username)?;
        Ok(PendingLogin {
            provisional,
            worker,
        })
    })
}

/// Runs sign-in bookkeeping (attempts counted, sessions opened or refreshed, sync
/// credentials) with `synchronous=NORMAL`: each commit is atomic and isolated as ever (the
/// lockout count stays exact under any concurrency) but waits for no fsync of its own; the
/// WAL reaches the disk with the storage thread's next commit (or the next checkpoint). A
/// power cut in between can forget the last moments' sign-ins: a device then signs in
/// again. Documents, sign-outs and revocations keep `synchronous=FULL`.
fn without_fsync<T>(
    conn: &mut Connection,
    work: impl FnOnce(&mut Connection) -> Result<T, SessionError>,
) -> Result<T, SessionError> {
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let outcome = work(conn);
    conn.pragma_update(None, "synchronous", "FULL")?;
    outcome
}

/// Gives back an attempt's allowance when its password was never checked (the hashing
/// pool was too busy): its failure row goes.
///
/// # Errors
/// The SQLite error.
pub fn abandon_login(conn: &mut Connection, pending: PendingLogin) -> Result<(), SessionError> {
    without_fsync(conn, |conn| {
        conn.execute(
            "DELETE FROM login_failures WHERE rowid = ?1",
            [pending.provisional],
        )?;
        Ok(())
    })
}

/// Signs a worker in on a device (reusing `device_hint` if it is theirs and not revoked),
/// once `password_ok` says whether the password matched [`PendingLogin::stored_hash`].
///
/// # Errors
/// [`SessionError::BadCredentials`] (the same answer, after the same work, for an unknown
/// user, a wrong password or an inactive account), or [`SessionError::DeviceRevoked`] for
/// a revoked device.
pub fn finish_login(
    conn: &mut Connection,
    pending: PendingLogin,
    password_ok: bool,
    attempt: &SignIn<'_>,
    now: i64,
) -> Result<(IssuedSession, Identity), SessionError> {
    without_fsync(conn, |conn| {
        open_session(conn, pending, password_ok, attempt, now)
    })
}

fn open_session(
    conn: &mut Connection,
    pending: PendingLogin,
    password_ok: bool,
    attempt: &SignIn<'_>,
    now: i64,
) -> Result<(IssuedSession, Identity), SessionError> {
    let username = attempt.username;
    let PendingLogin {
        provisional,
        worker,
    } = pending;
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

/// [`begin_login`], the password checked on this thread, then [`finish_login`]: for tools
/// and tests (the server checks passwords on its hashing pool).
///
/// # Errors
/// As [`begin_login`] and [`finish_login`].
pub fn login(
    conn: &mut Connection,
    attempt: &SignIn<'_>,
    now: i64,
) -> Result<(IssuedSession, Identity), SessionError> {
    let pending = begin_login(conn, attempt, now)?;
    let mut memory = Vec::new();
    let ok = super::password_hashers::check(attempt.password, pending.stored_hash(), &mut memory);
    finish_login(conn, pending, ok, attempt, now)
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
    key: impl rusqlite::ToSql,
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

/// Issues the session's sync credential (replacing any earlier one): a secret that opens
/// `/sync?credential=…` as often as needed until the session ends. Returns it and when
/// the session expires.
///
/// # Errors
/// [`SessionError::Sqlite`] if it cannot be stored.
pub fn issue_sync_credential(
    conn: &mut Connection,
    identity: &Identity,
    now: i64,
) -> Result<(String, i64), SessionError> {
    without_fsync(conn, |conn| store_credential(conn, identity, now))
}

fn store_credential(
    conn: &Connection,
    identity: &Identity,
    now: i64,
) -> Result<(String, i64), SessionError> {
    let (credential, hash) = new_token();
    conn.execute(
        "INSERT INTO sync_credentials (session_id, credential_hash, created_at)
         VALUES (?1, ?2, ?3)
         ON CONFLICT (session_id) DO UPDATE SET credential_hash = ?2, created_at = ?3",
        params![identity.session_id, hash, now],
    )?;
    let expires_at: i64 = conn.query_row(
        "SELECT expires_at FROM sessions WHERE session_id = ?1",
        [identity.session_id],
        |row| row.get(0),
    )?;
    Ok((credential, expires_at))
}

/// The identity behind a sync credential, if its session may still sync.
///
/// # Errors
/// [`SessionError::Invalid`] for an unknown credential or a dead session,
/// [`SessionError::DeviceRevoked`] if its device was revoked.
pub fn redeem_sync_credential(
    conn: &Connection,
    credential: &str,
    now: i64,
) -> Result<Identity, SessionError> {
    let session_id: Option<i64> = conn
        .prepare_cached("SELECT session_id FROM sync_credentials WHERE credential_hash = ?1")?
        .query_row([token_hash(credential)], |row| row.get(0))
        .optional()?;
    session_identity(conn, session_id.ok_or(SessionError::Invalid)?, now)
}
