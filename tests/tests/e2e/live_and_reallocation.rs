//! A worker's devices and reallocation, through the real server binary: a visit made on
//! one tablet reaches the worker's other online tablet unasked; what a worker recorded
//! offline while they held a child reaches the server after the child was reallocated; a
//! record refused for a child they never held is in that child's audit export.

use std::time::{Duration, Instant};

use crate::server_binary;
use shared::model;
use tests::council::{self, PASSWORD, Session};
use tests::test_server::run_admin;
use tests::{NativeClient, ServerProcess, visit_fixture};

const TIMEOUT: Duration = Duration::from_secs(30);

async fn tablet(session: &Session, name: &str) -> NativeClient {
    session.device(name).await.expect("connected device")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_made_on_one_tablet_reaches_the_workers_other_tablet_unasked() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = ServerProcess::start(server_binary(), dir.path(), &[]).expect("server");
    let first = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("login");
    let second = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("login");
    let (a, b) = (
        tablet(&first, "tablet").await,
        tablet(&second, "laptop").await,
    );
    let id = a.create(visit_fixture::visit_for_child(3, "C-N1", "sw-north-1", 200));
    let started = Instant::now();
    a.wait_acknowledged(id, TIMEOUT).await.expect("stored");
    while b.document(id).map(|doc| doc.get_heads()) != a.document(id).map(|doc| doc.get_heads()) {
        assert!(
            started.elapsed() < TIMEOUT,
            "the other tablet never received it"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tracing::info!(elapsed = ?started.elapsed(), "the other tablet holds the new visit");
    // Later typing follows as it always did.
    a.change(id, |doc| {
        let mut tx = doc.transaction();
        model::append_child_words(&mut tx, 0, " And more.").expect("words");
        tx.commit();
    })
    .expect("edit");
    a.wait_acknowledged(id, TIMEOUT).await.expect("stored");
    while b.document(id).map(|doc| doc.get_heads()) != a.document(id).map(|doc| doc.get_heads()) {
        assert!(
            started.elapsed() < TIMEOUT * 2,
            "the edit never reached the other tablet"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_worker_recorded_offline_reaches_the_server_after_the_child_is_reallocated() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = ServerProcess::start(server_binary(), dir.path(), &[]).expect("server");
    let worker = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("login");
    let device = tablet(&worker, "tablet").await;
    let earlier = device.create(visit_fixture::visit_for_child(4, "C-N1", "sw-north-1", 100));
    device
        .wait_acknowledged(earlier, TIMEOUT)
        .await
        .expect("stored");

    // In a home with no signal: more words in the earlier visit, and a new visit begun.
    device.disconnect().await;
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    device
        .change(earlier, |doc| {
            let mut tx = doc.transaction();
            model::append_child_words(&mut tx, 0, " Typed with no signal.").expect("words");
            // Dated, as every device's changes are: a former holder's edits count only if
            // made while they held the child.
            let time = i64::try_from(now_s).expect("seconds");
            tx.commit_with(automerge::transaction::CommitOptions::default().with_time(time));
        })
        .expect("edit");
    let mut begun = visit_fixture::visit_for_child(5, "C-N1", "sw-north-1", 100);
    let mut tx = begun.transaction();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis();
    automerge::transaction::Transactable::put(
        &mut tx,
        automerge::ROOT,
        "createdAt",
        i64::try_from(now_ms).expect("ms"),
    )
    .expect("createdAt");
    tx.commit();
    let begun = device.create(begun);
    // Meanwhile the office reallocates the child to a colleague.
    run_admin(
        server_binary(),
        dir.path(),
        &["deallocate", "C-N1", "sw-north-1"],
    );
    run_admin(
        server_binary(),
        dir.path(),
        &["allocate", "C-N1", "sw-north-2"],
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // Back online: both reach the server, and the new worker reads them.
    device
        .connect(&worker.sync_url().await.expect("ticket"))
        .await
        .expect("reconnect");
    for id in [earlier, begun] {
        device
            .wait_acknowledged(id, TIMEOUT)
            .await
            .unwrap_or_else(|err| panic!("{id} did not reach the server: {err:#}"));
    }
    let colleague = Session::login(server.addr, "sw-north-2", PASSWORD, None)
        .await
        .expect("login");
    let reader = tablet(&colleague, "new-worker").await;
    let read = reader
        .find(earlier, TIMEOUT)
        .await
        .expect("find")
        .expect("the new worker holds it");
    let words = model::Visit::read(&read).expect("visit").voice[0]
        .words
        .clone();
    assert!(words.contains("Typed with no signal."), "{words}");
    assert!(reader.find(begun, TIMEOUT).await.expect("find").is_some());

    // A visit for a child the worker never held is refused, and the refusal is in that
    // child's audit export.
    let stray = device.create(visit_fixture::visit_for_child(6, "C-N4", "sw-north-1", 50));
    assert!(
        !device.wait_settled(stray, TIMEOUT).await.expect("settled"),
        "refused"
    );
    // The audit row commits with the storage thread's next batch: allow it a moment.
    let mut export = String::new();
    for _ in 0..50 {
        export = run_admin(
            server_binary(),
            dir.path(),
            &["audit", "export", "--child", "C-N4", "--format", "json"],
        );
        if export.contains("not allocated") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(export.contains("not allocated"), "{export}");
}
