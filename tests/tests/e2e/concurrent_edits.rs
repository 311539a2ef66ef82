//! Two devices edit the same visit while offline; after reconnecting through the real
//! server both converge to identical documents that keep every edit.

use std::time::Duration;

use automerge::AutoSerde;
use shared::model::{self, TextField, Visit};
use tests::council::{self, PASSWORD, Session};
use tests::{NativeClient, TestServer, js_client, visit_fixture};

const TIMEOUT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_edits_on_two_devices_converge_with_every_edit_kept() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = TestServer::start(dir.path()).await.expect("server");

    // The allocated worker's tablet and laptop: one account, two devices.
    let on_tablet = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("login");
    let on_laptop = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("login");
    assert_ne!(on_tablet.device_id, on_laptop.device_id);
    let tablet = NativeClient::new("tablet");
    let laptop = NativeClient::new("laptop");
    tablet
        .connect(&on_tablet.sync_url().await.expect("ticket"))
        .await
        .expect("tablet online");
    laptop
        .connect(&on_laptop.sync_url().await.expect("ticket"))
        .await
        .expect("laptop online");
    let id = tablet.create(visit_fixture::visit_for_child(1, "C-N1", "sw-north-1", 200));
    tablet.wait_acknowledged(id, TIMEOUT).await.expect("stored");
    laptop
        .find(id, TIMEOUT)
        .await
        .expect("find")
        .expect("available");
    let words_before = Visit::read(&tablet.document(id).expect("doc"))
        .expect("visit")
        .voice[0]
        .words
        .clone();

    // Both lose signal.
    tablet.disconnect().await;
    laptop.disconnect().await;
    tablet
        .change(id, |doc| {
            let mut tx = doc.transaction();
            model::append_child_words(&mut tx, 0, " TABLET: I want to stay here.")?;
            model::set_seen_alone(&mut tx, true)?;
            tx.commit();
            Ok::<_, model::ModelError>(())
        })
        .expect("loaded")
        .expect("tablet edit");
    laptop
        .change(id, |doc| {
            let mut tx = doc.transaction();
            model::append_child_words(&mut tx, 0, " LAPTOP: my brother visited.")?;
            model::append_text(&mut tx, TextField::Observations, " Laptop note: room tidy.")?;
            tx.commit();
            Ok::<_, model::ModelError>(())
        })
        .expect("loaded")
        .expect("laptop edit");

    // Signal returns.
    tablet
        .connect(&on_tablet.sync_url().await.expect("ticket"))
        .await
        .expect("tablet back");
    laptop
        .connect(&on_laptop.sync_url().await.expect("ticket"))
        .await
        .expect("laptop back");
    tablet
        .wait_acknowledged(id, TIMEOUT)
        .await
        .expect("tablet synced");
    laptop
        .wait_acknowledged(id, TIMEOUT)
        .await
        .expect("laptop synced");
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    let (a, b) = loop {
        let a = tablet.document(id).expect("tablet copy");
        let b = laptop.document(id).expect("laptop copy");
        if a.get_heads() == b.get_heads() {
            break (a, b);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "devices never converged"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    };

    let visit_a = Visit::read(&a).expect("visit");
    assert_eq!(visit_a, Visit::read(&b).expect("visit"));
    let words = &visit_a.voice[0].words;
    assert!(words.starts_with(&words_before), "earlier words kept");
    assert!(words.contains(" TABLET: I want to stay here."));
    assert!(words.contains(" LAPTOP: my brother visited."));
    assert_eq!(visit_a.seen_alone, Some(true));
    assert!(visit_a.observations.ends_with(" Laptop note: room tidy."));

    // The server's copy, read by a fresh official JS client, has all of it too.
    let fetched = js_client::client(
        &on_tablet.token,
        &["fetch", "--url", &server.url(), "--ids", &id.to_string()],
    )
    .await
    .expect("js fetch");
    let server_copy = &fetched["docs"][0]["content"];
    assert_eq!(
        server_copy,
        &serde_json::to_value(AutoSerde::from(&a)).expect("json")
    );
    server.stop().await.expect("stop");
}
