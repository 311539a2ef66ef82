//! Signing in against the real server: password guessing is throttled, tokens rest only as
//! hashes, sessions refresh and end, the audit log refuses changes, and HTTP responses carry
//! the security headers and cookie flags.

use std::path::Path;

use crate::server_binary;
use serde_json::{Value, json};
use tests::ServerProcess;
use tests::council::{self, PASSWORD, Session};
use tests::test_server::{bearer_request, http_request};

fn db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("doorstep.sqlite3")).expect("open database")
}

async fn sign_in(addr: std::net::SocketAddr, username: &str, password: &str) -> (u16, Value) {
    let body = json!({ "username": username, "password": password });
    let (status, _, body) = http_request(addr, "POST", "/api/session", &[], Some(&body))
        .await
        .expect("request");
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_guessing_is_locked_out_with_429_and_other_accounts_are_unaffected() {
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = ServerProcess::start(server_binary(), dir.path(), &[]).expect("server");

    for attempt in 1..=5 {
        let (status, body) = sign_in(server.addr, "sw-north-1", "wrong password!").await;
        assert_eq!(status, 401, "attempt {attempt}: {body}");
        assert_eq!(body["error"], "username or password is not right");
    }
    // Locked out now, even with the right password.
    let (status, body) = sign_in(server.addr, "sw-north-1", PASSWORD).await;
    assert_eq!(status, 429, "{body}");
    assert!(
        body["error"].as_str().unwrap_or("").contains("try again"),
        "{body}"
    );
    // An unknown username answers exactly like a wrong password.
    let (status, body) = sign_in(server.addr, "nobody-here", "wrong password!").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "username or password is not right");
    // Someone else signs in normally.
    let (status, _) = sign_in(server.addr, "sw-north-2", PASSWORD).await;
    assert_eq!(status, 201);

    let failures: i64 = db(dir.path())
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'login' AND outcome = 'denied'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert!(failures >= 6, "{failures} failed sign-ins audited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_rest_only_as_hashes_never_reach_the_log_and_sessions_refresh_and_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = ServerProcess::start(server_binary(), dir.path(), &[]).expect("server");
    let session = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("login");
    let ticket_url = session.sync_url().await.expect("ticket");
    let ticket = ticket_url.rsplit('=').next().expect("ticket").to_owned();

    // Refresh rotates both tokens; the old access token stops working.
    let (status, _, body) = http_request(
        server.addr,
        "POST",
        "/api/session/refresh",
        &[],
        Some(&json!({ "refreshToken": session.refresh_token })),
    )
    .await
    .expect("refresh");
    assert_eq!(status, 200, "{body}");
    let refreshed: Value = serde_json::from_str(&body).expect("json");
    let new_token = refreshed["token"].as_str().expect("token").to_owned();
    assert_ne!(new_token, session.token);
    assert!(session.sync_url().await.is_err(), "old token retired");

    // Nothing secret rests in the database files in the clear (WAL included).
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("data dir") {
        stored.extend(std::fs::read(entry.expect("entry").path()).expect("read"));
    }
    for secret in [
        &session.token,
        &session.refresh_token,
        &new_token,
        &ticket,
        &PASSWORD.to_owned(),
    ] {
        let needle = secret.as_bytes();
        assert!(
            !stored.windows(needle.len()).any(|w| w == needle),
            "a secret is stored in the clear"
        );
    }
    let hashed: i64 = db(dir.path())
        .query_row(
            "SELECT count(*) FROM sessions WHERE length(token_hash) = 32",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert!(hashed >= 1);

    // Logout ends the session.
    let (status, headers, _) =
        bearer_request(server.addr, "DELETE", "/api/session", &new_token, None)
            .await
            .expect("logout");
    assert_eq!(status, 204);
    assert!(
        headers
            .iter()
            .any(|(name, value)| name == "set-cookie" && value.contains("Max-Age=0")),
        "logout clears the cookie: {headers:?}"
    );
    let (status, _, _) = bearer_request(server.addr, "POST", "/api/sync-ticket", &new_token, None)
        .await
        .expect("ticket after logout");
    assert_eq!(status, 401);

    let log = server.log();
    assert!(log.contains("sign"), "the log records sign-ins: {log}");
    for secret in [&session.token, &session.refresh_token, &new_token, &ticket] {
        assert!(
            !log.contains(secret.as_str()),
            "a token appeared in the log"
        );
    }
}

#[test]
fn the_audit_log_refuses_update_and_delete() {
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let conn = db(dir.path());
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))
        .expect("count");
    assert!(rows > 0, "creating the council was audited");
    let update = conn.execute("UPDATE audit_log SET actor = 'someone else'", []);
    let delete = conn.execute("DELETE FROM audit_log", []);
    for refused in [update, delete] {
        let message = refused.expect_err("must be refused").to_string();
        assert!(message.contains("append-only"), "{message}");
    }
    let after: i64 = conn
        .query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))
        .expect("count");
    assert_eq!(after, rows);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_carry_security_headers_and_cookies_are_locked_down() {
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server =
        ServerProcess::start(server_binary(), dir.path(), &["--behind-tls-proxy"]).expect("server");
    let body = json!({ "username": "sw-north-1", "password": PASSWORD });
    let (status, headers, _) = http_request(server.addr, "POST", "/api/session", &[], Some(&body))
        .await
        .expect("sign in");
    assert_eq!(status, 201);
    let header = |name: &str| -> String {
        headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let csp = header("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(
        csp.contains("'wasm-unsafe-eval'"),
        "a wasm PWA must be allowed to run: {csp}"
    );
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert!(header("strict-transport-security").contains("max-age="));
    let cookie = header("set-cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(cookie.contains(flag), "cookie lacks {flag}: {cookie}");
    }

    // Bad input gets a clear status and message, never a crash.
    let (status, _, _) = http_request(
        server.addr,
        "POST",
        "/api/session",
        &[],
        Some(&json!({ "username": "" , "password": "" })),
    )
    .await
    .expect("empty sign-in");
    assert_eq!(status, 400);
    let (status, _, _) = http_request(server.addr, "POST", "/api/sync-ticket", &[], None)
        .await
        .expect("no token");
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_serves_tls_itself_with_hsts_and_secure_cookies() {
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, certified.cert.pem()).expect("write cert");
    std::fs::write(&key_path, certified.signing_key.serialize_pem()).expect("write key");
    let server = ServerProcess::start(
        server_binary(),
        dir.path(),
        &[
            "--tls-cert",
            cert_path.to_str().expect("path"),
            "--tls-key",
            key_path.to_str().expect("path"),
        ],
    )
    .expect("server");

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(certified.cert.der().clone())
        .expect("trust the test certificate");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocols")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("tcp");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let mut tls = connector.connect(name, tcp).await.expect("TLS handshake");
    let body = json!({ "username": "sw-north-1", "password": PASSWORD }).to_string();
    let request = format!(
        "POST /api/session HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    let _ = tls.read_to_string(&mut response).await;
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    let lower = response.to_ascii_lowercase();
    assert!(
        lower.contains("strict-transport-security: max-age="),
        "{response}"
    );
    let cookie = lower
        .lines()
        .find(|line| line.starts_with("set-cookie:"))
        .expect("a session cookie");
    assert!(cookie.contains("; secure"), "{cookie}");

    // Plain HTTP to the TLS port gets nowhere.
    assert!(
        http_request(server.addr, "GET", "/healthz", &[], None)
            .await
            .map(|(status, _, _)| status != 200)
            .unwrap_or(true)
    );
}

/// Issue 15: a device that signed out offline sends its refresh token's hash at its next
/// contact; the session ends, so neither its token nor the browser's cookie works after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_sign_out_revokes_the_session_and_its_cookie_at_the_next_contact() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = ServerProcess::start(server_binary(), dir.path(), &[]).expect("server");
    let session = Session::login(server.addr, "sw-north-1", PASSWORD, None)
        .await
        .expect("sign in");
    let bearer = format!("Bearer {}", session.token);
    let cookie = format!("doorstep_session={}", session.token);
    for header in [
        ("Authorization", bearer.as_str()),
        ("Cookie", cookie.as_str()),
    ] {
        let (status, _, _) = http_request(server.addr, "GET", "/api/caseload", &[header], None)
            .await
            .expect("request");
        assert_eq!(status, 200, "before: {header:?}");
    }
    let hash: String = Sha256::digest(session.refresh_token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let body = json!({ "refreshTokenHash": hash });
    let (status, _, text) = http_request(server.addr, "DELETE", "/api/session", &[], Some(&body))
        .await
        .expect("request");
    assert_eq!(status, 204, "{text}");
    for header in [
        ("Authorization", bearer.as_str()),
        ("Cookie", cookie.as_str()),
    ] {
        let (status, _, _) = http_request(server.addr, "GET", "/api/caseload", &[header], None)
            .await
            .expect("request");
        assert_eq!(status, 401, "after: {header:?}");
    }
    let refresh = json!({ "refreshToken": session.refresh_token });
    let (status, _, _) = http_request(
        server.addr,
        "POST",
        "/api/session/refresh",
        &[],
        Some(&refresh),
    )
    .await
    .expect("request");
    assert_eq!(status, 401, "the refresh token is revoked too");
    // Sending it again changes nothing and says nothing more.
    let (status, _, _) = http_request(server.addr, "DELETE", "/api/session", &[], Some(&body))
        .await
        .expect("request");
    assert_eq!(status, 204);
    let logouts: i64 = db(dir.path())
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'logout' AND actor = 'sw-north-1'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(logouts, 1);
}
