//! Who may see what, against the real server binary: the authorization matrix (every role
//! × read / write / create, with the native client and the official JS client), denials
//! audited and indistinguishable from a document that does not exist, live de-allocation
//! and device revocation, and the per-child audit export of all of it.

use std::path::Path;
use std::time::Duration;

use automerge::Automerge;
use serde_json::Value;
use shared::DocumentId;
use shared::model::{self, Visit};
use tests::council::{self, PASSWORD, Session};
use tests::test_server::run_admin;
use tests::{NativeClient, ServerProcess, js_client, visit_fixture};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const TIMEOUT: Duration = Duration::from_secs(15);
/// How long a write the server silently ignores (read-only access) is given.
const IGNORED_AFTER: Duration = Duration::from_secs(3);

/// What the server did with an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Allowed,
    Denied,
}
use crate::server_binary;
use Outcome::{Allowed, Denied};

/// One row of the matrix: a signed-in role and what it may do to child C-N1's visit.
struct Role {
    username: &'static str,
    read: Outcome,
    write: Outcome,
    create: Outcome,
}

const SIGNED_IN_ROLES: [Role; 6] = [
    Role {
        username: "sw-north-1",
        read: Allowed,
        write: Allowed,
        create: Allowed,
    }, // own worker
    Role {
        username: "sw-north-2",
        read: Denied,
        write: Denied,
        create: Denied,
    }, // same team
    Role {
        username: "sw-south-1",
        read: Denied,
        write: Denied,
        create: Denied,
    }, // other team
    Role {
        username: "mgr-north",
        read: Allowed,
        write: Denied,
        create: Denied,
    }, // team manager
    Role {
        username: "mgr-south",
        read: Denied,
        write: Denied,
        create: Denied,
    }, // other manager
    Role {
        username: "admin",
        read: Denied,
        write: Denied,
        create: Denied,
    },
];

fn db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("doorstep.sqlite3")).expect("open database")
}

/// Audit rows for an actor and document with an outcome, waiting (audit rows are written
/// by the storage thread) until at least `at_least` exist or the timeout passes.
async fn audit_rows(
    dir: &Path,
    actor: &str,
    document: DocumentId,
    outcome: &str,
    at_least: i64,
) -> i64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let count: i64 = db(dir)
            .query_row(
                "SELECT count(*) FROM audit_log WHERE actor = ?1 AND document_id = ?2 AND outcome = ?3",
                rusqlite::params![actor, document.as_bytes().as_slice(), outcome],
                |r| r.get(0),
            )
            .expect("audit query");
        if count >= at_least || tokio::time::Instant::now() > deadline {
            return count;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn is_stored(dir: &Path, document: DocumentId) -> bool {
    db(dir)
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM document_chunks WHERE document_id = ?1)",
            [document.as_bytes().as_slice()],
            |r| r.get(0),
        )
        .expect("chunk query")
}

async fn connected(session: &Session, name: &str) -> NativeClient {
    session.device(name).await.expect("connected device")
}

/// Reads with a fresh native client: the document, or `None` if unavailable.
async fn native_read(session: &Session, id: DocumentId) -> Option<Automerge> {
    let client = connected(session, "reader").await;
    let found = client.find(id, TIMEOUT).await.expect("an answer");
    client.disconnect().await;
    found
}

/// A device holding a copy of `doc` adds the child's words `words` and syncs: accepted
/// (acknowledged), refused (`doc-unavailable`), or ignored (never acknowledged).
async fn native_write(session: &Session, id: DocumentId, doc: &Automerge, words: &str) -> Outcome {
    let client = connected(session, "writer").await;
    client.adopt(id, doc.clone()).expect("adopt");
    client
        .change(id, |doc| {
            let mut tx = doc.transaction();
            model::append_child_words(&mut tx, 0, words).expect("words");
            tx.commit();
        })
        .expect("change");
    let outcome = match client.wait_settled(id, IGNORED_AFTER).await {
        Ok(true) => Allowed,
        Ok(false) | Err(_) => Denied,
    };
    client.disconnect().await;
    outcome
}

/// Creates a new visit for `child_ref` with a native client.
async fn native_create(session: &Session, child_ref: &str, seed: u64) -> (DocumentId, Outcome) {
    let client = connected(session, "creator").await;
    let id = client.create(visit_fixture::visit_for_child(
        seed,
        child_ref,
        &session.username,
        100,
    ));
    let outcome = match client.wait_settled(id, TIMEOUT).await.expect("settled") {
        true => Allowed,
        false => Denied,
    };
    client.disconnect().await;
    (id, outcome)
}

fn child_words(doc: &Automerge) -> String {
    Visit::read(doc).expect("visit").voice[0].words.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_gets_exactly_its_rights_and_every_denial_is_audited_and_leaks_nothing() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = ServerProcess::start(server_binary(), dir.path(), &[]).expect("server");
    let addr = server.addr;
    let url = server.url();

    // sw-north-1 records a visit for C-N1.
    let owner = Session::login(addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("login");
    let (visit, outcome) = native_create(&owner, "C-N1", 1).await;
    assert_eq!(outcome, Allowed);
    let original = native_read(&owner, visit).await.expect("owner reads");
    let nonexistent = DocumentId::from_bytes(rand::random());

    let mut seed = 100;
    for role in &SIGNED_IN_ROLES {
        let who = role.username;
        let session = Session::login(addr, who, PASSWORD, None)
            .await
            .expect("login");

        // Read: the visit, compared with a document that does not exist.
        let read = native_read(&session, visit).await;
        assert_eq!(read.is_some(), role.read == Allowed, "{who} native read");
        assert!(native_read(&session, nonexistent).await.is_none());
        let js_args = |ids: String| {
            vec![
                "fetch".to_owned(),
                "--url".into(),
                url.clone(),
                "--ids".into(),
                ids,
            ]
        };
        let args = js_args(format!("{visit},{nonexistent}"));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let fetched = js_client::client(&session.token, &args)
            .await
            .expect("js fetch");
        let docs = fetched["docs"].as_array().expect("docs");
        assert_eq!(
            docs[0].get("unavailable") == Some(&Value::Bool(true)),
            role.read == Denied,
            "{who} JS read: {}",
            docs[0]
        );
        assert_eq!(docs[1]["unavailable"], Value::Bool(true), "nonexistent");
        if role.read == Denied {
            // Same answer as for a document that does not exist: only the id differs.
            let mut denied = docs[0].clone();
            denied["documentId"] = docs[1]["documentId"].clone();
            assert_eq!(denied, docs[1], "{who}: a denial must look like absence");
            assert!(
                audit_rows(dir.path(), who, visit, "denied", 2).await >= 2,
                "{who} read denials audited"
            );
        } else {
            assert!(
                audit_rows(dir.path(), who, visit, "allowed", 1).await >= 1,
                "{who} read audited"
            );
        }

        // Write: add to the child's words from a copy of the visit.
        let words = format!(" [{who} was here]");
        let wrote = native_write(&session, visit, &original, &words).await;
        assert_eq!(wrote, role.write, "{who} native write");
        let now = native_read(&owner, visit).await.expect("owner reads");
        assert_eq!(
            child_words(&now).contains(&words),
            role.write == Allowed,
            "{who} write visible"
        );
        if role.write == Denied {
            assert!(
                audit_rows(dir.path(), who, visit, "denied", 1).await >= 1,
                "{who} write denial audited"
            );
        }

        // Create: a new visit for C-N1.
        seed += 1;
        let (created, made) = native_create(&session, "C-N1", seed).await;
        assert_eq!(made, role.create, "{who} native create");
        assert_eq!(
            is_stored(dir.path(), created),
            role.create == Allowed,
            "{who} create stored"
        );
        if role.create == Denied {
            assert_eq!(
                audit_rows(dir.path(), who, created, "denied", 1).await,
                1,
                "{who} create denial audited"
            );
            // Nobody else can fetch the refused record either.
            assert!(native_read(&owner, created).await.is_none());
        }
        let js_create = js_client::client(
            &session.token,
            &[
                "create",
                "--url",
                &url,
                "--count",
                "1",
                "--child-id",
                "C-N1",
                "--worker-id",
                who,
                "--timeout-ms",
                "4000",
            ],
        )
        .await;
        assert_eq!(
            js_create.is_ok(),
            role.create == Allowed,
            "{who} JS create: {js_create:?}"
        );
    }

    // Roles with no valid session cannot even connect; nothing is read or written.
    let bare = NativeClient::new("anonymous");
    let refused = bare
        .connect(&url)
        .await
        .expect_err("unauthenticated connect");
    assert!(format!("{refused:#}").contains("401"), "{refused:#}");
    let forged = bare
        .connect(&format!("{url}?ticket=00112233445566778899aabbccddeeff"))
        .await
        .expect_err("forged ticket");
    assert!(format!("{forged:#}").contains("401"), "{forged:#}");
    let js_anonymous = js_client::client(
        "not-a-token",
        &[
            "fetch",
            "--url",
            &url,
            "--ids",
            &visit.to_string(),
            "--timeout-ms",
            "4000",
        ],
    )
    .await;
    assert!(
        js_anonymous.is_err(),
        "JS client without a session must fail: {js_anonymous:?}"
    );

    // Expired session (time moved past its expiry): no ticket, no cookie connection.
    let expiring = Session::login(addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("login");
    db(dir.path())
        .execute(
            "UPDATE sessions SET expires_at = 0 WHERE device_id = ?1",
            [&expiring.device_id],
        )
        .expect("expire");
    assert!(
        expiring.sync_url().await.is_err(),
        "expired session gets no ticket"
    );
    let mut request = url.as_str().into_client_request().expect("request");
    let cookie = format!("doorstep_session={}", expiring.token);
    request
        .headers_mut()
        .insert("Cookie", cookie.parse().expect("header"));
    // As a browser on the server's own page sends it (a cookie upgrade needs our Origin).
    request
        .headers_mut()
        .insert("Origin", format!("http://{addr}").parse().expect("header"));
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401, "expired session cookie");
        }
        other => panic!("expired session cookie must be refused, got {other:?}"),
    }

    // Revoked device: a ticket fetched before the revocation is refused too, with "wipe".
    let tablet = Session::login(addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("login");
    let early_ticket = tablet.sync_url().await.expect("ticket");
    run_admin(
        server_binary(),
        dir.path(),
        &["device", "revoke", &tablet.device_id],
    );
    let revoked = NativeClient::new("revoked")
        .connect(&early_ticket)
        .await
        .expect_err("revoked");
    assert!(format!("{revoked:#}").contains("403"), "{revoked:#}");
    let (status, _, body) = tablet
        .request("POST", "/api/sync-ticket", None)
        .await
        .expect("ticket request");
    assert_eq!(status, 403);
    assert!(body.contains("\"wipe\":true"), "{body}");

    // Every connection refused before sign-in is on the record.
    let refused_connects: i64 = db(dir.path())
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'sync-connect' AND outcome = 'denied'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert!(
        refused_connects >= 4,
        "{refused_connects} refused connections audited"
    );

    // The per-child export lists the reads, writes and denials made above.
    let export = run_admin(
        server_binary(),
        dir.path(),
        &["audit", "export", "--child", "C-N1", "--format", "json"],
    );
    let rows: Vec<Value> = serde_json::from_str(&export).expect("export json");
    let has = |actor: &str, action: &str, outcome: &str| {
        rows.iter()
            .any(|r| r["actor"] == actor && r["action"] == action && r["outcome"] == outcome)
    };
    assert!(has("sw-north-1", "create", "allowed"));
    assert!(has("sw-north-1", "write", "allowed"));
    assert!(has("sw-north-1", "read", "allowed"));
    assert!(has("mgr-north", "read", "allowed"));
    assert!(has("sw-south-1", "sync", "denied"));
    assert!(
        has("mgr-north", "sync", "denied"),
        "read-only write refused"
    );
    assert!(has("admin-cli", "allocate", "allowed"));

    // No secret ever reached the log.
    let log = server.log();
    for secret in [
        &owner.token,
        &owner.refresh_token,
        &expiring.token,
        &tablet.token,
    ] {
        assert!(
            !log.contains(secret.as_str()),
            "a token appeared in the server log"
        );
    }
    let ticket = early_ticket.rsplit('=').next().expect("ticket");
    assert!(
        !log.contains(ticket),
        "a sync ticket appeared in the server log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn de_allocation_and_revocation_stop_a_live_connection_without_reconnecting() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = ServerProcess::start(server_binary(), dir.path(), &[]).expect("server");
    let addr = server.addr;

    let worker = Session::login(addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("login");
    let client = connected(&worker, "tablet").await;
    let visit = client.create(visit_fixture::visit_for_child(7, "C-N2", "sw-north-1", 100));
    assert!(client.wait_settled(visit, TIMEOUT).await.expect("settled"));
    let other = client.create(visit_fixture::visit_for_child(8, "C-N1", "sw-north-1", 100));
    assert!(client.wait_settled(other, TIMEOUT).await.expect("settled"));

    // The child leaves this worker's caseload while the tablet is connected.
    run_admin(
        server_binary(),
        dir.path(),
        &["deallocate", "C-N2", "sw-north-1"],
    );
    tokio::time::timeout(TIMEOUT, async {
        while !client.is_refused(visit) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the server withdraws the document on the live connection");
    assert!(client.is_connected(), "no reconnect was needed");
    client
        .change(visit, |doc| {
            let mut tx = doc.transaction();
            model::append_child_words(&mut tx, 0, " [after de-allocation]").expect("words");
            tx.commit();
        })
        .expect("local edit");
    // Changes to C-N1 still sync on the same connection.
    client
        .change(other, |doc| {
            let mut tx = doc.transaction();
            model::append_child_words(&mut tx, 0, " [still allocated]").expect("words");
            tx.commit();
        })
        .expect("local edit");
    client
        .wait_acknowledged(other, TIMEOUT)
        .await
        .expect("still syncing C-N1");
    assert!(
        !client.is_acknowledged(visit),
        "de-allocated visit no longer syncs"
    );
    let manager = Session::login(addr, "mgr-north", PASSWORD, None)
        .await
        .expect("login");
    let seen = native_read(&manager, visit).await.expect("manager reads");
    assert!(!child_words(&seen).contains("after de-allocation"));
    assert!(audit_rows(dir.path(), "sw-north-1", visit, "denied", 1).await >= 1);

    // Revoking the device ends the live connection with an instruction to wipe.
    run_admin(
        server_binary(),
        dir.path(),
        &["device", "revoke", &worker.device_id],
    );
    tokio::time::timeout(TIMEOUT, async {
        while client.is_connected() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("revocation closes the live connection");
    assert!(
        client.errors().iter().any(|e| e.contains("wipe")),
        "told to wipe: {:?}",
        client.errors()
    );
}
