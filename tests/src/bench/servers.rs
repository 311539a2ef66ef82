//! The servers under test as child processes: Doorstep (`server-under-test`, the binary
//! next to the benchmark's) and the reference Node server (`tests/js/node-server.mjs`,
//! automerge-repo 2.5.6 with its NodeFS storage), started, stopped and found in `/proc`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::time::Instant;

use crate::{NativeClient, ServerProcess};

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Doorstep.
    Doorstep,
    /// The official automerge-repo Node sync server.
    Node,
}

impl Kind {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Doorstep => "doorstep",
            Kind::Node => "node",
        }
    }
}

/// The official Node sync server; killed on drop.
pub struct NodeServer {
    child: Child,
    port: u16,
}

impl NodeServer {
    /// Starts it on a free port with storage in `dir` and waits for its ready line.
    ///
    /// # Errors
    /// If `tests/js/node_modules` is missing or the server does not start within 30 s.
    pub fn start(dir: &Path) -> anyhow::Result<Self> {
        if !crate::js_client::js_dir().join("node_modules").exists() {
            bail!("tests/js/node_modules is missing: run `npm ci` in tests/js first");
        }
        // Port 0: node-server.mjs binds a free port itself and prints it (no bind race).
        let mut child = crate::js_client::spawn_node_server(0, dir)?;
        let stdout = child.stdout.take().context("node server has no stdout")?;
        let mut server = Self { child, port: 0 };
        let (lines_tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = lines
                .recv_timeout(left)
                .context("node-server.mjs did not print its ready line within 30 s")?;
            if let Ok(ready) = serde_json::from_str::<serde_json::Value>(&line)
                && ready["ready"] == true
            {
                server.port = ready["port"]
                    .as_u64()
                    .and_then(|p| u16::try_from(p).ok())
                    .context("ready line without a port")?;
                return Ok(server);
            }
        }
    }

    fn stop(mut self) -> anyhow::Result<bool> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        if !status.success() {
            bail!("kill -TERM failed");
        }
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status.success());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("node server ignored SIGTERM for 15 s")
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running server under test.
pub enum Running {
    /// Doorstep.
    Doorstep(ServerProcess),
    /// Node.
    Node(NodeServer),
}

impl Running {
    /// Starts `kind` on the data directory `dir` (Doorstep with `extra_args` for `serve`).
    ///
    /// # Errors
    /// If it does not start.
    pub fn start(kind: Kind, dir: &Path, extra_args: &[&str]) -> anyhow::Result<Self> {
        match kind {
            Kind::Doorstep => Ok(Running::Doorstep(ServerProcess::start(
                &doorstep_binary()?,
                dir,
                extra_args,
            )?)),
            Kind::Node => Ok(Running::Node(NodeServer::start(dir)?)),
        }
    }

    /// The WebSocket sync URL (without credentials).
    pub fn url(&self) -> String {
        match self {
            Running::Doorstep(process) => process.url(),
            Running::Node(node) => format!("ws://127.0.0.1:{}/sync", node.port),
        }
    }

    /// The HTTP address (Doorstep's API; Node's port).
    pub fn addr(&self) -> SocketAddr {
        match self {
            Running::Doorstep(process) => process.addr,
            Running::Node(node) => SocketAddr::from(([127, 0, 0, 1], node.port)),
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        match self {
            Running::Doorstep(process) => process.pid(),
            Running::Node(node) => node.child.id(),
        }
    }

    /// Graceful stop (SIGTERM); whether it exited successfully.
    ///
    /// # Errors
    /// If the signal cannot be sent or the server ignores it.
    pub fn stop(self) -> anyhow::Result<bool> {
        match self {
            Running::Doorstep(process) => process.terminate(),
            Running::Node(node) => node.stop(),
        }
    }

    /// Waits until a plain (unauthenticated) probe completes the handshake; for Node,
    /// whose ready line comes before its Repo attaches the network adapter (a socket
    /// accepted before that never gets an answer to its `join`).
    ///
    /// # Errors
    /// If no handshake is answered within 30 s.
    pub async fn wait_handshake_ready(&self) -> anyhow::Result<Duration> {
        let url = self.url();
        let started = Instant::now();
        for _ in 0..60 {
            let probe = NativeClient::new("probe");
            let answered =
                tokio::time::timeout(Duration::from_millis(500), probe.connect(&url)).await;
            probe.disconnect().await;
            if matches!(answered, Ok(Ok(()))) {
                return Ok(started.elapsed());
            }
        }
        bail!("{url} never answered a handshake within 30 s")
    }
}

/// The `server-under-test` binary beside the running benchmark.
///
/// # Errors
/// If it has not been built.
pub fn doorstep_binary() -> anyhow::Result<PathBuf> {
    let binary = std::env::current_exe()?.with_file_name("server-under-test");
    if !binary.exists() {
        bail!(
            "{} not found: build it first with `cargo build --release -p tests --bins`",
            binary.display()
        );
    }
    Ok(binary)
}
