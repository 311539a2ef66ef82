//! Issue 13 in headless Chromium: a device holding a child's records no longer holds
//! them after the record is deleted at the end of its retention and the device reconnects
//! (`tests/js/pwa.mjs retention-erased`); a passage a manager expunges while one of two
//! devices is offline with edits to it is on no device, in no store and in no export
//! afterwards, and that device's other work survives (`expunge-offline`); a worker asks
//! for break-glass access from the app (`break-glass-form`).

use crate::server_binary;
use server::ServerConfig;
use server::directory::admin;
use shared::model::CalendarDate;
use tests::council::{self, PASSWORD};
use tests::{TestServer, js_client};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_deletes_a_record_deleted_after_retention_when_it_reconnects() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    // Born in 1940: the record's retention (75th birthday) ended in 2015.
    let mut old = council::test_child("C-OLD");
    old.date_of_birth = CalendarDate::parse("1940-01-05").expect("date");
    {
        let mut conn = server::directory::open_connection(dir.path()).expect("db");
        admin::add_child(&mut conn, "North", &old, council::now_ms()).expect("child");
        admin::allocate(&mut conn, "C-OLD", "sw-north-1", council::now_ms()).expect("allocate");
    }
    let mut config = ServerConfig::new(dir.path().to_owned());
    config.web_dir = Some(js_client::web_dir().expect("web app built"));
    let server = TestServer::start_with(config).await.expect("server");
    let profiles = tempfile::tempdir().expect("profiles");
    let url = format!("http://{}", server.addr);
    let data_dir = dir.path().to_string_lossy().into_owned();
    let binary = server_binary().to_str().expect("utf-8 path");
    let env = [
        ("DOORSTEP_URL", url.as_str()),
        ("DOORSTEP_USER", "sw-north-1"),
        ("DOORSTEP_PASSWORD", PASSWORD),
        ("DOORSTEP_CHILD", "C-OLD"),
        ("DOORSTEP_ADMIN", binary),
        ("DOORSTEP_DATA_DIR", data_dir.as_str()),
    ];
    let result = js_client::pwa("retention-erased", profiles.path(), &env)
        .await
        .unwrap_or_else(|err| panic!("the retention-erased scenario fails in Chromium: {err:#}"));
    tracing::info!(%result, "retention-erased");
    server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expunged_passage_leaves_both_devices_and_the_offline_ones_work_survives() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    council::add_records_officer(dir.path()).expect("records officer");
    let mut config = ServerConfig::new(dir.path().to_owned());
    config.web_dir = Some(js_client::web_dir().expect("web app built"));
    let server = TestServer::start_with(config).await.expect("server");
    let profiles = tempfile::tempdir().expect("profiles");
    let url = format!("http://{}", server.addr);
    let env = [
        ("DOORSTEP_URL", url.as_str()),
        ("DOORSTEP_USER", "sw-north-1"),
        ("DOORSTEP_PASSWORD", PASSWORD),
        ("DOORSTEP_CHILD", "C-N1"),
        ("DOORSTEP_MANAGER", "mgr-north"),
    ];
    let result = js_client::pwa("expunge-offline", profiles.path(), &env)
        .await
        .unwrap_or_else(|err| panic!("the expunge-offline scenario fails in Chromium: {err:#}"));
    tracing::info!(%result, "expunge-offline");
    let replacement: shared::DocumentId = result["replacement"]
        .as_str()
        .expect("replacement")
        .parse()
        .expect("id");

    // On the server: the new record holds device B's offline work, not the passage.
    let worker = council::Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in");
    let reader = worker.device("reader").await.expect("device");
    let stored = reader
        .find(replacement, std::time::Duration::from_secs(15))
        .await
        .expect("answered")
        .expect("the new record is on the server");
    let visit = shared::model::Visit::read(&stored).expect("visit");
    assert!(
        visit.observations.contains("Child was cheerful."),
        "{}",
        visit.observations
    );
    assert!(
        !visit.observations.contains("Acacia"),
        "{}",
        visit.observations
    );
    assert!(
        visit
            .actions
            .iter()
            .any(|a| a.description == "Book the dentist")
    );
    // In no file of the store, and in no export.
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("data dir").flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("doorstep.sqlite3")
        {
            bytes.extend(std::fs::read(entry.path()).unwrap_or_default());
        }
    }
    assert!(
        !bytes.windows(6).any(|w| w == b"Acacia"),
        "the passage is in the database files"
    );
    let officer = council::Session::login(server.addr, "records-1", PASSWORD, None)
        .await
        .expect("sign in");
    let (status, _, export) = officer
        .request("GET", "/api/records/C-N1/subject-access", None)
        .await
        .expect("export");
    assert_eq!(status, 200);
    assert!(!export.contains("Acacia"));
    assert!(export.contains("Child was cheerful."));
    server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_asks_for_break_glass_access_in_the_app() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let mut config = ServerConfig::new(dir.path().to_owned());
    config.web_dir = Some(js_client::web_dir().expect("web app built"));
    let server = TestServer::start_with(config).await.expect("server");
    let profiles = tempfile::tempdir().expect("profiles");
    let url = format!("http://{}", server.addr);
    let env = [
        ("DOORSTEP_URL", url.as_str()),
        ("DOORSTEP_USER", "sw-north-1"),
        ("DOORSTEP_PASSWORD", PASSWORD),
        ("DOORSTEP_CHILD", "C-N1"),
        ("DOORSTEP_OTHER_CHILD", "C-N3"),
    ];
    let result = js_client::pwa("break-glass-form", profiles.path(), &env)
        .await
        .unwrap_or_else(|err| panic!("the break-glass-form scenario fails in Chromium: {err:#}"));
    tracing::info!(%result, "break-glass-form");
    let conn = server::directory::open_connection(dir.path()).expect("db");
    let granted: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'break-glass' AND outcome = 'allowed'",
            [],
            |r| r.get(0),
        )
        .expect("audit");
    assert_eq!(granted, 1, "the break-glass is audited");
    server.stop().await.expect("stop");
}
