//! The projection never disagrees with the documents: after a randomised run (several
//! devices creating and editing visits, going offline and back, editing the same visits
//! concurrently, a manager signing some off), the live projection tables equal a rebuild
//! from the stored documents alone, and the `admin projection` commands say so.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::server_binary;
use automerge::transaction::CommitOptions;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shared::DocumentId;
use shared::model::{self, ActionStatus, CalendarDate, NewAction, TextField};
use shared::sync::Timestamp;
use tests::council::{self, PASSWORD, Session};
use tests::test_server::run_admin;
use tests::{NativeClient, TestServer, oversight_fixture, visit_fixture};

const TIMEOUT: Duration = Duration::from_secs(20);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// One random edit of a visit, as a worker's device makes them.
fn random_edit(rng: &mut StdRng, doc: &mut automerge::Automerge, step: usize) {
    let mut tx = doc.transaction();
    match rng.random_range(0..7) {
        0 => {
            let _ = model::append_text(&mut tx, TextField::Observations, " Saw the garden.");
        }
        1 => {
            let _ = model::append_text(&mut tx, TextField::Analysis, " Settled and happy.");
        }
        2 => {
            let _ = model::submit_visit(&mut tx, Timestamp::from_millis(now_ms()));
        }
        3 => {
            let days = rng.random_range(-40..20);
            let due = CalendarDate::parse("2026-11-01").and_then(|d| d.add_days(days));
            let _ = model::add_action(
                &mut tx,
                &NewAction {
                    action_id: format!("action-{step}-{}", rng.random::<u32>()),
                    description: format!("Follow-up {step}"),
                    owner_type: None,
                    owner_name: "Worker".into(),
                    due_date: due,
                },
            );
        }
        4 => {
            let date = CalendarDate::parse("2026-06-01")
                .and_then(|d| d.add_days(rng.random_range(0..170)))
                .expect("date");
            let _ = model::set_visit_date(&mut tx, date);
        }
        5 => {
            let _ = model::set_child_seen(&mut tx, rng.random_bool(0.8));
        }
        _ => {
            let _ = model::set_action_status(&mut tx, 0, ActionStatus::Done);
        }
    }
    tx.commit_with(CommitOptions::default().with_time((now_ms() / 1000) as i64));
}

async fn sign_off(manager: &Session, visit: DocumentId) -> u16 {
    oversight_fixture::decide(manager, visit, "signOff", "Seen.")
        .await
        .expect("decide")
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_projection_equals_a_rebuild_after_a_randomised_sync_run() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    // Every settled document is packed, so sign-offs and later edits unpack them.
    let mut config = server::ServerConfig::new(dir.path().to_owned());
    config.live_documents = 0;
    let server = TestServer::start_with(config).await.expect("server");
    let mut rng = StdRng::seed_from_u64(0x0d00_5e7e);

    // Two devices of one worker (sharing visits) and one of another worker.
    let devices = [
        ("sw-north-1", "C-N1"),
        ("sw-north-1", "C-N2"),
        ("sw-north-2", "C-N3"),
    ];
    let mut clients = Vec::new();
    for (index, (username, _)) in devices.iter().enumerate() {
        let session = Session::login(server.addr, username, PASSWORD, None)
            .await
            .expect("sign in");
        let client = NativeClient::new(&format!("device-{index}"));
        client
            .connect(&session.sync_url().await.expect("ticket"))
            .await
            .expect("connect");
        clients.push((session, client));
    }
    let manager = Session::login(server.addr, "mgr-north", PASSWORD, None)
        .await
        .expect("manager");

    let mut visits: Vec<(usize, DocumentId)> = Vec::new();
    for (index, (username, child_ref)) in devices.iter().enumerate() {
        for n in 0..3 {
            let seed = (index * 10 + n) as u64;
            let doc = visit_fixture::visit_for_child(seed, child_ref, username, 60);
            let id = clients[index].1.create(doc);
            visits.push((index, id));
        }
    }
    for (index, id) in &visits {
        clients[*index]
            .1
            .wait_acknowledged(*id, TIMEOUT)
            .await
            .expect("stored");
    }
    // The second device of sw-north-1 also holds the first device's visits.
    for (index, id) in visits.clone() {
        if index == 0 {
            clients[1]
                .1
                .find(id, TIMEOUT)
                .await
                .expect("find")
                .expect("found");
            visits.push((1, id));
        }
    }

    for step in 0..60 {
        let (index, id) = visits[rng.random_range(0..visits.len())];
        let (session, client) = &clients[index];
        if rng.random_bool(0.1) && client.is_connected() {
            client.disconnect().await;
        } else if !client.is_connected() && rng.random_bool(0.5) {
            client
                .connect(&session.sync_url().await.expect("ticket"))
                .await
                .expect("reconnect");
        }
        let mut local_rng = StdRng::seed_from_u64(rng.random());
        client
            .change(id, |doc| random_edit(&mut local_rng, doc, step))
            .expect("edit");
        if rng.random_bool(0.15) && client.is_connected() {
            if let Err(err) = client.wait_acknowledged(id, TIMEOUT).await {
                panic!(
                    "step {step} device {index}: {err:#}; connected {}; errors {:?}; server heads {:?}; own heads {:?}",
                    client.is_connected(),
                    client.errors(),
                    client.server_heads(id),
                    client.document(id).map(|d| d.get_heads())
                );
            }
            let _ = sign_off(&manager, id).await;
        }
    }
    for (session, client) in &clients {
        if !client.is_connected() {
            client
                .connect(&session.sync_url().await.expect("ticket"))
                .await
                .expect("reconnect");
        }
    }
    for (index, id) in &visits {
        let client = &clients[*index].1;
        if let Err(err) = client.wait_acknowledged(*id, TIMEOUT).await {
            panic!(
                "device {index}: {err:#}; connected {}; errors {:?}; server heads {:?}; own heads {:?}",
                client.is_connected(),
                client.errors(),
                client.server_heads(*id),
                client.document(*id).map(|d| d.get_heads())
            );
        }
    }
    // Give the server a moment to take the last changes every device sends back.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (_, client) in &clients {
        client.disconnect().await;
    }
    server.stop().await.expect("stop");

    let mut conn = server::directory::open_connection(dir.path()).expect("directory");
    let signed: i64 = conn
        .query_row("SELECT count(*) FROM proj_sign_offs", [], |row| row.get(0))
        .expect("count");
    let projected: i64 = conn
        .query_row("SELECT count(*) FROM proj_visits", [], |row| row.get(0))
        .expect("count");
    assert_eq!(projected, 9, "every visit is projected");
    assert!(signed > 0, "the run included sign-offs");
    let policy =
        shared::schedule::SchedulePolicy::statutory(shared::schedule::Jurisdiction::England);
    let live = server::projection::dump(&conn).expect("dump");
    assert_eq!(
        server::projection::check(&mut conn, &policy).expect("check"),
        None,
        "live projection equals a rebuild"
    );
    drop(conn);

    // The operator's commands: check says they match; rebuild recreates the same rows.
    let check = run_admin(server_binary(), dir.path(), &["projection", "check"]);
    assert!(check.contains("matches"), "{check}");
    run_admin(server_binary(), dir.path(), &["projection", "rebuild"]);
    let conn = server::directory::open_connection(dir.path()).expect("directory");
    assert_eq!(server::projection::dump(&conn).expect("dump"), live);
}
