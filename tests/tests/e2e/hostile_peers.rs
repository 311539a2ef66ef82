//! Hostile peers against the real server binary: poisoned sync messages, forged fields
//! through the official JS client, probes for records, floods of ids, silent and
//! half-open sockets, oversized frames. Each attack gets its answer; a concurrent honest
//! device keeps syncing; nothing acknowledged is lost; memory stays bounded.

use std::time::{Duration, Instant};

use crate::server_binary;
use automerge::{Automerge, ReadDoc};
use shared::DocumentId;
use shared::protocol::Message;
use tests::council::{self, PASSWORD, Session};
use tests::raw_peer::{Heard, RawPeer, frames};
use tests::{NativeClient, ServerProcess, js_client, visit_fixture};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TIMEOUT: Duration = Duration::from_secs(30);

/// The council, a server process and sw-north-1's tablet holding one acknowledged visit.
struct Scene {
    dir: tempfile::TempDir,
    server: ServerProcess,
    worker: Session,
    tablet: NativeClient,
    visit: DocumentId,
}

async fn scene(extra_args: &[&str]) -> Scene {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = ServerProcess::start(server_binary(), dir.path(), extra_args).expect("server");
    let worker = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("login");
    let tablet = worker.device("honest-tablet").await.expect("tablet");
    let visit = tablet.create(visit_fixture::visit_for_child(1, "C-N1", "sw-north-1", 300));
    tablet
        .wait_acknowledged(visit, TIMEOUT)
        .await
        .expect("stored");
    Scene {
        dir,
        server,
        worker,
        tablet,
        visit,
    }
}

impl Scene {
    /// The honest tablet types a little more and the server acknowledges it.
    async fn honest_edit_goes_through(&self, note: &str) {
        self.tablet
            .change(self.visit, |doc| {
                let mut tx = doc.transaction();
                shared::model::append_child_words(&mut tx, 0, &format!(" {note}.")).expect("words");
                tx.commit();
            })
            .expect("edit");
        self.tablet
            .wait_acknowledged(self.visit, TIMEOUT)
            .await
            .unwrap_or_else(|err| panic!("the honest tablet stalled after {note}: {err:#}"));
    }

    async fn raw_peer(&self, session: &Session) -> RawPeer {
        RawPeer::joined(&session.sync_url().await.expect("ticket"), "raw-peer")
            .await
            .expect("raw peer")
    }

    fn denials_mentioning(&self, needle: &str) -> i64 {
        let conn =
            rusqlite::Connection::open(self.dir.path().join("doorstep.sqlite3")).expect("open");
        conn.query_row(
            "SELECT count(*) FROM audit_log WHERE outcome = 'denied' AND detail LIKE ?1",
            [format!("%{needle}%")],
            |row| row.get(0),
        )
        .expect("audit query")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poisoned_sync_messages_close_only_their_sender_and_memory_stays_bounded() {
    let scene = scene(&[]).await;
    let (idle_kib, _) = scene.server.memory_kib().expect("memory");
    let attacker = Session::login(scene.server.addr, "sw-south-1", PASSWORD, None)
        .await
        .expect("login");
    let target = DocumentId::from_bytes([0x5a; 16]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "a bloom filter of 0 bits per entry",
            frames::zero_bit_bloom(),
            "bloom filter",
        ),
        (
            "a bloom filter of 4 billion probes",
            frames::billion_probe_bloom(),
            "bloom filter",
        ),
        (
            "1 GiB of deflated zeros",
            frames::deflate_bomb(1 << 30),
            "inflated bytes",
        ),
        ("a column of a trillion rows", frames::row_bomb(), "rows"),
        (
            "garbage change bytes",
            frames::garbage_change(),
            "not an automerge chunk",
        ),
    ];
    for (name, data, expected) in cases {
        tracing::info!(
            case = name,
            bytes = data.len(),
            "sending a poisoned sync message"
        );
        let mut peer = scene.raw_peer(&attacker).await;
        let message = peer.sync(target, data);
        peer.send(&message).await.expect("send");
        peer.expect_refusal(expected)
            .await
            .unwrap_or_else(|err| panic!("{name}: {err:#}"));
        scene.honest_edit_goes_through(name).await;
    }
    let health = tests::test_server::health(scene.server.addr)
        .await
        .expect("health");
    assert_eq!(health["status"], "ok");
    let (now_kib, peak_kib) = scene.server.memory_kib().expect("memory");
    tracing::info!(
        idle_kib,
        now_kib,
        peak_kib,
        "RSS across the poisoned messages"
    );
    // The 1 GiB bomb may inflate only up to --max-inflated-bytes (16 MiB) before it is
    // refused; the documented bound for any one attack is idle + 64 MiB.
    assert!(
        peak_kib < idle_kib + 64 * 1024,
        "peak RSS {peak_kib} KiB vs idle {idle_kib} KiB"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_client_cannot_move_a_visit_or_forge_a_sign_off() {
    let scene = scene(&[]).await;
    let url = format!("ws://{}/sync", scene.server.addr);
    let id = scene.visit.to_string();
    let refused = [
        ("childId", "\"C-S1\""),
        ("workerId", "\"sw-south-1\""),
        ("createdAt", "0"),
        (
            "oversight",
            r#"[{"decision":"signedOff","managerId":"mgr-north"}]"#,
        ),
    ];
    for (field, value) in refused {
        let outcome = js_client::client(
            &scene.worker.token,
            &[
                "set",
                "--url",
                &url,
                "--id",
                &id,
                "--field",
                field,
                "--json",
                value,
                "--timeout-ms",
                "4000",
            ],
        )
        .await;
        assert!(
            outcome.is_err(),
            "{field} must not be accepted: {outcome:?}"
        );
        assert!(
            scene.denials_mentioning(field) >= 1,
            "{field} refusal audited"
        );
        scene
            .honest_edit_goes_through(&format!("after {field}"))
            .await;
    }
    // What the server holds still places the visit with its child and author, unsigned.
    let reader = NativeClient::new("reader");
    reader
        .connect(&scene.worker.sync_url().await.expect("ticket"))
        .await
        .expect("connect");
    let doc: Automerge = reader
        .find(scene.visit, TIMEOUT)
        .await
        .expect("find")
        .expect("available");
    assert_eq!(shared::model::visit_child_id(&doc).as_deref(), Some("C-N1"));
    assert_eq!(
        shared::model::visit_worker_id(&doc).as_deref(),
        Some("sw-north-1")
    );
    assert!(
        doc.get(automerge::ROOT, "oversight")
            .expect("read")
            .is_none_or(|(_, list)| doc.length(&list) == 0)
    );
    // The other team's manager never sees it.
    let south = Session::login(scene.server.addr, "mgr-south", PASSWORD, None)
        .await
        .expect("manager");
    let (status, _, body) = south
        .request("GET", "/api/team/dashboard", None)
        .await
        .expect("dashboard");
    assert_eq!(status, 200);
    assert!(!body.contains("C-N1"), "{body}");
    // A worker's own fields are still theirs to write.
    js_client::client(
        &scene.worker.token,
        &[
            "set",
            "--url",
            &url,
            "--id",
            &id,
            "--field",
            "status",
            "--json",
            "\"submitted\"",
        ],
    )
    .await
    .expect("the worker may submit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probing_for_records_tells_nothing_and_keeps_nothing() {
    let scene = scene(&["--max-messages-per-sec", "100000"]).await;
    let prober = Session::login(scene.server.addr, "sw-south-1", PASSWORD, None)
        .await
        .expect("login");
    let mut peer = scene.raw_peer(&prober).await;
    // What a device holding some other visit would send first.
    let probe = automerge::sync::SyncDoc::generate_sync_message(
        &visit_fixture::visit_for_child(9, "C-S1", "sw-south-1", 10),
        &mut automerge::sync::State::new(),
    )
    .expect("message")
    .encode();
    let missing = DocumentId::from_bytes([0x77; 16]);
    let mut answers = Vec::new();
    for id in [scene.visit, missing] {
        peer.send(&peer.sync(id, probe.clone()))
            .await
            .expect("send");
        let sync = match peer.next(TIMEOUT).await.expect("reply") {
            Heard::Message(Message::Sync { data, .. }) => data,
            other => panic!("expected a sync reply, heard {other:?}"),
        };
        peer.send(&peer.request(id, probe.clone()))
            .await
            .expect("send");
        let request = peer.next(TIMEOUT).await.expect("reply");
        assert!(
            matches!(request, Heard::Message(Message::DocUnavailable { .. })),
            "{request:?}"
        );
        answers.push(sync);
    }
    assert_eq!(
        answers[0], answers[1],
        "a real record and a missing one answer alike"
    );
    assert!(
        scene.denials_mentioning("caseload") >= 1,
        "the probe is audited"
    );

    // 50,000 random ids on one socket: each answered, none kept in memory.
    let (before_kib, _) = scene.server.memory_kib().expect("memory");
    flood(&mut peer, 50_000, 0xab, &probe).await;
    let health = tests::test_server::health(scene.server.addr)
        .await
        .expect("health");
    assert!(
        health["loadedDocuments"].as_u64().expect("count") <= 2,
        "nothing kept for the prober: {health}"
    );
    let (after_kib, peak_kib) = scene.server.memory_kib().expect("memory");
    tracing::info!(
        before_kib,
        after_kib,
        peak_kib,
        "RSS around a flood of 50,000 ids"
    );
    assert!(
        after_kib < before_kib + 32 * 1024,
        "RSS {before_kib} -> {after_kib} KiB"
    );
    scene.honest_edit_goes_through("after the flood").await;
}

/// Sends `count` syncs for distinct unknown ids (in batches, reading each batch's replies
/// so neither side's buffers fill) and checks each is answered with a `sync`.
async fn flood(peer: &mut RawPeer, count: u32, tag: u8, probe: &[u8]) {
    for batch in (0..count).collect::<Vec<_>>().chunks(500) {
        for n in batch {
            let mut bytes = [tag; 16];
            bytes[..4].copy_from_slice(&n.to_le_bytes());
            peer.send(&peer.sync(DocumentId::from_bytes(bytes), probe.to_vec()))
                .await
                .expect("send");
        }
        for n in batch {
            match peer.next(TIMEOUT).await.expect("reply") {
                Heard::Message(Message::Sync { .. }) => {}
                other => panic!("reply {n}: {other:?}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_sockets_and_half_sent_upgrades_are_closed_after_the_deadline() {
    let scene = scene(&["--handshake-timeout-secs", "2"]).await;
    let mut silent = Vec::new();
    for _ in 0..100 {
        let url = scene.worker.sync_url().await.expect("ticket");
        silent.push(RawPeer::connected(&url, "silent").await.expect("upgrade"));
    }
    let mut half_sent = Vec::new();
    for _ in 0..100 {
        let mut tcp = tokio::net::TcpStream::connect(scene.server.addr)
            .await
            .expect("tcp");
        tcp.write_all(b"GET /sync HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: web")
            .await
            .expect("write");
        half_sent.push(tcp);
    }
    let started = Instant::now();
    for peer in &mut silent {
        match peer.next(Duration::from_secs(15)).await.expect("heard") {
            Heard::Message(Message::Error { message }) => {
                assert!(message.contains("join"), "{message}")
            }
            Heard::Closed(_) => {}
            Heard::Silence => panic!("a silent socket was left open"),
            other => panic!("{other:?}"),
        }
    }
    for tcp in &mut half_sent {
        let mut buf = [0u8; 512];
        let read = tokio::time::timeout(Duration::from_secs(15), tcp.read(&mut buf))
            .await
            .expect("a half-sent upgrade was left open");
        // Closed (0 bytes or a reset), or answered with a timeout status then closed.
        if let Ok(n) = read
            && n > 0
        {
            assert!(
                String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408"),
                "{n} bytes"
            );
        }
    }
    assert!(started.elapsed() < Duration::from_secs(20));
    scene
        .honest_edit_goes_through("after the silent sockets")
        .await;
    let health = tests::test_server::health(scene.server.addr)
        .await
        .expect("health");
    assert_eq!(health["connections"], 1, "{health}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_peer_is_read_more_slowly_and_still_answered() {
    let scene = scene(&["--max-messages-per-sec", "400"]).await;
    let mut peer = scene.raw_peer(&scene.worker).await;
    let probe = automerge::sync::SyncDoc::generate_sync_message(
        &Automerge::new(),
        &mut automerge::sync::State::new(),
    )
    .expect("message")
    .encode();
    // A burst of ten seconds' worth passes at once; 2,000 more come at 400 a second.
    let started = Instant::now();
    flood(&mut peer, 4_000 + 2_000, 0xcd, &probe).await;
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "paced: {:?}",
        started.elapsed()
    );
    scene.honest_edit_goes_through("beside the fast peer").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_frame_is_answered_with_an_error_before_the_close() {
    let scene = scene(&[]).await;
    let mut peer = scene.raw_peer(&scene.worker).await;
    // The default limit is 8 MiB; a device sends 20 MiB.
    let _ = peer.send_bytes(vec![0u8; 20 * 1024 * 1024]).await;
    peer.expect_refusal("frame")
        .await
        .expect("an error naming the frame, then the close");
    scene
        .honest_edit_goes_through("after the oversized frame")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_identical_denials_are_audited_once_with_a_count() {
    let scene = scene(&[]).await;
    let prober = Session::login(scene.server.addr, "sw-south-1", PASSWORD, None)
        .await
        .expect("login");
    let mut peer = scene.raw_peer(&prober).await;
    let request = peer.request(
        scene.visit,
        automerge::sync::Message::decode(&[0x42, 0, 0, 0, 0])
            .map(|m| m.encode())
            .expect("empty message"),
    );
    for _ in 0..1_000 {
        peer.send(&request).await.expect("send");
    }
    for n in 0..1_000 {
        let heard = peer.next(TIMEOUT).await.expect("reply");
        assert!(
            matches!(heard, Heard::Message(Message::DocUnavailable { .. })),
            "reply {n}: {heard:?}"
        );
    }
    // Repeats are written as one counted row at the next tick (every second).
    let conn = rusqlite::Connection::open(scene.dir.path().join("doorstep.sqlite3")).expect("open");
    let rows = || -> Vec<String> {
        let mut stmt = conn
            .prepare(
                "SELECT detail FROM audit_log WHERE actor = 'sw-south-1' AND outcome = 'denied'
                 AND document_id = ?1 ORDER BY audit_id",
            )
            .expect("query");
        stmt.query_map([scene.visit.as_bytes().as_slice()], |row| {
            row.get::<_, String>(0)
        })
        .expect("rows")
        .map(|row| row.expect("row"))
        .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while rows().len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let rows = rows();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[1].contains("repeated 999 more times"), "{rows:?}");
}
