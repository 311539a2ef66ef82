//! Retention (issue 13 part 1, D1) against the real server and the admin command line:
//! each record's retain-until date; deleting before it is refused and audited, as it is
//! under a legal hold; after it the child's documents, their history, index and
//! projection rows are gone from the store, a tombstone says who, when, why and which
//! documents, the running server drops its copy at once and tells the device syncing it,
//! a device re-sending its old copy brings nothing back (not even once a child with the
//! same reference is added and allocated again, nor after a restart), and the worker's
//! caseload tells their devices to delete their copies.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::server_binary;
use automerge::Automerge;
use automerge::transaction::CommitOptions;
use serde_json::Value;
use server::directory::admin;
use shared::DocumentId;
use shared::model::{self, CalendarDate, NewVisit, TextField};
use shared::sync::Timestamp;
use tests::TestServer;
use tests::council::{self, PASSWORD, Session};
use tests::test_server::{health, run_admin};

const TIMEOUT: Duration = Duration::from_secs(15);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn visit(child_ref: &str, worker: &str, words: &str) -> Automerge {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    model::create_visit(
        &mut tx,
        &NewVisit {
            visit_id: format!("visit-{child_ref}"),
            child_id: child_ref.into(),
            worker_id: worker.into(),
            visit_date: CalendarDate::parse("2025-03-01").expect("date"),
            created_at: Timestamp::from_millis(now_ms()),
        },
    )
    .expect("create");
    let entry = model::add_voice_entry(&mut tx, "voice-1").expect("voice");
    model::append_child_words(&mut tx, entry, words).expect("words");
    model::append_text(&mut tx, TextField::Observations, "Seen at home.").expect("text");
    tx.commit_with(CommitOptions::default().with_time((now_ms() / 1000) as i64));
    doc
}

fn count(conn: &server::directory::Connection, table: &str, document: &DocumentId) -> i64 {
    conn.query_row(
        &format!("SELECT count(*) FROM {table} WHERE document_id = ?1"),
        [document.as_bytes().as_slice()],
        |r| r.get(0),
    )
    .expect("count")
}

async fn loaded_documents(server: &TestServer) -> u64 {
    health(server.addr).await.expect("health")["loadedDocuments"]
        .as_u64()
        .expect("count")
}

/// Waits until `done` holds, failing with `what` after [`TIMEOUT`].
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn assert_gone(conn: &server::directory::Connection, doomed: &DocumentId) {
    for table in [
        "document_chunks",
        "change_batches",
        "child_documents",
        "proj_visits",
        "proj_amendments",
    ] {
        assert_eq!(
            count(conn, table, doomed),
            0,
            "{table} still holds the deleted visit"
        );
    }
}

async fn caseload(session: &Session) -> Value {
    let (status, _, body) = session
        .request("GET", "/api/caseload", None)
        .await
        .expect("caseload");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_is_deleted_only_after_retention_and_leaves_a_tombstone() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    let children = council::create(dir.path()).expect("council");
    // A child born in 1940: retention (75th birthday) ended in 2015.
    let mut old = council::test_child("C-OLD");
    old.date_of_birth = CalendarDate::parse("1940-02-29").expect("leap day");
    {
        let mut conn = server::directory::open_connection(dir.path()).expect("db");
        let old_document =
            admin::add_child(&mut conn, "North", &old, council::now_ms()).expect("child");
        admin::allocate(&mut conn, "C-OLD", "sw-north-1", council::now_ms()).expect("allocate");
        let _ = old_document;
    }
    let server = TestServer::start(dir.path()).await.expect("server");
    let worker = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in");
    let client = worker.device("tablet").await.expect("device");
    let kept = client.create(visit("C-N1", "sw-north-1", "I like football."));
    let doomed = client.create(visit("C-OLD", "sw-north-1", "I miss my sister."));
    client
        .wait_acknowledged(kept, TIMEOUT)
        .await
        .expect("kept stored");
    client
        .wait_acknowledged(doomed, TIMEOUT)
        .await
        .expect("doomed stored");

    // Every record's date; the report lists only the one past it.
    let all = run_admin(
        server_binary(),
        dir.path(),
        &["retention", "report", "--all"],
    );
    assert!(all.contains("C-N1\t2089-05-17\t75th birthday\t-"), "{all}");
    assert!(
        all.contains("C-OLD\t2015-03-01\t75th birthday"),
        "leap day to 1 March: {all}"
    );
    let due = run_admin(server_binary(), dir.path(), &["retention", "report"]);
    assert!(due.contains("C-OLD") && !due.contains("C-N1"), "{due}");
    let scotland = run_admin(
        server_binary(),
        dir.path(),
        &["retention", "show", "C-N1", "--jurisdiction", "scotland"],
    );
    assert!(
        scotland.contains("2114-05-17\t100th birthday"),
        "{scotland}"
    );
    run_admin(
        server_binary(),
        dir.path(),
        &["retention", "record-death", "C-N2", "--date", "2020-06-01"],
    );
    let died = run_admin(server_binary(), dir.path(), &["retention", "show", "C-N2"]);
    assert!(
        died.contains("2035-06-01\t15 years after death before 18"),
        "{died}"
    );

    // Refused before the date, and under a hold; both audited.
    let early = std::process::Command::new(server_binary())
        .args(["admin", "--data-dir"])
        .arg(dir.path())
        .args(["retention", "delete", "C-N1", "--reason", "tidying up"])
        .output()
        .expect("run");
    assert!(!early.status.success());
    let message = String::from_utf8_lossy(&early.stderr);
    assert!(
        message.contains("must be kept until 2089-05-17"),
        "{message}"
    );
    run_admin(
        server_binary(),
        dir.path(),
        &["retention", "hold", "C-OLD", "--reason", "inquiry 2026/4"],
    );
    let held = std::process::Command::new(server_binary())
        .args(["admin", "--data-dir"])
        .arg(dir.path())
        .args(["retention", "delete", "C-OLD", "--reason", "retention over"])
        .output()
        .expect("run");
    assert!(!held.status.success());
    assert!(String::from_utf8_lossy(&held.stderr).contains("legal hold (inquiry 2026/4)"));
    let trail = run_admin(
        server_binary(),
        dir.path(),
        &["audit", "export", "--child", "C-N1", "--format", "json"],
    );
    let trail: Value = serde_json::from_str(&trail).expect("json");
    assert!(
        trail
            .as_array()
            .expect("rows")
            .iter()
            .any(|row| row["action"] == "retention-delete" && row["outcome"] == "denied"),
        "{trail}"
    );

    // Released, then deleted while the server runs.
    run_admin(
        server_binary(),
        dir.path(),
        &[
            "retention",
            "release",
            "C-OLD",
            "--reason",
            "inquiry closed",
        ],
    );
    let old_child_document = children.len(); // the council's children are unaffected
    let loaded_before = loaded_documents(&server).await;
    assert!(!client.is_refused(doomed));
    let deleted = run_admin(
        server_binary(),
        dir.path(),
        &[
            "retention",
            "delete",
            "C-OLD",
            "--reason",
            "retention period over; DPO approval 17",
        ],
    );
    assert!(
        deleted.contains("Deleted C-OLD's record: 2 document(s)"),
        "{deleted}"
    );
    // The running server drops its copy at once (no waiting for the idle unload) and
    // tells the device syncing it, which stays connected for its other records.
    eventually(
        "the server never told the device the record is gone",
        || client.is_refused(doomed),
    )
    .await;
    assert!(
        loaded_documents(&server).await < loaded_before,
        "the server still holds the deleted visit in memory"
    );
    assert!(client.is_connected());
    let tombstones: Value = serde_json::from_str(&run_admin(
        server_binary(),
        dir.path(),
        &["retention", "deletions"],
    ))
    .expect("json");
    let tombstone = &tombstones[0];
    assert_eq!(tombstone["childRef"], "C-OLD");
    assert_eq!(tombstone["actor"], "admin-cli");
    assert_eq!(
        tombstone["reason"],
        "retention period over; DPO approval 17"
    );
    assert!(
        tombstone["documents"]
            .as_array()
            .expect("ids")
            .iter()
            .any(|id| id == &doomed.to_string())
    );
    assert!(tombstone["deletedAt"].as_i64().is_some());

    // The worker's caseload no longer lists the child and tells the device what to delete.
    let listed = caseload(&worker).await;
    assert!(
        !listed["children"]
            .as_array()
            .expect("children")
            .iter()
            .any(|c| c["childRef"] == "C-OLD")
    );
    assert!(
        listed["erased"]
            .as_array()
            .expect("erased")
            .iter()
            .any(|id| id == &doomed.to_string()),
        "{listed}"
    );

    // A device still holding the visit sends a change: nothing comes back.
    let held_copy = client.document(doomed).expect("the device's copy");
    let _ = client.change(doomed, |doc| {
        let mut tx = doc.transaction();
        model::append_text(&mut tx, TextField::Observations, " More.").expect("edit");
        tx.commit();
    });
    let again = worker.device("second-tablet").await.expect("device");
    let refused_new = again.create(visit("C-OLD", "sw-north-1", "again"));
    assert!(
        !again
            .wait_settled(refused_new, TIMEOUT)
            .await
            .expect("answered"),
        "no new visit for a deleted child"
    );
    let conn = server::directory::open_connection(dir.path()).expect("db");
    assert_gone(&conn, &doomed);
    let stray: i64 = conn
        .query_row(
            "SELECT count(*) FROM proj_visits WHERE child_ref = 'C-OLD'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(stray, 0);
    assert!(
        count(&conn, "document_chunks", &kept) > 0,
        "other records stay"
    );

    // A child with the same case reference is added and allocated again: a device
    // offering the old visit (which names that reference) still gets it refused, while a
    // new visit for the new child is stored.
    {
        let mut conn = server::directory::open_connection(dir.path()).expect("db");
        admin::add_child(
            &mut conn,
            "North",
            &council::test_child("C-OLD"),
            council::now_ms(),
        )
        .expect("child");
        admin::allocate(&mut conn, "C-OLD", "sw-north-1", council::now_ms()).expect("allocate");
    }
    tokio::time::sleep(Duration::from_millis(2500)).await; // the hub's next tick
    let third = worker.device("third-tablet").await.expect("device");
    let fresh = third.create(visit("C-OLD", "sw-north-1", "a new child"));
    assert!(
        third.wait_settled(fresh, TIMEOUT).await.expect("answered"),
        "the new child's visit is stored"
    );
    third.adopt(doomed, held_copy).expect("adopt");
    assert!(
        !third.wait_settled(doomed, TIMEOUT).await.expect("answered"),
        "the deleted visit is refused"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_gone(&conn, &doomed);
    let refusals: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'sync' AND outcome = 'denied'
             AND document_id = ?1 AND detail = 'document deleted after its retention'",
            [doomed.as_bytes().as_slice()],
            |r| r.get(0),
        )
        .expect("audit");
    assert!(refusals >= 1, "a device re-sending it is audited");
    let deletions: i64 = conn
        .query_row("SELECT count(*) FROM audit_log WHERE action = 'retention-delete' AND outcome = 'allowed'", [], |r| r.get(0))
        .expect("audit");
    assert_eq!(deletions, 1);
    assert!(
        conn.execute("DELETE FROM retention_deletions", []).is_err(),
        "the tombstone is append-only"
    );
    assert_eq!(old_child_document, 5);
    server.stop().await.expect("stop");
    // Nothing was written back on the way down either, and a restarted server refuses it.
    assert_gone(&conn, &doomed);
    let server = TestServer::start(dir.path()).await.expect("restart");
    let worker = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in");
    let late = worker.device("late-tablet").await.expect("device");
    late.adopt(doomed, client.document(doomed).expect("copy"))
        .expect("adopt");
    assert!(
        !late.wait_settled(doomed, TIMEOUT).await.expect("answered"),
        "refused after a restart"
    );
    server.stop().await.expect("stop");
    assert_gone(&conn, &doomed);
}
