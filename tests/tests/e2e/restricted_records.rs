//! Restricted records and break-glass (issue 13 part 3, domain D6) against the real
//! server, real WebSockets and real SQLite: a restricted child is invisible to the team's
//! manager, colleagues and a records officer who are not named (caseload, dashboard,
//! review, print, subject access and sync, native and the official JS client), exactly as a
//! child that does not exist, while its worker and the people named still see it;
//! break-glass needs a reason, grants reading, is audited and is on the manager's dashboard
//! at once; it ends by itself, on HTTP and on a sync connection that was open when it
//! expired.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use server::ServerConfig;
use shared::DocumentId;
use tests::council::{self, PASSWORD, Session};
use tests::test_server::run_admin;
use tests::{NativeClient, TestServer, js_client, oversight_fixture, visit_fixture};

use crate::server_binary;

const TIMEOUT: Duration = Duration::from_secs(15);
const REASON: &str = "Police called at 02:00: the child is missing and we need the carer's details";

/// The test council plus a records officer, `records-1`; returns C-N1's child document.
fn council_with_officer(dir: &Path) -> DocumentId {
    let children = council::create(dir).expect("council");
    council::add_records_officer(dir).expect("records officer");
    children
        .into_iter()
        .find_map(|(child_ref, document)| (child_ref == "C-N1").then_some(document))
        .expect("C-N1")
}

/// Marks C-N1 restricted ("court order"), as `admin restricted mark` does.
fn restrict_c_n1(dir: &Path) {
    let mut conn = server::directory::open_connection(dir).expect("db");
    server::directory::restricted::restrict(
        &mut conn,
        "C-N1",
        "court order",
        "test",
        council::now_ms(),
    )
    .expect("restrict");
}

async fn login(server: &TestServer, username: &str) -> Session {
    Session::login(server.addr, username, PASSWORD, None)
        .await
        .expect("sign in")
}

async fn api(session: &Session, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
    let (status, _, text) = session.request(method, path, body).await.expect("request");
    (status, text)
}

/// A visit for C-N1 recorded by its worker and stored by the server.
async fn stored_visit(worker: &Session) -> (NativeClient, DocumentId) {
    let device = worker.device("worker-tablet").await.expect("device");
    let visit = device.create(visit_fixture::visit_for_child(7, "C-N1", "sw-north-1", 200));
    device
        .wait_acknowledged(visit, TIMEOUT)
        .await
        .expect("stored");
    (device, visit)
}

/// What `session` can find of `document` over a fresh sync connection.
async fn finds(session: &Session, document: DocumentId) -> bool {
    let device = session.device("probe").await.expect("device");
    let found = device.find(document, TIMEOUT).await.expect("answered");
    device.disconnect().await;
    found.is_some()
}

/// The answers that must not tell a hidden child from an absent one: the same status and,
/// with the reference or id replaced, the same body.
async fn assert_absent_alike(session: &Session, path: &str, real: &str, absent: &str) {
    let (status, body) = api(session, "GET", &path.replace("{}", real), None).await;
    let (absent_status, absent_body) = api(session, "GET", &path.replace("{}", absent), None).await;
    assert_eq!(status, 404, "{path} for {real}: {body}");
    assert_eq!(status, absent_status, "{path}: {body} / {absent_body}");
    assert_eq!(
        body.replace(real, "X"),
        absent_body.replace(absent, "X"),
        "{path}"
    );
}

fn child_audit(dir: &Path, action: &str, outcome: &str, actor: &str) -> i64 {
    rusqlite::Connection::open(dir.join("doorstep.sqlite3"))
        .expect("db")
        .query_row(
            "SELECT count(*) FROM audit_log a JOIN children c ON c.child_id = a.child_id
             WHERE c.child_ref = 'C-N1' AND a.action = ?1 AND a.outcome = ?2 AND a.actor = ?3",
            rusqlite::params![action, outcome, actor],
            |row| row.get(0),
        )
        .expect("audit query")
}

async fn wait_for(mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    condition()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restricted_child_is_absent_for_everyone_but_its_worker_and_the_people_named() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    let child_document = council_with_officer(dir.path());
    let server = TestServer::start(dir.path()).await.expect("server");
    let worker = login(&server, "sw-north-1").await;
    let manager = login(&server, "mgr-north").await;
    let colleague = login(&server, "sw-north-2").await;
    let officer = login(&server, "records-1").await;
    let (_worker_device, visit) = stored_visit(&worker).await;
    let absent_visit = DocumentId::from_bytes([7; 16]);

    // Before the restriction the manager sees the child everywhere.
    let (_, dashboard) = api(&manager, "GET", "/api/team/dashboard", None).await;
    assert!(dashboard.contains("C-N1"), "{dashboard}");
    assert!(finds(&manager, visit).await);

    let out = run_admin(
        server_binary(),
        dir.path(),
        &[
            "restricted",
            "mark",
            "C-N1",
            "--reason",
            "adoption placement",
        ],
    );
    assert!(out.contains("Restricted C-N1"), "{out}");

    // The manager: the child is on no listing, and every read is a child that is not there.
    let (status, dashboard) = api(&manager, "GET", "/api/team/dashboard", None).await;
    assert_eq!(status, 200, "{dashboard}");
    assert!(!dashboard.contains("C-N1"), "{dashboard}");
    let (_, csv) = api(&manager, "GET", "/api/team/dashboard.csv", None).await;
    assert!(!csv.contains("C-N1"), "{csv}");
    let (_, caseload) = api(&manager, "GET", "/api/caseload", None).await;
    assert!(!caseload.contains("C-N1"), "{caseload}");
    assert!(caseload.contains("C-N2"), "{caseload}");
    let visit_text = visit.to_string();
    let absent_text = absent_visit.to_string();
    for path in ["/api/visits/{}/review", "/api/visits/{}/print"] {
        assert_absent_alike(&manager, path, &visit_text, &absent_text).await;
    }
    assert_absent_alike(
        &manager,
        "/api/children/{}/handover/print",
        "C-N1",
        "C-NONE",
    )
    .await;
    assert!(!finds(&manager, visit).await, "sync: doc-unavailable");
    assert!(
        !finds(&manager, child_document).await,
        "sync: the child document too"
    );
    assert!(!finds(&manager, absent_visit).await);
    // The official automerge-repo client gets the same answer for it as for an absent one.
    let ids = format!("{visit},{absent_visit}");
    let fetched = js_client::client(
        &manager.token,
        &["fetch", "--url", &server.url(), "--ids", &ids],
    )
    .await
    .expect("js fetch");
    let docs = fetched["docs"].as_array().expect("docs");
    assert_eq!(docs[0]["unavailable"], Value::Bool(true), "{}", docs[0]);
    let mut denied = docs[0].clone();
    denied["documentId"] = docs[1]["documentId"].clone();
    assert_eq!(
        denied, docs[1],
        "a denial looks like absence to the JS client"
    );
    // A colleague of the team (who never held the child) sees nothing either.
    assert!(!finds(&colleague, visit).await);
    assert_absent_alike(
        &colleague,
        "/api/visits/{}/review",
        &visit_text,
        &absent_text,
    )
    .await;
    // The records officer: subject access answers as for a child that does not exist.
    for path in [
        "/api/records/{}/subject-access",
        "/api/records/{}/subject-access.html",
        "/api/records/{}/redactions",
    ] {
        assert_absent_alike(&officer, path, "C-N1", "C-NONE").await;
    }
    // The denials are audited against the child.
    assert!(child_audit(dir.path(), "subject-access-export", "denied", "records-1") >= 2);
    assert!(child_audit(dir.path(), "print", "denied", "mgr-north") >= 2);
    let denied_syncs = rusqlite::Connection::open(dir.path().join("doorstep.sqlite3"))
        .expect("db")
        .query_row(
            "SELECT count(*) FROM audit_log WHERE actor = 'mgr-north' AND outcome = 'denied'
             AND document_id = ?1",
            [visit.as_bytes().as_slice()],
            |row| row.get::<_, i64>(0),
        )
        .expect("audit");
    assert!(denied_syncs >= 1, "the manager's denied reads are audited");

    // The allocated worker keeps the child: caseload, review, sync.
    let (_, caseload) = api(&worker, "GET", "/api/caseload", None).await;
    assert!(caseload.contains("C-N1"), "{caseload}");
    let (status, body) = api(&worker, "GET", &format!("/api/visits/{visit}/review"), None).await;
    assert_eq!(status, 200, "{body}");
    assert!(finds(&worker, visit).await);

    // Named people see it again, within their role.
    run_admin(
        server_binary(),
        dir.path(),
        &["restricted", "name", "C-N1", "mgr-north"],
    );
    run_admin(
        server_binary(),
        dir.path(),
        &["restricted", "name", "C-N1", "records-1"],
    );
    let listed = run_admin(server_binary(), dir.path(), &["restricted", "list"]);
    assert!(
        listed.contains("C-N1\tadoption placement\tmgr-north,records-1"),
        "{listed}"
    );
    let (_, dashboard) = api(&manager, "GET", "/api/team/dashboard", None).await;
    assert!(dashboard.contains("C-N1"), "{dashboard}");
    let (status, body) = api(
        &manager,
        "GET",
        &format!("/api/visits/{visit}/review"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(finds(&manager, visit).await);
    let (status, body) = api(&officer, "GET", "/api/records/C-N1/subject-access", None).await;
    assert_eq!(status, 200, "{body}");
    // Naming is within the role: the colleague, not named, still sees nothing.
    assert!(!finds(&colleague, visit).await);

    // Lifting the restriction gives the team back its ordinary view.
    run_admin(
        server_binary(),
        dir.path(),
        &[
            "restricted",
            "unmark",
            "C-N1",
            "--reason",
            "placement ended",
        ],
    );
    assert_eq!(
        child_audit(dir.path(), "restrict", "allowed", "admin-cli"),
        1
    );
    assert_eq!(
        child_audit(dir.path(), "unrestrict", "allowed", "admin-cli"),
        1
    );
    server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn break_glass_needs_a_reason_and_is_on_the_managers_dashboard_at_once() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council_with_officer(dir.path());
    let server = TestServer::start(dir.path()).await.expect("server");
    let worker = login(&server, "sw-north-1").await;
    let manager = login(&server, "mgr-north").await;
    let colleague = login(&server, "sw-north-2").await;
    let outsider = login(&server, "sw-south-1").await;
    let (_worker_device, visit) = stored_visit(&worker).await;
    restrict_c_n1(dir.path());
    assert!(!finds(&colleague, visit).await);

    // Without a reason: refused, whatever the child.
    let path = "/api/children/C-N1/break-glass";
    for body in [None, Some(json!({})), Some(json!({ "reason": "   " }))] {
        let (status, text) = api(&colleague, "POST", path, body.as_ref()).await;
        assert_eq!(status, 400, "{text}");
        assert!(text.contains("a reason is required"), "{text}");
    }
    let (status, text) = api(&colleague, "POST", "/api/children/C-NONE/break-glass", None).await;
    assert_eq!(status, 400, "{text}");
    // Outside the team: the child is as absent as one that does not exist.
    let with_reason = json!({ "reason": REASON });
    let (status, text) = api(&outsider, "POST", path, Some(&with_reason)).await;
    let (absent_status, absent_text) = api(
        &outsider,
        "POST",
        "/api/children/C-NONE/break-glass",
        Some(&with_reason),
    )
    .await;
    assert_eq!((status, absent_status), (404, 404), "{text}");
    assert_eq!(
        text.replace("C-N1", "X"),
        absent_text.replace("C-NONE", "X")
    );
    assert!(child_audit(dir.path(), "break-glass", "denied", "sw-south-1") >= 1);
    // Nothing has been granted yet, so the dashboard lists nothing.
    let (_, dashboard) = api(&manager, "GET", "/api/team/dashboard", None).await;
    let dashboard: Value = serde_json::from_str(&dashboard).expect("json");
    assert_eq!(dashboard["breakGlass"], json!([]));

    // With a reason: granted for the default two hours, audited.
    let (status, text) = api(&colleague, "POST", path, Some(&with_reason)).await;
    assert_eq!(status, 201, "{text}");
    let granted: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(granted["childRef"], "C-N1");
    assert_eq!(granted["reason"], REASON);
    let (from, until) = (
        granted["grantedAt"].as_i64().expect("grantedAt"),
        granted["expiresAt"].as_i64().expect("expiresAt"),
    );
    assert_eq!(until - from, 2 * 60 * 60 * 1000);
    assert_eq!(
        child_audit(dir.path(), "break-glass", "allowed", "sw-north-2"),
        1
    );
    // It opens the record for reading, over sync and HTTP.
    assert!(finds(&colleague, visit).await);
    let (status, body) = api(
        &colleague,
        "GET",
        &format!("/api/visits/{visit}/review"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // The child's manager, who is not named, sees at once who, when, why and until when,
    // but still not the child's record.
    let (_, dashboard) = api(&manager, "GET", "/api/team/dashboard", None).await;
    let dashboard: Value = serde_json::from_str(&dashboard).expect("json");
    let shown = &dashboard["breakGlass"];
    assert_eq!(shown.as_array().map(Vec::len), Some(1), "{shown}");
    assert_eq!(shown[0]["childRef"], "C-N1");
    assert_eq!(shown[0]["username"], "sw-north-2");
    assert_eq!(shown[0]["role"], "social-worker");
    assert_eq!(shown[0]["reason"], REASON);
    assert_eq!(shown[0]["grantedAt"], from);
    assert_eq!(shown[0]["expiresAt"], until);
    assert_eq!(shown[0]["active"], true);
    let children = dashboard["children"].to_string();
    assert!(!children.contains("C-N1"), "{children}");

    // The manager may break the glass too: reading, never deciding.
    let (status, text) = api(
        &manager,
        "POST",
        path,
        Some(&json!({ "reason": "checking the worker's note" })),
    )
    .await;
    assert_eq!(status, 201, "{text}");
    let (_, dashboard) = api(&manager, "GET", "/api/team/dashboard", None).await;
    let dashboard: Value = serde_json::from_str(&dashboard).expect("json");
    assert!(dashboard["children"].to_string().contains("C-N1"));
    assert_eq!(dashboard["breakGlass"].as_array().map(Vec::len), Some(2));
    assert_eq!(dashboard["breakGlass"][0]["username"], "mgr-north");
    let (status, answer) = oversight_fixture::decide(&manager, visit, "signOff", "ok")
        .await
        .expect("the manager reads the review");
    assert_eq!(status, 403, "{answer}");
    // Someone who sees the child already needs no break-glass.
    let (status, text) = api(&worker, "POST", path, Some(&with_reason)).await;
    assert_eq!(status, 409, "{text}");
    server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn break_glass_ends_by_itself_on_http_and_on_an_open_sync_connection() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council_with_officer(dir.path());
    let mut config = ServerConfig::new(dir.path().to_owned());
    config.break_glass_for = Duration::from_secs(4);
    let server = TestServer::start_with(config).await.expect("server");
    let worker = login(&server, "sw-north-1").await;
    let manager = login(&server, "mgr-north").await;
    let (_worker_device, visit) = stored_visit(&worker).await;
    restrict_c_n1(dir.path());
    let (status, text) = api(
        &manager,
        "POST",
        "/api/children/C-N1/break-glass",
        Some(&json!({ "reason": REASON })),
    )
    .await;
    assert_eq!(status, 201, "{text}");
    let until = serde_json::from_str::<Value>(&text).expect("json")["expiresAt"]
        .as_i64()
        .expect("expiresAt");

    // A device opened during the break-glass holds the visit ...
    let open = manager.device("manager-laptop").await.expect("device");
    assert!(open.find(visit, TIMEOUT).await.expect("answered").is_some());
    let (status, _) = api(
        &manager,
        "GET",
        &format!("/api/visits/{visit}/review"),
        None,
    )
    .await;
    assert_eq!(status, 200);

    // ... and is told it is unavailable once the time is up, without anyone doing anything.
    assert!(
        wait_for(|| open.is_refused(visit)).await,
        "the open connection lost the visit"
    );
    assert!(council::now_ms() >= until, "not before the end");
    let (status, _) = api(
        &manager,
        "GET",
        &format!("/api/visits/{visit}/review"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert!(!finds(&manager, visit).await);
    let (_, dashboard) = api(&manager, "GET", "/api/team/dashboard", None).await;
    let dashboard: Value = serde_json::from_str(&dashboard).expect("json");
    assert!(!dashboard["children"].to_string().contains("C-N1"));
    // Still listed, as ended, so the manager can follow it up.
    assert_eq!(dashboard["breakGlass"][0]["active"], false);
    assert_eq!(dashboard["breakGlass"][0]["reason"], REASON);
    server.stop().await.expect("stop");
}
