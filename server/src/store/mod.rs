//! Durable storage: the SQLite store, the thread that runs its tasks in group commits, the
//! API's connection pool (opened once, never creating a database) and the check that the
//! database files are still the ones opened at start.
//!
//! **Architecture Invariant:** only this module knows SQL.

mod connection_pool;
mod database_files;
mod migrations;
mod sqlite_store;
mod storage_thread;
mod store_error;

pub use connection_pool::{ConnectionPool, open_existing};
pub use database_files::{DatabaseFiles, storage_fault};
pub use sqlite_store::{DATABASE_FILE, SqliteStore, index_of, insert_snapshot};
pub use storage_thread::{StorageHandle, StorageReport, spawn_storage_thread};
pub use store_error::StoreError;
