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
    /// PostgreSQL reported an error (or its connection failed).
    #[error("postgres: {0}")]
    Postgres(#[from] postgres::Error),
    /// A query that must return a row returned none.
    #[error("query returned no rows")]
    NoRows,
    /// A column did not hold the type asked for.
    #[error("column {column}: {message}")]
    Conversion {
        /// Its position.
        column: usize,
        /// What was wanted and found.
        message: String,
    },
    /// A migration could not be applied.
    #[error("migration {version} failed: {source}")]
    Migration {
        /// The migration's number.
        version: u32,
        /// The database's error.
        source: rusqlite::Error,
    },
    /// A PostgreSQL migration could not be applied.
    #[error("PostgreSQL migration {version} failed: {source}")]
    PostgresMigration {
        /// The migration's number.
        version: u32,
        /// PostgreSQL's error.
        source: postgres::Error,
    },
    /// The PostgreSQL database does not compare text byte by byte.
    #[error(
        "the PostgreSQL database's collation is {0:?}; create it with \
         ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
    )]
    WrongCollation(String),
    /// Another server is serving the same PostgreSQL database.
    #[error(
        "another doorstep-server is serving this PostgreSQL database; one server per \
         database (replicas do not yet keep each other informed)"
    )]
    DatabaseInUse,
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
