//! Issue 13 in headless Chromium: a device holding a child's records no longer holds
//! them after the record is deleted at the end of its retention and the device reconnects
//! (`tests/js/pwa.mjs retention-erased`).

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
