//! Bad input: each gets a protocol `error` message and a closed connection, while a
//! healthy client on another connection keeps syncing and stored data is untouched.

use std::time::Duration;

use server::ServerConfig;
use shared::DocumentId;
use shared::protocol::Message;
use tests::council::{self, PASSWORD, Session};
use tests::raw_peer::{Heard, RawPeer};
use tests::{NativeClient, TestServer, visit_fixture};

const TIMEOUT: Duration = Duration::from_secs(20);
const FRAME_LIMIT: usize = 64 * 1024;

/// Sends `frame` on a fresh joined connection, then expects an `error` message naming
/// `expected` and a close.
async fn expect_refusal(session: &Session, frame: Vec<u8>, expected: &str) {
    let url = session.sync_url().await.expect("ticket");
    let mut peer = RawPeer::joined(&url, "raw-peer").await.expect("joined");
    peer.send_bytes(frame).await.expect("send");
    peer.expect_refusal(expected)
        .await
        .unwrap_or_else(|err| panic!("{err:#}"));
}

fn cbor_map(entries: Vec<(&str, ciborium_value::Value)>) -> Vec<u8> {
    ciborium_value::encode_map(entries)
}

/// Builds CBOR maps without a direct ciborium dependency: through the protocol's own
/// encoder for valid shapes, or raw bytes for invalid ones.
mod ciborium_value {
    pub enum Value {
        Text(String),
        Bytes(Vec<u8>),
    }
    pub fn encode_map(entries: Vec<(&str, Value)>) -> Vec<u8> {
        let mut out = vec![0xa0 | entries.len() as u8];
        for (key, value) in entries {
            text(&mut out, key);
            match value {
                Value::Text(t) => text(&mut out, &t),
                Value::Bytes(b) => {
                    header(&mut out, 0x40, b.len());
                    out.extend(b);
                }
            }
        }
        out
    }
    fn text(out: &mut Vec<u8>, t: &str) {
        header(out, 0x60, t.len());
        out.extend(t.as_bytes());
    }
    fn header(out: &mut Vec<u8>, major: u8, len: usize) {
        if len < 24 {
            out.push(major | len as u8);
        } else if len < 256 {
            out.extend([major | 24, len as u8]);
        } else {
            out.push(major | 25);
            out.extend((len as u16).to_be_bytes());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bad_input_is_refused_and_the_server_keeps_serving() {
    use ciborium_value::Value::{Bytes, Text};
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let mut config = ServerConfig::new(dir.path().to_owned());
    config.max_frame_bytes = FRAME_LIMIT;
    let server = TestServer::start_with(config).await.expect("server");
    let session = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("login");

    let healthy = NativeClient::new("healthy");
    healthy
        .connect(&session.sync_url().await.expect("ticket"))
        .await
        .expect("connect");
    let kept = healthy.create(visit_fixture::visit_for_child(1, "C-N1", "sw-north-1", 300));
    healthy
        .wait_acknowledged(kept, TIMEOUT)
        .await
        .expect("stored");

    let doc_id = DocumentId::from_bytes([5; 16]).to_string();
    let sync = |document: &str, data: Vec<u8>| {
        cbor_map(vec![
            ("type", Text("sync".into())),
            ("senderId", Text("raw-peer".into())),
            ("targetId", Text("server".into())),
            ("documentId", Text(document.into())),
            ("data", Bytes(data)),
        ])
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "malformed cbor",
            vec![0xbf, 0x61, 0x74, 0xff, 0x13],
            "malformed cbor",
        ),
        ("not a map", vec![0x83, 0x01, 0x02, 0x03], "not a cbor map"),
        (
            "unknown message type",
            cbor_map(vec![("type", Text("teleport".into()))]),
            "unknown message type",
        ),
        (
            "sync data automerge rejects",
            sync(&doc_id, vec![0x42, 0x99, 0x01, 0x02]),
            "rejected",
        ),
        (
            "document id not bs58check",
            sync("0OIl-not-base58", vec![]),
            "bs58check",
        ),
        (
            "oversized frame",
            vec![0u8; FRAME_LIMIT * 2],
            "frame refused",
        ),
    ];
    for (name, frame, expected) in cases {
        tracing::info!(case = name, "sending bad input");
        expect_refusal(&session, frame, expected).await;

        // The healthy client is unaffected: it keeps syncing new changes.
        healthy
            .change(kept, |doc| {
                let mut tx = doc.transaction();
                shared::model::append_child_words(&mut tx, 0, &format!(" after {name}."))
                    .expect("edit");
                tx.commit();
            })
            .expect("edit");
        healthy
            .wait_acknowledged(kept, TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("healthy client stalled after {name}: {e:#}"));
        assert!(healthy.errors().is_empty());
    }

    // Everything stored is intact and still served to a new client.
    let reader = NativeClient::new("reader");
    reader
        .connect(&session.sync_url().await.expect("ticket"))
        .await
        .expect("connect");
    let doc = reader
        .find(kept, TIMEOUT)
        .await
        .expect("find")
        .expect("available");
    assert_eq!(
        doc.get_heads(),
        healthy.document(kept).expect("copy").get_heads()
    );
    let health = tests::test_server::health(server.addr)
        .await
        .expect("health");
    assert_eq!(health["status"], "ok");
    server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_frames_and_messages_before_the_handshake_are_refused() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = TestServer::start(dir.path()).await.expect("server");
    let session = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("login");

    let url = session.sync_url().await.expect("ticket");
    let mut peer = RawPeer::connected(&url, "raw").await.expect("connect");
    peer.send_text("hello").await.expect("send");
    let reply = peer.next(TIMEOUT).await.expect("error message");
    assert!(
        matches!(reply, Heard::Message(Message::Error { .. })),
        "{reply:?}"
    );

    let url = session.sync_url().await.expect("ticket");
    let mut peer = RawPeer::connected(&url, "raw").await.expect("connect");
    let early = peer.sync(DocumentId::from_bytes([1; 16]), vec![]);
    peer.send(&early).await.expect("send");
    let reply = peer.next(TIMEOUT).await.expect("error message");
    assert!(
        matches!(&reply, Heard::Message(Message::Error { message }) if message.contains("before the handshake")),
        "{reply:?}"
    );
    server.stop().await.expect("stop");
}
