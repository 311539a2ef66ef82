//! The benchmarks' machinery (the `sync-storm` binary is a thin command line over it).
//!
//! # Layout
//! - [`meter`]: CPU per process and thread, resident memory, from `/proc`.
//! - [`servers`]: the servers under test as child processes (Doorstep and the reference
//!   automerge-repo Node server).
//! - [`real_path`]: how a tablet reaches `/sync`: password sign-in, refresh, ticket, over
//!   HTTP; the benchmark accounts.
//! - [`storm`]: the sync storm and cold fetch for one server.
//! - [`sign_in`]: a flood of sign-ins, and the morning (sign-ins spread over a minute,
//!   then each device syncs).
//! - [`floor`]: the CPU automerge alone needs to load a new visit from its sync message.
//! - [`report`]: reports, tables, Doorstep ÷ Node ratios and their medians.

pub mod floor;
pub mod meter;
pub mod real_path;
pub mod report;
pub mod servers;
pub mod sign_in;
pub mod storm;
