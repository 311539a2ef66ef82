//! Correcting a misfiled record (issue 13 part 4) as the worker's devices see it, in
//! headless Chromium (`tests/js/pwa.mjs`), with the manager acting through the API:
//! - `corrections-expunge`: one worker on two devices; a passage one typed is expunged
//!   while the other is offline with edits after and inside it. Afterwards the passage is
//!   on no device (the device's own search of what it stores, `holdsText`), in no file of
//!   the data directory and in no subject-access export; the offline device's typing and
//!   action are in the server's new document, once; its answer that now differs is set
//!   aside on the visit screen, which says the record was corrected.
//! - `corrections-move`: a visit moved to another child of the same worker is, after a
//!   refresh, listed under the right child only, and the team dashboard files it there.
//!
//! The server's side alone (refusals, index, audit, the old document refused to native
//! devices) is `misfiled_records.rs`.

use std::time::Duration;

use serde_json::Value;
use server::ServerConfig;
use shared::DocumentId;
use shared::model::Visit;
use tests::council::{self, PASSWORD, Session};
use tests::{TestServer, js_client};

const TIMEOUT: Duration = Duration::from_secs(15);

/// Every byte of every file in the data directory (the database, its WAL and anything
/// else the server keeps there).
fn data_dir_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).expect("data dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                bytes.extend(std::fs::read(&path).unwrap_or_default());
            }
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

async fn get_json(session: &Session, path: &str) -> Value {
    let (status, _, text) = session.request("GET", path, None).await.expect("request");
    assert_eq!(status, 200, "{path}: {text}");
    serde_json::from_str(&text).expect("json")
}

/// A server for the PWA with the test council (and its records officer); also used by
/// `pwa_records`.
pub(crate) async fn pwa_server(dir: &std::path::Path) -> TestServer {
    council::create(dir).expect("council");
    council::add_records_officer(dir).expect("records officer");
    let mut config = ServerConfig::new(dir.to_owned());
    config.web_dir = Some(js_client::web_dir().expect("web app built"));
    TestServer::start_with(config).await.expect("server")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expunged_passage_is_on_no_device_and_the_offline_devices_work_is_carried_over() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = pwa_server(dir.path()).await;
    let profiles = tempfile::tempdir().expect("profiles");
    let url = format!("http://{}", server.addr);
    let env = [
        ("DOORSTEP_URL", url.as_str()),
        ("DOORSTEP_USER", "sw-north-1"),
        ("DOORSTEP_PASSWORD", PASSWORD),
        ("DOORSTEP_CHILD", "C-N1"),
        ("DOORSTEP_MANAGER", "mgr-north"),
    ];
    let result = js_client::pwa("corrections-expunge", profiles.path(), &env)
        .await
        .unwrap_or_else(|err| {
            panic!("the corrections-expunge scenario fails in Chromium: {err:#}")
        });
    tracing::info!(%result, "corrections-expunge");
    let old: DocumentId = result["old"].as_str().expect("old").parse().expect("id");
    let replacement: DocumentId = result["replacement"]
        .as_str()
        .expect("replacement")
        .parse()
        .expect("id");

    // The server's new document holds device B's offline work once, and not the passage.
    let worker = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in");
    let reader = worker.device("reader").await.expect("device");
    let stored = reader
        .find(replacement, TIMEOUT)
        .await
        .expect("answered")
        .expect("the new record is on the server");
    let visit = Visit::read(&stored).expect("visit");
    assert_eq!(
        visit.observations.matches("Child was cheerful.").count(),
        1,
        "{}",
        visit.observations
    );
    for fragment in ["Acacia", "Smith", "Rd"] {
        assert!(
            !visit.observations.contains(fragment),
            "{fragment}: {}",
            visit.observations
        );
    }
    assert_eq!(
        visit
            .actions
            .iter()
            .filter(|a| a.description == "Book the dentist")
            .count(),
        1,
        "{:?}",
        visit.actions
    );
    assert!(
        !contains(&stored.save(), "Acacia"),
        "the new document's bytes hold the passage"
    );
    // The old document is refused to every device.
    assert!(
        reader.find(old, TIMEOUT).await.expect("answered").is_none(),
        "the old document is still served"
    );
    // The caseload names the new document, not the old one, and tells of the correction.
    let caseload = get_json(&worker, "/api/caseload").await;
    let listed = caseload.to_string();
    assert!(listed.contains(&replacement.to_string()), "{caseload}");
    let corrections = caseload["corrections"].as_array().expect("corrections");
    assert!(
        corrections.iter().any(|c| c["kind"] == "expunged"
            && c["document"] == old.to_string()
            && c["replacement"] == replacement.to_string()),
        "{caseload}"
    );
    let filed_under_old = caseload["children"]
        .as_array()
        .expect("children")
        .iter()
        .any(|child| {
            child["visitDocumentIds"]
                .as_array()
                .is_some_and(|ids| ids.iter().any(|id| id == &old.to_string()))
        });
    assert!(
        !filed_under_old,
        "the caseload still lists the old document"
    );

    // In no export.
    let officer = Session::login(server.addr, "records-1", PASSWORD, None)
        .await
        .expect("sign in");
    let (status, _, export) = officer
        .request("GET", "/api/records/C-N1/subject-access", None)
        .await
        .expect("export");
    assert_eq!(status, 200, "{export}");
    assert!(!export.contains("Acacia"), "the export holds the passage");
    assert!(export.contains("Child was cheerful."), "{export}");

    // In no file of the data directory, while the server runs and after it stops (its
    // last checkpoint).
    assert!(
        !contains(&data_dir_bytes(dir.path()), "Acacia"),
        "the passage is in the data directory while the server runs"
    );
    server.stop().await.expect("stop");
    let bytes = data_dir_bytes(dir.path());
    assert!(
        contains(&bytes, "Child was cheerful."),
        "the data directory does not hold the record at all (nothing to search)"
    );
    assert!(
        !contains(&bytes, "Acacia"),
        "the passage is in the data directory"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_moved_to_another_child_of_the_worker_is_filed_under_it_on_the_device() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = pwa_server(dir.path()).await;
    let profiles = tempfile::tempdir().expect("profiles");
    let url = format!("http://{}", server.addr);
    let env = [
        ("DOORSTEP_URL", url.as_str()),
        ("DOORSTEP_USER", "sw-north-1"),
        ("DOORSTEP_PASSWORD", PASSWORD),
        ("DOORSTEP_CHILD", "C-N1"),
        ("DOORSTEP_OTHER_CHILD", "C-N2"),
        ("DOORSTEP_MANAGER", "mgr-north"),
    ];
    let result = js_client::pwa("corrections-move", profiles.path(), &env)
        .await
        .unwrap_or_else(|err| panic!("the corrections-move scenario fails in Chromium: {err:#}"));
    tracing::info!(%result, "corrections-move");
    let document = result["document"].as_str().expect("document").to_owned();

    // The worker's caseload files it under C-N2 only.
    let worker = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in");
    let caseload = get_json(&worker, "/api/caseload").await;
    let filed: Vec<&str> = caseload["children"]
        .as_array()
        .expect("children")
        .iter()
        .filter(|child| {
            child["visitDocumentIds"]
                .as_array()
                .is_some_and(|ids| ids.iter().any(|id| id == document.as_str()))
        })
        .filter_map(|child| child["childRef"].as_str())
        .collect();
    assert_eq!(filed, ["C-N2"], "{caseload}");

    // The team dashboard follows: the visit (complete, not submitted) is a write-up
    // outstanding for C-N2, and for C-N1 nowhere.
    let manager = Session::login(server.addr, "mgr-north", PASSWORD, None)
        .await
        .expect("sign in");
    let dashboard = get_json(&manager, "/api/team/dashboard").await;
    let rows: Vec<&Value> = ["writeUpsOutstanding", "awaitingSignOff", "overdueActions"]
        .iter()
        .filter_map(|list| dashboard[*list].as_array())
        .flatten()
        .filter(|row| row["visitDocumentId"] == document.as_str())
        .collect();
    assert!(
        !rows.is_empty(),
        "the dashboard lists the visit nowhere: {dashboard}"
    );
    assert!(
        rows.iter().all(|row| row["childRef"] == "C-N2"),
        "the dashboard files the visit under the wrong child: {rows:?}"
    );
    let id: DocumentId = document.parse().expect("id");
    let stored = worker
        .device("reader")
        .await
        .expect("device")
        .find(id, TIMEOUT)
        .await
        .expect("answered")
        .expect("the worker still reads the visit");
    assert_eq!(Visit::read(&stored).expect("visit").child_id, "C-N2");
    server.stop().await.expect("stop");
}
