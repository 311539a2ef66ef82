//! Durable storage: the document store on SQLite (the default) or PostgreSQL, the dialect
//! layer both are reached through (`sql`), each database's numbered migrations, the thread
//! that runs the store's tasks in group commits, the API's connection pool (opened once,
//! never creating a database) and the check that SQLite's files are still the ones opened
//! at start.
//!
//! **Architecture Invariant:** only this module knows SQL.

mod connection_pool;
mod database;
mod database_files;
mod document_store;
mod migrations;
mod postgres_migrations;
pub mod sql;
mod storage_thread;
mod store_error;

pub use connection_pool::{ConnectionPool, open_existing};
pub use database::Database;
pub use database_files::{DatabaseFiles, storage_fault};
pub use document_store::{DATABASE_FILE, DocumentStore, index_of, insert_snapshot};
pub use storage_thread::{StorageHandle, StorageReport, spawn_storage_thread};
pub use store_error::StoreError;
