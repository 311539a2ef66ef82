//! [`ConnectionPool`]: the HTTP API's database connections, opened once at start.
//!
//! Each request used to open a fresh connection and run the migrations (about 12 ms, and
//! a deleted database file was silently created afresh by the next request). The pool
//! opens a fixed number of connections to the *existing* database at start (never with
//! `SQLITE_OPEN_CREATE`) and lends them to blocking tasks; a request waits for a free
//! one, which also bounds how many sign-ins hash passwords at once.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::OpenFlags;

use super::sql::Connection;
use tokio::sync::Semaphore;

use super::{Database, StoreError};

/// A fixed set of connections to one database.
pub struct ConnectionPool {
    idle: Mutex<Vec<Connection>>,
    /// One permit per connection: holding a permit guarantees an idle connection.
    permits: Arc<Semaphore>,
}

impl ConnectionPool {
    /// Opens `size` connections to `database`, which must exist (and be migrated). Blocks
    /// (PostgreSQL's client runs its own runtime): call it off the async reactor.
    ///
    /// # Errors
    /// The database's error if a connection cannot be opened (a missing file included).
    pub fn open(database: &Database, size: usize) -> Result<Self, StoreError> {
        let connections = (0..size.max(1))
            .map(|_| database.connect())
            .collect::<Result<Vec<_>, _>>()?;
        let permits = Arc::new(Semaphore::new(connections.len()));
        Ok(Self {
            idle: Mutex::new(connections),
            permits,
        })
    }

    /// Runs `work` on a pooled connection on a blocking thread, waiting for a free one.
    ///
    /// # Errors
    /// [`StoreError::PoolClosed`] if the pool is closed, [`StoreError::WorkFailed`] if the
    /// work panicked.
    pub async fn run<T>(
        self: &Arc<Self>,
        work: impl FnOnce(&mut Connection) -> T + Send + 'static,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::PoolClosed)?;
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut lease = Lease {
                conn: pool.take(),
                pool: &pool,
            };
            let conn = lease.conn.as_mut().ok_or(StoreError::PoolClosed)?;
            // A PostgreSQL connection lost (the database restarted) is opened again; if it
            // cannot be yet, the work fails as it would have, and the next lease tries again.
            if let Err(err) = conn.reconnect() {
                tracing::debug!(cause = %err, "database still unreachable");
            }
            Ok(work(conn))
        })
        .await
        .map_err(|err| StoreError::WorkFailed(err.to_string()))?
    }

    fn take(&self) -> Option<Connection> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop()
    }

    /// Closes the pool: waiting and later work fails with [`StoreError::PoolClosed`].
    pub fn close(&self) {
        self.permits.close();
    }
}

/// A borrowed connection; it goes back to the pool when dropped, panics included (an
/// open transaction is rolled back by its own drop first).
struct Lease<'a> {
    conn: Option<Connection>,
    pool: &'a ConnectionPool,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool
                .idle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(conn);
        }
    }
}

/// Opens a connection to an existing, already migrated database; never creates one.
///
/// # Errors
/// [`StoreError::Sqlite`] if the file is missing or cannot be opened.
pub fn open_existing(database: &Path) -> Result<Connection, StoreError> {
    let mut conn = rusqlite::Connection::open_with_flags(
        database,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // The journal mode (WAL) is a property of the file; these are per connection.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Deleted content is zeroed, not left in free pages: a compaction's old chunks, a
    // record deleted after retention or expunged are gone from the file.
    conn.pragma_update(None, "secure_delete", true)?;
    conn.busy_handler(Some(poll_lock))?;
    Ok(Connection::from(conn))
}

/// How long a connection waits for another's write lock before its statement fails busy.
const LOCK_WAIT: Duration = Duration::from_secs(5);

/// The busy handler of every connection: try again every millisecond, for up to
/// [`LOCK_WAIT`]. SQLite's own (`busy_timeout`) sleeps 1, 2, 5, 10 … then 100 ms between
/// tries, so a sign-in waiting behind the storage thread's group commits (each a few
/// milliseconds apart) often slept through the gaps: refreshes took seconds at p95 in a
/// storm.
pub(crate) fn poll_lock(attempt: i32) -> bool {
    std::thread::sleep(Duration::from_millis(1));
    // Each try sleeps at least a millisecond.
    u128::from(attempt.unsigned_abs()) < LOCK_WAIT.as_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_database_is_not_created() {
        let dir = tempfile::tempdir().expect("tempdir");
        let database = dir.path().join("doorstep.sqlite3");
        assert!(ConnectionPool::open(&Database::Sqlite(database.clone()), 2).is_err());
        assert!(!database.exists(), "nothing created");
    }

    #[tokio::test]
    async fn work_runs_on_a_pooled_connection_and_a_panic_returns_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::store::DocumentStore::open(
            dir.path(),
            crate::clock::Clock::fixed(1_700_000_000_000),
        )
        .expect("store");
        let pool = Arc::new(ConnectionPool::open(store.database(), 1).expect("pool"));
        let panicked = pool.run(|_| panic!("boom")).await;
        assert!(matches!(panicked, Err(StoreError::WorkFailed(_))));
        let id: String = pool
            .run(|conn| {
                conn.query_row(
                    "SELECT value FROM server_meta WHERE key = 'storage_id'",
                    [],
                    |row| row.get(0),
                )
            })
            .await
            .expect("ran")
            .expect("query");
        assert_eq!(id, store.storage_id().expect("id"));
        pool.close();
        assert!(matches!(
            pool.run(|_| ()).await,
            Err(StoreError::PoolClosed)
        ));
    }
}
