//! The HTTP API under attack: no existence oracle on the review endpoints, cookie requests
//! and the cookie WebSocket refused from another origin (bearer and ticket untouched), CSV
//! output neutralised against formula injection, and a flood of identical denials audited
//! once with a count. An honest worker syncs throughout.

use std::time::Duration;

use crate::server_binary;
use serde_json::{Value, json};
use server::ServerConfig;
use server::directory::Role;
use server::directory::admin::{self, NewUser};
use shared::DocumentId;
use tests::council::{self, PASSWORD, Session};
use tests::test_server::{http_request, run_admin};
use tests::{NativeClient, TestServer, visit_fixture};

const TIMEOUT: Duration = Duration::from_secs(20);

fn db(dir: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join(server::DATABASE_FILE)).expect("open database")
}

async fn call(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, String) {
    let (status, _, body) = http_request(addr, method, path, headers, body)
        .await
        .expect("request");
    (status, body)
}

/// A worker's device with an acknowledged visit for `child`.
async fn worker_with_visit(session: &Session, child: &str) -> (NativeClient, DocumentId) {
    let client = NativeClient::new("honest");
    client
        .connect(&session.sync_url().await.expect("ticket"))
        .await
        .expect("connect");
    let visit = client.create(visit_fixture::visit_for_child(3, child, "sw-north-1", 200));
    client
        .wait_acknowledged(visit, TIMEOUT)
        .await
        .expect("stored");
    (client, visit)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_and_a_missing_visit_get_the_same_answer_and_both_are_audited() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = TestServer::start(dir.path()).await.expect("server");
    let worker = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("login");
    let (honest, visit) = worker_with_visit(&worker, "C-N1").await;
    let missing = DocumentId::from_bytes(rand::random());

    let decision = json!({ "decision": "signOff", "comment": "", "heads": ["00".repeat(32)] });
    for outsider in ["mgr-south", "sw-south-1", "sw-north-2"] {
        let session = Session::login(server.addr, outsider, PASSWORD, None)
            .await
            .expect("login");
        let auth = format!("Bearer {}", session.token);
        let headers = [("Authorization", auth.as_str())];
        for (method, suffix, body) in [
            ("GET", "review", None),
            ("POST", "oversight", Some(&decision)),
        ] {
            let forbidden = call(
                server.addr,
                method,
                &format!("/api/visits/{visit}/{suffix}"),
                &headers,
                body,
            )
            .await;
            let absent = call(
                server.addr,
                method,
                &format!("/api/visits/{missing}/{suffix}"),
                &headers,
                body,
            )
            .await;
            assert_eq!(forbidden, absent, "{outsider} {method} {suffix}");
            assert_eq!(forbidden.0, 404);
            assert_eq!(
                serde_json::from_str::<Value>(&forbidden.1).expect("json"),
                json!({ "error": "no such record" })
            );
        }
    }
    // The manager of the team reads it; the worker keeps syncing.
    let manager = Session::login(server.addr, "mgr-north", PASSWORD, None)
        .await
        .expect("login");
    let auth = format!("Bearer {}", manager.token);
    let (status, body) = call(
        server.addr,
        "GET",
        &format!("/api/visits/{visit}/review"),
        &[("Authorization", auth.as_str())],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let more = honest.create(visit_fixture::visit_for_child(4, "C-N1", "sw-north-1", 200));
    honest.wait_acknowledged(more, TIMEOUT).await.expect("ack");

    // Both kinds of refusal are on the record, for each outsider and each action.
    let denied = |document: DocumentId| -> i64 {
        db(dir.path())
            .query_row(
                "SELECT count(DISTINCT actor || action) FROM audit_log
                 WHERE outcome = 'denied' AND document_id = ?1
                   AND action IN ('review-read', 'sign-off')",
                [document.as_bytes().as_slice()],
                |row| row.get(0),
            )
            .expect("audit")
    };
    assert_eq!(
        denied(visit),
        6,
        "3 outsiders x (read, decide) on the real visit"
    );
    assert_eq!(denied(missing), 6, "and on the missing one");
    server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_requests_and_the_cookie_websocket_need_the_server_s_own_origin() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = TestServer::start(dir.path()).await.expect("server");
    let addr = server.addr;
    let session = Session::login(addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("login");
    let cookie = format!("doorstep_session={}", session.token);
    let own = format!("http://{addr}");
    let evil = "http://evil.council.example";
    let refused = |(status, body): (u16, String)| {
        assert_eq!(status, 403, "{body}");
        let body: Value = serde_json::from_str(&body).expect("json");
        assert!(body["error"].as_str().is_some(), "{body}");
    };

    // Cookie API calls: a foreign or missing Origin is refused on a POST; GET without
    // Origin (what a same-origin browser GET sends) passes, a foreign one does not.
    refused(
        call(
            addr,
            "POST",
            "/api/sync-ticket",
            &[("Cookie", &cookie), ("Origin", evil)],
            None,
        )
        .await,
    );
    refused(
        call(
            addr,
            "POST",
            "/api/sync-ticket",
            &[("Cookie", &cookie)],
            None,
        )
        .await,
    );
    refused(
        call(
            addr,
            "GET",
            "/api/caseload",
            &[("Cookie", &cookie), ("Origin", evil)],
            None,
        )
        .await,
    );
    let (status, body) = call(
        addr,
        "POST",
        "/api/sync-ticket",
        &[("Cookie", &cookie), ("Origin", &own)],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(addr, "GET", "/api/caseload", &[("Cookie", &cookie)], None).await;
    assert_eq!(status, 200, "{body}");

    // Bearer tokens are not cookie-based: any (or no) Origin.
    let auth = format!("Bearer {}", session.token);
    let (status, body) = call(
        addr,
        "POST",
        "/api/sync-ticket",
        &[
            ("Authorization", &auth),
            ("Cookie", &cookie),
            ("Origin", evil),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // The cookie WebSocket upgrade: refused without our Origin, accepted with it.
    let url = format!("ws://{addr}/sync");
    for headers in [
        vec![("Cookie", cookie.as_str()), ("Origin", evil)],
        vec![("Cookie", cookie.as_str())],
    ] {
        let err = NativeClient::new("cross-site")
            .connect_with_headers(&url, &headers)
            .await
            .expect_err("refused");
        assert!(format!("{err:#}").contains("403"), "{err:#}");
    }
    let same_site = NativeClient::new("same-origin");
    same_site
        .connect_with_headers(&url, &[("Cookie", &cookie), ("Origin", &own)])
        .await
        .expect("cookie upgrade from our own origin");
    let visit = same_site.create(visit_fixture::visit_for_child(5, "C-N1", "sw-north-1", 200));
    same_site
        .wait_acknowledged(visit, TIMEOUT)
        .await
        .expect("syncs");
    // A ticket is not a cookie: accepted whatever the Origin.
    let ticketed = NativeClient::new("ticket");
    ticketed
        .connect_with_headers(
            &session.sync_url().await.expect("ticket"),
            &[("Origin", evil)],
        )
        .await
        .expect("ticket upgrade");
    assert!(ticketed.find(visit, TIMEOUT).await.expect("find").is_some());

    let audited: i64 = db(dir.path())
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'cross-origin' AND outcome = 'denied'",
            [],
            |row| row.get(0),
        )
        .expect("audit");
    assert!(audited >= 3, "{audited} cross-origin refusals audited");
    server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_exports_neutralise_every_formula_trigger() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    {
        let mut conn = server::directory::open_connection(dir.path()).expect("db");
        for (child_ref, name) in [
            ("C-TAB", "\t=1+1"),
            ("C-CR", "\r=2+2"),
            ("C-AT", "@SUM(A1)"),
        ] {
            let mut child = council::test_child(child_ref);
            child.legal_name = name.into();
            admin::add_child(&mut conn, "North", &child, council::now_ms()).expect("child");
        }
        admin::add_user(
            &mut conn,
            &NewUser {
                username: "=cmd|calc",
                display_name: "+Formula Manager",
                role: Role::TeamManager,
                team: Some("North"),
                password: PASSWORD,
            },
            council::now_ms(),
        )
        .expect("manager");
    }
    let server = TestServer::start(dir.path()).await.expect("server");
    let manager = Session::login(server.addr, "=cmd|calc", PASSWORD, None)
        .await
        .expect("login");
    let auth = format!("Bearer {}", manager.token);
    let (status, csv) = call(
        server.addr,
        "GET",
        "/api/team/dashboard.csv",
        &[("Authorization", auth.as_str())],
        None,
    )
    .await;
    assert_eq!(status, 200, "{csv}");
    assert!(
        csv.contains("\n'\t=1+1,") || csv.contains(",'\t=1+1,"),
        "{csv:?}"
    );
    assert!(csv.contains("\"'\r=2+2\""), "{csv:?}");
    assert!(csv.contains(",'@SUM(A1),"), "{csv:?}");
    for line in csv.split("\r\n") {
        for cell in line.split(',') {
            let cell = cell.trim_start_matches('"');
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "unneutralised cell {cell:?} in {line:?}"
            );
        }
    }
    server.stop().await.expect("stop");

    // The audit export: the manager's username (a formula) is neutralised in every cell.
    let export = run_admin(
        server_binary(),
        dir.path(),
        &["audit", "export", "--child", "C-N1", "--format", "csv"],
    );
    assert!(export.contains(",'=cmd|calc,"), "{export}");
    assert!(!export.contains(",=cmd"), "{export}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_identical_denials_is_audited_once_with_a_count() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let mut config = ServerConfig::new(dir.path().to_owned());
    config.denial_audit_window = Duration::from_secs(600);
    let server = TestServer::start_with(config).await.expect("server");
    let addr = server.addr;
    let worker = Session::login(addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("login");
    let (honest, visit) = worker_with_visit(&worker, "C-N1").await;
    let outsider = Session::login(addr, "mgr-south", PASSWORD, None)
        .await
        .expect("login");

    const FLOOD: usize = 10_000;
    const PARALLEL: usize = 16;
    let auth = format!("Bearer {}", outsider.token);
    let path = format!("/api/visits/{visit}/review");
    let started = std::time::Instant::now();
    let mut floods = Vec::new();
    for _ in 0..PARALLEL {
        let (auth, path) = (auth.clone(), path.clone());
        floods.push(tokio::spawn(async move {
            for _ in 0..FLOOD / PARALLEL {
                let (status, _) = call(addr, "GET", &path, &[("Authorization", &auth)], None).await;
                assert_eq!(status, 404);
            }
        }));
    }
    // The worker keeps syncing through the flood.
    for seed in 10..15 {
        let id = honest.create(visit_fixture::visit_for_child(
            seed,
            "C-N1",
            "sw-north-1",
            200,
        ));
        honest
            .wait_acknowledged(id, TIMEOUT)
            .await
            .expect("ack during flood");
    }
    for flood in floods {
        flood.await.expect("flood");
    }
    eprintln!(
        "{FLOOD} forbidden review requests in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let rows = |dir: &std::path::Path| -> (i64, i64) {
        db(dir)
            .query_row(
                "SELECT count(*), coalesce(sum(occurrences), 0) FROM audit_log
                 WHERE actor = 'mgr-south' AND action = 'review-read' AND outcome = 'denied'",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .expect("audit")
    };
    assert_eq!(
        rows(dir.path()),
        (1, 1),
        "during the window: the first denial only"
    );
    server.stop().await.expect("stop");
    assert_eq!(
        rows(dir.path()),
        (2, FLOOD as i64),
        "after it: one more row carrying the count of repeats"
    );
}
