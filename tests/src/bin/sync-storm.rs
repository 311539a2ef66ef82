//! `sync-storm`: the sync-storm benchmark. Not a test: it prints figures.
//!
//! It models a morning when many tablets come back online at once, each with a backlog of
//! visit documents typed offline, and compares Doorstep with the official automerge-repo
//! Node sync server (`tests/js/node-server.mjs`).
//!
//! ```text
//! cargo build --release -p tests
//! cargo run --release -p tests --bin sync-storm -- [--clients C] [--docs-per-client M]
//!     [--words-bytes 2000] [--server doorstep|node|both] [--rounds 1] [--json]
//!     [--timeout-secs 300] [--keep-data]
//! ```
//!
//! Per server it:
//! 1. uses C×M visit documents pre-generated (before any timing) with
//!    [`tests::visit_fixture::visit_with_history`]: ~`words-bytes` of child's words typed
//!    as many small edits, one automerge change each;
//! 2. starts a fresh server as a child process on a temp data dir (Doorstep: the
//!    `server-under-test` binary next to this one; Node: `node-server.mjs`, which needs
//!    `npm ci` in `tests/js`);
//! 3. **storm**: C [`NativeClient`]s connect concurrently, each creates its M documents at
//!    once and waits until every one is acknowledged; it records handshake latency per
//!    client, create→acknowledged latency per document and the wall time;
//! 4. **cold fetch**: stops the server gracefully, restarts it on the same data dir (so
//!    nothing is in memory), and one "manager" client fetches all documents at once,
//!    checking each one's heads against the original;
//! 5. reports docs/s, latency percentiles, cold-fetch time, the server's peak RSS
//!    (`VmHWM`), its CPU time per thread, the client's CPU time, and the size on disk.
//!
//! With `--server both` it runs Doorstep then Node on the same documents and prints the
//! ratios. `--rounds R` repeats that R times, alternating which server goes first, and
//! prints every round's ratios and their medians: on a shared host the same work can take
//! 40% longer from one minute to the next, so one pair of runs says little. `--json` adds
//! one JSON line with every figure. Every wait is bounded: the storm
//! and the cold fetch each get `--timeout-secs`; server starts and stops have their own
//! limits. The process exits non-zero if any document was lost (not acknowledged, not
//! fetched back, or fetched with the wrong heads) or was wrongly answered "unavailable".
//! Progress (documents acknowledged, server CPU per thread) goes to stderr every 5 s.
//! `--keep-data` keeps the temp data dirs (e.g. to read Doorstep's audit log afterwards).
//!
//! Doorstep needs signed-in peers: before starting it, the benchmark creates (straight in
//! its directory) a team with every child the fixture names, one social worker per client
//! allocated to the children of that client's visits, and a team manager for the cold
//! fetch; it signs them in and connects with single-use sync tickets (`/sync?ticket=`).

// A benchmark's whole job is to print its figures on stdout.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use automerge::{Automerge, ChangeHash};
use futures::future::join_all;
use serde::Serialize;
use server::directory::sessions::{self, Identity};
use shared::DocumentId;
use tests::{NativeClient, ServerProcess};
use tokio::time::Instant;

const USAGE: &str = "usage: sync-storm [--clients C] [--docs-per-client M] [--words-bytes N] \
                     [--server doorstep|node|both] [--rounds R] [--json] [--timeout-secs S] \
                     [--keep-data]";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Doorstep,
    Node,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Doorstep => "doorstep",
            Kind::Node => "node",
        }
    }
}

#[derive(Debug)]
struct Args {
    clients: usize,
    docs_per_client: usize,
    words_bytes: usize,
    servers: Vec<Kind>,
    /// Runs of every server; with two servers, each round alternates which goes first.
    rounds: usize,
    json: bool,
    timeout: Duration,
    keep_data: bool,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        clients: 50,
        docs_per_client: 20,
        words_bytes: 2000,
        servers: vec![Kind::Doorstep],
        rounds: 1,
        json: false,
        timeout: Duration::from_secs(300),
        keep_data: false,
    };
    let mut raw = std::env::args().skip(1);
    while let Some(arg) = raw.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = || -> anyhow::Result<String> {
            match &inline {
                Some(value) => Ok(value.clone()),
                None => raw
                    .next()
                    .with_context(|| format!("{flag} needs a value\n{USAGE}")),
            }
        };
        match flag.as_str() {
            "--clients" => args.clients = value()?.parse().context("--clients")?,
            "--docs-per-client" => {
                args.docs_per_client = value()?.parse().context("--docs-per-client")?;
            }
            "--words-bytes" => args.words_bytes = value()?.parse().context("--words-bytes")?,
            "--timeout-secs" => {
                args.timeout = Duration::from_secs(value()?.parse().context("--timeout-secs")?);
            }
            "--server" => {
                args.servers = match value()?.as_str() {
                    "doorstep" => vec![Kind::Doorstep],
                    "node" => vec![Kind::Node],
                    "both" => vec![Kind::Doorstep, Kind::Node],
                    other => bail!("unknown --server {other}\n{USAGE}"),
                }
            }
            "--rounds" => args.rounds = value()?.parse().context("--rounds")?,
            "--json" => args.json = true,
            "--keep-data" => args.keep_data = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    if args.clients == 0 || args.docs_per_client == 0 || args.rounds == 0 {
        bail!("--clients, --docs-per-client and --rounds must be at least 1");
    }
    Ok(args)
}

/// The pre-generated documents, `clients × docs_per_client`, client-major.
struct Fixture {
    docs: Vec<Automerge>,
    heads: Vec<Vec<ChangeHash>>,
    /// The `childId` each visit names (Doorstep only accepts visits for allocated children).
    child_refs: Vec<String>,
}

fn sorted_heads(doc: &Automerge) -> Vec<ChangeHash> {
    let mut heads = doc.get_heads();
    heads.sort();
    heads
}

// ---------------------------------------------------------------------------------------
// Servers as child processes.

/// The official Node sync server; killed on drop.
struct NodeServer {
    child: Child,
    port: u16,
}

impl NodeServer {
    fn start(dir: &Path) -> anyhow::Result<Self> {
        if !tests::js_client::js_dir().join("node_modules").exists() {
            bail!("tests/js/node_modules is missing: run `npm ci` in tests/js first");
        }
        // Port 0: node-server.mjs binds a free port itself and prints it (no bind race).
        let mut child = tests::js_client::spawn_node_server(0, dir)?;
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

enum Running {
    Doorstep { process: ServerProcess, pid: u32 },
    Node(NodeServer),
}

impl Running {
    fn start(kind: Kind, dir: &Path) -> anyhow::Result<Self> {
        match kind {
            Kind::Doorstep => {
                let binary = doorstep_binary()?;
                let process = ServerProcess::start(&binary, dir, &[])?;
                let pid = find_pid_by_arg(dir)?;
                Ok(Running::Doorstep { process, pid })
            }
            Kind::Node => Ok(Running::Node(NodeServer::start(dir)?)),
        }
    }

    fn url(&self) -> String {
        match self {
            Running::Doorstep { process, .. } => process.url(),
            Running::Node(node) => format!("ws://127.0.0.1:{}/sync", node.port),
        }
    }

    fn pid(&self) -> u32 {
        match self {
            Running::Doorstep { pid, .. } => *pid,
            Running::Node(node) => node.child.id(),
        }
    }

    /// Graceful stop (SIGTERM); whether it exited successfully.
    fn stop(self) -> anyhow::Result<bool> {
        match self {
            Running::Doorstep { process, .. } => process.terminate(),
            Running::Node(node) => node.stop(),
        }
    }
}

/// Waits until a probe client completes the handshake.
///
/// `node-server.mjs` prints its ready line when the WebSocket server listens, but the Repo
/// attaches its network adapter only later (after storage yields the storage id), and a
/// socket accepted before that never gets an answer to its `join`. So probe first.
async fn wait_handshake_ready(url: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    for _ in 0..60 {
        let probe = NativeClient::new("probe");
        let answered = tokio::time::timeout(Duration::from_millis(500), probe.connect(url)).await;
        probe.disconnect().await;
        if matches!(answered, Ok(Ok(()))) {
            return Ok(started.elapsed());
        }
    }
    bail!("{url} never answered a handshake within 30 s")
}

fn doorstep_binary() -> anyhow::Result<PathBuf> {
    let binary = std::env::current_exe()?.with_file_name("server-under-test");
    if !binary.exists() {
        bail!(
            "{} not found: build it first with `cargo build --release -p tests`",
            binary.display()
        );
    }
    Ok(binary)
}

/// The pid of our child process whose command line mentions `arg` (the unique temp dir).
fn find_pid_by_arg(arg: &Path) -> anyhow::Result<u32> {
    let needle = arg.as_os_str().as_encoded_bytes();
    let me = std::process::id();
    for entry in std::fs::read_dir("/proc")?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if cmdline.windows(needle.len()).any(|w| w == needle)
            && proc_stat_fields(pid)
                .is_some_and(|f| f.get(1).map(String::as_str) == Some(&me.to_string()))
        {
            return Ok(pid);
        }
    }
    bail!(
        "cannot find the server process for {} in /proc",
        arg.display()
    )
}

// ---------------------------------------------------------------------------------------
// /proc readings.

/// Fields of /proc/<pid>/stat after the command name: [0] = state, [1] = ppid, ...
fn proc_stat_fields(pid: u32) -> Option<Vec<String>> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?).map(|(_, f)| f)
}

/// (comm, fields after comm) of a `stat` file.
fn parse_stat(stat: &str) -> Option<(String, Vec<String>)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_owned();
    let fields = stat
        .get(close + 1..)?
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    Some((comm, fields))
}

/// utime + stime in ticks from `stat` fields (fields 14 and 15 of the file).
fn cpu_ticks(fields: &[String]) -> u64 {
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    tick(11) + tick(12)
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(100.0)
}

/// CPU ticks per thread of a process: tid -> (thread name, ticks).
fn thread_ticks(pid: u32) -> BTreeMap<u32, (String, u64)> {
    let mut threads = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return threads;
    };
    for task in tasks.flatten() {
        let Some(tid) = task
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some((comm, fields)) = std::fs::read_to_string(task.path().join("stat"))
            .ok()
            .as_deref()
            .and_then(parse_stat)
        {
            threads.insert(tid, (comm, cpu_ticks(&fields)));
        }
    }
    threads
}

/// CPU seconds used per thread name between two snapshots.
fn thread_cpu_delta(
    before: &BTreeMap<u32, (String, u64)>,
    after: &BTreeMap<u32, (String, u64)>,
    hz: f64,
) -> BTreeMap<String, f64> {
    let mut by_name = BTreeMap::new();
    for (tid, (name, ticks)) in after {
        let earlier = before.get(tid).map_or(0, |(_, t)| *t);
        let used = ticks.saturating_sub(earlier) as f64 / hz;
        if used > 0.0 {
            *by_name.entry(name.clone()).or_insert(0.0) += used;
        }
    }
    by_name
}

/// Whole-process CPU seconds (includes exited threads, unlike the per-thread view).
fn process_cpu_seconds(pid: u32, hz: f64) -> f64 {
    proc_stat_fields(pid).map_or(0.0, |f| cpu_ticks(&f) as f64 / hz)
}

/// `VmHWM` (peak resident set) in KiB.
fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc status")
}

fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => dir_size(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

/// CPU use of the server (total and per thread name) and of this process over a phase.
struct CpuMeter {
    pid: u32,
    hz: f64,
    server: f64,
    client: f64,
    threads: BTreeMap<u32, (String, u64)>,
}

#[derive(Debug, Serialize, Default, Clone)]
struct CpuUse {
    server_s: f64,
    client_s: f64,
    server_threads_s: BTreeMap<String, f64>,
}

impl CpuMeter {
    fn start(pid: u32, hz: f64) -> Self {
        Self {
            pid,
            hz,
            server: process_cpu_seconds(pid, hz),
            client: process_cpu_seconds(std::process::id(), hz),
            threads: thread_ticks(pid),
        }
    }

    fn stop(&self) -> CpuUse {
        CpuUse {
            server_s: process_cpu_seconds(self.pid, self.hz) - self.server,
            client_s: process_cpu_seconds(std::process::id(), self.hz) - self.client,
            server_threads_s: thread_cpu_delta(&self.threads, &thread_ticks(self.pid), self.hz),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Doorstep's directory: who may sync what.

const PASSWORD: &str = "sync-storm-password";

/// Signed-in identities on a Doorstep data dir: one social worker per client, one manager.
struct Directory {
    workers: Vec<Identity>,
    manager: Identity,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Creates (before the server starts) a team holding every child the fixture names, one
/// social worker per client allocated to the children of that client's visits, and a team
/// manager (who reads the whole team) for the cold fetch; then signs them all in.
fn provision_directory(dir: &Path, fixture: &Fixture, clients: usize) -> anyhow::Result<Directory> {
    let mut conn = server::directory::open_connection(dir)?;
    let hash = server::directory::hash_password(PASSWORD)
        .map_err(|err| anyhow::anyhow!("hashing the password: {err}"))?;
    let now = now_ms();
    let children: std::collections::BTreeSet<&str> =
        fixture.child_refs.iter().map(String::as_str).collect();
    let child_ids: BTreeMap<&str, usize> = children
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, i + 1))
        .collect();
    let mut sql = String::from("BEGIN;\n");
    sql.push_str(&format!(
        "INSERT INTO teams (team_id, name, created_at) VALUES (1, 'storm', {now});\n"
    ));
    for (child, id) in &child_ids {
        sql.push_str(&format!(
            "INSERT INTO children (child_id, child_ref, team_id, created_at) \
             VALUES ({id}, '{child}', 1, {now});\n"
        ));
    }
    let per_client = fixture.child_refs.len() / clients;
    for client in 0..=clients {
        let (username, role) = if client < clients {
            (format!("storm-worker-{client}"), "social-worker")
        } else {
            ("storm-manager".to_owned(), "team-manager")
        };
        sql.push_str(&format!(
            "INSERT INTO workers (worker_id, username, display_name, role, team_id, password_hash, created_at) \
             VALUES ({}, '{username}', '{username}', '{role}', 1, '{hash}', {now});\n",
            client + 1
        ));
        if client == clients {
            continue;
        }
        let allocated: std::collections::BTreeSet<usize> = fixture.child_refs
            [client * per_client..(client + 1) * per_client]
            .iter()
            .filter_map(|child| child_ids.get(child.as_str()).copied())
            .collect();
        for child in allocated {
            sql.push_str(&format!(
                "INSERT INTO allocations (child_id, worker_id, started_at) VALUES ({child}, {}, {now});\n",
                client + 1
            ));
        }
    }
    sql.push_str("COMMIT;\n");
    conn.execute_batch(&sql).context("creating the directory")?;
    let mut sign_in = |username: &str| -> anyhow::Result<Identity> {
        let attempt = sessions::SignIn {
            username,
            password: PASSWORD,
            address: None,
            device_hint: None,
            device_label: "sync-storm",
        };
        let (_, identity) = sessions::login(&mut conn, &attempt, now_ms())
            .with_context(|| format!("signing in {username}"))?;
        Ok(identity)
    };
    let workers = (0..clients)
        .map(|client| sign_in(&format!("storm-worker-{client}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let manager = sign_in("storm-manager")?;
    Ok(Directory { workers, manager })
}

/// Single-use sync tickets (valid 30 s) for `identities`, issued straight into the directory.
fn issue_tickets(dir: &Path, identities: &[&Identity]) -> anyhow::Result<Vec<String>> {
    let conn = server::directory::open_connection(dir)?;
    let now = now_ms();
    identities
        .iter()
        .map(|identity| {
            let (ticket, _) = sessions::issue_ticket(&conn, identity, now)?;
            Ok(ticket)
        })
        .collect()
}

/// The sync URL for each identity: `url?ticket=...` for Doorstep, `url` for Node.
fn sync_urls(
    kind: Kind,
    url: &str,
    dir: &Path,
    identities: &[&Identity],
    count: usize,
) -> anyhow::Result<Vec<String>> {
    match kind {
        Kind::Doorstep => Ok(issue_tickets(dir, identities)?
            .into_iter()
            .map(|ticket| format!("{url}?ticket={ticket}"))
            .collect()),
        Kind::Node => Ok(vec![url.to_owned(); count]),
    }
}

// ---------------------------------------------------------------------------------------
// The workload.

struct ClientOutcome {
    client: NativeClient,
    handshake: Result<Duration, String>,
    /// Per document (in fixture order): its id and create→acknowledged latency.
    docs: Vec<(DocumentId, Option<Duration>)>,
    errors: Vec<String>,
}

async fn storm_client(
    index: usize,
    url: String,
    docs: Vec<Automerge>,
    deadline: Instant,
    acked_so_far: Arc<AtomicUsize>,
) -> ClientOutcome {
    let client = NativeClient::new(&format!("tablet-{index}"));
    let started = Instant::now();
    let handshake = match tokio::time::timeout_at(deadline, client.connect(&url)).await {
        Ok(Ok(())) => Ok(started.elapsed()),
        Ok(Err(err)) => Err(format!("{err:#}")),
        Err(_) => Err("timed out".to_owned()),
    };
    if handshake.is_err() {
        return ClientOutcome {
            client,
            handshake,
            docs: Vec::new(),
            errors: Vec::new(),
        };
    }
    // The backlog: every document created at once.
    let created: Vec<(DocumentId, Instant)> = docs
        .into_iter()
        .map(|doc| {
            let at = Instant::now();
            (client.create(doc), at)
        })
        .collect();
    let waits = created.iter().map(|&(id, at)| {
        let client = client.clone();
        let acked_so_far = acked_so_far.clone();
        async move {
            let left = deadline.saturating_duration_since(Instant::now());
            let acked = client.wait_acknowledged(id, left).await.is_ok();
            if acked {
                acked_so_far.fetch_add(1, Ordering::Relaxed);
            }
            (id, acked.then(|| at.elapsed()))
        }
    });
    let docs = join_all(waits).await;
    let errors = client.errors();
    ClientOutcome {
        client,
        handshake,
        docs,
        errors,
    }
}

#[derive(Debug, Serialize, Default, Clone)]
struct Report {
    server: String,
    clients: usize,
    docs_per_client: usize,
    docs: usize,
    // Storm.
    storm_wall_s: f64,
    docs_per_s: f64,
    latency_p50_ms: f64,
    latency_p95_ms: f64,
    latency_max_ms: f64,
    handshake_p95_ms: f64,
    handshake_max_ms: f64,
    handshakes_failed: usize,
    /// Time from the start until the last handshake finished.
    all_connected_s: f64,
    acknowledged: usize,
    /// Not acknowledged within the timeout (including docs of clients that never connected).
    lost_in_storm: usize,
    protocol_errors: usize,
    storm_cpu: CpuUse,
    // Cold fetch.
    cold_connect_ms: f64,
    cold_fetch_s: f64,
    cold_docs_per_s: f64,
    cold_ready: usize,
    /// Acknowledged documents the restarted server called unavailable.
    wrongly_unavailable: usize,
    /// Acknowledged documents not fetched within the timeout.
    lost_in_cold_fetch: usize,
    /// Fetched with heads different from the original.
    heads_mismatch: usize,
    cold_cpu: CpuUse,
    // Resources.
    peak_rss_after_storm_kib: u64,
    peak_rss_after_cold_fetch_kib: u64,
    peak_rss_kib: u64,
    db_bytes_after_storm: u64,
    db_bytes: u64,
    clean_shutdowns: bool,
    /// Whole run for this server, including starts and stops.
    run_s: f64,
}

impl Report {
    fn lost(&self) -> usize {
        self.lost_in_storm + self.lost_in_cold_fetch + self.heads_mismatch
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run_server(kind: Kind, args: &Args, fixture: &Fixture) -> anyhow::Result<Report> {
    let run_started = Instant::now();
    let hz = clock_ticks_per_second();
    let data = tempfile::Builder::new()
        .prefix(&format!("sync-storm-{}-", kind.name()))
        .tempdir()?;
    let dir = data.path().to_owned();
    let _data = if args.keep_data {
        eprintln!("[{}] keeping {}", kind.name(), data.keep().display());
        None
    } else {
        Some(data)
    };
    let mut report = Report {
        server: kind.name().to_owned(),
        clients: args.clients,
        docs_per_client: args.docs_per_client,
        docs: fixture.docs.len(),
        clean_shutdowns: true,
        ..Report::default()
    };

    // Copies made before timing: each client task owns its backlog.
    let m = args.docs_per_client;
    let backlogs: Vec<Vec<Automerge>> = fixture.docs.chunks(m).map(<[Automerge]>::to_vec).collect();

    let directory = match kind {
        Kind::Doorstep => {
            eprintln!(
                "[doorstep] creating {} workers and signing them in",
                args.clients + 1
            );
            Some(provision_directory(&dir, fixture, args.clients)?)
        }
        Kind::Node => None,
    };
    let workers: Vec<&Identity> = directory.iter().flat_map(|d| &d.workers).collect();
    let manager: Vec<&Identity> = directory.iter().map(|d| &d.manager).collect();

    eprintln!("[{}] starting server on {}", kind.name(), dir.display());
    let server = Running::start(kind, &dir)?;
    if kind == Kind::Node {
        let waited = wait_handshake_ready(&server.url()).await?;
        eprintln!(
            "[node] first handshake answered {} ms after the ready line",
            waited.as_millis()
        );
    }
    let pid = server.pid();
    let urls = sync_urls(kind, &server.url(), &dir, &workers, args.clients)?;

    // --- Storm.
    eprintln!(
        "[{}] storm: {} clients x {m} docs",
        kind.name(),
        args.clients
    );
    let cpu = CpuMeter::start(pid, hz);
    let storm_started = Instant::now();
    let deadline = storm_started + args.timeout;
    let acked_so_far = Arc::new(AtomicUsize::new(0));
    let progress = tokio::spawn(report_progress(
        kind,
        pid,
        hz,
        acked_so_far.clone(),
        report.docs,
    ));
    let tasks: Vec<_> = backlogs
        .into_iter()
        .zip(urls)
        .enumerate()
        .map(|(index, (docs, url))| {
            tokio::spawn(storm_client(
                index,
                url,
                docs,
                deadline,
                acked_so_far.clone(),
            ))
        })
        .collect();
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        outcomes.push(task.await.context("storm client task panicked")?);
    }
    let storm_wall = storm_started.elapsed();
    report.storm_cpu = cpu.stop();
    progress.abort();

    let mut latencies = Vec::new();
    let mut handshakes = Vec::new();
    let mut fetch_list: Vec<(DocumentId, Vec<ChangeHash>, bool)> = Vec::new();
    for (index, outcome) in outcomes.iter().enumerate() {
        match &outcome.handshake {
            Ok(d) => handshakes.push(*d),
            Err(err) => {
                report.handshakes_failed += 1;
                eprintln!("[{}] client {index} failed to connect: {err}", kind.name());
            }
        }
        report.lost_in_storm += m - outcome.docs.len();
        report.protocol_errors += outcome.errors.len();
        for err in &outcome.errors {
            eprintln!("[{}] client {index} got error: {err}", kind.name());
        }
        for (j, (id, latency)) in outcome.docs.iter().enumerate() {
            match latency {
                Some(l) => {
                    report.acknowledged += 1;
                    latencies.push(*l);
                }
                None => report.lost_in_storm += 1,
            }
            fetch_list.push((*id, fixture.heads[index * m + j].clone(), latency.is_some()));
        }
    }
    latencies.sort();
    handshakes.sort();
    report.storm_wall_s = storm_wall.as_secs_f64();
    report.docs_per_s = report.docs as f64 / report.storm_wall_s;
    report.latency_p50_ms = ms(percentile(&latencies, 0.50));
    report.latency_p95_ms = ms(percentile(&latencies, 0.95));
    report.latency_max_ms = ms(percentile(&latencies, 1.0));
    report.handshake_p95_ms = ms(percentile(&handshakes, 0.95));
    report.handshake_max_ms = ms(percentile(&handshakes, 1.0));
    report.all_connected_s = percentile(&handshakes, 1.0).as_secs_f64();

    for outcome in &outcomes {
        outcome.client.disconnect().await;
    }
    drop(outcomes);
    report.peak_rss_after_storm_kib = peak_rss_kib(pid)?;
    eprintln!(
        "[{}] storm done in {:.2} s; restarting server",
        kind.name(),
        report.storm_wall_s
    );
    report.clean_shutdowns &= server.stop()?;
    report.db_bytes_after_storm = dir_size(&dir);

    // --- Cold fetch.
    let server = Running::start(kind, &dir)?;
    if kind == Kind::Node {
        wait_handshake_ready(&server.url()).await?;
    }
    let pid = server.pid();
    let cpu = CpuMeter::start(pid, hz);
    let manager_url = sync_urls(kind, &server.url(), &dir, &manager, 1)?
        .pop()
        .context("no manager url")?;
    // The cold fetch gets its own time budget.
    let deadline = Instant::now() + args.timeout;
    let manager = NativeClient::new("manager");
    let connect_started = Instant::now();
    tokio::time::timeout_at(deadline, manager.connect(&manager_url))
        .await
        .context("manager handshake timed out")??;
    report.cold_connect_ms = ms(connect_started.elapsed());
    eprintln!("[{}] cold fetch of {} docs", kind.name(), fetch_list.len());
    let fetch_started = Instant::now();
    let left = deadline.saturating_duration_since(Instant::now());
    let found = join_all(fetch_list.iter().map(|(id, ..)| manager.find(*id, left))).await;
    let fetch_time = fetch_started.elapsed();
    report.cold_cpu = cpu.stop();
    report.cold_fetch_s = fetch_time.as_secs_f64();
    report.cold_docs_per_s = fetch_list.len() as f64 / report.cold_fetch_s;
    for ((id, heads, acked), result) in fetch_list.iter().zip(found) {
        match result {
            Ok(Some(doc)) => {
                report.cold_ready += 1;
                if sorted_heads(&doc) != *heads {
                    // Ready means "has content"; give a partial first sync message time to finish.
                    let settled = settle_heads(&manager, *id, heads, deadline).await;
                    if !settled {
                        report.heads_mismatch += 1;
                        eprintln!(
                            "[{}] {id}: fetched heads differ from the original",
                            kind.name()
                        );
                    }
                }
            }
            Ok(None) if *acked => {
                report.wrongly_unavailable += 1;
                eprintln!(
                    "[{}] {id}: acknowledged but answered unavailable",
                    kind.name()
                );
            }
            Ok(None) => {}
            Err(err) if *acked => {
                report.lost_in_cold_fetch += 1;
                eprintln!("[{}] {err:#}", kind.name());
            }
            Err(_) => {}
        }
    }
    manager.disconnect().await;
    report.peak_rss_after_cold_fetch_kib = peak_rss_kib(pid)?;
    report.peak_rss_kib = report
        .peak_rss_after_storm_kib
        .max(report.peak_rss_after_cold_fetch_kib);
    report.clean_shutdowns &= server.stop()?;
    report.db_bytes = dir_size(&dir);
    report.run_s = run_started.elapsed().as_secs_f64();
    Ok(report)
}

/// Every 5 s: documents acknowledged so far and the server's CPU use per thread since the
/// last report (stderr), to see where a slow storm spends its time.
async fn report_progress(kind: Kind, pid: u32, hz: f64, acked: Arc<AtomicUsize>, total: usize) {
    let started = Instant::now();
    let mut meter = CpuMeter::start(pid, hz);
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let used = meter.stop();
        eprintln!(
            "[{}] t={:>5.1}s acknowledged {}/{total}; last 5 s CPU: {}",
            kind.name(),
            started.elapsed().as_secs_f64(),
            acked.load(Ordering::Relaxed),
            cpu_summary(&used)
        );
        meter = CpuMeter::start(pid, hz);
    }
}

/// Waits (up to 5 s, within the deadline) for the manager's copy to reach `heads`.
async fn settle_heads(
    manager: &NativeClient,
    id: DocumentId,
    heads: &[ChangeHash],
    deadline: Instant,
) -> bool {
    let until = deadline.min(Instant::now() + Duration::from_secs(5));
    loop {
        if manager
            .document(id)
            .is_some_and(|doc| sorted_heads(&doc) == heads)
        {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------------------
// Output.

fn cpu_summary(cpu: &CpuUse) -> String {
    let mut threads: Vec<_> = cpu.server_threads_s.iter().collect();
    threads.sort_by(|a, b| b.1.total_cmp(a.1));
    let threads: Vec<String> = threads
        .iter()
        .take(4)
        .map(|(name, s)| format!("{name} {s:.2}"))
        .collect();
    format!(
        "server {:.2} s [{}], client {:.2} s",
        cpu.server_s,
        threads.join(", "),
        cpu.client_s
    )
}

/// How one table row renders a report.
type Cell = Box<dyn Fn(&Report) -> String>;

fn print_table(reports: &[Report]) {
    let rows: Vec<(&str, Cell)> = vec![
        (
            "documents (C x M)",
            Box::new(|r| format!("{} x {} = {}", r.clients, r.docs_per_client, r.docs)),
        ),
        (
            "storm wall time",
            Box::new(|r| format!("{:.2} s", r.storm_wall_s)),
        ),
        (
            "storm throughput",
            Box::new(|r| format!("{:.1} docs/s", r.docs_per_s)),
        ),
        (
            "doc latency p50",
            Box::new(|r| format!("{:.0} ms", r.latency_p50_ms)),
        ),
        (
            "doc latency p95",
            Box::new(|r| format!("{:.0} ms", r.latency_p95_ms)),
        ),
        (
            "doc latency max",
            Box::new(|r| format!("{:.0} ms", r.latency_max_ms)),
        ),
        (
            "handshake p95 / max",
            Box::new(|r| format!("{:.0} / {:.0} ms", r.handshake_p95_ms, r.handshake_max_ms)),
        ),
        (
            "handshakes failed",
            Box::new(|r| r.handshakes_failed.to_string()),
        ),
        (
            "acknowledged",
            Box::new(|r| format!("{} / {}", r.acknowledged, r.docs)),
        ),
        (
            "lost (storm / cold / heads)",
            Box::new(|r| {
                format!(
                    "{} / {} / {}",
                    r.lost_in_storm, r.lost_in_cold_fetch, r.heads_mismatch
                )
            }),
        ),
        (
            "wrongly unavailable",
            Box::new(|r| r.wrongly_unavailable.to_string()),
        ),
        (
            "protocol errors",
            Box::new(|r| r.protocol_errors.to_string()),
        ),
        (
            "cold fetch",
            Box::new(|r| format!("{:.2} s ({:.1} docs/s)", r.cold_fetch_s, r.cold_docs_per_s)),
        ),
        (
            "cold connect",
            Box::new(|r| format!("{:.0} ms", r.cold_connect_ms)),
        ),
        (
            "peak RSS storm / cold",
            Box::new(|r| {
                format!(
                    "{:.1} / {:.1} MiB",
                    r.peak_rss_after_storm_kib as f64 / 1024.0,
                    r.peak_rss_after_cold_fetch_kib as f64 / 1024.0
                )
            }),
        ),
        (
            "size on disk",
            Box::new(|r| format!("{:.2} MiB", r.db_bytes as f64 / 1_048_576.0)),
        ),
        (
            "clean shutdowns",
            Box::new(|r| r.clean_shutdowns.to_string()),
        ),
        (
            "run time (with restarts)",
            Box::new(|r| format!("{:.1} s", r.run_s)),
        ),
    ];
    let label_width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|(_, cell)| reports.iter().map(cell).collect())
        .collect();
    let width = cells
        .iter()
        .flatten()
        .map(String::len)
        .chain(reports.iter().map(|r| r.server.len()))
        .max()
        .unwrap_or(0);
    let header: Vec<String> = reports
        .iter()
        .map(|r| format!("{:>width$}", r.server))
        .collect();
    println!("{:label_width$} | {}", "", header.join(" | "));
    println!(
        "{}",
        "-".repeat(label_width + 3 + reports.len() * (width + 3))
    );
    for ((label, _), row) in rows.iter().zip(&cells) {
        let row: Vec<String> = row.iter().map(|c| format!("{c:>width$}")).collect();
        println!("{label:label_width$} | {}", row.join(" | "));
    }
    for r in reports {
        println!(
            "CPU during storm      [{}]: {}",
            r.server,
            cpu_summary(&r.storm_cpu)
        );
        println!(
            "CPU during cold fetch [{}]: {}",
            r.server,
            cpu_summary(&r.cold_cpu)
        );
    }
}

#[derive(Debug, Serialize)]
struct Ratios {
    /// Doorstep docs/s ÷ Node docs/s (target ≥ 5).
    throughput: f64,
    /// Doorstep peak RSS ÷ Node peak RSS (target ≤ 1/3).
    peak_rss: f64,
    /// Doorstep cold-fetch time ÷ Node cold-fetch time (lower is better).
    cold_fetch_time: f64,
}

fn ratios(reports: &[Report]) -> Option<Ratios> {
    let doorstep = reports.iter().find(|r| r.server == "doorstep")?;
    let node = reports.iter().find(|r| r.server == "node")?;
    Some(Ratios {
        throughput: doorstep.docs_per_s / node.docs_per_s,
        peak_rss: doorstep.peak_rss_kib as f64 / node.peak_rss_kib as f64,
        cold_fetch_time: doorstep.cold_fetch_s / node.cold_fetch_s,
    })
}

/// The median of each ratio over the rounds (each ratio on its own).
fn median_ratios(all: &[Ratios]) -> Option<Ratios> {
    let median = |pick: fn(&Ratios) -> f64| {
        let mut values: Vec<f64> = all.iter().map(pick).collect();
        values.sort_by(f64::total_cmp);
        let mid = values.len() / 2;
        if values.len() % 2 == 1 {
            values[mid]
        } else {
            f64::midpoint(values[mid - 1], values[mid])
        }
    };
    (!all.is_empty()).then(|| Ratios {
        throughput: median(|r| r.throughput),
        peak_rss: median(|r| r.peak_rss),
        cold_fetch_time: median(|r| r.cold_fetch_time),
    })
}

// ---------------------------------------------------------------------------------------

/// Runs the benchmark. The simulated clients run on tokio worker threads at a lower CPU
/// priority (nice 10), so that on a small machine the load generator does not starve the
/// server under test; the servers are started from the main thread at normal priority.
/// Both servers get the same treatment.
fn main() -> anyhow::Result<ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_start(lower_this_threads_priority)
        .build()?
        .block_on(run())
}

/// `renice -n 10` for the calling thread (best effort: without `renice`, nothing changes).
fn lower_this_threads_priority() {
    let Ok(link) = std::fs::read_link("/proc/thread-self") else {
        return;
    };
    let Some(tid) = link.file_name().and_then(|name| name.to_str()) else {
        return;
    };
    let _ = Command::new("renice")
        .args(["-n", "10", "-p", tid])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

async fn run() -> anyhow::Result<ExitCode> {
    let args = parse_args()?;
    let total = args.clients * args.docs_per_client;
    eprintln!(
        "generating {total} visit documents ({} bytes of child's words each)",
        args.words_bytes
    );
    let generated = std::time::Instant::now();
    let words_bytes = args.words_bytes;
    let per_client = args.docs_per_client;
    let docs: Vec<Automerge> = tokio::task::spawn_blocking(move || {
        (0..total)
            .map(|seed| {
                // Client-major: the worker signed in on the client that creates it.
                let worker = format!("storm-worker-{}", seed / per_client);
                tests::visit_fixture::visit_with_history(seed as u64, &worker, words_bytes)
            })
            .collect()
    })
    .await?;
    let heads = docs.iter().map(sorted_heads).collect();
    let child_refs = docs
        .iter()
        .map(|doc| shared::model::visit_child_id(doc).context("fixture visit without childId"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let changes = docs.first().map_or(0, |d| d.get_changes(&[]).len());
    let fixture = Fixture {
        docs,
        heads,
        child_refs,
    };
    eprintln!(
        "generated in {:.1} s ({changes} changes per document)",
        generated.elapsed().as_secs_f64()
    );

    // Each round runs every server once; with two, the order alternates so that a drift in
    // the machine's speed (a shared host) favours neither. Ratios pair the runs of one round.
    let mut rounds: Vec<Vec<Report>> = Vec::new();
    for round in 0..args.rounds {
        let mut order = args.servers.clone();
        if round % 2 == 1 {
            order.reverse();
        }
        let mut reports = Vec::new();
        for kind in order {
            if args.rounds > 1 {
                eprintln!("[{}] round {} of {}", kind.name(), round + 1, args.rounds);
            }
            reports.push(
                run_server(kind, &args, &fixture)
                    .await
                    .with_context(|| format!("{} run", kind.name()))?,
            );
        }
        reports.sort_by_key(|report| report.server != "doorstep");
        rounds.push(reports);
    }

    println!(
        "sync-storm: {} clients x {} docs, {} bytes of words, {changes} changes per doc",
        args.clients, args.docs_per_client, args.words_bytes
    );
    let mut all_ratios = Vec::new();
    for (round, reports) in rounds.iter().enumerate() {
        if args.rounds > 1 {
            println!("\nround {} of {}", round + 1, args.rounds);
        }
        print_table(reports);
        if let Some(r) = ratios(reports) {
            println!(
                "ratios doorstep/node: throughput {:.2}x (target >= 5), peak RSS {:.3} (target <= 0.333), cold fetch time {:.3}",
                r.throughput, r.peak_rss, r.cold_fetch_time
            );
            all_ratios.push(r);
        }
    }
    let medians = median_ratios(&all_ratios);
    if let (Some(m), true) = (&medians, all_ratios.len() > 1) {
        let list = |pick: fn(&Ratios) -> f64, digits: usize| {
            all_ratios
                .iter()
                .map(|r| format!("{:.digits$}", pick(r)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "\nover {} rounds: throughput ratio {} (median {:.2}x, target >= 5); peak RSS ratio {} (median {:.3}, target <= 0.333); cold fetch time ratio median {:.3}",
            all_ratios.len(),
            list(|r| r.throughput, 2),
            m.throughput,
            list(|r| r.peak_rss, 3),
            m.peak_rss,
            m.cold_fetch_time
        );
    }
    if args.json {
        let line = serde_json::json!({
            "clients": args.clients,
            "docs_per_client": args.docs_per_client,
            "words_bytes": args.words_bytes,
            "changes_per_doc": changes,
            "rounds": rounds
                .iter()
                .map(|reports| serde_json::json!({ "reports": reports, "ratios": ratios(reports) }))
                .collect::<Vec<_>>(),
            "median_ratios": medians,
        });
        println!("{line}");
    }
    let failed = rounds
        .iter()
        .flatten()
        .any(|r| r.lost() > 0 || r.wrongly_unavailable > 0);
    if failed {
        eprintln!("FAILED: documents were lost or wrongly unavailable");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
