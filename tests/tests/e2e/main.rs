//! The end-to-end tests as one test binary: each area is a module, so the workspace links
//! one binary for them rather than one per file (they share the `tests` harness crate and
//! the server). nextest still runs every test in a process of its own.
//!
//! Run one area with a filter, e.g. `cargo nextest run -p tests --test e2e pwa::`.

mod admin_cli;
mod authorization;
mod bad_input;
mod caseload_api;
mod concurrent_edits;
mod crash_safety;
mod device_schedule;
mod fuzz_corpus;
mod hostile_peers;
mod http_hardening;
mod idle_unload;
mod interop;
mod live_and_reallocation;
mod load_balancer;
mod metrics;
mod misfiled_records;
mod official_client;
mod operator_faults;
mod oversight;
mod postgres_store;
mod projection;
mod pwa;
mod pwa_day;
mod pwa_records;
mod record_corrections;
mod restricted_records;
mod retention;
mod sign_in;
mod sign_in_under_attack;
mod subject_access;
mod tidy;

/// The `server-under-test` binary the scenario tests start as a child process.
pub fn server_binary() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_BIN_EXE_server-under-test"))
}
