//! Doorstep on PostgreSQL (issue 12, the store): a private cluster, the test council made
//! through the directory on it, the real server with `database_url`, a worker's visits
//! synced over the WebSocket and stored as chunks in PostgreSQL, the manager's dashboard,
//! review, decision and an expunge (the old lineage's chunks gone from PostgreSQL), the
//! records found again by a new device after a restart (so they came from PostgreSQL, not
//! memory), the audit log append-only there too, the admin command line with
//! `--database`, and one server per database.

use std::time::Duration;

use automerge::ReadDoc;
use serde_json::Value;
use server::ServerConfig;
use shared::model::Visit;
use tests::council::{self, PASSWORD, Session};
use tests::test_server::run_admin;
use tests::{PostgresCluster, TestServer, visit_fixture};

use crate::server_binary;

const TIMEOUT: Duration = Duration::from_secs(15);
const PASSAGE: &str = "the Smith family at 12 Acacia Road";

fn hex(document: shared::DocumentId) -> String {
    document
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn server_on(url: &str, dir: &std::path::Path) -> TestServer {
    let mut config = ServerConfig::new(dir.to_owned());
    config.database_url = Some(url.to_owned());
    TestServer::start_with(config)
        .await
        .expect("server on PostgreSQL")
}

/// The test council, made in the (migrated) PostgreSQL database at `url`.
async fn council_in(url: &str) {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = server::directory::open_postgres(&url).expect("migrated");
        council::create_in(&mut conn).expect("council");
    })
    .await
    .expect("council made");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_council_on_postgresql_signs_in_syncs_reviews_and_keeps_its_records_across_a_restart() {
    tests::init_logging();
    let cluster = PostgresCluster::start().expect("cluster");
    let url = cluster.url();
    council_in(&url).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let server = server_on(&url, dir.path()).await;

    let worker = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in");
    let tablet = worker.device("tablet").await.expect("device");
    let mut submitted = visit_fixture::visit_for_child(5, "C-N1", "sw-north-1", 300);
    let mut tx = submitted.transaction();
    shared::model::submit_visit(
        &mut tx,
        shared::sync::Timestamp::from_millis(council::now_ms() as u64),
    )
    .expect("submit");
    tx.commit();
    let filed = tablet.create(submitted);
    tablet
        .wait_acknowledged(filed, TIMEOUT)
        .await
        .expect("stored in PostgreSQL");
    let observations = format!("Seen at home. Mentioned {PASSAGE} by mistake. Bedroom tidy.");
    let visit = tablet.create(crate::misfiled_records::visit(
        "C-N1",
        "sw-north-1",
        &observations,
    ));
    tablet
        .wait_acknowledged(visit, TIMEOUT)
        .await
        .expect("stored in PostgreSQL");
    tablet.disconnect().await;
    let chunks = cluster
        .psql("doorstep", "SELECT count(*) FROM document_chunks")
        .expect("chunks");
    assert!(chunks.parse::<u32>().expect("count") > 5, "{chunks}");

    let manager = Session::login(server.addr, "mgr-north", PASSWORD, None)
        .await
        .expect("sign in");
    let (status, _, dashboard) = manager
        .request("GET", "/api/team/dashboard", None)
        .await
        .expect("dashboard");
    assert_eq!(status, 200, "{dashboard}");
    assert!(dashboard.contains("C-N1"), "{dashboard}");
    let (status, _, review) = manager
        .request("GET", &format!("/api/visits/{visit}/review"), None)
        .await
        .expect("review");
    assert_eq!(status, 200, "{review}");
    let (status, answer) =
        tests::oversight_fixture::decide(&manager, filed, "return", "Add the child's words")
            .await
            .expect("decision");
    assert_eq!(status, 200, "{answer}");

    // An expunge: one transaction on PostgreSQL stores the new lineage and erases the old.
    let body = serde_json::json!({"passages": [PASSAGE], "reason": "another family's details", "confirm": true});
    let (status, _, answer) = manager
        .request("POST", &format!("/api/visits/{visit}/expunge"), Some(&body))
        .await
        .expect("expunge");
    assert_eq!(status, 200, "{answer}");
    let replacement: shared::DocumentId =
        serde_json::from_str::<Value>(&answer).expect("json")["replacement"]
            .as_str()
            .expect("replacement")
            .parse()
            .expect("id");
    let old_chunks = cluster
        .psql(
            "doorstep",
            &format!(
                "SELECT count(*) FROM document_chunks WHERE document_id = '\\x{}'",
                hex(visit)
            ),
        )
        .expect("old chunks");
    assert_eq!(old_chunks, "0", "the old lineage's chunks are gone");
    let erased = cluster
        .psql(
            "doorstep",
            &format!(
                "SELECT count(*) FROM erased_documents WHERE document_id = '\\x{}'",
                hex(visit)
            ),
        )
        .expect("erased");
    assert_eq!(erased, "1");
    server.stop().await.expect("stop");

    // A new server on the same database: the visit comes back from PostgreSQL.
    let server = server_on(&url, dir.path()).await;
    let worker = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in again");
    let phone = worker.device("phone").await.expect("device");
    let found = phone
        .find(replacement, TIMEOUT)
        .await
        .expect("answered")
        .expect("the corrected visit is found after a restart");
    assert_eq!(
        Visit::read(&found).expect("a visit").child_id,
        "C-N1",
        "the visit read back whole"
    );
    let returned = phone
        .find(filed, TIMEOUT)
        .await
        .expect("answered")
        .expect("the returned visit is found after a restart");
    assert!(
        returned
            .get(automerge::ROOT, "oversight")
            .expect("read")
            .is_some(),
        "the manager's decision is in it"
    );
    let corrected = Visit::read(&found).expect("a visit");
    assert!(!corrected.observations.contains(PASSAGE));
    assert!(corrected.observations.contains("Bedroom tidy"));
    assert!(
        phone
            .find(visit, TIMEOUT)
            .await
            .expect("answered")
            .is_none(),
        "the old lineage is refused"
    );
    phone.disconnect().await;
    // Someone else's child is still refused.
    let south = Session::login(server.addr, "sw-south-1", PASSWORD, None)
        .await
        .expect("sign in");
    let probe = south.device("probe").await.expect("device");
    assert!(
        probe
            .find(replacement, TIMEOUT)
            .await
            .expect("answered")
            .is_none()
    );
    probe.disconnect().await;
    server.stop().await.expect("stop");

    // The audit log is there and append-only, as on SQLite.
    let audited: u32 = cluster
        .psql("doorstep", "SELECT count(*) FROM audit_log")
        .expect("audit")
        .parse()
        .expect("count");
    assert!(audited > 3, "{audited} audit rows");
    let refused = cluster.psql("doorstep", "DELETE FROM audit_log");
    assert!(
        refused.is_err_and(|err| err.to_string().contains("append-only")),
        "deleting the audit log is refused"
    );

    // The admin command line works on PostgreSQL with --database.
    let listed = run_admin(
        server_binary(),
        dir.path(),
        &["--database", &url, "team", "add", "East"],
    );
    assert!(listed.contains("East"), "{listed}");
    let teams = cluster
        .psql("doorstep", "SELECT count(*) FROM teams")
        .expect("teams");
    assert_eq!(teams, "3");
    let value: Value = serde_json::from_str(&review).expect("json");
    assert!(value.is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_the_same_postgresql_database_is_refused_until_the_first_stops() {
    tests::init_logging();
    let cluster = PostgresCluster::start().expect("cluster");
    let url = cluster.url();
    let (first_dir, second_dir) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let first = server_on(&url, first_dir.path()).await;
    let mut config = ServerConfig::new(second_dir.path().to_owned());
    config.database_url = Some(url.clone());
    let refused = TestServer::start_with(config).await;
    let err = refused.err().expect("a second server is refused");
    assert!(
        format!("{err:#}").contains("another doorstep-server is serving this PostgreSQL database"),
        "{err:#}"
    );
    first.stop().await.expect("stop");
    let second = server_on(&url, second_dir.path()).await;
    second.stop().await.expect("stop");
}

/// Waits until `/healthz` answers `status`; returns its body.
async fn wait_health(addr: std::net::SocketAddr, status: u16) -> Value {
    let mut last = (0, Value::Null);
    for _ in 0..400 {
        if let Ok(answer) = tests::test_server::health_status(addr).await {
            if answer.0 == status {
                return answer.1;
            }
            last = answer;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("/healthz never answered {status}; last {last:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_loses_postgresql_stops_acknowledging_says_so_and_recovers_by_itself() {
    tests::init_logging();
    let mut cluster = PostgresCluster::start().expect("cluster");
    let url = cluster.url();
    council_in(&url).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let server = server_on(&url, dir.path()).await;
    let worker = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in");
    let tablet = worker.device("tablet").await.expect("device");
    let before = tablet.create(visit_fixture::visit_for_child(1, "C-N1", "sw-north-1", 200));
    tablet
        .wait_acknowledged(before, TIMEOUT)
        .await
        .expect("stored");

    // The database goes away: nothing more is acknowledged, and the server says why.
    cluster.stop().expect("PostgreSQL stopped");
    let during = tablet.create(visit_fixture::visit_for_child(2, "C-N1", "sw-north-1", 200));
    assert!(
        tablet
            .wait_acknowledged(during, Duration::from_secs(3))
            .await
            .is_err(),
        "a visit was acknowledged while the database was down"
    );
    let body = wait_health(server.addr, 503).await;
    assert_eq!(body["storage"], "database connection lost", "{body}");
    let (status, _, answer) = worker
        .request("GET", "/api/caseload", None)
        .await
        .expect("request");
    assert_eq!(status, 503, "{answer}");

    // Back: the server reconnects by itself (storage, hub, API pool) and stores the visit.
    cluster.start_again().expect("PostgreSQL back");
    wait_health(server.addr, 200).await;
    if !tablet.is_connected() {
        tablet
            .connect(&worker.sync_url().await.expect("ticket"))
            .await
            .expect("reconnect");
    }
    tablet
        .wait_acknowledged(during, TIMEOUT)
        .await
        .expect("stored after the database came back");
    let (status, _, answer) = worker
        .request("GET", "/api/caseload", None)
        .await
        .expect("request");
    assert_eq!(status, 200, "{answer}");
    server.stop().await.expect("stop");

    // Both visits are in PostgreSQL: a new server finds them.
    let server = server_on(&url, dir.path()).await;
    let worker = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in again");
    let phone = worker.device("phone").await.expect("device");
    for visit in [before, during] {
        assert!(
            phone
                .find(visit, TIMEOUT)
                .await
                .expect("answered")
                .is_some(),
            "{visit} is stored"
        );
    }
    phone.disconnect().await;
    server.stop().await.expect("stop");
}
