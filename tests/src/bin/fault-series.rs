//! `fault-series`: a benchmark of faults under a storm of writes. Not a test: it prints a
//! table of what was acknowledged, lost and corrupt per scenario.
//!
//! ```text
//! cargo build -p tests && target/debug/fault-series [--rounds 20] [--clients 6] [--seed S]
//! ```
//!
//! Scenarios, each against the real server binary (`server-under-test`, next to this one)
//! with several [`NativeClient`]s creating and editing visits as fast as the server
//! acknowledges them; each client records the heads the server reported for each document
//! (the server reports only heads it has made durable):
//! - **kill -9**, `--rounds` times on one data directory: the server is killed at a random
//!   moment of the storm, then the database is checked and the next round restarts on it;
//! - **disk full**: the data directory is a 64 MiB tmpfs that is filled mid-storm, then
//!   freed (needs root: skipped, and said so, where a tmpfs cannot be mounted);
//! - **database removed**: the database file is removed mid-storm (a hard link keeps the
//!   inode, as a backup would), then put back after the server has stopped;
//! - **second server**: a second `serve` is started on the directory mid-storm; it must exit
//!   non-zero, and the first is then killed with `kill -9`.
//!
//! After each, the database is opened directly: `PRAGMA integrity_check` must pass
//! (`corrupt` counts failures, and documents that cannot be loaded), and every change of
//! every acknowledged version (the document at the acknowledged heads, with all its
//! ancestors) must be stored (`lost` counts those missing). The process exits non-zero if
//! anything acknowledged was lost or anything is corrupt. `--rounds 2` takes about 20 s.

// A benchmark's whole job is to print its figures on stdout.
#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use automerge::{Automerge, ChangeHash, ReadDoc};
use rand::{Rng, SeedableRng};
use shared::DocumentId;
use shared::model;
use tests::council::{self, PASSWORD, Session};
use tests::test_server::health_status;
use tests::{NativeClient, ServerProcess, visit_fixture};

const USAGE: &str = "usage: fault-series [--rounds N] [--clients C] [--seed S]";

/// The council's social workers and a child each may record visits for.
const WORKERS: [(&str, &str); 3] = [
    ("sw-north-1", "C-N1"),
    ("sw-north-2", "C-N3"),
    ("sw-south-1", "C-S1"),
];

struct Options {
    rounds: usize,
    clients: usize,
    seed: u64,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        rounds: 20,
        clients: 6,
        seed: rand::random(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().context(USAGE);
        match arg.as_str() {
            "--rounds" => options.rounds = value()?.parse().context(USAGE)?,
            "--clients" => options.clients = value()?.parse().context(USAGE)?,
            "--seed" => options.seed = value()?.parse().context(USAGE)?,
            _ => bail!("{USAGE}"),
        }
    }
    Ok(options)
}

/// What one scenario found.
#[derive(Default)]
struct Tally {
    rounds: usize,
    /// Changes in acknowledged versions.
    acknowledged: usize,
    /// Of those, not stored.
    lost: usize,
    /// Failed integrity checks plus documents that could not be loaded.
    corrupt: usize,
    notes: Vec<String>,
    seconds: f64,
}

impl Tally {
    fn add(&mut self, check: Check) {
        self.rounds += 1;
        self.acknowledged += check.acknowledged;
        self.lost += check.lost;
        self.corrupt += check.corrupt;
    }
}

/// One verification of a data directory.
struct Check {
    acknowledged: usize,
    lost: usize,
    corrupt: usize,
}

/// Each client's documents at the heads the server acknowledged.
type Acknowledged = Vec<(DocumentId, Automerge)>;

/// One client's storm: create and edit visits until `stop` or the connection drops.
async fn storm_client(
    addr: std::net::SocketAddr,
    n: usize,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<Acknowledged> {
    let (username, child) = WORKERS[n % WORKERS.len()];
    let client = NativeClient::new(&format!("storm-{n}"));
    // A client the fault overtook before it was connected saw nothing acknowledged.
    let connected = async {
        let session = Session::login(addr, username, PASSWORD, None).await?;
        client.connect(&session.sync_url().await?).await
    };
    if let Err(err) = connected.await {
        tracing::info!(cause = %format!("{err:#}"), "storm client never connected");
        return Ok(Vec::new());
    }
    let mut heads: HashMap<DocumentId, Vec<ChangeHash>> = HashMap::new();
    let mut docs = Vec::new();
    for round in 0u64.. {
        if round % 3 == 0 && docs.len() < 8 {
            let seed = rand::random::<u64>() % 1_000_000;
            docs.push(client.create(visit_fixture::visit_for_child(seed, child, username, 300)));
        }
        for id in docs.iter().rev().take(3) {
            let _ = client.change(*id, |doc| {
                let mut tx = doc.transaction();
                let _ = model::append_child_words(&mut tx, 0, &format!(" r{round}"));
                tx.commit();
            });
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        for id in &docs {
            let acknowledged = client.server_heads(*id);
            if !acknowledged.is_empty() {
                heads.insert(*id, acknowledged);
            }
        }
        if !client.is_connected() || stop.load(Ordering::SeqCst) {
            break;
        }
    }
    client.disconnect().await;
    let mut acknowledged = Vec::new();
    for (id, heads) in heads {
        let doc = client
            .document(id)
            .context("client lost its own document")?;
        acknowledged.push((id, doc.fork_at(&heads)?));
    }
    Ok(acknowledged)
}

/// A storm of `clients` clients against `addr`; `during` runs once it is going.
struct Storm {
    stop: Arc<AtomicBool>,
    clients: Vec<tokio::task::JoinHandle<anyhow::Result<Acknowledged>>>,
}

impl Storm {
    fn start(addr: std::net::SocketAddr, clients: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let clients = (0..clients)
            .map(|n| tokio::spawn(storm_client(addr, n, stop.clone())))
            .collect();
        Self { stop, clients }
    }

    /// Stops the clients (if still running) and gathers what each saw acknowledged.
    async fn finish(self) -> anyhow::Result<Acknowledged> {
        self.stop.store(true, Ordering::SeqCst);
        let mut all = Vec::new();
        for client in self.clients {
            let seen = tokio::time::timeout(Duration::from_secs(60), client)
                .await
                .context("a client did not stop")??
                .context("a storm client failed")?;
            all.extend(seen);
        }
        Ok(all)
    }
}

/// Opens the database directly: integrity, and every acknowledged change present.
fn verify(dir: &Path, acknowledged: &Acknowledged) -> anyhow::Result<Check> {
    let store = server::DocumentStore::open(dir, server::clock::Clock::system())
        .context("reopening the database")?;
    let mut check = Check {
        acknowledged: 0,
        lost: 0,
        corrupt: usize::from(store.integrity_check()?.is_err()),
    };
    for (id, version) in acknowledged {
        let hashes: Vec<ChangeHash> = version.get_changes(&[]).iter().map(|c| c.hash()).collect();
        check.acknowledged += hashes.len();
        let stored = match store.load(id)? {
            Some(chunks) => Automerge::load(&chunks.bytes).ok(),
            None => None,
        };
        match stored {
            Some(stored) => {
                check.lost += hashes
                    .iter()
                    .filter(|hash| stored.get_change_by_hash(hash).is_none())
                    .count();
            }
            None => {
                check.corrupt += usize::from(store.load(id)?.is_some());
                check.lost += hashes.len();
            }
        }
    }
    Ok(check)
}

fn server_binary() -> anyhow::Result<PathBuf> {
    let binary = std::env::current_exe()?.with_file_name("server-under-test");
    if !binary.exists() {
        bail!(
            "{} not found: build it with `cargo build -p tests`",
            binary.display()
        );
    }
    Ok(binary)
}

async fn wait_for_health(addr: std::net::SocketAddr, status: u16) -> bool {
    for _ in 0..200 {
        if health_status(addr).await.is_ok_and(|(s, _)| s == status) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn kill_rounds(
    binary: &Path,
    options: &Options,
    rng: &mut impl Rng,
) -> anyhow::Result<Tally> {
    let started = Instant::now();
    let dir = tempfile::tempdir()?;
    council::create(dir.path())?;
    let mut tally = Tally::default();
    let mut all = Vec::new();
    for round in 0..options.rounds {
        let server = ServerProcess::start(binary, dir.path(), &["--live-documents", "4"])?;
        let storm = Storm::start(server.addr, options.clients);
        let kill_after = Duration::from_millis(rng.random_range(300..1500));
        tokio::time::sleep(kill_after).await;
        server.kill9()?;
        let seen = storm.finish().await?;
        let check = verify(dir.path(), &seen)?;
        if check.lost > 0 || check.corrupt > 0 {
            tally
                .notes
                .push(format!("round {round}: killed after {kill_after:?}"));
        }
        tally.add(check);
        all.extend(seen);
    }
    // Everything acknowledged in any round is still there at the end.
    let last = verify(dir.path(), &all)?;
    if last.lost > 0 {
        tally.notes.push(format!(
            "{} earlier acknowledged changes gone by the end",
            last.lost
        ));
        tally.lost += last.lost;
    }
    tally.seconds = started.elapsed().as_secs_f64();
    Ok(tally)
}

/// A size-limited tmpfs, unmounted (lazily) on drop.
struct Tmpfs {
    path: PathBuf,
    _parent: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> anyhow::Result<Self> {
        let parent = tempfile::tempdir()?;
        let path = parent.path().join("mnt");
        std::fs::create_dir(&path)?;
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .output()?;
        if !output.status.success() {
            bail!("{}", String::from_utf8_lossy(&output.stderr).trim());
        }
        Ok(Self {
            path,
            _parent: parent,
        })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn fill(dir: &Path) -> anyhow::Result<PathBuf> {
    use std::io::Write;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path)?;
    let block = vec![0u8; 64 * 1024];
    while file.write_all(&block).is_ok() {}
    while file.write_all(&[0u8; 512]).is_ok() {}
    Ok(path)
}

async fn disk_full(binary: &Path, options: &Options) -> anyhow::Result<Tally> {
    let started = Instant::now();
    let mut tally = Tally::default();
    let disk = match Tmpfs::mount("64m") {
        Ok(disk) => disk,
        Err(why) => {
            tally
                .notes
                .push(format!("skipped: cannot mount a tmpfs ({why})"));
            return Ok(tally);
        }
    };
    let dir = disk.path.join("data");
    council::create(&dir)?;
    let server = ServerProcess::start(binary, &dir, &[])?;
    let storm = Storm::start(server.addr, options.clients);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let filler = fill(&disk.path)?;
    let degraded = wait_for_health(server.addr, 503).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut seen = storm.finish().await?;
    std::fs::remove_file(&filler)?;
    let recovered = wait_for_health(server.addr, 200).await;
    tally.notes.push(format!(
        "healthz {} while full, {} after",
        if degraded { "503" } else { "never 503" },
        if recovered { "200" } else { "not 200" }
    ));
    // After recovery the server takes writes again.
    let storm = Storm::start(server.addr, options.clients);
    tokio::time::sleep(Duration::from_millis(800)).await;
    seen.extend(storm.finish().await?);
    if !server.terminate()? {
        tally.notes.push("SIGTERM exit not 0".into());
    }
    tally.add(verify(&dir, &seen)?);
    tally.seconds = started.elapsed().as_secs_f64();
    Ok(tally)
}

async fn database_removed(binary: &Path, options: &Options) -> anyhow::Result<Tally> {
    let started = Instant::now();
    let mut tally = Tally::default();
    let dir = tempfile::tempdir()?;
    council::create(dir.path())?;
    let server = ServerProcess::start(binary, dir.path(), &[])?;
    let storm = Storm::start(server.addr, options.clients);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let database = dir.path().join(server::DATABASE_FILE);
    let kept = dir.path().join("kept");
    std::fs::hard_link(&database, &kept)?;
    std::fs::remove_file(&database)?;
    let degraded = wait_for_health(server.addr, 503).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = storm.finish().await?;
    let recreated = database.exists();
    if !server.terminate()? {
        tally.notes.push("SIGTERM exit not 0".into());
    }
    tally.notes.push(format!(
        "healthz {}; {}",
        if degraded { "503" } else { "never 503" },
        if recreated {
            "a database was created afresh"
        } else {
            "nothing created afresh"
        }
    ));
    if recreated {
        tally.corrupt += 1;
        std::fs::remove_file(&database)?;
    }
    std::fs::rename(&kept, &database)?;
    tally.add(verify(dir.path(), &seen)?);
    tally.seconds = started.elapsed().as_secs_f64();
    Ok(tally)
}

async fn second_server(binary: &Path, options: &Options) -> anyhow::Result<Tally> {
    let started = Instant::now();
    let mut tally = Tally::default();
    let dir = tempfile::tempdir()?;
    council::create(dir.path())?;
    let server = ServerProcess::start(binary, dir.path(), &[])?;
    let storm = Storm::start(server.addr, options.clients);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let second = Command::new(binary)
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .output()?;
    let stderr = String::from_utf8_lossy(&second.stderr);
    let named = stderr.contains(&format!("process {}", server.pid()));
    tally.notes.push(format!(
        "second serve exit {}{}",
        second
            .status
            .code()
            .map_or_else(|| "by signal".to_owned(), |code| code.to_string()),
        if named {
            ", named the holder"
        } else {
            ", holder not named"
        }
    ));
    if second.status.success() || !named {
        tally.corrupt += 1;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    server.kill9()?;
    let seen = storm.finish().await?;
    tally.add(verify(dir.path(), &seen)?);
    tally.seconds = started.elapsed().as_secs_f64();
    Ok(tally)
}

async fn run(options: Options) -> anyhow::Result<ExitCode> {
    let binary = server_binary()?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(options.seed);
    println!(
        "fault series: {} kill -9 rounds, {} clients, seed {}",
        options.rounds, options.clients, options.seed
    );
    let scenarios = [
        ("kill -9", kill_rounds(&binary, &options, &mut rng).await?),
        ("disk full", disk_full(&binary, &options).await?),
        (
            "database removed",
            database_removed(&binary, &options).await?,
        ),
        ("second server", second_server(&binary, &options).await?),
    ];
    println!(
        "{:<18} {:>6} {:>13} {:>6} {:>8} {:>7}  notes",
        "scenario", "rounds", "acknowledged", "lost", "corrupt", "seconds"
    );
    let mut failed = false;
    for (name, tally) in &scenarios {
        println!(
            "{:<18} {:>6} {:>13} {:>6} {:>8} {:>7.1}  {}",
            name,
            tally.rounds,
            tally.acknowledged,
            tally.lost,
            tally.corrupt,
            tally.seconds,
            tally.notes.join("; ")
        );
        failed |= tally.lost > 0 || tally.corrupt > 0;
    }
    Ok(if failed {
        println!("FAILED: something acknowledged was lost, or something is corrupt");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn main() -> anyhow::Result<ExitCode> {
    // The clients' warnings (each storage refusal) would drown the table; ask for them.
    if std::env::var_os("DOORSTEP_LOG").is_some() {
        tests::init_logging();
    }
    let options = options()?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(options))
}
