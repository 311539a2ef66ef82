//! Faults an operator (or the machine) causes under a running server: a second `serve` on
//! the same data directory, the database file removed, the disk full, the database made
//! unwritable, a restart over a lost database, and a component (hub or storage thread)
//! dying. Each asserts the answer (exit code and message, `/healthz`, sign-in), that
//! nothing is acknowledged that is not durable in the real database, that nothing is
//! created afresh, and that an honest client syncs on (or again, once storage recovers)
//! without losing anything it saw acknowledged.
//!
//! The disk-full and unwritable faults need root: a size-limited tmpfs (`mount -t tmpfs -o
//! size=…`) fills up for real, and `chattr +i` makes a file refuse writes even through
//! descriptors already open (chmod does not stop root, and a read-only bind remount does
//! not stop descriptors opened before it). Where neither is possible, set
//! `DOORSTEP_SKIP_ROOT_FAULTS=1` to skip those two tests (they say so on stderr).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use crate::server_binary;
use automerge::ReadDoc;
use serde_json::{Value, json};
use server::{InjectedFaults, ServerConfig};
use shared::DocumentId;
use shared::model;
use tests::council::{self, PASSWORD, Session};
use tests::test_server::{bearer_request, health_status, http_request, run_admin};
use tests::{NativeClient, ServerProcess, TestServer, visit_fixture};

const TIMEOUT: Duration = Duration::from_secs(20);

/// A signed-in social worker's device, connected.
async fn device(addr: std::net::SocketAddr, username: &str, name: &str) -> NativeClient {
    let session = Session::login(addr, username, PASSWORD, None)
        .await
        .expect("login");
    session.device(name).await.expect("connected device")
}

/// Appends `words` to the first voice entry of a visit on the device.
fn type_words(client: &NativeClient, id: DocumentId, words: &str) {
    client
        .change(id, |doc| {
            let mut tx = doc.transaction();
            model::append_child_words(&mut tx, 0, words).expect("words");
            tx.commit();
        })
        .expect("edit");
}

/// Waits until `/healthz` answers `status`; returns its body.
async fn wait_health(addr: std::net::SocketAddr, status: u16) -> Value {
    let mut last = (0, Value::Null);
    for _ in 0..200 {
        if let Ok(answer) = health_status(addr).await {
            if answer.0 == status {
                return answer.1;
            }
            last = answer;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("/healthz never answered {status}; last {last:?}");
}

async fn sign_in(addr: std::net::SocketAddr, username: &str) -> (u16, Value) {
    let body = json!({ "username": username, "password": PASSWORD });
    let (status, _, body) = http_request(addr, "POST", "/api/session", &[], Some(&body))
        .await
        .expect("request");
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// The change hashes of `id` the server has reported (so holds durably).
fn acknowledged_heads(client: &NativeClient, id: DocumentId) -> Vec<automerge::ChangeHash> {
    client.server_heads(id)
}

/// Asserts that for `settle`, none of `client`'s heads of `id` is acknowledged.
async fn assert_never_acknowledged(client: &NativeClient, id: DocumentId, settle: Duration) {
    let heads = client.document(id).expect("held").get_heads();
    let deadline = tokio::time::Instant::now() + settle;
    while tokio::time::Instant::now() < deadline {
        let acknowledged = acknowledged_heads(client, id);
        assert!(
            !heads.iter().all(|head| acknowledged.contains(head)),
            "a change was acknowledged while storage was failing"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reopens the data directory's database after the server stopped, checks it is sound and
/// that `id` holds every change in `heads`.
fn assert_stored(dir: &Path, id: DocumentId, heads: &[automerge::ChangeHash]) {
    let store = server::DocumentStore::open(dir, server::clock::Clock::system()).expect("reopen");
    assert_eq!(store.integrity_check().expect("check"), Ok(()));
    let chunks = store.load(&id).expect("load").expect("document stored");
    let doc = automerge::Automerge::load(&chunks.bytes).expect("readable");
    for head in heads {
        assert!(
            doc.get_change_by_hash(head).is_some(),
            "acknowledged change {head} lost"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_serve_on_the_same_directory_exits_naming_the_holder_and_the_first_keeps_serving()
{
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let first = ServerProcess::start(server_binary(), dir.path(), &[]).expect("first server");
    let honest = device(first.addr, "sw-north-1", "honest").await;
    let before = honest.create(visit_fixture::visit_for_child(1, "C-N1", "sw-north-1", 200));
    honest
        .wait_acknowledged(before, TIMEOUT)
        .await
        .expect("stored");

    // Started on another port, and on the holder's own address: both refused, naming it.
    let holder_addr = first.addr.to_string();
    for addr in ["127.0.0.1:0", holder_addr.as_str()] {
        let second = Command::new(server_binary())
            .args(["serve", "--addr", addr, "--data-dir"])
            .arg(dir.path())
            .output()
            .expect("second serve ran");
        let stderr = String::from_utf8_lossy(&second.stderr);
        assert!(!second.status.success(), "second serve must fail: {stderr}");
        assert!(stderr.contains("already serving"), "{stderr}");
        assert!(
            stderr.contains(&format!("process {}", first.pid())),
            "names the holder's pid: {stderr}"
        );
        assert!(stderr.contains(&holder_addr), "names its address: {stderr}");
    }
    // Admin commands still work beside the running server.
    let devices = run_admin(
        server_binary(),
        dir.path(),
        &["device", "list", "sw-north-1"],
    );
    assert!(devices.contains("active"), "{devices}");

    // The first server is untouched: it syncs on, and keeps what it acknowledged.
    assert_eq!(health_status(first.addr).await.expect("health").0, 200);
    let after = honest.create(visit_fixture::visit_for_child(2, "C-N1", "sw-north-1", 200));
    honest
        .wait_acknowledged(after, TIMEOUT)
        .await
        .expect("stored");
    type_words(&honest, before, " and more");
    honest
        .wait_acknowledged(before, TIMEOUT)
        .await
        .expect("ack");
    let heads = (
        acknowledged_heads(&honest, before),
        acknowledged_heads(&honest, after),
    );
    assert!(first.terminate().expect("sigterm"), "exit 0");
    assert_stored(dir.path(), before, &heads.0);
    assert_stored(dir.path(), after, &heads.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_database_file_stops_acknowledgement_and_nothing_is_created_afresh() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = ServerProcess::start(server_binary(), dir.path(), &[]).expect("server");
    let honest = device(server.addr, "sw-north-1", "honest").await;
    let visit = honest.create(visit_fixture::visit_for_child(1, "C-N1", "sw-north-1", 200));
    honest.wait_acknowledged(visit, TIMEOUT).await.expect("ack");
    let acknowledged = acknowledged_heads(&honest, visit);

    // The operator removes the database (a hard link keeps the inode for the end).
    let database = dir.path().join(server::DATABASE_FILE);
    let kept = dir.path().join("kept-inode");
    std::fs::hard_link(&database, &kept).expect("link");
    std::fs::remove_file(&database).expect("rm");

    // Health says so at once, writes are refused, sign-in answers 503, nothing is created.
    let body = wait_health(server.addr, 503).await;
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["storage"], "database file removed", "{body}");
    type_words(&honest, visit, " typed after the file went");
    assert_never_acknowledged(&honest, visit, Duration::from_secs(2)).await;
    let (status, body) = sign_in(server.addr, "sw-north-2").await;
    assert_eq!(status, 503, "{body}");
    let message = body["error"].as_str().unwrap_or_default();
    assert!(
        message.contains("cannot store anything right now") && message.contains("removed"),
        "{body}"
    );
    let (status, _, _) = bearer_request(
        server.addr,
        "POST",
        "/api/sync-ticket",
        &"0".repeat(64),
        None,
    )
    .await
    .expect("ticket");
    assert_eq!(status, 503);
    // An admin command meanwhile refuses too, rather than create an empty database.
    let admin = Command::new(server_binary())
        .args(["admin", "--data-dir"])
        .arg(dir.path())
        .args(["device", "list", "sw-north-1"])
        .output()
        .expect("admin ran");
    assert!(!admin.status.success());
    assert!(
        String::from_utf8_lossy(&admin.stderr).contains("is missing"),
        "{}",
        String::from_utf8_lossy(&admin.stderr)
    );
    assert!(!database.exists(), "no database created afresh");
    assert!(
        server.log().contains("database file removed"),
        "logged: {}",
        server.log()
    );

    // The same file back in place: storage recovers, the device syncs what it typed.
    std::fs::hard_link(&kept, &database).expect("restore");
    wait_health(server.addr, 200).await;
    let honest_again = if honest.is_connected() {
        honest.clone()
    } else {
        let session = Session::login(server.addr, "sw-north-1", PASSWORD, None)
            .await
            .expect("login after recovery");
        honest
            .connect(&session.sync_url().await.expect("ticket"))
            .await
            .expect("reconnect");
        honest.clone()
    };
    honest_again
        .wait_acknowledged(visit, TIMEOUT)
        .await
        .expect("stored after recovery");
    let after = acknowledged_heads(&honest_again, visit);
    assert!(server.terminate().expect("sigterm"), "exit 0");
    assert_stored(dir.path(), visit, &acknowledged);
    assert_stored(dir.path(), visit, &after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_over_a_lost_database_refuses_to_start_afresh() {
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = ServerProcess::start(server_binary(), dir.path(), &[]).expect("server");
    assert!(server.terminate().expect("sigterm"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(
            dir.path()
                .join(format!("{}{suffix}", server::DATABASE_FILE)),
        );
    }
    let output = Command::new(server_binary())
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("serve ran");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("is missing"), "{stderr}");
    assert!(
        !dir.path().join(server::DATABASE_FILE).exists(),
        "no empty database created"
    );
    let admin = Command::new(server_binary())
        .args(["admin", "--data-dir"])
        .arg(dir.path())
        .args(["team", "add", "East"])
        .output()
        .expect("admin ran");
    assert!(!admin.status.success(), "admin refuses to create it too");
    assert!(!dir.path().join(server::DATABASE_FILE).exists());

    // A database made afresh by other means is not the one served: refused as well.
    drop(
        server::DocumentStore::open(dir.path(), server::clock::Clock::system())
            .expect("a fresh database"),
    );
    let output = Command::new(server_binary())
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("serve ran");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("has storage id"), "{stderr}");
}

/// Whether tests needing root (tmpfs mounts, `chattr`) are to be skipped here.
fn skip_root_faults(what: &str, why: &str) -> bool {
    if std::env::var_os("DOORSTEP_SKIP_ROOT_FAULTS").is_some() {
        eprintln!("skipped ({what}): {why}; DOORSTEP_SKIP_ROOT_FAULTS is set");
        return true;
    }
    panic!("{what} needs root here: {why} (set DOORSTEP_SKIP_ROOT_FAULTS=1 to skip)");
}

/// A size-limited tmpfs mounted at a fresh directory, unmounted on drop.
struct Tmpfs {
    path: PathBuf,
    _parent: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Self, String> {
        let parent = tempfile::tempdir().map_err(|err| err.to_string())?;
        let path = parent.path().join("mnt");
        std::fs::create_dir(&path).map_err(|err| err.to_string())?;
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .output()
            .map_err(|err| err.to_string())?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).into_owned());
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

/// Fills the filesystem holding `dir` with one file; returns its path.
fn fill_disk(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).expect("filler");
    let block = vec![0u8; 64 * 1024];
    while file.write_all(&block).is_ok() {}
    // Sub-block remainders too.
    while file.write_all(&[0u8; 512]).is_ok() {}
    path
}

/// Random letters, which deflate (automerge's chunk compression) cannot shrink much.
fn incompressible_words(bytes: usize) -> String {
    (0..bytes)
        .map(|_| char::from(b'a' + rand::random::<u8>() % 26))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_acknowledgement_and_storage_recovers_when_space_returns() {
    tests::init_logging();
    let disk = match Tmpfs::mount("48m") {
        Ok(disk) => disk,
        Err(why) if skip_root_faults("disk full", &why) => return,
        Err(why) => panic!("{why}"),
    };
    let dir = disk.path.join("data");
    council::create(&dir).expect("council");
    let server = ServerProcess::start(server_binary(), &dir, &[]).expect("server");
    let honest = device(server.addr, "sw-north-1", "honest").await;
    let visit = honest.create(visit_fixture::visit_for_child(1, "C-N1", "sw-north-1", 200));
    honest.wait_acknowledged(visit, TIMEOUT).await.expect("ack");
    let acknowledged = acknowledged_heads(&honest, visit);

    let filler = fill_disk(&disk.path);
    // Bigger than any room left in the log's last page: the commit must grow the file.
    type_words(&honest, visit, &incompressible_words(256 * 1024));
    assert_never_acknowledged(&honest, visit, Duration::from_secs(2)).await;
    let body = wait_health(server.addr, 503).await;
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["storage"], "disk full", "{body}");
    let (status, body) = sign_in(server.addr, "sw-north-2").await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("disk full"),
        "{body}"
    );
    assert!(server.log().contains("disk full"), "{}", server.log());

    // Room again: the storage thread's probe notices, the device sends what it typed again.
    std::fs::remove_file(&filler).expect("free the disk");
    wait_health(server.addr, 200).await;
    if !honest.is_connected() {
        let session = Session::login(server.addr, "sw-north-1", PASSWORD, None)
            .await
            .expect("login after recovery");
        honest
            .connect(&session.sync_url().await.expect("ticket"))
            .await
            .expect("reconnect");
    }
    honest
        .wait_acknowledged(visit, TIMEOUT)
        .await
        .expect("stored after recovery");
    let after = acknowledged_heads(&honest, visit);
    assert!(server.terminate().expect("sigterm"), "exit 0");
    assert_stored(&dir, visit, &acknowledged);
    assert_stored(&dir, visit, &after);
}

/// `chattr +i` (or `-i`) on the database files; an error if chattr is refused.
fn chattr(flag: &str, files: &[PathBuf]) -> Result<(), String> {
    let output = Command::new("chattr")
        .arg(flag)
        .args(files)
        .output()
        .map_err(|err| err.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Clears the immutable flag on drop, so a failing test leaves a removable directory.
struct Immutable(Vec<PathBuf>);

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = chattr("-i", &self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_database_stops_acknowledgement_and_recovers() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = ServerProcess::start(server_binary(), dir.path(), &[]).expect("server");
    let honest = device(server.addr, "sw-north-1", "honest").await;
    let visit = honest.create(visit_fixture::visit_for_child(1, "C-N1", "sw-north-1", 200));
    honest.wait_acknowledged(visit, TIMEOUT).await.expect("ack");
    let acknowledged = acknowledged_heads(&honest, visit);

    let files: Vec<PathBuf> = ["", "-wal"]
        .iter()
        .map(|suffix| {
            dir.path()
                .join(format!("{}{suffix}", server::DATABASE_FILE))
        })
        .collect();
    let guard = match chattr("+i", &files) {
        Ok(()) => Immutable(files.clone()),
        Err(why) if skip_root_faults("unwritable database", &why) => return,
        Err(why) => panic!("{why}"),
    };
    type_words(&honest, visit, " typed while the file is immutable");
    assert_never_acknowledged(&honest, visit, Duration::from_secs(2)).await;
    let body = wait_health(server.addr, 503).await;
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["storage"], "disk I/O error", "{body}");
    let (status, body) = sign_in(server.addr, "sw-north-2").await;
    assert_eq!(status, 503, "{body}");

    drop(guard);
    wait_health(server.addr, 200).await;
    if !honest.is_connected() {
        let session = Session::login(server.addr, "sw-north-1", PASSWORD, None)
            .await
            .expect("login after recovery");
        honest
            .connect(&session.sync_url().await.expect("ticket"))
            .await
            .expect("reconnect");
    }
    honest
        .wait_acknowledged(visit, TIMEOUT)
        .await
        .expect("stored after recovery");
    let after = acknowledged_heads(&honest, visit);
    assert!(server.terminate().expect("sigterm"), "exit 0");
    assert_stored(dir.path(), visit, &acknowledged);
    assert_stored(dir.path(), visit, &after);
}

/// A council server in-process with fault injection, and a connected worker's device
/// with one acknowledged visit.
async fn faulty_server(dir: &Path) -> (TestServer, Arc<InjectedFaults>, NativeClient, DocumentId) {
    council::create(dir).expect("council");
    let faults = Arc::new(InjectedFaults::default());
    let mut config = ServerConfig::new(dir.to_owned());
    config.injected_faults = Some(faults.clone());
    let server = TestServer::start_with(config).await.expect("server");
    let honest = device(server.addr, "sw-north-1", "honest").await;
    let visit = honest.create(visit_fixture::visit_for_child(1, "C-N1", "sw-north-1", 200));
    honest.wait_acknowledged(visit, TIMEOUT).await.expect("ack");
    (server, faults, honest, visit)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_storage_thread_fails_healthz_and_stops_the_server_with_an_error() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, faults, honest, visit) = faulty_server(dir.path()).await;
    let acknowledged = acknowledged_heads(&honest, visit);

    faults.panic_storage_thread();
    type_words(&honest, visit, " typed as storage dies");
    let addr = server.addr;
    // The server stops by itself with an error (the binary exits non-zero); until it has,
    // /healthz does not say ok.
    let watcher = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Ok((status, body)) = health_status(addr).await {
            seen.push((status, body));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        seen
    });
    let outcome = server
        .wait_stopped(Duration::from_secs(30))
        .await
        .expect("stopped by itself");
    let err = outcome.expect_err("run returns an error");
    assert!(
        format!("{err:#}").contains("storage thread panicked"),
        "{err:#}"
    );
    let seen = watcher.await.expect("watcher");
    if let Some((status, body)) = seen.iter().find(|(_, body)| body["status"] != "ok") {
        assert_eq!(*status, 503, "{body}");
        assert_eq!(body["status"], "failed", "{body}");
    }
    assert_stored(dir.path(), visit, &acknowledged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_hub_thread_fails_healthz_and_stops_the_server_with_an_error() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, faults, honest, visit) = faulty_server(dir.path()).await;
    let acknowledged = acknowledged_heads(&honest, visit);

    let doc = honest.document(visit).expect("held");
    assert!(faults.panic_hub_thread(visit, doc.get_heads()).await);
    // From the hub's death until the server has gone, /healthz never says ok.
    let mut answers = Vec::new();
    loop {
        match health_status(server.addr).await {
            Ok((200, _)) if answers.is_empty() => {}
            Ok(answer) => answers.push(answer),
            Err(_) => break,
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for (status, body) in &answers {
        assert_eq!(*status, 503, "{body}");
        assert_eq!(body["status"], "failed", "{body}");
    }
    let outcome = server
        .wait_stopped(Duration::from_secs(30))
        .await
        .expect("stopped by itself");
    let err = outcome.expect_err("run returns an error");
    // The hub contains panics it can pin on a peer; this one it cannot, so it stops (or,
    // without that containment, dies of the panic): either way the server does not go on.
    assert!(format!("{err:#}").contains("hub thread"), "{err:#}");
    assert_stored(dir.path(), visit, &acknowledged);
}
