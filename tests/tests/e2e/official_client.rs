//! The official automerge-repo JS client, unmodified, as an integrator would use it: it
//! keeps syncing across dropped sockets and server restarts with a session's sync
//! credential, the credential dies with its session, and a refused change is told to it.

use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};
use tests::council::{self, PASSWORD, Session};
use tests::flaky_proxy::FlakyProxy;
use tests::test_server::{bearer_request, http_request};
use tests::{NativeClient, TestServer, js_client};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const STEP: Duration = Duration::from_secs(60);

/// `reconnect.mjs` driven over its stdin and stdout.
struct Reconnecting {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Reconnecting {
    fn start(token: &str, url: &str) -> anyhow::Result<Self> {
        let mut child = tokio::process::Command::new("node")
            .args(["reconnect.mjs", "--url", url, "--child-id", "C-N1"])
            .args(["--worker-id", "sw-north-1", "--retry-ms", "200"])
            .current_dir(js_client::js_dir())
            .env("DOORSTEP_TOKEN", token)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting node reconnect.mjs")?;
        let stdin = child.stdin.take().context("stdin")?;
        let stdout = child.stdout.take().context("stdout")?;
        Ok(Self {
            child,
            stdin,
            lines: BufReader::new(stdout).lines(),
        })
    }

    async fn next_event(&mut self) -> anyhow::Result<Value> {
        let line = tokio::time::timeout(STEP, self.lines.next_line())
            .await
            .context("reconnect.mjs said nothing for a minute")??
            .context("reconnect.mjs ended")?;
        Ok(serde_json::from_str(&line)?)
    }

    async fn command(&mut self, line: &str) -> anyhow::Result<Value> {
        self.stdin.write_all(format!("{line}\n").as_bytes()).await?;
        self.stdin.flush().await?;
        self.next_event().await
    }
}

/// A fresh start of the server on the same directory.
async fn restart(server: TestServer) -> TestServer {
    let dir = server.data_dir.clone();
    server.stop().await.expect("graceful stop");
    TestServer::start(&dir).await.expect("restart")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmodified_official_client_keeps_syncing_across_a_dropped_socket_and_a_server_restart()
{
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = TestServer::start(dir.path()).await.expect("server");
    let proxy = FlakyProxy::start(server.addr).await.expect("proxy");
    let worker = Session::login(proxy.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in");
    let url = format!("ws://{}/sync", proxy.addr);
    let mut client = Reconnecting::start(&worker.token, &url).expect("node");

    let created = client.next_event().await.expect("created");
    assert_eq!(created["event"], "created", "{created}");
    let id = created["documentId"].as_str().expect("id").to_owned();

    // The signal drops: every socket cut at once. The same Repo's next edit still arrives.
    let cut = proxy.drop_connections();
    assert!(cut >= 1, "the client's socket was open");
    let synced = client
        .command("edit after the signal dropped")
        .await
        .expect("edit");
    assert_eq!(synced["event"], "synced", "{synced}");
    assert!(synced["connects"].as_u64() >= Some(2), "{synced}");

    // The server restarts (on another port; the proxy follows it, as a DNS name would).
    let server = restart(server).await;
    proxy.retarget(server.addr);
    proxy.drop_connections();
    let synced = client.command("edit after a restart").await.expect("edit");
    assert_eq!(synced["event"], "synced", "{synced}");
    assert!(synced["connects"].as_u64() >= Some(3), "{synced}");
    let done = client.command("quit").await.expect("quit");
    assert_eq!(done["event"], "done");
    let _ = client.child.wait().await;

    // Both edits are in the server's copy, read back by a native client.
    let reader = NativeClient::new("reader");
    let direct = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in");
    reader
        .connect(&direct.sync_url().await.expect("ticket"))
        .await
        .expect("connect");
    let doc = reader
        .find(id.parse().expect("document id"), STEP)
        .await
        .expect("find")
        .expect("the server holds it");
    let visit = shared::model::Visit::read(&doc).expect("a visit");
    let words = &visit.voice[0].words;
    assert!(words.contains("after the signal dropped"), "{words}");
    assert!(words.contains("after a restart"), "{words}");
    reader.disconnect().await;
    server.stop().await.expect("stop");
}

/// A WebSocket upgrade to `path`; the HTTP status the server answered (the socket is
/// dropped right after the status line).
async fn upgrade_status(server: &TestServer, path: &str) -> u16 {
    use tokio::io::AsyncReadExt;
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        server.addr
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n") {
        let read = stream.read(&mut byte).await.expect("read");
        assert!(read == 1, "closed before a status line");
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head)
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .expect("status line")
}

async fn sync_credential(server: &TestServer, token: &str) -> String {
    let (status, _, body) =
        bearer_request(server.addr, "POST", "/api/sync-credential", token, None)
            .await
            .expect("request");
    assert_eq!(status, 201, "{body}");
    let body: Value = serde_json::from_str(&body).expect("json");
    body["credential"].as_str().expect("credential").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_credential_opens_sync_again_and_again_but_dies_with_its_session() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = TestServer::start(dir.path()).await.expect("server");
    let worker = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in");
    let credential = sync_credential(&server, &worker.token).await;
    let path = format!("/sync?credential={credential}");
    for _ in 0..3 {
        assert_eq!(upgrade_status(&server, &path).await, 101, "reusable");
    }
    // A ticket, by contrast, opens once.
    let ticket_url = worker.sync_url().await.expect("ticket");
    let ticket_path = &ticket_url[ticket_url.find("/sync").expect("path")..];
    assert_eq!(upgrade_status(&server, ticket_path).await, 101);
    assert_eq!(
        upgrade_status(&server, ticket_path).await,
        401,
        "single use"
    );
    // Issuing a new credential replaces the old.
    let second = sync_credential(&server, &worker.token).await;
    assert_eq!(upgrade_status(&server, &path).await, 401, "replaced");
    let path = format!("/sync?credential={second}");
    assert_eq!(upgrade_status(&server, &path).await, 101);
    // It survives a restart (it is stored, hashed) ...
    let server = restart(server).await;
    assert_eq!(upgrade_status(&server, &path).await, 101, "after a restart");
    // ... and dies with the session: sign-out ends it.
    let (status, _, _) = bearer_request(server.addr, "DELETE", "/api/session", &worker.token, None)
        .await
        .expect("sign out");
    assert_eq!(status, 204);
    assert_eq!(upgrade_status(&server, &path).await, 401, "signed out");
    // A refresh ends the session it refreshes, and its credential with it.
    let other = Session::login(server.addr, "sw-north-2", PASSWORD, None)
        .await
        .expect("sign in");
    let credential = sync_credential(&server, &other.token).await;
    let path = format!("/sync?credential={credential}");
    assert_eq!(upgrade_status(&server, &path).await, 101);
    let (status, _, _) = http_request(
        server.addr,
        "POST",
        "/api/session/refresh",
        &[],
        Some(&json!({ "refreshToken": other.refresh_token })),
    )
    .await
    .expect("refresh");
    assert_eq!(status, 200);
    assert_eq!(upgrade_status(&server, &path).await, 401, "refreshed away");
    server.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_managers_refused_change_is_told_to_the_official_client() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = TestServer::start(dir.path()).await.expect("server");
    let url = server.url();
    let worker = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in");
    let created = js_client::client(
        &worker.token,
        &[
            "create",
            "--url",
            &url,
            "--count",
            "1",
            "--child-id",
            "C-N1",
            "--worker-id",
            "sw-north-1",
        ],
    )
    .await
    .expect("create");
    let id = created["docs"][0]["documentId"]
        .as_str()
        .expect("id")
        .to_owned();
    let heads_before = created["docs"][0]["heads"].clone();

    // The team manager reads the visit (read-only through sync) and tries to change it.
    let manager = Session::login(server.addr, "mgr-north", PASSWORD, None)
        .await
        .expect("manager");
    let refused = js_client::client(
        &manager.token,
        &[
            "expect-refusal",
            "--url",
            &url,
            "--id",
            &id,
            "--field",
            "seenAlone",
            "--json",
            "false",
        ],
    )
    .await
    .expect("the manager's client hears the refusal");
    assert_eq!(refused["notice"]["type"], "doorstep/refused", "{refused}");
    assert_eq!(refused["notice"]["reason"], "read-only", "{refused}");
    assert_eq!(refused["notice"]["documentId"], id.as_str());

    // Nothing of the change was kept.
    let fetched = js_client::client(&worker.token, &["fetch", "--url", &url, "--ids", &id])
        .await
        .expect("fetch");
    assert_eq!(fetched["docs"][0]["heads"], heads_before);
    assert_eq!(fetched["docs"][0]["content"]["seenAlone"], true);
    server.stop().await.expect("stop");
}
