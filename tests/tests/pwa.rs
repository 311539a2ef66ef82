//! The social worker's PWA in real headless Chromium (Debian's, driven by playwright-core)
//! against the real server serving the built web app: offline recording, reload and
//! restart offline, encryption at rest, installability, accessibility, and two devices
//! editing the same visit offline. What reaches the server is checked by a second client
//! (the team manager's native client), not by the browser.

use std::time::Duration;

use server::ServerConfig;
use shared::DocumentId;
use shared::model::{BedroomSeen, Visit, VisitStatus, VoiceTopic};
use tests::council::{self, PASSWORD, Session};
use tests::{NativeClient, TestServer, js_client};

async fn start() -> (tempfile::TempDir, TestServer) {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let mut config = ServerConfig::new(dir.path().to_owned());
    config.web_dir = Some(js_client::web_dir().expect("web app built"));
    let server = TestServer::start_with(config).await.expect("server");
    (dir, server)
}

/// Runs a `pwa.mjs` scenario as `sw-north-1` recording visits for `C-N1`, with `extra` env.
async fn scenario(server: &TestServer, name: &str, extra: &[(&str, &str)]) -> serde_json::Value {
    let profiles = tempfile::tempdir().expect("profiles");
    let url = format!("http://{}", server.addr);
    let mut env = vec![
        ("DOORSTEP_URL", url.as_str()),
        ("DOORSTEP_USER", "sw-north-1"),
        ("DOORSTEP_PASSWORD", PASSWORD),
        ("DOORSTEP_CHILD", "C-N1"),
    ];
    env.extend_from_slice(extra);
    let result = js_client::pwa(name, profiles.path(), &env)
        .await
        .unwrap_or_else(|err| panic!("the {name} scenario fails in Chromium: {err:#}"));
    tracing::info!(%result, name, "pwa scenario");
    result
}

/// The id of the visit a scenario recorded.
fn visit_id(result: &serde_json::Value) -> DocumentId {
    result["visitId"]
        .as_str()
        .expect("id")
        .parse()
        .expect("a document id")
}

/// The visit as the server holds it, fetched by the team manager.
async fn visit_on_server(server: &TestServer, id: DocumentId) -> Visit {
    let manager = Session::login(server.addr, "mgr-north", PASSWORD, None)
        .await
        .expect("manager signs in");
    let client = NativeClient::new("manager");
    client
        .connect(&manager.sync_url().await.expect("ticket"))
        .await
        .expect("connect");
    let doc = client
        .find(id, Duration::from_secs(20))
        .await
        .expect("find")
        .expect("the server has the visit");
    Visit::read(&doc).expect("a readable visit")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_recorded_offline_survives_reload_and_restart_and_reaches_the_server_intact() {
    let (dir, server) = start().await;
    let result = scenario(&server, "offline-visit", &[]).await;

    let id = visit_id(&result);
    let visit = visit_on_server(&server, id).await;
    assert_eq!(visit.child_id, "C-N1");
    assert_eq!(visit.worker_id, "sw-north-1");
    assert_eq!(visit.status, Some(VisitStatus::Submitted));
    assert_eq!(visit.purpose, "Six-weekly statutory visit");
    assert_eq!(visit.persons_present.len(), 1);
    assert_eq!(visit.persons_present[0].name, "Sam Carer");
    assert_eq!(visit.child_seen, Some(true));
    assert_eq!(visit.seen_alone, Some(true));
    assert_eq!(visit.bedroom_seen, Some(BedroomSeen::Yes));
    assert_eq!(
        visit.observations,
        "Relaxed with the carers; showed me the new bike."
    );
    assert_eq!(visit.voice.len(), 1);
    assert_eq!(
        visit.voice[0].words,
        result["words"].as_str().expect("words")
    );
    assert_eq!(
        visit.voice[0].paraphrase,
        "Happy at home, wants to keep the bike"
    );
    assert_eq!(visit.voice[0].topics, vec![VoiceTopic::Home]);
    assert_eq!(visit.voice[0].scale, Some(9));
    assert_eq!(visit.voice[0].read_back, Some(true));
    assert_eq!(visit.analysis, "Placement is stable and meeting needs.");
    assert_eq!(visit.actions.len(), 1);
    assert_eq!(visit.actions[0].owner_name, "Sam Carer");
    assert_eq!(visit.actions[0].due_date.as_deref(), Some("2027-01-15"));
    assert_eq!(visit.welfare_safeguarded, Some(true));

    // The server audited the browser's sign-in and the new record.
    let conn = rusqlite::Connection::open(dir.path().join("doorstep.sqlite3")).expect("db");
    let creates: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit_log WHERE actor = 'sw-north-1' AND action IN ('create', 'write')
             AND outcome = 'allowed' AND document_id = ?1",
            [id.as_bytes().to_vec()],
            |row| row.get(0),
        )
        .expect("audit query");
    assert!(creates >= 1, "the visit's creation is in the audit log");
    server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_edit_a_visit_offline_keep_both_texts_and_a_person_resolves_the_conflict() {
    let (_dir, server) = start().await;
    let result = scenario(&server, "conflict", &[]).await;

    let id = visit_id(&result);
    let visit = visit_on_server(&server, id).await;
    let words = &visit.voice[0].words;
    assert!(words.starts_with("I want to stay."), "{words}");
    assert!(
        words.contains("Near my school.") && words.contains("With my dog Biscuit."),
        "{words}"
    );
    assert_eq!(
        visit.seen_alone,
        Some(false),
        "the resolved answer reached the server"
    );
    server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_wipes_its_records_on_its_next_connection() {
    let (dir, server) = start().await;
    let data_dir = dir.path().to_string_lossy().into_owned();
    scenario(
        &server,
        "revoked",
        &[
            ("DOORSTEP_ADMIN", env!("CARGO_BIN_EXE_server-under-test")),
            ("DOORSTEP_DATA_DIR", &data_dir),
        ],
    )
    .await;
    server.stop().await.expect("stop");
}
