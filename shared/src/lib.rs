//! Doorstep's shared core: the CRDT data model and the sans-IO sync core.
//!
//! This crate does no IO: no sockets, no files, no clock, no threads. The server
//! (`server/`, tokio + SQLite) and the browser (`client-wasm/`, IndexedDB) drive
//! the same [`sync::SyncCore`] by feeding it [`sync::Event`]s and carrying out the
//! [`sync::Effects`] it returns.
//!
//! # Layout
//! - [`protocol`]: the automerge-repo wire messages and their CBOR codec.
//! - [`sync`]: the sync state machine (peers, documents, storage tasks).
//! - [`model`]: the visit and child documents with typed accessors and validation.
//! - [`schedule`]: the statutory visit schedule (rules V1 to V16): what is due, met or overdue.
//! - [`device_policy`]: [`device_policy::DevicePolicy`], the council's rules for wrong PINs and
//!   long silences, which the server sets and the device applies.
//! - [`retention`]: how long a child's record is kept (D1): retain-until from birth and death.
//! - [`DocumentId`], [`PeerId`]: identifiers, wire-compatible with automerge-repo.
//! - [`small_sort`]: a small stable sort for short lists (less wasm than the standard one).
//!
//! # Typical workflow
//! A driver creates a `SyncCore`, reports each connection with `Event::Connected`,
//! each received frame with `Event::Received`, each finished storage task with
//! `Event::IoComplete`, and calls `Event::Tick` periodically; after each call it
//! sends `Effects::outbound`, runs `Effects::storage` and closes `Effects::close`.

pub mod device_policy;
mod document_id;
pub mod model;
mod peer_id;
pub mod protocol;
pub mod retention;
pub mod schedule;
pub mod small_sort;
pub mod sync;

pub use document_id::{DocumentId, DocumentIdError};
pub use peer_id::PeerId;
