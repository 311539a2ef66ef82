//! Team manager oversight against the real server: the dashboard moves a child from
//! overdue to met when the worker's visit arrives; the manager reads the visit with the
//! provenance of each section and signs it off (pinning the version); refusals (stale
//! version, no comment on a return, a worker deciding, another team) are clear errors;
//! the worker's amendment with a reason shows as "amended after sign-off" with the
//! difference and the signed version; every step is in the audit trail; the projection
//! equals a rebuild from the documents.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use automerge::Automerge;
use automerge::transaction::CommitOptions;
use serde_json::{Value, json};
use shared::model::{self, CalendarDate, NewVisit, TextField};
use shared::sync::Timestamp;
use tests::council::{self, PASSWORD, Session};
use tests::{NativeClient, TestServer, oversight_fixture};

const TIMEOUT: Duration = Duration::from_secs(15);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn today() -> CalendarDate {
    CalendarDate::from_days_since_epoch((now_ms() / 86_400_000) as i64).expect("today")
}

async fn api(
    session: &Session,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value, String) {
    let (status, _, text) = session.request(method, path, body).await.expect("request");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, json, text)
}

fn child<'a>(dashboard: &'a Value, child_ref: &str) -> &'a Value {
    dashboard["children"]
        .as_array()
        .expect("children")
        .iter()
        .find(|row| row["childRef"] == child_ref)
        .unwrap_or_else(|| panic!("{child_ref} on the dashboard: {dashboard}"))
}

/// A submitted visit to `child_ref` today by `worker`, with an action already overdue.
fn submitted_visit(child_ref: &str, worker: &str) -> Automerge {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    model::create_visit(
        &mut tx,
        &NewVisit {
            visit_id: "visit-oversight".into(),
            child_id: child_ref.into(),
            worker_id: worker.into(),
            visit_date: today(),
            created_at: Timestamp::from_millis(now_ms()),
        },
    )
    .expect("create");
    model::append_text(&mut tx, TextField::Purpose, "Statutory visit").expect("purpose");
    // A visit counts once its kind is recorded too (issue 15).
    model::set_visit_kind(&mut tx, model::VisitKind::Statutory).expect("kind");
    model::set_child_seen(&mut tx, true).expect("seen");
    model::set_seen_alone(&mut tx, true).expect("alone");
    model::append_text(&mut tx, TextField::Observations, "Bedroom warm and tidy.")
        .expect("observations");
    let entry = model::add_voice_entry(&mut tx, "voice-1").expect("voice");
    model::append_child_words(&mut tx, entry, "I like my new school.").expect("words");
    model::add_action(
        &mut tx,
        &model::NewAction {
            action_id: "action-1".into(),
            description: "Ask school about the maths club".into(),
            owner_type: None,
            owner_name: "Carer".into(),
            due_date: today().add_days(-3),
        },
    )
    .expect("action");
    model::submit_visit(&mut tx, Timestamp::from_millis(now_ms())).expect("submit");
    tx.commit_with(CommitOptions::default().with_time((now_ms() / 1000) as i64));
    doc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_signs_off_a_visit_and_then_sees_the_amendment() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = TestServer::start(dir.path()).await.expect("server");
    let manager = Session::login(server.addr, "mgr-north", PASSWORD, None)
        .await
        .expect("manager signs in");
    let worker = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("worker signs in");

    // Before: no visit on record, the placement started in January 2025.
    let (status, dashboard, _) = api(&manager, "GET", "/api/team/dashboard", None).await;
    assert_eq!(status, 200, "{dashboard}");
    assert_eq!(dashboard["team"], "North");
    assert_eq!(child(&dashboard, "C-N1")["status"], "overdue");
    assert_eq!(dashboard["children"].as_array().expect("rows").len(), 4);
    let (status, _, _) = api(&worker, "GET", "/api/team/dashboard", None).await;
    assert_eq!(status, 403, "a social worker has no team dashboard");

    // The worker's visit arrives by sync.
    let client = NativeClient::new("worker-tablet");
    client
        .connect(&worker.sync_url().await.expect("ticket"))
        .await
        .expect("connect");
    let visit = client.create(submitted_visit("C-N1", "sw-north-1"));
    client
        .wait_acknowledged(visit, TIMEOUT)
        .await
        .expect("stored");

    let (_, dashboard, _) = api(&manager, "GET", "/api/team/dashboard", None).await;
    let row = child(&dashboard, "C-N1");
    assert_eq!(row["status"], "met", "{row}");
    assert_eq!(row["lastQualifyingVisit"], today().to_string());
    assert_eq!(row["worker"], "sw-north-1");
    let awaiting = dashboard["awaitingSignOff"].as_array().expect("awaiting");
    assert_eq!(awaiting.len(), 1, "{dashboard}");
    assert_eq!(awaiting[0]["visitDocumentId"], visit.to_string());
    assert_eq!(awaiting[0]["reviewState"], "submitted");
    assert_eq!(awaiting[0]["late"], false);
    let overdue_actions = dashboard["overdueActions"].as_array().expect("actions");
    assert_eq!(overdue_actions.len(), 1);
    assert_eq!(
        overdue_actions[0]["description"],
        "Ask school about the maths club"
    );
    let (_, overdue_only, _) =
        api(&manager, "GET", "/api/team/dashboard?status=overdue", None).await;
    assert!(
        overdue_only["children"]
            .as_array()
            .expect("rows")
            .iter()
            .all(|row| row["status"] == "overdue" && row["childRef"] != "C-N1")
    );
    let (status, _, csv) = api(&manager, "GET", "/api/team/dashboard.csv", None).await;
    assert_eq!(status, 200);
    assert!(csv.starts_with("Case reference,Child,Worker"), "{csv}");
    assert!(csv.contains("C-N1,"), "{csv}");

    // The manager reads the record: each section says who wrote it and when it arrived.
    let review_path = format!("/api/visits/{visit}/review");
    let (status, review, _) = api(&manager, "GET", &review_path, None).await;
    assert_eq!(status, 200, "{review}");
    assert_eq!(review["reviewState"], "submitted");
    let observations = review["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .find(|section| section["field"] == "observations")
        .expect("observations section")
        .clone();
    assert_eq!(observations["value"], "Bedroom warm and tidy.");
    assert_eq!(observations["author"], "sw-north-1");
    assert!(
        observations["receivedAt"].as_i64().is_some(),
        "{observations}"
    );
    assert!(
        observations["deviceTime"].as_i64().is_some(),
        "{observations}"
    );
    let heads = review["heads"].clone();

    // Refusals.
    let oversight_path = format!("/api/visits/{visit}/oversight");
    let (status, body, _) = api(
        &manager,
        "POST",
        &oversight_path,
        Some(&json!({ "decision": "return", "comment": "  ", "heads": heads })),
    )
    .await;
    assert_eq!(status, 400, "a return needs a reason: {body}");
    let stale = json!({ "decision": "signOff", "comment": "", "heads": ["00".repeat(32)] });
    let (status, body, _) = api(&manager, "POST", &oversight_path, Some(&stale)).await;
    assert_eq!(status, 409, "another version was read: {body}");
    let sign_off = json!({ "decision": "signOff", "comment": "Good record; child's words clear.", "heads": heads });
    let (status, _, _) = api(&worker, "POST", &oversight_path, Some(&sign_off)).await;
    assert_eq!(status, 403, "a worker cannot sign off");
    let south = Session::login(server.addr, "mgr-south", PASSWORD, None)
        .await
        .expect("sign in");
    let (status, body, _) = api(&south, "GET", &review_path, None).await;
    assert_eq!(
        (status, body),
        (404, json!({ "error": "no such record" })),
        "another team's manager cannot read it, nor tell it from a missing record"
    );

    // Sign-off.
    let (status, signed, _) = api(&manager, "POST", &oversight_path, Some(&sign_off)).await;
    assert_eq!(status, 200, "{signed}");
    assert_eq!(signed["reviewState"], "signedOff");
    assert_eq!(signed["signedVersion"]["heads"], heads);
    let (status, body, _) = api(&manager, "POST", &oversight_path, Some(&sign_off)).await;
    assert_eq!(status, 422, "signing twice is refused: {body}");
    assert_eq!(body["error"], "this record is already signed off");
    let (_, dashboard, _) = api(&manager, "GET", "/api/team/dashboard", None).await;
    assert!(
        dashboard["awaitingSignOff"]
            .as_array()
            .expect("awaiting")
            .is_empty()
    );

    // The decision reaches the worker's device; the worker amends with a reason.
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let doc = client.document(visit).expect("held");
        if !model::oversight_entries(&doc).expect("entries").is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "sign-off never synced"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    client
        .change(visit, |doc| {
            model::record_amendment(
                doc,
                "The carer told me about the maths club after the visit",
                "sw-north-1",
                "amendment-1",
                Timestamp::from_millis(now_ms()),
            )
            .expect("amendment");
            let mut tx = doc.transaction();
            model::append_text(&mut tx, TextField::Observations, " Maths club on Tuesdays.")
                .expect("edit");
            tx.commit_with(CommitOptions::default().with_time((now_ms() / 1000) as i64));
        })
        .expect("change");
    client
        .wait_acknowledged(visit, TIMEOUT)
        .await
        .expect("stored");

    let (_, review, _) = api(&manager, "GET", &review_path, None).await;
    assert_eq!(review["reviewState"], "amendedAfterSignOff", "{review}");
    let difference = review["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .find(|d| d["field"] == "observations")
        .expect("the observations changed");
    assert_eq!(difference["signed"], "Bedroom warm and tidy.");
    assert_eq!(
        difference["current"],
        "Bedroom warm and tidy. Maths club on Tuesdays."
    );
    let signed_observations = review["signedVersion"]["sections"]
        .as_array()
        .expect("signed sections")
        .iter()
        .find(|s| s["field"] == "observations")
        .expect("signed observations");
    assert_eq!(signed_observations["value"], "Bedroom warm and tidy.");
    let history = review["history"].as_array().expect("history");
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0]["kind"], "signedOff");
    assert_eq!(history[1]["kind"], "amendment");
    assert_eq!(
        history[1]["text"],
        "The carer told me about the maths club after the visit"
    );
    let (_, dashboard, _) = api(&manager, "GET", "/api/team/dashboard", None).await;
    assert_eq!(
        dashboard["awaitingSignOff"][0]["reviewState"],
        "amendedAfterSignOff"
    );
    client.disconnect().await;
    server.stop().await.expect("stop");

    // Every step is in the child's audit trail (what `admin audit export --child` prints).
    let conn = server::directory::open_connection(dir.path()).expect("db");
    let actions: Vec<(String, String, String)> =
        server::directory::audit::child_audit_trail(&conn, "C-N1")
            .expect("trail")
            .expect("the child exists")
            .into_iter()
            .map(|row| (row.action, row.outcome, row.actor.unwrap_or_default()))
            .collect();
    for (action, outcome, actor) in [
        ("create", "allowed", "sw-north-1"),
        ("dashboard", "allowed", "mgr-north"),
        ("review-read", "allowed", "mgr-north"),
        ("sign-off", "denied", "sw-north-1"),
        ("review-read", "denied", "mgr-south"),
        ("sign-off", "allowed", "mgr-north"),
        ("amend", "allowed", "sw-north-1"),
    ] {
        assert!(
            actions
                .iter()
                .any(|(a, o, who)| a == action && o == outcome && who == actor),
            "{action} {outcome} by {actor} audited: {actions:?}"
        );
    }

    // The live projection equals one rebuilt from the documents alone.
    drop(conn);
    let mut conn = server::directory::open_connection(dir.path()).expect("directory");
    let policy =
        shared::schedule::SchedulePolicy::statutory(shared::schedule::Jurisdiction::England);
    assert_eq!(
        server::projection::check(&mut conn, &policy).expect("check"),
        None
    );
}

/// Issue 15: after a return, each section still names who wrote it (the worker, with the
/// device time), not the manager who returned it, also for a record stored by an
/// administrator (as the demo council's are), whose changes the server did not receive
/// from a device: the return's batch must not be taken for theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_never_changes_who_wrote_a_section() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    // A submitted visit, committed as a worker's tablet commits it, stored like the demo's.
    let mut doc = submitted_visit("C-N1", "sw-north-1");
    let mut tx = doc.transaction();
    model::append_text(&mut tx, TextField::Analysis, "Settled.").expect("analysis");
    tx.commit_with(
        CommitOptions::default()
            .with_message("doorstep:author=sw-north-1;device=tablet-1")
            .with_time((now_ms() / 1000) as i64),
    );
    let visit = shared::DocumentId::from_bytes(*b"issue15-return!!");
    oversight_fixture::store_visit(dir.path(), "C-N1", visit, &doc).expect("store");
    let server = TestServer::start(dir.path()).await.expect("server");
    let manager = Session::login(server.addr, "mgr-north", PASSWORD, None)
        .await
        .expect("manager signs in");
    let review_path = format!("/api/visits/{visit}/review");
    let (status, before, _) = api(&manager, "GET", &review_path, None).await;
    assert_eq!(status, 200, "{before}");
    let returned = json!({ "decision": "return", "comment": "Add the school's view", "heads": before["heads"] });
    let oversight_path = format!("/api/visits/{visit}/oversight");
    let (status, after, _) = api(&manager, "POST", &oversight_path, Some(&returned)).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["reviewState"], "returned");
    let sections = |review: &Value| -> Vec<(String, Value, Value)> {
        review["sections"]
            .as_array()
            .expect("sections")
            .iter()
            .filter(|s| s["field"] != "status")
            .map(|s| {
                (
                    s["field"].as_str().unwrap_or_default().to_owned(),
                    s["author"].clone(),
                    s["deviceTime"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(sections(&after), sections(&before), "{after}");
    let analysis = sections(&after)
        .into_iter()
        .find(|(field, _, _)| field == "analysis")
        .expect("analysis");
    assert_eq!(analysis.1, "sw-north-1", "{after}");
    assert!(analysis.2.as_i64().is_some_and(|t| t > 0), "{after}");
    server.stop().await.expect("stop");
}

/// Issue 15: a draft started in error is discarded with a reason: kept, audited (with the
/// reason, in the child's audit export) and never counted on the dashboard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discarded_draft_is_kept_audited_and_never_counted() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = TestServer::start(dir.path()).await.expect("server");
    let manager = Session::login(server.addr, "mgr-north", PASSWORD, None)
        .await
        .expect("manager signs in");
    let worker = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("worker signs in");
    let client = NativeClient::new("worker-tablet");
    client
        .connect(&worker.sync_url().await.expect("ticket"))
        .await
        .expect("connect");
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    model::create_visit(
        &mut tx,
        &NewVisit {
            visit_id: "visit-in-error".into(),
            child_id: "C-N1".into(),
            worker_id: "sw-north-1".into(),
            visit_date: today(),
            created_at: Timestamp::from_millis(now_ms()),
        },
    )
    .expect("create");
    model::set_visit_kind(&mut tx, model::VisitKind::Statutory).expect("kind");
    model::set_child_seen(&mut tx, true).expect("seen");
    tx.commit();
    let visit = client.create(doc);
    client
        .wait_acknowledged(visit, TIMEOUT)
        .await
        .expect("stored");
    let (_, dashboard, _) = api(&manager, "GET", "/api/team/dashboard", None).await;
    assert_eq!(
        child(&dashboard, "C-N1")["status"],
        "met",
        "a recorded visit counts"
    );
    client
        .change(visit, |doc| {
            let mut tx = doc.transaction();
            model::discard_visit(
                &mut tx,
                "Started for the wrong child",
                "sw-north-1",
                Timestamp::from_millis(now_ms()),
            )
            .expect("discard");
            tx.commit();
        })
        .expect("change");
    client
        .wait_acknowledged(visit, TIMEOUT)
        .await
        .expect("stored");
    let (_, dashboard, _) = api(&manager, "GET", "/api/team/dashboard", None).await;
    assert_eq!(
        child(&dashboard, "C-N1")["status"],
        "overdue",
        "a discarded draft never counts: {dashboard}"
    );
    assert!(
        dashboard["writeUpsOutstanding"]
            .as_array()
            .expect("write-ups")
            .is_empty(),
        "nor is its write-up outstanding"
    );
    let export = tests::test_server::run_admin(
        std::path::Path::new(env!("CARGO_BIN_EXE_server-under-test")),
        dir.path(),
        &["audit", "export", "--child", "C-N1", "--format", "json"],
    );
    assert!(
        export.contains("\"discard\"") && export.contains("Started for the wrong child"),
        "{export}"
    );
    server.stop().await.expect("stop");
}
