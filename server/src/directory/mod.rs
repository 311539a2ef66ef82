//! The directory: who works here, which children they hold, their devices and sessions,
//! and the append-only audit log (SQLite, migration 0002); retention and subject access
//! (migration 0007).
//!
//! **Architecture Invariant:** SQL lives only in `server::store` (documents),
//! `server::projection` (the dashboard's tables) and here (people, access, audit); other
//! modules name the connection type as [`Connection`], never the SQLite crate.

pub mod access;
pub mod admin;
pub mod audit;
pub mod caseload;
pub mod child_import;
pub mod corrections;
pub mod demo_council;
pub mod denial_audit;
pub mod password_hashers;
pub mod restricted;
pub mod retention;
pub mod sessions;
pub mod subject_access;
pub mod sync_tickets;

use std::path::Path;

pub use crate::store::sql::Connection;
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Version};

use crate::store::StoreError;

/// A worker's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Holds a caseload: reads and writes their allocated children's records.
    SocialWorker,
    /// Reads their team's records and signs them off.
    TeamManager,
    /// Administers accounts and allocations; reads no child's record.
    Admin,
    /// Answers subject access requests: produces a child's full record for export, with
    /// redactions; syncs nothing, holds no caseload, sees no dashboard.
    RecordsOfficer,
}

impl Role {
    /// The code stored in the database and used on the command line.
    pub fn code(self) -> &'static str {
        match self {
            Role::SocialWorker => "social-worker",
            Role::TeamManager => "team-manager",
            Role::Admin => "admin",
            Role::RecordsOfficer => "records-officer",
        }
    }

    /// The role for a stored code.
    pub fn from_code(code: &str) -> Option<Role> {
        match code {
            "social-worker" => Some(Role::SocialWorker),
            "team-manager" => Some(Role::TeamManager),
            "admin" => Some(Role::Admin),
            "records-officer" => Some(Role::RecordsOfficer),
            _ => None,
        }
    }
}

/// Opens a connection to the database in `data_dir`, creating and migrating it if needed.
///
/// # Errors
/// [`StoreError`] if it cannot be opened or migrated.
pub fn open_connection(data_dir: &Path) -> Result<Connection, StoreError> {
    crate::store::DocumentStore::open_database(data_dir).map(|(conn, _)| conn)
}

/// Opens the PostgreSQL database at `url`, migrating it if needed (what `admin` and
/// `seed-demo` do with `--database`).
///
/// # Errors
/// [`StoreError`] if it cannot connect or migrate.
pub fn open_postgres(url: &str) -> Result<Connection, StoreError> {
    crate::store::DocumentStore::open_postgres_database(url)
}

/// Hashes a password with argon2id (19 MiB, 2 passes), salted. For administration (one
/// password at a time); sign-in checks passwords on [`password_hashers::PasswordHashers`].
///
/// # Errors
/// The hasher's error (only for absurd inputs).
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let hasher = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        password_hashers::hash_params(),
    );
    let mut salt_bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes)?;
    Ok(hasher
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}
