//! The official automerge-repo JS client and the native Rust client interoperate through
//! the real server, signed in as a social worker, and everything survives a restart.

use std::time::Duration;

use automerge::{AutoSerde, Automerge};
use serde_json::{Value, json};
use shared::DocumentId;
use shared::model::Visit;
use tests::council::{self, PASSWORD, Session};
use tests::{NativeClient, TestServer, js_client, visit_fixture};

const TIMEOUT: Duration = Duration::from_secs(20);

fn as_json(doc: &Automerge) -> Value {
    serde_json::to_value(AutoSerde::from(doc)).expect("document as json")
}

fn heads_of(doc: &Automerge) -> Vec<String> {
    let mut heads: Vec<String> = doc.get_heads().iter().map(|h| h.to_string()).collect();
    heads.sort();
    heads
}

fn sorted_heads(value: &Value) -> Vec<String> {
    let mut heads: Vec<String> = value["heads"]
        .as_array()
        .expect("heads")
        .iter()
        .map(|h| h.as_str().expect("hex head").to_owned())
        .collect();
    heads.sort();
    heads
}

async fn worker_session(server: &TestServer) -> Session {
    Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_documents_survive_a_restart_and_reach_native_and_js_clients() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = start_packing(dir.path()).await;
    let worker = worker_session(&server).await;
    let url = server.url();
    let args = [
        "create",
        "--url",
        &url,
        "--count",
        "5",
        "--child-id",
        "C-N1",
        "--worker-id",
        "sw-north-1",
    ];
    let created = js_client::client(&worker.token, &args)
        .await
        .expect("js create");
    let docs = created["docs"].as_array().expect("docs").clone();
    assert_eq!(docs.len(), 5);
    server.stop().await.expect("graceful stop");

    let server = start_packing(dir.path()).await;
    let worker = worker_session(&server).await;
    let ids: Vec<String> = docs
        .iter()
        .map(|d| d["documentId"].as_str().expect("id").to_owned())
        .collect();
    let url = server.url();
    let ids_arg = ids.join(",");
    let fetched = js_client::client(&worker.token, &["fetch", "--url", &url, "--ids", &ids_arg])
        .await
        .expect("js fetch");
    for (made, got) in docs.iter().zip(fetched["docs"].as_array().expect("docs")) {
        assert_eq!(got["documentId"], made["documentId"]);
        assert_eq!(
            got["content"], made["content"],
            "content identical after restart"
        );
        assert_eq!(sorted_heads(got), sorted_heads(made));
    }

    // The native client reads the same documents, typed through the model.
    let native = NativeClient::new("native-reader");
    native
        .connect(&worker.sync_url().await.expect("ticket"))
        .await
        .expect("connect");
    for made in &docs {
        let id: DocumentId = made["documentId"]
            .as_str()
            .expect("id")
            .parse()
            .expect("id");
        let doc = native
            .find(id, TIMEOUT)
            .await
            .expect("find")
            .expect("available");
        assert_eq!(as_json(&doc), made["content"]);
        let visit = Visit::read(&doc).expect("a JS-written visit reads as a Visit");
        assert_eq!(visit.child_id, "C-N1");
        assert!(!visit.voice.is_empty() && !visit.voice[0].words.is_empty());
    }
    server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_documents_survive_a_restart_and_sync_both_ways_with_js() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = start_packing(dir.path()).await;
    let session = worker_session(&server).await;
    let writer = NativeClient::new("native-writer");
    writer
        .connect(&session.sync_url().await.expect("ticket"))
        .await
        .expect("connect");
    let ids: Vec<DocumentId> = (0..4)
        .map(|seed| {
            writer.create(visit_fixture::visit_for_child(
                seed,
                "C-N2",
                "sw-north-1",
                600,
            ))
        })
        .collect();
    for id in &ids {
        writer
            .wait_acknowledged(*id, TIMEOUT)
            .await
            .expect("acknowledged");
    }
    writer.disconnect().await;
    server.stop().await.expect("stop");

    let server = start_packing(dir.path()).await;
    let session = worker_session(&server).await;
    let reader = NativeClient::new("native-reader");
    reader
        .connect(&session.sync_url().await.expect("ticket"))
        .await
        .expect("connect");
    for id in &ids {
        let original = writer.document(*id).expect("writer copy");
        let fetched = reader
            .find(*id, TIMEOUT)
            .await
            .expect("find")
            .expect("available");
        assert_eq!(heads_of(&fetched), heads_of(&original));
        assert_eq!(as_json(&fetched), as_json(&original));
    }

    // A JS client reads what the native client wrote ...
    let url = server.url();
    let id_text: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    let ids_arg = id_text.join(",");
    let fetched = js_client::client(&session.token, &["fetch", "--url", &url, "--ids", &ids_arg])
        .await
        .expect("js fetch");
    for (id, got) in ids.iter().zip(fetched["docs"].as_array().expect("docs")) {
        assert_eq!(
            got["content"],
            as_json(&writer.document(*id).expect("copy"))
        );
    }

    // ... and edits it; the connected native reader receives the edit live.
    let args = [
        "append-words",
        "--url",
        &url,
        "--id",
        &id_text[0],
        "--text",
        " Written in JavaScript.",
    ];
    let edited = js_client::client(&session.token, &args)
        .await
        .expect("js append");
    let wanted = sorted_heads(&edited);
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let doc = reader.document(ids[0]).expect("reader copy");
        if heads_of(&doc) == wanted {
            let visit = Visit::read(&doc).expect("visit");
            assert!(visit.voice[0].words.ends_with(" Written in JavaScript."));
            assert_eq!(as_json(&doc), edited["content"]);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "edit never arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_documents_are_unavailable_to_both_clients() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = start_packing(dir.path()).await;
    let session = worker_session(&server).await;
    let missing = DocumentId::from_bytes([42; 16]);
    let native = NativeClient::new("native");
    native
        .connect(&session.sync_url().await.expect("ticket"))
        .await
        .expect("connect");
    assert!(
        native
            .find(missing, TIMEOUT)
            .await
            .expect("answer")
            .is_none()
    );
    let url = server.url();
    let missing_text = missing.to_string();
    let fetched = js_client::client(
        &session.token,
        &["fetch", "--url", &url, "--ids", &missing_text],
    )
    .await
    .expect("js fetch");
    assert_eq!(
        fetched["docs"][0],
        json!({"documentId": missing_text, "unavailable": true})
    );
    server.stop().await.expect("stop");
}

/// A server that packs every settled document (`--live-documents 0`), so that the clients'
/// later messages each unpack one.
async fn start_packing(dir: &std::path::Path) -> TestServer {
    let mut config = server::ServerConfig::new(dir.to_owned());
    config.live_documents = 0;
    TestServer::start_with(config).await.expect("server")
}
