//! Starting and stopping real Doorstep servers for tests.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use server::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server running inside the test process via `server::run` on `127.0.0.1:0`.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its data directory.
    pub data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestServer {
    /// Starts a server on `data_dir` with default settings.
    ///
    /// # Errors
    /// If it cannot bind or start.
    pub async fn start(data_dir: &Path) -> anyhow::Result<Self> {
        Self::start_with(ServerConfig::new(data_dir.to_owned())).await
    }

    /// Starts a server with the given configuration.
    ///
    /// # Errors
    /// If it cannot bind or start.
    pub async fn start_with(config: ServerConfig) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let data_dir = config.data_dir.clone();
        let task = tokio::spawn(server::run(listener, config, async {
            let _ = stopped.await;
        }));
        // Healthy, or the server's own error if it stopped while starting.
        for _ in 0..100 {
            if task.is_finished() {
                return match task.await {
                    Ok(Ok(())) => Err(anyhow::anyhow!("the server stopped while starting")),
                    Ok(Err(err)) => Err(err.context("the server did not start")),
                    Err(err) => Err(anyhow::anyhow!("the server panicked while starting: {err}")),
                };
            }
            if health(addr).await.is_ok() {
                return Ok(Self {
                    addr,
                    data_dir,
                    stop: Some(stop),
                    task: Some(task),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("server at {addr} never became healthy")
    }

    /// The WebSocket sync URL.
    pub fn url(&self) -> String {
        format!("ws://{}/sync", self.addr)
    }

    /// Waits up to `timeout` for the server to stop by itself (without asking it to), and
    /// returns what `server::run` returned.
    ///
    /// # Errors
    /// If it is still running after `timeout`.
    pub async fn wait_stopped(mut self, timeout: Duration) -> anyhow::Result<anyhow::Result<()>> {
        let task = self.task.take().context("already stopped")?;
        match tokio::time::timeout(timeout, task).await {
            Ok(joined) => Ok(joined.context("server task")?),
            Err(_) => bail!("server still running after {timeout:?}"),
        }
    }

    /// Shuts down gracefully (closing sockets, flushing storage).
    ///
    /// # Errors
    /// If the server reported an error while running or stopping.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => tokio::time::timeout(Duration::from_secs(20), task)
                .await
                .context("server did not stop within 20 s")??,
            None => Ok(()),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The server binary running as a child process (so it can be killed with SIGKILL).
pub struct ServerProcess {
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
    /// Its log (stderr), collected by a background thread.
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl ServerProcess {
    /// Starts `doorstep-server serve` on `127.0.0.1:0` with `data_dir`.
    ///
    /// # Errors
    /// If the binary cannot start or never reports its address.
    pub fn start(binary: &Path, data_dir: &Path, extra_args: &[&str]) -> anyhow::Result<Self> {
        let mut child = Command::new(binary)
            .arg("serve")
            .args(["--addr", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra_args)
            .env("DOORSTEP_LOG", "server=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stderr = child.stderr.take().context("no stderr")?;
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("listening")
                    && let Some(addr) = line
                        .split_whitespace()
                        .find_map(|word| word.strip_prefix("addr="))
                {
                    let _ = addr_tx.send(addr.to_owned());
                }
                if let Ok(mut log) = sink.lock() {
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        });
        let addr = match addr_rx.recv_timeout(Duration::from_secs(20)) {
            Ok(addr) => addr.parse()?,
            Err(_) => {
                let _ = child.kill();
                bail!(
                    "server did not report its address; log:\n{}",
                    log.lock().map(|l| l.clone()).unwrap_or_default()
                );
            }
        };
        Ok(Self { addr, child, log })
    }

    /// The WebSocket sync URL.
    pub fn url(&self) -> String {
        format!("ws://{}/sync", self.addr)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's resident memory now and at its peak, in KiB (`VmRSS`, `VmHWM`).
    ///
    /// # Errors
    /// If `/proc` cannot be read.
    pub fn memory_kib(&self) -> anyhow::Result<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let field = |name: &str| -> anyhow::Result<u64> {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse().ok())
                .with_context(|| format!("no {name} in /proc status"))
        };
        Ok((field("VmRSS:")?, field("VmHWM:")?))
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// SIGKILL: no chance to flush anything.
    ///
    /// # Errors
    /// If the process cannot be killed.
    pub fn kill9(mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// SIGTERM and wait for a graceful exit; returns whether it exited successfully.
    ///
    /// # Errors
    /// If the signal cannot be sent or waiting fails.
    pub fn terminate(mut self) -> anyhow::Result<bool> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        if !status.success() {
            bail!("kill -TERM failed");
        }
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status.success());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill()?;
        bail!("server ignored SIGTERM for 10 s")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` over plain HTTP/1.1; returns status and body.
///
/// # Errors
/// If the connection fails or the response is not HTTP.
pub async fn http_get(addr: SocketAddr, path: &str) -> anyhow::Result<(u16, String)> {
    let (status, _, body) = http_request(addr, "GET", path, &[], None).await?;
    Ok((status, body))
}

/// One HTTP/1.1 request with an optional JSON body; returns status, headers (lower-case
/// names) and body.
///
/// # Errors
/// If the connection fails or the response is not HTTP.
pub async fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    json: Option<&serde_json::Value>,
) -> anyhow::Result<(u16, Vec<(String, String)>, String)> {
    http_request_from(None, addr, method, path, headers, json).await
}

/// [`http_request`] carrying `token` as a bearer token (`Authorization: Bearer …`), as the
/// PWA and the official client send it.
///
/// # Errors
/// If the connection fails or the response is not HTTP.
pub async fn bearer_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    json: Option<&serde_json::Value>,
) -> anyhow::Result<(u16, Vec<(String, String)>, String)> {
    let auth = format!("Bearer {token}");
    http_request(
        addr,
        method,
        path,
        &[("Authorization", auth.as_str())],
        json,
    )
    .await
}

/// [`http_request`] from the local address `from` (e.g. `127.0.0.2`: the whole of
/// 127.0.0.0/8 is loopback on Linux), to act as another client machine.
///
/// # Errors
/// If the connection fails or the response is not HTTP.
pub async fn http_request_from(
    from: Option<std::net::IpAddr>,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    json: Option<&serde_json::Value>,
) -> anyhow::Result<(u16, Vec<(String, String)>, String)> {
    let mut stream = match from {
        None => tokio::net::TcpStream::connect(addr).await?,
        Some(local) => {
            let socket = if local.is_ipv4() {
                tokio::net::TcpSocket::new_v4()?
            } else {
                tokio::net::TcpSocket::new_v6()?
            };
            socket.bind(SocketAddr::new(local, 0))?;
            socket.connect(addr).await?
        }
    };
    let body = json.map(|v| v.to_string()).unwrap_or_default();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if json.is_some() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let (head, body) = response.split_once("\r\n\r\n").context("no header end")?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .context("no status line")?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Ok((status, headers, body.to_owned()))
}

/// `/healthz` as JSON.
///
/// # Errors
/// If the request fails or the body is not JSON.
pub async fn health(addr: SocketAddr) -> anyhow::Result<serde_json::Value> {
    let (status, body) = http_get(addr, "/healthz").await?;
    if status != 200 {
        bail!("/healthz answered {status}");
    }
    // Tolerate chunked framing by taking the JSON object in the body.
    let start = body.find('{').context("no json")?;
    let end = body.rfind('}').context("no json")?;
    Ok(serde_json::from_str(&body[start..=end])?)
}

/// `/healthz`'s status code and JSON body, whatever the status.
///
/// # Errors
/// If the request fails or the body is not JSON.
pub async fn health_status(addr: SocketAddr) -> anyhow::Result<(u16, serde_json::Value)> {
    let (status, body) = http_get(addr, "/healthz").await?;
    let start = body.find('{').context("no json")?;
    let end = body.rfind('}').context("no json")?;
    Ok((status, serde_json::from_str(&body[start..=end])?))
}

/// Runs `doorstep-server admin --data-dir DIR ARGS` with `binary` (a test's
/// `env!("CARGO_BIN_EXE_server-under-test")`) and returns its standard output.
///
/// # Panics
/// If the command cannot run or fails; its standard error is in the message.
pub fn run_admin(binary: &Path, data_dir: &Path, args: &[&str]) -> String {
    let output = std::process::Command::new(binary)
        .arg("admin")
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .expect("run admin");
    assert!(
        output.status.success(),
        "admin {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
