//! Durable storage: the SQLite store and the thread that runs its tasks in group commits.
//!
//! **Architecture Invariant:** only this module knows SQL.

mod migrations;
mod sqlite_store;
mod storage_thread;
mod store_error;

pub use sqlite_store::SqliteStore;
pub use storage_thread::{StorageHandle, StorageReport, spawn_storage_thread};
pub use store_error::StoreError;
