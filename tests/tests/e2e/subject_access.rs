//! Subject access (issue 13 part 2, D10) against the real server: a child with a year
//! of visits, returns, sign-offs and an amendment; a records officer redacts a passage
//! and exports the record as JSON and HTML, printed to PDF by headless Chromium and read
//! back with `pdftotext`. The export is chronological and complete (every version), the
//! redaction applies to the export only, every redaction and export is audited, the
//! records officer sees nothing else and a worker cannot export; a worker prints a visit.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use automerge::Automerge;
use automerge::transaction::CommitOptions;
use serde_json::{Value, json};
use shared::DocumentId;
use shared::model::{self, CalendarDate, NewVisit, TextField};
use shared::sync::Timestamp;
use tests::council::{self, PASSWORD, Session};
use tests::{TestServer, oversight_fixture};

const TIMEOUT: Duration = Duration::from_secs(20);
const THIRD_PARTY: &str = "my uncle Dave Smith at 4 Elm Road";

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

async fn api(session: &Session, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
    let (status, _, text) = session.request(method, path, body).await.expect("request");
    (status, text)
}

fn visit(n: usize, date: CalendarDate) -> Automerge {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    model::create_visit(
        &mut tx,
        &NewVisit {
            visit_id: format!("visit-{n}"),
            child_id: "C-N1".into(),
            worker_id: "sw-north-1".into(),
            visit_date: date,
            created_at: Timestamp::from_millis(now_ms()),
        },
    )
    .expect("create");
    model::set_visit_kind(&mut tx, model::VisitKind::Statutory).expect("kind");
    model::set_child_seen(&mut tx, true).expect("seen");
    model::append_text(&mut tx, TextField::Purpose, &format!("Visit number {n}")).expect("purpose");
    let entry = model::add_voice_entry(&mut tx, "voice-1").expect("voice");
    let words = if n == 3 {
        format!("Words of visit {n}: I stayed with {THIRD_PARTY} at half term.")
    } else {
        format!("Words of visit {n}: school is fine.")
    };
    model::append_child_words(&mut tx, entry, &words).expect("words");
    model::submit_visit(&mut tx, Timestamp::from_millis(now_ms())).expect("submit");
    tx.commit_with(CommitOptions::default().with_time((now_ms() / 1000) as i64));
    doc
}

async fn decide(manager: &Session, visit: DocumentId, decision: &str, comment: &str) {
    let (status, body) = oversight_fixture::decide(manager, visit, decision, comment)
        .await
        .expect("decision");
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_records_officer_exports_a_full_chronological_record_with_redactions() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    council::add_records_officer(dir.path()).expect("records officer");
    let server = TestServer::start(dir.path()).await.expect("server");
    let worker = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("worker");
    let manager = Session::login(server.addr, "mgr-north", PASSWORD, None)
        .await
        .expect("manager");
    let officer = Session::login(server.addr, "records-1", PASSWORD, None)
        .await
        .expect("officer");
    let client = worker.device("tablet").await.expect("device");

    // A year of visits, one a month, filed newest first so order comes from the dates.
    let today = shared::model::uk_civil_date(now_ms());
    let mut visits = Vec::new();
    for n in (0..12).rev() {
        let date = today.add_days(-30 * n as i64 - 5).expect("date");
        let id = client.create(visit(n, date));
        client.wait_acknowledged(id, TIMEOUT).await.expect("stored");
        visits.push((n, id));
    }
    let (_, returned) = visits
        .iter()
        .find(|(n, _)| *n == 5)
        .copied()
        .expect("visit 5");
    let (_, amended) = visits
        .iter()
        .find(|(n, _)| *n == 3)
        .copied()
        .expect("visit 3");
    decide(&manager, returned, "return", "Say who else was there").await;
    decide(&manager, amended, "signOff", "Clear record").await;
    oversight_fixture::wait_decisions(&client, amended, 1, TIMEOUT)
        .await
        .expect("the sign-off reaches the tablet");
    client
        .change(amended, |doc| {
            model::record_amendment(
                doc,
                "The carer corrected the half-term dates",
                "sw-north-1",
                "amendment-1",
                Timestamp::from_millis(now_ms()),
            )
            .expect("amendment");
            let mut tx = doc.transaction();
            model::append_text(
                &mut tx,
                TextField::Observations,
                "Half term was in October.",
            )
            .expect("edit");
            tx.commit_with(CommitOptions::default().with_time((now_ms() / 1000) as i64));
        })
        .expect("change");
    client
        .wait_acknowledged(amended, TIMEOUT)
        .await
        .expect("amendment stored");

    // Only a records officer exports or redacts.
    let path = "/api/records/C-N1/subject-access";
    assert_eq!(
        api(&worker, "GET", path, None).await.0,
        403,
        "a worker cannot export"
    );
    assert_eq!(
        api(&manager, "GET", path, None).await.0,
        403,
        "a manager cannot export"
    );
    let redact = json!({ "documentId": amended.to_string(), "field": "voice", "passage": THIRD_PARTY, "reason": "third-party" });
    assert_eq!(
        api(
            &worker,
            "POST",
            "/api/records/C-N1/redactions",
            Some(&redact)
        )
        .await
        .0,
        403
    );
    let (status, body) = api(
        &officer,
        "POST",
        "/api/records/C-N1/redactions",
        Some(&redact),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = api(
        &officer,
        "POST",
        "/api/records/C-N1/redactions",
        Some(&json!({ "field": "voice", "reason": "gossip" })),
    )
    .await;
    assert_eq!(status, 400, "{body}");

    // The records officer sees nothing else.
    assert_eq!(
        api(&officer, "GET", "/api/team/dashboard", None).await.0,
        403
    );
    let (_, caseload) = api(&officer, "GET", "/api/caseload", None).await;
    let caseload: Value = serde_json::from_str(&caseload).expect("json");
    assert_eq!(caseload["children"], json!([]));
    assert_eq!(
        api(
            &officer,
            "GET",
            &format!("/api/visits/{amended}/review"),
            None
        )
        .await
        .0,
        404
    );
    assert_eq!(
        api(
            &officer,
            "GET",
            &format!("/api/visits/{amended}/print"),
            None
        )
        .await
        .0,
        404
    );

    // The JSON export: chronological, every version, the redaction applied.
    let (status, text) = api(&officer, "GET", path, None).await;
    assert_eq!(status, 200, "{text}");
    assert!(
        !text.contains(THIRD_PARTY),
        "the redacted passage is not exported"
    );
    assert!(text.contains("[redacted: third-party data]"));
    let export: Value = serde_json::from_str(&text).expect("json");
    let entries = export["entries"].as_array().expect("entries");
    let dates: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["date"].as_str())
        .filter(|d| !d.is_empty())
        .collect();
    assert!(
        dates.windows(2).all(|w| w[0] <= w[1]),
        "chronological: {dates:?}"
    );
    let visit_entries: Vec<&Value> = entries.iter().filter(|e| e["kind"] == "visit").collect();
    assert_eq!(visit_entries.len(), 12, "every visit");
    assert!(entries.iter().any(|e| e["kind"] == "placement"));
    for (n, entry) in visit_entries.iter().rev().enumerate() {
        let words = format!("Words of visit {n}");
        assert!(
            entry.to_string().contains(&words),
            "visit {n} has the child's words verbatim"
        );
    }
    let amended_entry = visit_entries
        .iter()
        .find(|e| e["documentId"] == amended.to_string())
        .expect("amended visit");
    let events = amended_entry["events"].as_array().expect("events");
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(
        kinds.iter().filter(|k| **k == "version").count() >= 3,
        "created, signed off, amended: {kinds:?}"
    );
    assert!(
        kinds.contains(&"signedOff") && kinds.contains(&"amendment"),
        "{kinds:?}"
    );
    let amendment = events
        .iter()
        .find(|e| e["kind"] == "amendment")
        .expect("amendment");
    assert_eq!(amendment["text"], "The carer corrected the half-term dates");
    let versions: Vec<&Value> = events.iter().filter(|e| e["kind"] == "version").collect();
    let observations = |v: &Value| {
        v["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .find(|f| f["field"] == "observations")
            .map(|f| f["value"].clone())
    };
    assert!(
        !observations(versions[0])
            .expect("first")
            .to_string()
            .contains("October"),
        "the first version as it was"
    );
    assert!(
        observations(versions.last().expect("last"))
            .expect("last")
            .to_string()
            .contains("Half term was in October.")
    );
    let returned_entry = visit_entries
        .iter()
        .find(|e| e["documentId"] == returned.to_string())
        .expect("returned");
    assert!(
        returned_entry["events"]
            .to_string()
            .contains("Say who else was there")
    );
    assert!(
        export["audit"]
            .as_array()
            .expect("audit")
            .iter()
            .any(|row| row["action"] == "redaction-add"),
        "the redaction is audited"
    );

    // The record itself is unchanged.
    let (_, review) = api(
        &manager,
        "GET",
        &format!("/api/visits/{amended}/review"),
        None,
    )
    .await;
    assert!(review.contains(THIRD_PARTY), "the record keeps the passage");

    // HTML, printed to PDF by headless Chromium, read back as text.
    let (status, html) = api(&officer, "GET", &format!("{path}.html"), None).await;
    assert_eq!(status, 200);
    assert!(html.starts_with("<!DOCTYPE html><html lang=\"en-GB\">"));
    assert!(!html.contains(THIRD_PARTY));
    let out = tempfile::tempdir().expect("tempdir");
    let page = out.path().join("record.html");
    std::fs::write(&page, &html).expect("write");
    let pdf = out.path().join("record.pdf");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let printed = std::process::Command::new(&chromium)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-pdf-header-footer",
        ])
        .arg(format!(
            "--user-data-dir={}",
            out.path().join("profile").display()
        ))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(
        pdf.exists(),
        "chromium printed no PDF: {}",
        String::from_utf8_lossy(&printed.stderr)
    );
    let text = std::process::Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&text.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.starts_with("Full record (subject access)"),
        "{}",
        &text[..text.len().min(300)]
    );
    assert!(
        text.contains("Words of visit 11") && text.contains("Words of visit 0"),
        "every visit in the PDF"
    );
    assert!(text.contains("[redacted: third-party data]"));
    assert!(text.contains("The carer corrected the half-term dates"));
    assert!(
        !text.contains("Dave Smith"),
        "the PDF holds no redacted passage"
    );
    assert!(text.contains("Audit trail"));

    // Each export is audited.
    let (_, again) = api(&officer, "GET", path, None).await;
    let again: Value = serde_json::from_str(&again).expect("json");
    let exports = again["audit"]
        .as_array()
        .expect("audit")
        .iter()
        .filter(|row| row["action"] == "subject-access-export")
        .count();
    assert!(exports >= 2, "json and html exports audited: {exports}");

    // A worker prints a visit and a handover summary with the same renderer.
    let (status, printed) = api(
        &worker,
        "GET",
        &format!("/api/visits/{amended}/print"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        printed.contains("Visit record") && printed.contains(THIRD_PARTY),
        "the worker's own print is the record itself"
    );
    let (status, handover) = api(&worker, "GET", "/api/children/C-N1/handover/print", None).await;
    assert_eq!(status, 200);
    assert!(handover.contains("Handover summary") && handover.contains("Words of visit 0"));
    let south = Session::login(server.addr, "sw-south-1", PASSWORD, None)
        .await
        .expect("south");
    assert_eq!(
        api(&south, "GET", &format!("/api/visits/{amended}/print"), None)
            .await
            .0,
        404
    );
    server.stop().await.expect("stop");
}
