//! The path a tablet really takes to sync, over HTTP and the WebSocket: sign in with the
//! password once (`POST /api/session`), later refresh the tokens
//! (`POST /api/session/refresh`, as the PWA does when it comes back online), fetch a
//! single-use ticket (`POST /api/sync-ticket`) and open `/sync?ticket=…`.
//!
//! Each device sends its HTTP requests from an address of its own in 127.0.0.0/8
//! ([`device_address`]), as tablets on mobile networks do: the server's per-address
//! sign-in throttle then sees many clients, not one guesser with dozens of attempts in
//! flight.
//!
//! Creating the accounts is not the path under test: [`provision`] writes them straight
//! into the data directory before the server starts (one Argon2id hash shared by all, so
//! that making 500 accounts does not take 500 hashes), as `doorstep-server admin` would.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::test_server::http_request_from;

/// Every benchmark account's password.
pub const PASSWORD: &str = "sync-storm-password";

/// The username of device (client) `index`.
pub fn worker_name(index: usize) -> String {
    format!("storm-worker-{index}")
}

/// The loopback address device `username` sends from: 127.x.y.z from a hash of the name
/// (never 127.0.0.1), so that each simulated tablet is a client of its own.
pub fn device_address(username: &str) -> IpAddr {
    // FNV-1a: a fixed, well-spread hash, the same in every run.
    let hash = username.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    let [_, a, b, c] = hash.to_be_bytes();
    IpAddr::V4(Ipv4Addr::new(127, a.max(1), b, c))
}

/// The team manager who fetches everything back cold.
pub const MANAGER: &str = "storm-manager";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Creates, in `dir` (before the server starts), a team holding every child in
/// `child_refs`, `workers` social workers (worker `i` allocated the children of
/// `child_refs[i * per_worker .. (i + 1) * per_worker]`) and a team manager.
///
/// # Errors
/// If the directory cannot be written.
pub fn provision(dir: &Path, child_refs: &[String], workers: usize) -> anyhow::Result<()> {
    let conn = server::directory::open_connection(dir)?;
    let hash = server::directory::hash_password(PASSWORD)
        .map_err(|err| anyhow::anyhow!("hashing the password: {err}"))?;
    let now = now_ms();
    let children: BTreeSet<&str> = child_refs.iter().map(String::as_str).collect();
    let child_ids: BTreeMap<&str, usize> = children
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, i + 1))
        .collect();
    let mut sql = String::from("BEGIN;\n");
    sql.push_str(&format!(
        "INSERT INTO teams (team_id, name, created_at) VALUES (1, 'storm', {now});\n"
    ));
    for (child, id) in &child_ids {
        sql.push_str(&format!(
            "INSERT INTO children (child_id, child_ref, team_id, created_at) \
             VALUES ({id}, '{child}', 1, {now});\n"
        ));
    }
    let per_worker = child_refs.len() / workers.max(1);
    for worker in 0..=workers {
        let (username, role) = if worker < workers {
            (worker_name(worker), "social-worker")
        } else {
            (MANAGER.to_owned(), "team-manager")
        };
        sql.push_str(&format!(
            "INSERT INTO workers (worker_id, username, display_name, role, team_id, password_hash, created_at) \
             VALUES ({}, '{username}', '{username}', '{role}', 1, '{hash}', {now});\n",
            worker + 1
        ));
        if worker == workers {
            continue;
        }
        let allocated: BTreeSet<usize> = child_refs
            [worker * per_worker..((worker + 1) * per_worker).min(child_refs.len())]
            .iter()
            .filter_map(|child| child_ids.get(child.as_str()).copied())
            .collect();
        for child in allocated {
            sql.push_str(&format!(
                "INSERT INTO allocations (child_id, worker_id, started_at) VALUES ({child}, {}, {now});\n",
                worker + 1
            ));
        }
    }
    sql.push_str("COMMIT;\n");
    conn.execute_batch(&sql).context("creating the directory")?;
    Ok(())
}

/// A device's session as the PWA keeps it.
#[derive(Debug, Clone)]
pub struct DeviceSession {
    /// Who.
    pub username: String,
    /// The access token.
    pub token: String,
    /// The refresh token.
    pub refresh_token: String,
    /// The device id the server gave.
    pub device_id: String,
}

/// One HTTP answer's status, how long it took, and its JSON body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Request to response.
    pub took: Duration,
    /// The body, parsed if JSON.
    pub body: Value,
    /// `Retry-After`, if sent.
    pub retry_after: Option<String>,
}

async fn post(
    from: &str,
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> anyhow::Result<Answer> {
    let started = Instant::now();
    let local = Some(device_address(from));
    let (status, response_headers, text) =
        http_request_from(local, addr, "POST", path, headers, body).await?;
    let retry_after = response_headers
        .iter()
        .find(|(name, _)| name == "retry-after")
        .map(|(_, value)| value.clone());
    Ok(Answer {
        status,
        took: started.elapsed(),
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        retry_after,
    })
}

/// `POST /api/session` with the password; the answer, whatever its status.
///
/// # Errors
/// If the request fails at the transport.
pub async fn sign_in_answer(
    addr: SocketAddr,
    username: &str,
    password: &str,
) -> anyhow::Result<Answer> {
    let body = json!({ "username": username, "password": password, "deviceLabel": "bench tablet" });
    post(username, addr, "/api/session", &[], Some(&body)).await
}

impl DeviceSession {
    fn from_answer(username: &str, answer: &Answer) -> anyhow::Result<Self> {
        let text = |key: &str| -> anyhow::Result<String> {
            Ok(answer.body[key]
                .as_str()
                .with_context(|| format!("session without {key}"))?
                .to_owned())
        };
        Ok(Self {
            username: username.to_owned(),
            token: text("token")?,
            refresh_token: text("refreshToken")?,
            device_id: text("deviceId")?,
        })
    }

    /// Signs in with the password.
    ///
    /// # Errors
    /// If the server does not answer `201`.
    pub async fn sign_in(addr: SocketAddr, username: &str) -> anyhow::Result<(Self, Duration)> {
        let answer = sign_in_answer(addr, username, PASSWORD).await?;
        if answer.status != 201 {
            bail!("sign-in of {username}: {} {}", answer.status, answer.body);
        }
        Ok((Self::from_answer(username, &answer)?, answer.took))
    }

    /// Refreshes the tokens (as the PWA does when its access token expired offline).
    ///
    /// # Errors
    /// If the server does not answer `200`.
    pub async fn refresh(&mut self, addr: SocketAddr) -> anyhow::Result<Duration> {
        let body = json!({ "refreshToken": self.refresh_token });
        let answer = post(
            &self.username,
            addr,
            "/api/session/refresh",
            &[],
            Some(&body),
        )
        .await?;
        if answer.status != 200 {
            bail!(
                "refresh of {}: {} {}",
                self.username,
                answer.status,
                answer.body
            );
        }
        *self = Self::from_answer(&self.username, &answer)?;
        Ok(answer.took)
    }

    /// A `/sync` URL with a fresh single-use ticket.
    ///
    /// # Errors
    /// If the server does not answer `200`.
    pub async fn ticket_url(&self, addr: SocketAddr) -> anyhow::Result<(String, Duration)> {
        let auth = format!("Bearer {}", self.token);
        let answer = post(
            &self.username,
            addr,
            "/api/sync-ticket",
            &[("Authorization", auth.as_str())],
            None,
        )
        .await?;
        if answer.status != 200 {
            bail!(
                "ticket for {}: {} {}",
                self.username,
                answer.status,
                answer.body
            );
        }
        let ticket = answer.body["ticket"].as_str().context("no ticket")?;
        Ok((format!("ws://{addr}/sync?ticket={ticket}"), answer.took))
    }
}
