//! Correcting a misfiled record (issue 13 part 4) against the real server with native
//! devices: a visit moved to the right child takes its index, projection rows and access
//! with it (the old child's worker loses it, the right child's worker finds it); an
//! expunged passage leaves the database file, the old document is refused to every
//! device and to a device re-sending it, the new document holds everything else, the
//! caseload tells the devices, and only the manager of the child's team may do either,
//! with a reason and a confirmation. (`record_corrections.rs` has the two PWA devices.)

use std::time::Duration;

use automerge::Automerge;
use automerge::transaction::CommitOptions;
use serde_json::{Value, json};
use shared::DocumentId;
use shared::model::{self, CalendarDate, NewVisit, TextField, Visit};
use shared::sync::Timestamp;
use tests::TestServer;
use tests::council::{self, PASSWORD, Session};

const TIMEOUT: Duration = Duration::from_secs(15);
const PASSAGE: &str = "the Smith family at 12 Acacia Road";

/// A draft visit with these observations and some words of the child's (also used by
/// `pwa_records`).
pub(crate) fn visit(child_ref: &str, worker: &str, observations: &str) -> Automerge {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    model::create_visit(
        &mut tx,
        &NewVisit {
            visit_id: format!("visit-{child_ref}"),
            child_id: child_ref.into(),
            worker_id: worker.into(),
            visit_date: CalendarDate::parse("2026-11-20").expect("date"),
            created_at: Timestamp::from_millis(council::now_ms() as u64),
        },
    )
    .expect("create");
    model::append_text(&mut tx, TextField::Observations, observations).expect("text");
    let entry = model::add_voice_entry(&mut tx, "voice-1").expect("voice");
    model::append_child_words(&mut tx, entry, "I like my new school.").expect("words");
    tx.commit_with(CommitOptions::default().with_time(council::now_ms() / 1000));
    doc
}

async fn json_request(
    session: &Session,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let (status, _, text) = session
        .request(method, path, body.as_ref())
        .await
        .expect("request");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn heads_read_by(manager: &Session, document: DocumentId) -> Value {
    let (status, review) = json_request(
        manager,
        "GET",
        &format!("/api/visits/{document}/review"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{review}");
    review["heads"].clone()
}

/// Every byte of the database files.
fn database_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).expect("data dir").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("doorstep.sqlite3") {
            bytes.extend(std::fs::read(entry.path()).unwrap_or_default());
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_moved_to_the_right_child_takes_its_index_projection_and_access_with_it() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = TestServer::start(dir.path()).await.expect("server");
    let worker = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in");
    let tablet = worker.device("tablet").await.expect("device");
    // Recorded against C-N1; it was a visit to C-N3 (sw-north-2's child).
    let misfiled = tablet.create(visit("C-N1", "sw-north-1", "Seen in the garden."));
    tablet
        .wait_acknowledged(misfiled, TIMEOUT)
        .await
        .expect("stored");
    let other = Session::login(server.addr, "sw-north-2", PASSWORD, None)
        .await
        .expect("sign in");
    let their_tablet = other.device("their-tablet").await.expect("device");
    assert!(
        their_tablet
            .find(misfiled, TIMEOUT)
            .await
            .expect("answered")
            .is_none(),
        "C-N3's worker cannot read C-N1's records"
    );

    let manager = Session::login(server.addr, "mgr-north", PASSWORD, None)
        .await
        .expect("sign in");
    let heads = heads_read_by(&manager, misfiled).await;
    let path = format!("/api/visits/{misfiled}/move");
    let body = |to: &str, reason: &str, confirm: bool| json!({"toChildRef": to, "reason": reason, "heads": heads, "confirm": confirm});
    // Refusals: no confirmation, no reason, a worker, another team's manager, a child
    // outside the team, the same child.
    let (status, answer) = json_request(
        &manager,
        "POST",
        &path,
        Some(body("C-N3", "misfiled", false)),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    let (status, answer) =
        json_request(&manager, "POST", &path, Some(body("C-N3", " ", true))).await;
    assert_eq!(status, 400, "{answer}");
    let (status, answer) =
        json_request(&worker, "POST", &path, Some(body("C-N3", "misfiled", true))).await;
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer["error"].as_str().unwrap_or("").contains("manager"),
        "{answer}"
    );
    let south = Session::login(server.addr, "mgr-south", PASSWORD, None)
        .await
        .expect("sign in");
    let (status, answer) =
        json_request(&south, "POST", &path, Some(body("C-S1", "misfiled", true))).await;
    assert_eq!(status, 404, "{answer}");
    let (status, answer) = json_request(
        &manager,
        "POST",
        &path,
        Some(body("C-S1", "misfiled", true)),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    let (status, answer) = json_request(
        &manager,
        "POST",
        &path,
        Some(body("C-N1", "misfiled", true)),
    )
    .await;
    assert_eq!(status, 422, "{answer}");

    let (status, answer) = json_request(
        &manager,
        "POST",
        &path,
        Some(body("C-N3", "recorded against the wrong child", true)),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["childRef"], "C-N3");

    // The index, the projection and the correction's row follow; the move is audited.
    let conn = server::directory::open_connection(dir.path()).expect("db");
    let filed: String = conn
        .query_row(
            "SELECT c.child_ref FROM child_documents d JOIN children c ON c.child_id = d.child_id
             WHERE d.document_id = ?1",
            [misfiled.as_bytes().as_slice()],
            |r| r.get(0),
        )
        .expect("indexed");
    assert_eq!(filed, "C-N3");
    let projected: String = conn
        .query_row(
            "SELECT child_ref FROM proj_visits WHERE document_id = ?1",
            [misfiled.as_bytes().as_slice()],
            |r| r.get(0),
        )
        .expect("projected");
    assert_eq!(projected, "C-N3");
    let audited: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'record-move' AND outcome = 'allowed'",
            [],
            |r| r.get(0),
        )
        .expect("audit");
    assert_eq!(audited, 1);

    // The right child's worker finds it, filed under C-N3 with the correction noted.
    let their_tablet = other.device("their-tablet-after").await.expect("device");
    let found = their_tablet
        .find(misfiled, TIMEOUT)
        .await
        .expect("answered")
        .expect("C-N3's worker reads it now");
    assert_eq!(Visit::read(&found).expect("visit").child_id, "C-N3");
    let noted = model::correction::corrections(&found);
    assert_eq!(noted.len(), 1, "{noted:?}");
    assert_eq!(noted[0].note.reason, "recorded against the wrong child");
    // The worker who misfiled it no longer holds it, and is told in their caseload.
    eventually("the old child's worker still syncs the moved visit", || {
        tablet.is_refused(misfiled)
    })
    .await;
    let (status, caseload) = json_request(&worker, "GET", "/api/caseload", None).await;
    assert_eq!(status, 200);
    assert!(
        caseload["corrections"]
            .as_array()
            .expect("corrections")
            .iter()
            .any(|c| c["kind"] == "moved" && c["document"] == misfiled.to_string()),
        "{caseload}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expunged_passage_leaves_the_store_and_the_old_document_is_refused_everywhere() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    council::add_records_officer(dir.path()).expect("records officer");
    let server = TestServer::start(dir.path()).await.expect("server");
    let worker = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in");
    let tablet = worker.device("tablet").await.expect("device");
    let observations = format!("Seen at home. Mentioned {PASSAGE} by mistake. Bedroom tidy.");
    let old = tablet.create(visit("C-N1", "sw-north-1", &observations));
    tablet
        .wait_acknowledged(old, TIMEOUT)
        .await
        .expect("stored");
    assert!(
        contains(&database_bytes(dir.path()), PASSAGE),
        "the check below must be able to see the passage in the files"
    );

    let manager = Session::login(server.addr, "mgr-north", PASSWORD, None)
        .await
        .expect("sign in");
    let path = format!("/api/visits/{old}/expunge");
    let (status, answer) = json_request(
        &worker,
        "POST",
        &path,
        Some(json!({"passages": [PASSAGE], "reason": "another family", "confirm": true})),
    )
    .await;
    assert_eq!(status, 403, "{answer}");
    let (status, answer) = json_request(
        &manager,
        "POST",
        &path,
        Some(
            json!({"passages": ["not in the record"], "reason": "another family", "confirm": true}),
        ),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    let (status, answer) = json_request(
        &manager,
        "POST",
        &path,
        Some(json!({"passages": [PASSAGE], "reason": "another family's details", "confirm": true})),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let new: DocumentId = answer["replacement"]
        .as_str()
        .expect("replacement")
        .parse()
        .expect("id");
    assert_ne!(new, old);

    // The device syncing the old document is told it is gone; the files hold no trace.
    eventually("the device still syncs the old document", || {
        tablet.is_refused(old)
    })
    .await;
    assert!(
        !contains(&database_bytes(dir.path()), PASSAGE),
        "the expunged passage is still in the database files"
    );
    assert!(!contains(&database_bytes(dir.path()), "Acacia"));

    // The caseload says what replaced what; the device fetches what it needs.
    let (status, caseload) = json_request(&worker, "GET", "/api/caseload", None).await;
    assert_eq!(status, 200);
    let listed = caseload["corrections"].as_array().expect("corrections");
    assert!(
        listed.iter().any(|c| c["kind"] == "expunged"
            && c["document"] == old.to_string()
            && c["replacement"] == new.to_string()),
        "{caseload}"
    );
    let documents = caseload.to_string();
    assert!(documents.contains(&new.to_string()));
    let (status, detail) =
        json_request(&worker, "GET", &format!("/api/corrections/{old}"), None).await;
    assert_eq!(status, 200, "{detail}");
    assert!(!detail["serverHad"].as_array().expect("hashes").is_empty());
    let south = Session::login(server.addr, "sw-south-1", PASSWORD, None)
        .await
        .expect("sign in");
    let (status, _) = json_request(&south, "GET", &format!("/api/corrections/{old}"), None).await;
    assert_eq!(status, 404);

    // The new document holds everything but the passage, and says it was corrected.
    let replacement = tablet
        .find(new, TIMEOUT)
        .await
        .expect("answered")
        .expect("the worker reads the new document");
    let read = Visit::read(&replacement).expect("visit");
    assert!(
        !read.observations.contains("Acacia"),
        "{}",
        read.observations
    );
    assert!(
        read.observations.contains("Seen at home.") && read.observations.contains("Bedroom tidy.")
    );
    assert_eq!(model::correction::corrections(&replacement).len(), 1);

    // A device re-sending its old copy brings nothing back.
    let _ = tablet.change(old, |doc| {
        let mut tx = doc.transaction();
        model::append_text(&mut tx, TextField::Observations, " More.").expect("edit");
        tx.commit();
    });
    let again = worker.device("second-tablet").await.expect("device");
    let copy = tablet.document(old).expect("the device's old copy");
    again.adopt(old, copy).expect("adopt");
    assert!(!again.wait_settled(old, TIMEOUT).await.expect("answered"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!contains(&database_bytes(dir.path()), "Acacia"));

    // The subject-access export has no trace either.
    let officer = Session::login(server.addr, "records-1", PASSWORD, None)
        .await
        .expect("sign in");
    let (status, _, html) = officer
        .request("GET", "/api/records/C-N1/subject-access.html", None)
        .await
        .expect("export");
    assert_eq!(status, 200);
    assert!(!html.contains("Acacia"));
    assert!(
        html.contains("Bedroom tidy."),
        "the rest of the visit is exported"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expunge_the_database_refuses_leaves_the_record_as_it_was_and_served() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = TestServer::start(dir.path()).await.expect("server");
    let worker = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in");
    let tablet = worker.device("tablet").await.expect("device");
    let observations = format!("Seen at home. Mentioned {PASSAGE} by mistake. Bedroom tidy.");
    let old = tablet.create(visit("C-N1", "sw-north-1", &observations));
    tablet
        .wait_acknowledged(old, TIMEOUT)
        .await
        .expect("stored");
    tablet.disconnect().await;

    // A real fault in the expunge's transaction: the database refuses its correction row.
    let planted = server::directory::open_connection(dir.path()).expect("db");
    planted
        .execute_batch(
            "CREATE TRIGGER planted_fault BEFORE INSERT ON record_corrections
             BEGIN SELECT RAISE(ABORT, 'planted fault'); END;",
        )
        .expect("plant the fault");
    let manager = Session::login(server.addr, "mgr-north", PASSWORD, None)
        .await
        .expect("sign in");
    let path = format!("/api/visits/{old}/expunge");
    let body =
        json!({"passages": [PASSAGE], "reason": "another family's details", "confirm": true});
    let (status, answer) = json_request(&manager, "POST", &path, Some(body.clone())).await;
    assert_eq!(status, 500, "{answer}");
    assert!(answer["error"].is_string(), "a JSON error: {answer}");

    // Nothing of it was stored, and the record is still served, whole, to its worker.
    assert!(contains(&database_bytes(dir.path()), PASSAGE));
    let probe = worker.device("probe").await.expect("device");
    let found = probe
        .find(old, TIMEOUT)
        .await
        .expect("answered")
        .expect("the record is still served after the failed expunge");
    let read = Visit::read(&found).expect("a visit");
    assert!(read.observations.contains(PASSAGE), "{}", read.observations);
    probe.disconnect().await;

    // Once the database accepts it, the same expunge goes through.
    planted
        .execute_batch("DROP TRIGGER planted_fault")
        .expect("remove the fault");
    let (status, answer) = json_request(&manager, "POST", &path, Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    assert!(!contains(&database_bytes(dir.path()), PASSAGE));
    server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_visit_reaches_the_right_workers_devices_on_the_connections_they_had() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = TestServer::start(dir.path()).await.expect("server");
    let worker = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in");
    let tablet = worker.device("tablet").await.expect("device");
    let misfiled = tablet.create(visit("C-N1", "sw-north-1", "Seen in the garden."));
    tablet
        .wait_acknowledged(misfiled, TIMEOUT)
        .await
        .expect("stored");
    // C-N3's worker: a tablet that asked for the visit and was refused, and a phone that
    // never heard of it; and a worker of another team.
    let other = Session::login(server.addr, "sw-north-2", PASSWORD, None)
        .await
        .expect("sign in");
    let their_tablet = other.device("their-tablet").await.expect("device");
    assert!(
        their_tablet
            .find(misfiled, TIMEOUT)
            .await
            .expect("answered")
            .is_none(),
        "C-N3's worker cannot read C-N1's records"
    );
    let their_phone = other.device("their-phone").await.expect("device");
    let south = Session::login(server.addr, "sw-south-1", PASSWORD, None)
        .await
        .expect("sign in");
    let south_tablet = south.device("south-tablet").await.expect("device");

    let manager = Session::login(server.addr, "mgr-north", PASSWORD, None)
        .await
        .expect("sign in");
    let heads = heads_read_by(&manager, misfiled).await;
    let (status, answer) = json_request(
        &manager,
        "POST",
        &format!("/api/visits/{misfiled}/move"),
        Some(json!({"toChildRef": "C-N3", "reason": "recorded against the wrong child", "heads": heads, "confirm": true})),
    )
    .await;
    assert_eq!(status, 200, "{answer}");

    // Both of the right worker's devices are offered it unasked, on the same connections.
    let filed_under_c_n3 = |device: &tests::NativeClient| {
        device
            .document(misfiled)
            .and_then(|doc| Visit::read(&doc).ok())
            .is_some_and(|visit| visit.child_id == "C-N3")
    };
    eventually("the refused tablet is not offered the moved visit", || {
        filed_under_c_n3(&their_tablet)
    })
    .await;
    eventually("the phone is not offered the moved visit", || {
        filed_under_c_n3(&their_phone)
    })
    .await;
    // Asking again on the connection that was refused is answered, and the worker's edit
    // from there is stored.
    let found = their_tablet
        .find(misfiled, TIMEOUT)
        .await
        .expect("answered")
        .expect("C-N3's worker reads it");
    assert_eq!(Visit::read(&found).expect("visit").child_id, "C-N3");
    their_tablet
        .change(misfiled, |doc| {
            let mut tx = doc.transaction();
            model::append_text(&mut tx, TextField::Observations, " Seen at school.").expect("edit");
            tx.commit();
        })
        .expect("held");
    their_tablet
        .wait_acknowledged(misfiled, TIMEOUT)
        .await
        .expect("the right worker's edit is stored");

    // The worker who misfiled it loses it; a worker of another team is never told of it.
    eventually("the old child's worker still syncs the moved visit", || {
        tablet.is_refused(misfiled)
    })
    .await;
    assert!(south_tablet.document(misfiled).is_none());
}
