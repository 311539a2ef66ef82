//! Password guessing against the real server: a burst of concurrent sign-ins gets no more
//! guesses than the limit (failures are counted before any password is checked), the right
//! password is refused once the limit is reached, and guessing is throttled per client
//! address as well as per username (behind a TLS proxy, by the proxy's own
//! `X-Forwarded-For` hop). An honest worker signs in and syncs meanwhile.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use crate::server_binary;
use serde_json::{Value, json};
use server::directory::sessions::{MAX_ADDRESS_FAILURES, MAX_FAILURES};
use tests::council::{self, PASSWORD, Session};
use tests::test_server::http_request_from;
use tests::{NativeClient, ServerProcess, visit_fixture};

const TIMEOUT: Duration = Duration::from_secs(20);

fn db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join(server::DATABASE_FILE)).expect("open database")
}

async fn sign_in_from(
    from: Option<IpAddr>,
    addr: SocketAddr,
    username: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let body = json!({ "username": username, "password": password });
    let (status, _, body) =
        http_request_from(from, addr, "POST", "/api/session", headers, Some(&body))
            .await
            .expect("request");
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// An honest worker signs in, syncs a new visit and sees it acknowledged.
async fn honest_worker_syncs(addr: SocketAddr, username: &str, child: &str) {
    let session = Session::login(addr, username, PASSWORD, None)
        .await
        .expect("honest sign-in");
    session_syncs(&session, username, child).await;
}

/// A signed-in worker syncs a new visit and sees it acknowledged.
async fn session_syncs(session: &Session, username: &str, child: &str) {
    let client = NativeClient::new("honest");
    client
        .connect(&session.sync_url().await.expect("ticket"))
        .await
        .expect("connect");
    let visit = client.create(visit_fixture::visit_for_child(7, child, username, 200));
    client
        .wait_acknowledged(visit, TIMEOUT)
        .await
        .expect("honest visit stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_sign_ins_gets_no_more_guesses_than_the_limit_and_then_the_right_password_is_refused()
 {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = ServerProcess::start(server_binary(), dir.path(), &[]).expect("server");
    let addr = server.addr;

    // 60 at once: 59 wrong and the right one in the middle; an honest colleague meanwhile.
    let mut attempts = Vec::new();
    for n in 0..60 {
        let password = if n == 30 {
            PASSWORD.to_owned()
        } else {
            format!("wrong guess {n:02}")
        };
        attempts.push(tokio::spawn(async move {
            let (status, _) = sign_in_from(None, addr, "sw-north-1", &password, &[]).await;
            (n, status)
        }));
    }
    let honest = tokio::spawn(honest_worker_syncs(addr, "sw-north-2", "C-N3"));
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.expect("attempt"));
    }
    honest
        .await
        .expect("the honest worker signed in and synced");

    let count = |wanted: u16| statuses.iter().filter(|(_, s)| *s == wanted).count();
    let wrong_checked = count(401);
    assert_eq!(
        count(401) + count(201) + count(429),
        60,
        "only 401, 201 and 429: {statuses:?}"
    );
    assert!(
        wrong_checked as i64 <= MAX_FAILURES,
        "{wrong_checked} wrong passwords checked: {statuses:?}"
    );
    assert!(count(201) <= 1);
    // The audit trail agrees: passwords actually checked (wrong ones and the right one).
    let (bad, good): (i64, i64) = db(dir.path())
        .query_row(
            "SELECT count(*) FILTER (WHERE outcome = 'denied' AND detail LIKE 'bad credentials%'),
                    count(*) FILTER (WHERE outcome = 'allowed')
             FROM audit_log WHERE action = 'login' AND actor = 'sw-north-1'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("audit");
    assert!(bad <= MAX_FAILURES, "{bad} wrong passwords checked");
    assert_eq!(
        good,
        i64::from(statuses[30].1 == 201),
        "the right one, if it got in"
    );
    eprintln!(
        "burst of 60 (59 wrong, 1 right): {bad} wrong passwords checked, right one answered {}, {} refused with 429",
        statuses[30].1,
        count(429)
    );
    // If the right one got in among the first few, the burst checked fewer than the limit;
    // the guesses still allowed are allowed, and then no more.
    for n in wrong_checked as i64..MAX_FAILURES {
        let (status, body) = sign_in_from(None, addr, "sw-north-1", "one more guess", &[]).await;
        assert_eq!(status, 401, "guess {n} is still within the limit: {body}");
    }
    let (status, _) = sign_in_from(None, addr, "sw-north-1", "and another", &[]).await;
    assert_eq!(status, 429, "the limit is reached");
    // The right password after the limit: refused.
    let (status, body) = sign_in_from(None, addr, "sw-north-1", PASSWORD, &[]).await;
    assert_eq!(status, 429, "{body}");
    assert!(
        body["error"].as_str().unwrap_or("").contains("try again"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_is_throttled_per_client_address_across_usernames() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server = ServerProcess::start(server_binary(), dir.path(), &[]).expect("server");
    let attacker: IpAddr = "127.0.0.1".parse().expect("ip");
    let colleague: IpAddr = "127.0.0.2".parse().expect("ip");

    // One address sprays usernames (never one username's limit).
    for n in 0..MAX_ADDRESS_FAILURES {
        let (status, body) = sign_in_from(
            Some(attacker),
            server.addr,
            &format!("guess-{n}"),
            "wrong password!",
            &[],
        )
        .await;
        assert_eq!(status, 401, "attempt {n}: {body}");
    }
    let (status, body) =
        sign_in_from(Some(attacker), server.addr, "sw-north-1", PASSWORD, &[]).await;
    assert_eq!(
        status, 429,
        "the address is locked, right password or not: {body}"
    );
    // Another machine signs in as that user at once, and syncs.
    let (status, body) =
        sign_in_from(Some(colleague), server.addr, "sw-north-1", PASSWORD, &[]).await;
    assert_eq!(status, 201, "{body}");
    let session = Session {
        addr: server.addr,
        token: body["token"].as_str().expect("token").to_owned(),
        refresh_token: body["refreshToken"].as_str().expect("refresh").to_owned(),
        device_id: body["deviceId"].as_str().expect("device").to_owned(),
        username: "sw-north-1".to_owned(),
    };
    session_syncs(&session, "sw-north-1", "C-N1").await;

    let locked: i64 = db(dir.path())
        .query_row(
            "SELECT count(*) FROM audit_log
             WHERE action = 'login' AND detail LIKE 'locked out (address limit)%'",
            [],
            |row| row.get(0),
        )
        .expect("audit");
    assert_eq!(locked, 1, "the refusal is audited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_tls_proxy_only_the_proxy_s_own_forwarded_hop_counts() {
    tests::init_logging();
    let dir = tempfile::tempdir().expect("tempdir");
    council::create(dir.path()).expect("council");
    let server =
        ServerProcess::start(server_binary(), dir.path(), &["--behind-tls-proxy"]).expect("server");
    // The client adds its own entries first; the proxy appends the address it saw.
    let spoofing = "10.9.9.9, 203.0.113.9";
    for n in 0..MAX_ADDRESS_FAILURES {
        let (status, _) = sign_in_from(
            None,
            server.addr,
            &format!("guess-{n}"),
            "wrong password!",
            &[("X-Forwarded-For", spoofing)],
        )
        .await;
        assert_eq!(status, 401);
    }
    let (status, _) = sign_in_from(
        None,
        server.addr,
        "sw-north-1",
        PASSWORD,
        &[("X-Forwarded-For", "10.1.1.1, 203.0.113.9")],
    )
    .await;
    assert_eq!(status, 429, "same last hop, whatever came before it");
    let (status, body) = sign_in_from(
        None,
        server.addr,
        "sw-north-1",
        PASSWORD,
        &[("X-Forwarded-For", "203.0.113.9, 198.51.100.4")],
    )
    .await;
    assert_eq!(status, 201, "another client behind the proxy: {body}");
    let recorded: i64 = db(dir.path())
        .query_row(
            "SELECT count(*) FROM login_failures WHERE address = '203.0.113.9'",
            [],
            |row| row.get(0),
        )
        .expect("failures");
    assert_eq!(recorded, MAX_ADDRESS_FAILURES);
}
