//! Signing in: one attempt's throttle (per username and per client address, counted
//! before the password is checked), the three steps [`begin_login`], the password checked
//! by the caller off the connection, [`finish_login`] (or [`abandon_login`]), and
//! [`login`], all three inline.

use crate::store::sql::{Connection, OptionalExtension, params};
use rand::RngCore;

use super::*;

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
pub(super) fn without_fsync<T>(
    conn: &mut Connection,
    work: impl FnOnce(&mut Connection) -> Result<T, SessionError>,
) -> Result<T, SessionError> {
    conn.sqlite_pragma("synchronous", "NORMAL")?;
    let outcome = work(conn);
    conn.sqlite_pragma("synchronous", "FULL")?;
    outcome
}

/// Gives back an attempt's allowance when its password was never checked (the hashing
/// pool was too busy): its failure row goes.
///
/// # Errors
/// The database's error.
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
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
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
    let ok = crate::directory::password_hashers::check(
        attempt.password,
        pending.stored_hash(),
        &mut memory,
    );
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
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
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
    let row = tx.last_insert_rowid()?;
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
) -> crate::store::sql::Result<()> {
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
) -> crate::store::sql::Result<String> {
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

pub(super) fn insert_session(
    conn: &Connection,
    worker_id: i64,
    device_id: &str,
    now: i64,
) -> crate::store::sql::Result<(IssuedSession, i64)> {
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
    Ok((issued, conn.last_insert_rowid()?))
}
