//! Memory follows active documents: documents nobody syncs are unloaded after the idle
//! interval, as `/healthz`'s `loadedDocuments` shows, and load again on demand; beyond
//! `--live-documents`, documents in sync are held packed (`packedDocuments`).

use std::time::Duration;

use server::ServerConfig;
use shared::DocumentId;
use tests::council::{self, PASSWORD, Session};
use tests::test_server::health;
use tests::{NativeClient, TestServer, visit_fixture};

const TIMEOUT: Duration = Duration::from_secs(20);

async fn loaded_documents(server: &TestServer) -> u64 {
    health(server.addr).await.expect("health")["loadedDocuments"]
        .as_u64()
        .expect("count")
}

async fn packed_documents(server: &TestServer) -> u64 {
    health(server.addr).await.expect("health")["packedDocuments"]
        .as_u64()
        .expect("count")
}

/// A council server started with `configure`, and social worker `sw-north-1` connected on a
/// device that has created `count` visits (each with `words` bytes of the child's words),
/// every one acknowledged.
async fn worker_with_visits(
    dir: &std::path::Path,
    configure: impl FnOnce(&mut ServerConfig),
    count: u64,
    words: usize,
) -> (TestServer, Session, NativeClient, Vec<DocumentId>) {
    council::create(dir).expect("council");
    let mut config = ServerConfig::new(dir.to_owned());
    configure(&mut config);
    let server = TestServer::start_with(config).await.expect("server");
    let session = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("login");
    let device = NativeClient::new("device");
    device
        .connect(&session.sync_url().await.expect("ticket"))
        .await
        .expect("connect");
    let ids: Vec<_> = (0..count)
        .map(|seed| {
            device.create(visit_fixture::visit_for_child(
                seed,
                "C-N1",
                "sw-north-1",
                words,
            ))
        })
        .collect();
    for id in &ids {
        device
            .wait_acknowledged(*id, TIMEOUT)
            .await
            .expect("stored");
    }
    (server, session, device, ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loaded_document_count_falls_back_after_clients_leave() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, session, client, ids) = worker_with_visits(
        dir.path(),
        |config| {
            config.idle_unload_after = Duration::from_millis(500);
            config.tick_every = Duration::from_millis(100);
        },
        10,
        200,
    )
    .await;
    assert_eq!(loaded_documents(&server).await, 10);

    // While connected the documents stay loaded, however long it is.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(loaded_documents(&server).await, 10);

    client.disconnect().await;
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while loaded_documents(&server).await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "documents never unloaded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Unloaded is not lost: a new client gets them back from storage.
    let reader = NativeClient::new("reader");
    reader
        .connect(&session.sync_url().await.expect("ticket"))
        .await
        .expect("connect");
    let doc = reader
        .find(ids[3], TIMEOUT)
        .await
        .expect("find")
        .expect("available");
    assert_eq!(
        doc.get_heads(),
        client.document(ids[3]).expect("copy").get_heads()
    );
    assert_eq!(loaded_documents(&server).await, 1);
    server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_beyond_the_live_limit_are_packed_and_still_sync_both_ways() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, session, writer, ids) =
        worker_with_visits(dir.path(), |config| config.live_documents = 4, 12, 400).await;
    assert_eq!(loaded_documents(&server).await, 12);
    let packed = packed_documents(&server).await;
    assert!((8..=12).contains(&packed), "{packed} of 12 packed");

    // A packed document takes a further edit (unpacked, applied, stored, acknowledged)...
    writer
        .change(ids[0], |doc| {
            let mut tx = doc.transaction();
            shared::model::append_text(&mut tx, shared::model::TextField::Observations, " More.")
                .expect("edit");
            tx.commit();
        })
        .expect("change");
    writer
        .wait_acknowledged(ids[0], TIMEOUT)
        .await
        .expect("edit stored");
    // ...and a second device gets every document, the edited one included, intact.
    let reader = NativeClient::new("reader");
    reader
        .connect(&session.sync_url().await.expect("ticket"))
        .await
        .expect("connect");
    for id in &ids {
        let doc = reader
            .find(*id, TIMEOUT)
            .await
            .expect("find")
            .expect("available");
        assert_eq!(
            doc.get_heads(),
            writer.document(*id).expect("copy").get_heads()
        );
    }
    server.stop().await.expect("stop");
}
