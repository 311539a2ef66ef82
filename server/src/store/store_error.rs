//! Errors of the storage layer.

use std::path::PathBuf;

/// Something went wrong opening or using the SQLite database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// SQLite reported an error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A migration could not be applied.
    #[error("migration {version} failed: {source}")]
    Migration {
        /// The migration's number.
        version: u32,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// The API's connection pool is closed (the server is stopping).
    #[error("the database connections are closed")]
    PoolClosed,
    /// Work on a pooled connection panicked or was cancelled.
    #[error("database work did not finish: {0}")]
    WorkFailed(String),
    /// The database was written by a newer Doorstep.
    #[error("database schema version {found} is newer than this server supports ({supported})")]
    SchemaTooNew {
        /// What the file has.
        found: u32,
        /// The newest this binary knows.
        supported: u32,
    },
}
