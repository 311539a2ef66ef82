//! Issue 13 in headless Chromium: a device holding a child's records no longer holds
//! them after the record is deleted at the end of its retention and the device reconnects
//! (`tests/js/pwa.mjs retention-erased`); a worker asks for break-glass access from the
//! app (`break-glass-form`); a manager corrects a record
//! from the review screen (`manager-correction`); a child restricted to others leaves the
//! team manager's device (`restricted-leaves-device`).

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
async fn a_worker_asks_for_break_glass_access_in_the_app() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = crate::record_corrections::pwa_server(dir.path()).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_removes_a_passage_from_the_review_screen() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = crate::record_corrections::pwa_server(dir.path()).await;
    let worker = council::Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in");
    let tablet = worker.device("tablet").await.expect("device");
    let visit = tablet.create(crate::misfiled_records::visit(
        "C-N1",
        "sw-north-1",
        "Seen at home. Mentioned the Smith family at 12 Acacia Road by mistake.",
    ));
    tablet
        .wait_acknowledged(visit, std::time::Duration::from_secs(15))
        .await
        .expect("stored");
    let profiles = tempfile::tempdir().expect("profiles");
    let url = format!("http://{}", server.addr);
    let visit_text = visit.to_string();
    let env = [
        ("DOORSTEP_URL", url.as_str()),
        ("DOORSTEP_USER", "sw-north-1"),
        ("DOORSTEP_PASSWORD", PASSWORD),
        ("DOORSTEP_CHILD", "C-N1"),
        ("DOORSTEP_MANAGER", "mgr-north"),
        ("DOORSTEP_VISIT", visit_text.as_str()),
    ];
    let result = js_client::pwa("manager-correction", profiles.path(), &env)
        .await
        .unwrap_or_else(|err| panic!("the manager-correction scenario fails in Chromium: {err:#}"));
    tracing::info!(%result, "manager-correction");
    let conn = server::directory::open_connection(dir.path()).expect("db");
    let (kind, actor): (String, String) = conn
        .query_row(
            "SELECT kind, actor FROM record_corrections WHERE document_id = ?1",
            [visit.as_bytes().as_slice()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the correction is kept");
    assert_eq!((kind.as_str(), actor.as_str()), ("expunged", "mgr-north"));
    server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_restricted_to_others_leaves_the_managers_device() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    let children = council::create(dir.path()).expect("council");
    let document_of = |wanted: &str| {
        children
            .iter()
            .find_map(|(child_ref, document)| (child_ref == wanted).then_some(*document))
            .expect("child document")
    };
    let mut config = ServerConfig::new(dir.path().to_owned());
    config.web_dir = Some(js_client::web_dir().expect("web app built"));
    let server = TestServer::start_with(config).await.expect("server");
    let worker = tests::council::Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in");
    let device = worker.device("worker-tablet").await.expect("device");
    let visit = device.create(tests::visit_fixture::visit_for_child(
        3,
        "C-N1",
        "sw-north-1",
        40,
    ));
    device
        .wait_acknowledged(visit, std::time::Duration::from_secs(15))
        .await
        .expect("stored");
    device.disconnect().await;

    let profiles = tempfile::tempdir().expect("profiles");
    let url = format!("http://{}", server.addr);
    let data_dir = dir.path().to_string_lossy().into_owned();
    let binary = server_binary().to_str().expect("utf-8 path");
    let gone = format!("{},{visit}", document_of("C-N1"));
    let kept = document_of("C-N2").to_string();
    let env = [
        ("DOORSTEP_URL", url.as_str()),
        ("DOORSTEP_USER", "mgr-north"),
        ("DOORSTEP_MANAGER", "mgr-north"),
        ("DOORSTEP_PASSWORD", PASSWORD),
        ("DOORSTEP_CHILD", "C-N1"),
        ("DOORSTEP_ADMIN", binary),
        ("DOORSTEP_DATA_DIR", data_dir.as_str()),
        ("DOORSTEP_GONE_DOCUMENTS", gone.as_str()),
        ("DOORSTEP_KEPT_DOCUMENT", kept.as_str()),
    ];
    let result = js_client::pwa("restricted-leaves-device", profiles.path(), &env)
        .await
        .unwrap_or_else(|err| {
            panic!("the restricted-leaves-device scenario fails in Chromium: {err:#}")
        });
    tracing::info!(%result, "restricted-leaves-device");
    server.stop().await.expect("stop");
}
