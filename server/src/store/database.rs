//! [`Database`]: where the server keeps everything: the SQLite file in the data directory
//! (the default) or a PostgreSQL database named by a URL (`--database postgres://...`),
//! and opening connections to it.
//!
//! SQLite connections after the first open an existing, migrated file and never create
//! one; PostgreSQL connections are plain (no TLS: the database is expected on loopback or a
//! private network) and are migrated once, by the store, at start. A URL is shown only
//! without its password.

use std::path::PathBuf;

use super::StoreError;
use super::sql::Connection;

/// Where the data lives.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// This SQLite database file.
    Sqlite(PathBuf),
    /// The PostgreSQL database at this URL (`postgres://user:password@host:port/name`).
    Postgres(String),
}

impl Database {
    /// Opens another connection to the (already migrated) database.
    ///
    /// # Errors
    /// The database's error: a missing SQLite file, a refused PostgreSQL connection.
    pub fn connect(&self) -> Result<Connection, StoreError> {
        match self {
            Database::Sqlite(file) => super::open_existing(file),
            Database::Postgres(url) => Connection::postgres(url),
        }
    }
}

/// A new PostgreSQL client for `url`.
///
/// # Errors
/// PostgreSQL's error (a bad URL, a refused connection, a wrong password).
pub fn connect_postgres(url: &str) -> Result<postgres::Client, StoreError> {
    Ok(postgres::Client::connect(url, postgres::NoTls)?)
}

impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(file) => write!(f, "{}", file.display()),
            Database::Postgres(url) => f.write_str(&without_password(url)),
        }
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Database({self})")
    }
}

/// `url` with any password replaced by `***`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(a PostgreSQL connection string)".into();
    };
    match rest.split_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_is_shown_without_its_password() {
        let database =
            Database::Postgres("postgres://doorstep:s3cret@127.0.0.1:5432/doorstep".into());
        assert_eq!(
            database.to_string(),
            "postgres://doorstep:***@127.0.0.1:5432/doorstep"
        );
        assert!(!format!("{database:?}").contains("s3cret"));
        assert_eq!(
            Database::Postgres("host=/tmp password=x".into()).to_string(),
            "(a PostgreSQL connection string)"
        );
    }
}
