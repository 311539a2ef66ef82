//! The social worker's PWA in real headless Chromium (Debian's, driven by playwright-core)
//! against the real server serving the built web app: offline recording, reload and
//! restart offline, encryption at rest, installability, accessibility, two devices
//! editing the same visit offline, a revoked device; the team manager's dashboard (also
//! offline), sign-off, amendment after sign-off and the handover summary. What reaches the
//! server is checked by a second client (the team manager's native client) and the audit
//! export, not by the browser.

use std::time::Duration;

use crate::server_binary;
use automerge::Automerge;
use server::ServerConfig;
use shared::DocumentId;
use shared::model::{
    self, ActionOwnerType, BedroomSeen, CalendarDate, NewAction, NewVisit, OversightDecision,
    ReviewState, TextField, Visit, VisitStatus, VoiceTopic,
};
use shared::sync::Timestamp;
use tests::council::{self, PASSWORD, Session};
use tests::test_server::run_admin;
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
    Visit::read(&document_on_server(server, id).await).expect("a readable visit")
}

/// The visit document as the server holds it, fetched by the team manager.
async fn document_on_server(server: &TestServer, id: DocumentId) -> Automerge {
    let manager = Session::login(server.addr, "mgr-north", PASSWORD, None)
        .await
        .expect("manager signs in");
    let client = NativeClient::new("manager");
    client
        .connect(&manager.sync_url().await.expect("ticket"))
        .await
        .expect("connect");
    client
        .find(id, Duration::from_secs(20))
        .await
        .expect("find")
        .expect("the server has the visit")
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
    assert_eq!(
        visit.voice[0].scale_question,
        "How happy are you living here?"
    );
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_recorded_offline_moves_the_child_to_met_then_is_returned_signed_off_amended_and_audited()
 {
    let (dir, server) = start().await;
    let result = scenario(&server, "oversight", &[("DOORSTEP_MANAGER", "mgr-north")]).await;
    let id = visit_id(&result);

    // The server's copy: returned once, then signed off twice (before and after the
    // amendment), one amendment with the worker's reason, and the amended text.
    let doc = document_on_server(&server, id).await;
    let review = model::review(&doc).expect("review");
    assert_eq!(review.state, ReviewState::SignedOff);
    let decisions: Vec<OversightDecision> = model::oversight_entries(&doc)
        .expect("oversight")
        .iter()
        .inspect(|d| assert_eq!(d.manager_id, "mgr-north"))
        .map(|d| d.decision)
        .collect();
    assert_eq!(
        decisions,
        [
            OversightDecision::Returned,
            OversightDecision::SignedOff,
            OversightDecision::SignedOff
        ]
    );
    let amendments = model::amendments(&doc).expect("amendments");
    assert_eq!(amendments.len(), 1);
    assert_eq!(amendments[0].worker_id, "sw-north-1");
    assert_eq!(
        amendments[0].reason,
        result["reason"].as_str().expect("reason")
    );
    let visit = Visit::read(&doc).expect("visit");
    assert!(
        visit.observations.contains("got for his birthday"),
        "{}",
        visit.observations
    );
    assert!(
        visit.submitted_at.is_some(),
        "submitting records submittedAt"
    );

    // The per-child audit export holds every step, in order.
    let export = run_admin(
        server_binary(),
        dir.path(),
        &["audit", "export", "--child", "C-N1", "--format", "json"],
    );
    let rows: Vec<serde_json::Value> = serde_json::from_str(&export).expect("export json");
    let document = id.to_string();
    let position = |actor: &str, action: &str, of_visit: bool| {
        rows.iter()
            .filter(|r| {
                r["actor"] == actor
                    && r["action"] == action
                    && r["outcome"] == "allowed"
                    && (!of_visit || r["document_id"] == document.as_str())
            })
            .map(|r| r["audit_id"].as_i64().expect("audit id"))
            .collect::<Vec<_>>()
    };
    let created = position("sw-north-1", "create", true);
    let writes = position("sw-north-1", "write", true);
    let dashboard = position("mgr-north", "dashboard", false);
    let reviews = position("mgr-north", "review-read", true);
    let returns = position("mgr-north", "return", true);
    let sign_offs = position("mgr-north", "sign-off", true);
    assert_eq!(created.len(), 1, "the visit's creation: {export}");
    assert!(!writes.is_empty(), "the visit's writes: {export}");
    assert!(
        !dashboard.is_empty(),
        "the manager's dashboard reads: {export}"
    );
    assert!(reviews.len() >= 4, "the reviews read: {export}");
    assert_eq!(returns.len(), 1, "the return: {export}");
    assert_eq!(sign_offs.len(), 2, "the sign-offs: {export}");
    let first_sign_off = sign_offs[0];
    assert!(
        reviews[0] < first_sign_off,
        "the record was read before it was signed off"
    );
    let amendment_write = writes
        .iter()
        .copied()
        .find(|w| *w > first_sign_off)
        .expect("the amendment's write is audited after the sign-off");
    assert!(
        reviews.iter().any(|r| *r > amendment_write),
        "the second review is audited after the amendment"
    );
    server.stop().await.expect("stop");
}

/// A submitted visit to `C-N1` by `sw-north-1` with the child's `words` and an action
/// whose due date has passed.
fn previous_workers_visit(words: &str) -> Automerge {
    let date = |text| CalendarDate::parse(text).expect("date");
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    model::create_visit(
        &mut tx,
        &NewVisit {
            visit_id: "visit-before-handover".into(),
            child_id: "C-N1".into(),
            worker_id: "sw-north-1".into(),
            visit_date: date("2026-01-05"),
            created_at: Timestamp::from_millis(1_767_600_000_000),
        },
    )
    .expect("create");
    model::append_text(
        &mut tx,
        TextField::Purpose,
        "First visit in the new placement",
    )
    .expect("purpose");
    model::set_visit_kind(&mut tx, model::VisitKind::Statutory).expect("kind");
    model::set_child_seen(&mut tx, true).expect("seen");
    model::set_seen_alone(&mut tx, true).expect("alone");
    let entry = model::add_voice_entry(&mut tx, "voice-1").expect("voice");
    model::append_child_words(&mut tx, entry, words).expect("words");
    model::add_action(
        &mut tx,
        &NewAction {
            action_id: "action-1".into(),
            description: "Find a football club near the new placement".into(),
            owner_type: Some(ActionOwnerType::Carer),
            owner_name: "Test Carer".into(),
            due_date: Some(date("2026-02-01")),
        },
    )
    .expect("action");
    model::submit_visit(&mut tx, Timestamp::from_millis(1_767_610_000_000)).expect("submit");
    tx.commit();
    doc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newly_allocated_worker_sees_the_previous_workers_visits_and_the_childs_words() {
    let (dir, server) = start().await;
    let words = "I want to keep going to football on Saturdays";
    let previous = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("previous worker signs in");
    let client = NativeClient::new("previous-worker");
    client
        .connect(&previous.sync_url().await.expect("ticket"))
        .await
        .expect("connect");
    let id = client.create(previous_workers_visit(words));
    client
        .wait_acknowledged(id, Duration::from_secs(20))
        .await
        .expect("the server stored the previous worker's visit");
    client.disconnect().await;

    // The child moves to another worker.
    run_admin(
        server_binary(),
        dir.path(),
        &["deallocate", "C-N1", "sw-north-1"],
    );
    run_admin(
        server_binary(),
        dir.path(),
        &["allocate", "C-N1", "sw-north-2"],
    );
    scenario(
        &server,
        "handover",
        &[
            ("DOORSTEP_USER", "sw-north-2"),
            ("DOORSTEP_WORDS", words),
            ("DOORSTEP_PREVIOUS", "sw-north-1"),
        ],
    )
    .await;
    server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_team_dashboard_shows_a_break_glass_at_once() {
    let (dir, server) = start().await;
    {
        let mut conn = server::directory::open_connection(dir.path()).expect("db");
        server::directory::restricted::restrict(
            &mut conn,
            "C-N2",
            "court order",
            "test",
            council::now_ms(),
        )
        .expect("restrict");
    }
    let reason = "Out of hours: the carer rang about a missing child";
    let colleague = Session::login(server.addr, "sw-north-2", PASSWORD, None)
        .await
        .expect("colleague");
    let (status, _, body) = colleague
        .request(
            "POST",
            "/api/children/C-N2/break-glass",
            Some(&serde_json::json!({ "reason": reason })),
        )
        .await
        .expect("break-glass");
    assert_eq!(status, 201, "{body}");
    scenario(
        &server,
        "break-glass-dashboard",
        &[
            ("DOORSTEP_MANAGER", "mgr-north"),
            ("DOORSTEP_BREAK_GLASS_CHILD", "C-N2"),
            ("DOORSTEP_BREAK_GLASS_REASON", reason),
        ],
    )
    .await;
    server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_team_dashboard_opens_offline_from_its_last_synced_state() {
    let (_dir, server) = start().await;
    scenario(
        &server,
        "dashboard-offline",
        &[("DOORSTEP_MANAGER", "mgr-north")],
    )
    .await;
    server.stop().await.expect("stop");
}
