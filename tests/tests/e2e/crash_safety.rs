//! kill -9 the server in the middle of a sync storm: after a restart, every change any
//! client saw acknowledged is there, and the database is sound.

use std::collections::HashMap;
use std::time::Duration;

use crate::server_binary;
use automerge::{ChangeHash, ReadDoc};
use shared::DocumentId;
use shared::model;
use tests::council::{self, PASSWORD, Session};
use tests::{NativeClient, ServerProcess, visit_fixture};

const CLIENTS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_changes_survive_kill_9_mid_storm() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    // Every settled document is packed at once, so further edits also unpack documents.
    let server = ServerProcess::start(server_binary(), dir.path(), &["--live-documents", "0"])
        .expect("server");
    let addr = server.addr;

    // Each client keeps creating and editing visits, recording what the server acknowledged.
    let mut workers = Vec::new();
    for n in 0..CLIENTS {
        workers.push(tokio::spawn(async move {
            let (username, child) = [
                ("sw-north-1", "C-N1"),
                ("sw-north-2", "C-N3"),
                ("sw-south-1", "C-S1"),
            ][n % 3];
            let session = Session::login(addr, username, PASSWORD, None)
                .await
                .expect("login");
            let client = NativeClient::new(&format!("device-{n}"));
            client
                .connect(&session.sync_url().await.expect("ticket"))
                .await
                .expect("connect");
            let mut acknowledged: HashMap<DocumentId, (&str, Vec<ChangeHash>)> = HashMap::new();
            let mut docs = Vec::new();
            for round in 0u64.. {
                if round % 3 == 0 && docs.len() < 8 {
                    docs.push(
                        client.create(visit_fixture::visit_for_child(round, child, username, 300)),
                    );
                }
                for id in docs.iter().rev().take(3) {
                    let _ = client.change(*id, |doc| {
                        let mut tx = doc.transaction();
                        let _ = model::append_child_words(&mut tx, 0, &format!(" r{round}"));
                        tx.commit();
                    });
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
                for id in &docs {
                    // Heads the server reported are durable there (it reports nothing else).
                    let heads = client.server_heads(*id);
                    if !heads.is_empty() {
                        acknowledged.insert(*id, (username, heads));
                    }
                }
                if !client.is_connected() {
                    break;
                }
            }
            acknowledged
        }));
    }

    tokio::time::sleep(Duration::from_millis(2500)).await;
    server.kill9().expect("kill -9");
    let mut acknowledged = HashMap::new();
    for worker in workers {
        let seen = tokio::time::timeout(Duration::from_secs(30), worker)
            .await
            .expect("client noticed the crash")
            .expect("client task");
        acknowledged.extend(seen);
    }
    let total_heads: usize = acknowledged.values().map(|(_, heads)| heads.len()).sum();
    assert!(
        acknowledged.len() >= CLIENTS,
        "storm acknowledged too little: {}",
        acknowledged.len()
    );

    {
        let store = server::DocumentStore::open(dir.path(), server::clock::Clock::system())
            .expect("reopen after crash");
        assert_eq!(store.integrity_check().expect("check"), Ok(()));
    }
    let server = ServerProcess::start(server_binary(), dir.path(), &[]).expect("restart");
    // Each worker reads back their own documents.
    let mut readers = std::collections::HashMap::new();
    for username in ["sw-north-1", "sw-north-2", "sw-south-1"] {
        let session = Session::login(server.addr, username, PASSWORD, None)
            .await
            .expect("login");
        let reader = NativeClient::new(&format!("reader-{username}"));
        reader
            .connect(&session.sync_url().await.expect("ticket"))
            .await
            .expect("connect");
        readers.insert(username, reader);
    }
    for (id, (username, heads)) in &acknowledged {
        let reader = &readers[username];
        let doc = reader
            .find(*id, Duration::from_secs(20))
            .await
            .expect("find")
            .unwrap_or_else(|| panic!("acknowledged document {id} lost"));
        for head in heads {
            assert!(
                doc.get_change_by_hash(head).is_some(),
                "acknowledged change {head} of {id} lost"
            );
        }
        model::Visit::read(&doc).expect("document readable, not corrupted");
    }
    tracing::info!(
        documents = acknowledged.len(),
        total_heads,
        "all acknowledged changes present"
    );
    assert!(server.terminate().expect("sigterm"), "graceful exit code 0");
}
