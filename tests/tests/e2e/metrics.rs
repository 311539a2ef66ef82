//! `/metrics` is scraped from its own listener (never the public address) and reports what
//! happened: connections, documents, replies held for durability, storage commits,
//! sign-ins by outcome with their latency and queue, and refusals by reason.

use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{ROOT, ReadDoc};
use server::ServerConfig;
use tests::council::{self, PASSWORD, Session};
use tests::test_server::http_get;
use tests::{NativeClient, TestServer, visit_fixture};

fn free_port() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr")
}

/// The value of the sample line `name` (with its labels), if present.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

async fn scrape(addr: std::net::SocketAddr) -> String {
    let (status, body) = http_get(addr, "/metrics").await.expect("scrape");
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_apart_and_count_what_happened() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let metrics_addr = free_port();
    let mut config = ServerConfig::new(dir.path().to_owned());
    config.metrics_addr = Some(metrics_addr);
    let server = TestServer::start_with(config).await.expect("server");

    // Not on the public address.
    let (status, _) = http_get(server.addr, "/metrics").await.expect("public");
    assert_eq!(status, 404);

    // A sign-in refused, two accepted, a visit created, a manager's change refused.
    let wrong = Session::login(server.addr, "sw-north-1", "not the password", None).await;
    assert!(wrong.is_err());
    let worker = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("worker");
    let manager = Session::login(server.addr, "mgr-north", PASSWORD, None)
        .await
        .expect("manager");
    let writer = NativeClient::new("writer");
    writer
        .connect(&worker.sync_url().await.expect("ticket"))
        .await
        .expect("connect");
    let id = writer.create(visit_fixture::visit_for_child(1, "C-N1", "sw-north-1", 200));
    writer
        .wait_acknowledged(id, Duration::from_secs(20))
        .await
        .expect("acknowledged");
    let reader = NativeClient::new("manager");
    reader
        .connect(&manager.sync_url().await.expect("ticket"))
        .await
        .expect("connect");
    reader
        .find(id, Duration::from_secs(20))
        .await
        .expect("find")
        .expect("readable");
    reader
        .change(id, |doc| {
            let mut tx = doc.transaction();
            tx.put(ROOT, "seenAlone", false).expect("put");
            tx.commit();
        })
        .expect("local change");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = scrape(metrics_addr).await;
        let refused = sample(&text, "doorstep_sync_refusals_total{reason=\"read_only\"}");
        if refused == Some(1.0) || tokio::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let expect = |name: &str| sample(&text, name).unwrap_or_else(|| panic!("no {name} in\n{text}"));
    assert_eq!(expect("doorstep_up"), 1.0);
    assert_eq!(expect("doorstep_connections"), 2.0);
    assert!(expect("doorstep_documents_loaded") >= 1.0);
    assert!(expect("doorstep_documents_packed") >= 0.0);
    assert!(expect("doorstep_sync_replies_held") >= 0.0);
    assert!(
        expect("doorstep_sync_replies_held_total") >= 1.0,
        "the first append held its reply"
    );
    assert_eq!(expect("doorstep_connections_accepted_total"), 2.0);
    assert_eq!(expect("doorstep_sign_ins_total{outcome=\"ok\"}"), 2.0);
    assert_eq!(
        expect("doorstep_sign_ins_total{outcome=\"bad_credentials\"}"),
        1.0
    );
    assert_eq!(expect("doorstep_sign_in_seconds_count"), 3.0);
    assert_eq!(expect("doorstep_sign_in_queue_length"), 0.0);
    assert_eq!(expect("doorstep_password_checks_total"), 3.0);
    assert!(expect("doorstep_storage_commit_seconds_count") >= 1.0);
    assert_eq!(
        expect("doorstep_sync_refusals_total{reason=\"read_only\"}"),
        1.0
    );
    assert!(text.contains("# TYPE doorstep_sign_in_seconds histogram"));
    // The manager's change never reached the server's copy.
    let fresh = NativeClient::new("check");
    fresh
        .connect(&worker.sync_url().await.expect("ticket"))
        .await
        .expect("connect");
    let doc = fresh
        .find(id, Duration::from_secs(20))
        .await
        .expect("find")
        .expect("there");
    assert!(matches!(
        doc.get(ROOT, "seenAlone").expect("read"),
        Some((automerge::Value::Scalar(v), _)) if v.as_ref() == &automerge::ScalarValue::Boolean(true)
    ));
    for client in [writer, reader, fresh] {
        client.disconnect().await;
    }
    server.stop().await.expect("stop");
}
