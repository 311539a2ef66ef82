//! A session's sync credential: a reusable secret, stored hashed, that opens
//! `/sync?credential=…` while its session lives (for clients that reconnect with one URL).

use crate::store::sql::{Connection, OptionalExtension, params};

use super::*;

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
