//! Harness for Doorstep's end-to-end tests and the sync-storm benchmark.
//!
//! # Layout
//! - [`test_server`]: start the real server in-process ([`TestServer`]) or as a child
//!   process that can be killed ([`ServerProcess`]), on `127.0.0.1:0` with a temp data dir.
//! - [`native_client`]: [`NativeClient`], a Rust automerge-repo client driving the same
//!   `shared::sync::SyncCore` as the server, over a real WebSocket.
//! - [`js_client`]: runs the official `@automerge/automerge-repo` client scripts in `tests/js/`.
//! - [`raw_peer`]: [`raw_peer::RawPeer`], a WebSocket peer sending hand-made (hostile) frames.
//! - [`fuzz_targets`]: the fuzz targets' bodies (run by `tests/fuzz`, replayed by a test).
//! - [`flaky_proxy`]: a TCP proxy whose connections a test cuts (dropped signal).
//! - [`council`]: a small test council (teams, workers, children, allocations) and sign-in.
//! - [`visit_fixture`]: builds realistic visit documents for tests and benchmarks.
//! - [`oversight_fixture`]: a visit stored for a child, a manager's decision through the
//!   API, and waiting for it to reach a device.
//! - [`bench`]: the benchmarks' machinery (metering, servers, the real sign-in path,
//!   scenarios, reports).

pub mod bench;
pub mod council;
pub mod flaky_proxy;
pub mod fuzz_targets;
pub mod js_client;
pub mod load_balancer;
pub mod native_client;
pub mod oversight_fixture;
pub mod postgres_cluster;
pub mod raw_peer;
pub mod test_server;
pub mod visit_fixture;

pub use load_balancer::LoadBalancer;
pub use native_client::NativeClient;
pub use postgres_cluster::PostgresCluster;
pub use test_server::{ServerProcess, TestServer};

/// Installs a tracing subscriber for tests once (output captured by the test runner).
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DOORSTEP_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}
