//! `GET /api/caseload`: each role sees exactly the children it may see (a social worker
//! their allocated children, a manager their team's, an admin none), with the ids of
//! their documents; no session gets 401; every listing is audited.

use serde_json::Value;
use tests::TestServer;
use tests::council::{self, PASSWORD, Session};
use tests::test_server::http_request;

async fn caseload(server: &TestServer, token: Option<&str>) -> (u16, Value) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| vec![("Authorization", a)])
        .unwrap_or_default();
    let (status, _, body) = http_request(server.addr, "GET", "/api/caseload", &headers, None)
        .await
        .expect("request");
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn refs(body: &Value) -> Vec<String> {
    body["children"]
        .as_array()
        .expect("children")
        .iter()
        .map(|c| c["childRef"].as_str().expect("ref").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_lists_exactly_the_children_it_may_see() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    let children = council::create(dir.path()).expect("council");
    let server = TestServer::start(dir.path()).await.expect("server");

    let expected = [
        ("sw-north-1", vec!["C-N1", "C-N2"]),
        ("sw-north-2", vec!["C-N3"]),
        ("sw-south-1", vec!["C-S1"]),
        ("mgr-north", vec!["C-N1", "C-N2", "C-N3", "C-N4"]),
        ("mgr-south", vec!["C-S1"]),
        ("admin", vec![]),
    ];
    for (username, want) in expected {
        let session = Session::login(server.addr, username, PASSWORD, None)
            .await
            .expect("sign in");
        let (status, body) = caseload(&server, Some(&session.token)).await;
        assert_eq!(status, 200, "{username}");
        assert_eq!(refs(&body), want, "{username} sees exactly their children");
    }

    let session = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in");
    let (_, body) = caseload(&server, Some(&session.token)).await;
    let (_, n1_document) = children.iter().find(|(r, _)| r == "C-N1").expect("C-N1");
    assert_eq!(
        body["children"][0]["childDocumentId"].as_str(),
        Some(n1_document.to_string().as_str()),
        "the child document's id is listed so the app can fetch it"
    );
    assert_eq!(body["children"][0]["worker"], "sw-north-1");

    assert_eq!(caseload(&server, None).await.0, 401, "no session");
    assert_eq!(
        caseload(&server, Some("forged")).await.0,
        401,
        "forged token"
    );

    let conn = rusqlite::Connection::open(dir.path().join("doorstep.sqlite3")).expect("db");
    let listed: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'caseload' AND outcome = 'allowed'",
            [],
            |row| row.get(0),
        )
        .expect("audit");
    assert_eq!(listed, 7, "every listing is audited");
    server.stop().await.expect("stop");
}
