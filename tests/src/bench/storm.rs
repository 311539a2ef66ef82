//! The sync storm, for one server: C devices reconnect at once, each with M visits typed
//! offline, then the server restarts and a manager fetches every document back cold.
//!
//! Doorstep's devices take the real path ([`super::real_path`]): before the storm each
//! signs in with its password over HTTP (the day before, as it were; the server's peak
//! memory includes these sign-ins), and in the storm each refreshes its tokens, fetches a
//! ticket and opens the WebSocket, then creates its documents and waits until the server
//! acknowledges every one (durable in SQLite). The Node baseline has no authentication: its
//! clients just connect.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use automerge::{Automerge, ChangeHash};
use futures::future::join_all;
use shared::DocumentId;
use tokio::time::Instant;

use super::meter::{CpuMeter, clock_ticks_per_second, dir_size, peak_rss_kib, rss_kib};
use super::real_path::{self, DeviceSession, MANAGER};
use super::report::{Report, ms, percentile};
use super::servers::{Kind, Running};
use crate::NativeClient;

/// The pre-generated documents, `clients × docs_per_client`, client-major.
pub struct Fixture {
    /// The documents.
    pub docs: Vec<Automerge>,
    /// Each one's heads, sorted.
    pub heads: Vec<Vec<ChangeHash>>,
    /// The `childId` each visit names (Doorstep accepts visits for allocated children only).
    pub child_refs: Vec<String>,
}

/// A document's heads, sorted.
pub fn sorted_heads(doc: &Automerge) -> Vec<ChangeHash> {
    let mut heads = doc.get_heads();
    heads.sort();
    heads
}

/// Children in one worker's caseload in the fixture.
pub const CASELOAD: usize = 10;

impl Fixture {
    /// Generates `clients × per_client` visits of about `words_bytes` of child's words
    /// typed in small bursts (one automerge change each), visit `i` by client `i / M`.
    ///
    /// Each client's worker has a caseload of their own (up to [`CASELOAD`] children, no
    /// child shared with another worker), as tablets in a storm belong to different workers.
    /// The server offers every new visit at once to every other connection that may change
    /// its child's records, so a fixture sharing each child among half the clients (as
    /// `visit_with_history`'s 40 children would) measures that fan-out instead: each visit
    /// synced to 24 other tablets at C=50.
    ///
    /// # Errors
    /// If a generated visit names no child.
    pub fn generate(clients: usize, per_client: usize, words_bytes: usize) -> anyhow::Result<Self> {
        let docs: Vec<Automerge> = (0..clients * per_client)
            .map(|seed| {
                let (client, visit) = (seed / per_client, seed % per_client);
                let worker = real_path::worker_name(client);
                let child = format!("child-{client}-{}", visit % CASELOAD);
                crate::visit_fixture::visit_for_child(seed as u64, &child, &worker, words_bytes)
            })
            .collect();
        let heads = docs.iter().map(sorted_heads).collect();
        let child_refs = docs
            .iter()
            .map(|doc| shared::model::visit_child_id(doc).context("fixture visit without childId"))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self {
            docs,
            heads,
            child_refs,
        })
    }
}

/// How a storm is run.
#[derive(Debug, Clone)]
pub struct StormOptions {
    /// Devices.
    pub clients: usize,
    /// Documents per device.
    pub docs_per_client: usize,
    /// Bound on the storm and on the cold fetch, each.
    pub timeout: Duration,
    /// Keep the data directories.
    pub keep_data: bool,
    /// Extra `serve` arguments for Doorstep.
    pub doorstep_args: Vec<String>,
}

struct ClientOutcome {
    client: NativeClient,
    handshake: Result<Duration, String>,
    refresh: Option<Duration>,
    ticket: Option<Duration>,
    /// Per document (in fixture order): its id and create→acknowledged latency.
    docs: Vec<(DocumentId, Option<Duration>)>,
    errors: Vec<String>,
}

/// How a device reaches `/sync` for the storm.
enum Route {
    /// Node: the bare URL.
    Plain(String),
    /// Doorstep: refresh the session, fetch a ticket, then connect.
    RealPath {
        addr: std::net::SocketAddr,
        session: DeviceSession,
    },
}

async fn storm_client(
    index: usize,
    route: Route,
    docs: Vec<Automerge>,
    deadline: Instant,
    acked_so_far: Arc<AtomicUsize>,
) -> ClientOutcome {
    let client = NativeClient::new(&format!("tablet-{index}"));
    let started = Instant::now();
    let (mut refresh, mut ticket) = (None, None);
    let connect = async {
        let url = match route {
            Route::Plain(url) => url,
            Route::RealPath { addr, mut session } => {
                refresh = Some(session.refresh(addr).await?);
                let (url, took) = session.ticket_url(addr).await?;
                ticket = Some(took);
                url
            }
        };
        client.connect(&url).await
    };
    let handshake = match tokio::time::timeout_at(deadline, connect).await {
        Ok(Ok(())) => Ok(started.elapsed()),
        Ok(Err(err)) => Err(format!("{err:#}")),
        Err(_) => Err("timed out".to_owned()),
    };
    if handshake.is_err() {
        return ClientOutcome {
            client,
            handshake,
            refresh,
            ticket,
            docs: Vec::new(),
            errors: Vec::new(),
        };
    }
    // The backlog: every document created at once.
    let created: Vec<(DocumentId, Instant)> = docs
        .into_iter()
        .map(|doc| {
            let at = Instant::now();
            (client.create(doc), at)
        })
        .collect();
    let waits = created.iter().map(|&(id, at)| {
        let client = client.clone();
        let acked_so_far = acked_so_far.clone();
        async move {
            let left = deadline.saturating_duration_since(Instant::now());
            let acked = client.wait_acknowledged(id, left).await.is_ok();
            if acked {
                acked_so_far.fetch_add(1, Ordering::Relaxed);
            }
            (id, acked.then(|| at.elapsed()))
        }
    });
    let docs = join_all(waits).await;
    let errors = client.errors();
    ClientOutcome {
        client,
        handshake,
        refresh,
        ticket,
        docs,
        errors,
    }
}

/// Every 5 s: documents acknowledged so far and the server's CPU per thread (stderr).
async fn report_progress(kind: Kind, pid: u32, hz: f64, acked: Arc<AtomicUsize>, total: usize) {
    let started = Instant::now();
    let mut meter = CpuMeter::start(pid, hz);
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let used = meter.stop();
        eprintln!(
            "[{}] t={:>5.1}s acknowledged {}/{total}; last 5 s CPU: {}",
            kind.name(),
            started.elapsed().as_secs_f64(),
            acked.load(Ordering::Relaxed),
            used.summary()
        );
        meter = CpuMeter::start(pid, hz);
    }
}

/// Waits (up to 5 s, within the deadline) for the manager's copy to reach `heads`.
async fn settle_heads(
    manager: &NativeClient,
    id: DocumentId,
    heads: &[ChangeHash],
    deadline: Instant,
) -> bool {
    let until = deadline.min(Instant::now() + Duration::from_secs(5));
    loop {
        if manager
            .document(id)
            .is_some_and(|doc| sorted_heads(&doc) == heads)
        {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Signs every session in with its password, all at once; their latencies.
async fn sign_in_all(
    addr: std::net::SocketAddr,
    usernames: Vec<String>,
) -> anyhow::Result<Vec<(DeviceSession, Duration)>> {
    let tasks: Vec<_> = usernames
        .into_iter()
        .map(|username| tokio::spawn(async move { DeviceSession::sign_in(addr, &username).await }))
        .collect();
    let mut signed_in = Vec::with_capacity(tasks.len());
    for task in tasks {
        signed_in.push(task.await.context("sign-in task panicked")??);
    }
    Ok(signed_in)
}

/// Runs one server through the storm and the cold fetch.
///
/// # Errors
/// If a server cannot start or stop, or the directory cannot be made.
pub async fn run_server(
    kind: Kind,
    options: &StormOptions,
    fixture: &Fixture,
) -> anyhow::Result<Report> {
    let run_started = Instant::now();
    let hz = clock_ticks_per_second();
    let data = tempfile::Builder::new()
        .prefix(&format!("sync-storm-{}-", kind.name()))
        .tempdir()?;
    let dir = data.path().to_owned();
    let _data = if options.keep_data {
        eprintln!("[{}] keeping {}", kind.name(), data.keep().display());
        None
    } else {
        Some(data)
    };
    let m = options.docs_per_client;
    let mut report = Report {
        server: kind.name().to_owned(),
        clients: options.clients,
        docs_per_client: m,
        docs: fixture.docs.len(),
        clean_shutdowns: true,
        ..Report::default()
    };
    // Copies made before timing: each client task owns its backlog.
    let backlogs: Vec<Vec<Automerge>> = fixture.docs.chunks(m).map(<[Automerge]>::to_vec).collect();
    if kind == Kind::Doorstep {
        real_path::provision(&dir, &fixture.child_refs, options.clients)?;
    }
    let extra: Vec<&str> = options.doorstep_args.iter().map(String::as_str).collect();
    eprintln!("[{}] starting server on {}", kind.name(), dir.display());
    let server = Running::start(kind, &dir, &extra)?;
    if kind == Kind::Node {
        server.wait_handshake_ready().await?;
    }
    let pid = server.pid();
    let addr = server.addr();
    tokio::time::sleep(Duration::from_millis(300)).await;
    report.idle_rss_kib = rss_kib(pid)?;

    // --- Yesterday: every device (and the manager) signs in with its password.
    let mut sessions = Vec::new();
    let mut manager_session = None;
    if kind == Kind::Doorstep {
        eprintln!(
            "[doorstep] {} password sign-ins over HTTP",
            options.clients + 1
        );
        let cpu = CpuMeter::start(pid, hz);
        let started = Instant::now();
        let mut usernames: Vec<String> = (0..options.clients).map(real_path::worker_name).collect();
        usernames.push(MANAGER.to_owned());
        let mut signed_in = sign_in_all(addr, usernames).await?;
        report.sign_in_wall_s = started.elapsed().as_secs_f64();
        report.sign_in_cpu_s = cpu.stop().server_s;
        let mut took: Vec<Duration> = signed_in.iter().map(|(_, d)| *d).collect();
        took.sort();
        report.sign_ins = took.len();
        report.sign_in_p50_ms = ms(percentile(&took, 0.50));
        report.sign_in_p95_ms = ms(percentile(&took, 0.95));
        report.peak_rss_after_sign_in_kib = peak_rss_kib(pid)?;
        manager_session = signed_in.pop().map(|(session, _)| session);
        sessions = signed_in.into_iter().map(|(session, _)| session).collect();
    }

    // --- Storm.
    eprintln!(
        "[{}] storm: {} clients x {m} docs",
        kind.name(),
        options.clients
    );
    let routes: Vec<Route> = match kind {
        Kind::Doorstep => sessions
            .into_iter()
            .map(|session| Route::RealPath { addr, session })
            .collect(),
        Kind::Node => (0..options.clients)
            .map(|_| Route::Plain(server.url()))
            .collect(),
    };
    let cpu = CpuMeter::start(pid, hz);
    let storm_started = Instant::now();
    let deadline = storm_started + options.timeout;
    let acked_so_far = Arc::new(AtomicUsize::new(0));
    let progress = tokio::spawn(report_progress(
        kind,
        pid,
        hz,
        acked_so_far.clone(),
        report.docs,
    ));
    let tasks: Vec<_> = backlogs
        .into_iter()
        .zip(routes)
        .enumerate()
        .map(|(index, (docs, route))| {
            tokio::spawn(storm_client(
                index,
                route,
                docs,
                deadline,
                acked_so_far.clone(),
            ))
        })
        .collect();
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        outcomes.push(task.await.context("storm client task panicked")?);
    }
    let storm_wall = storm_started.elapsed();
    report.storm_cpu = cpu.stop();
    progress.abort();

    let (mut latencies, mut handshakes, mut refreshes, mut tickets) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut fetch_list: Vec<(DocumentId, Vec<ChangeHash>, bool)> = Vec::new();
    for (index, outcome) in outcomes.iter().enumerate() {
        match &outcome.handshake {
            Ok(d) => handshakes.push(*d),
            Err(err) => {
                report.handshakes_failed += 1;
                eprintln!("[{}] client {index} failed to connect: {err}", kind.name());
            }
        }
        refreshes.extend(outcome.refresh);
        tickets.extend(outcome.ticket);
        report.lost_in_storm += m - outcome.docs.len();
        report.protocol_errors += outcome.errors.len();
        for err in &outcome.errors {
            eprintln!("[{}] client {index} got error: {err}", kind.name());
        }
        for (j, (id, latency)) in outcome.docs.iter().enumerate() {
            match latency {
                Some(l) => {
                    report.acknowledged += 1;
                    latencies.push(*l);
                }
                None => report.lost_in_storm += 1,
            }
            fetch_list.push((*id, fixture.heads[index * m + j].clone(), latency.is_some()));
        }
    }
    for list in [
        &mut latencies,
        &mut handshakes,
        &mut refreshes,
        &mut tickets,
    ] {
        list.sort();
    }
    report.storm_wall_s = storm_wall.as_secs_f64();
    report.docs_per_s = report.docs as f64 / report.storm_wall_s;
    report.latency_p50_ms = ms(percentile(&latencies, 0.50));
    report.latency_p95_ms = ms(percentile(&latencies, 0.95));
    report.latency_max_ms = ms(percentile(&latencies, 1.0));
    report.handshake_p50_ms = ms(percentile(&handshakes, 0.50));
    report.handshake_p95_ms = ms(percentile(&handshakes, 0.95));
    report.handshake_max_ms = ms(percentile(&handshakes, 1.0));
    report.refresh_p95_ms = ms(percentile(&refreshes, 0.95));
    report.ticket_p95_ms = ms(percentile(&tickets, 0.95));
    report.server_cpu_per_doc_ms =
        report.storm_cpu.server_s * 1000.0 / report.acknowledged.max(1) as f64;

    for outcome in &outcomes {
        outcome.client.disconnect().await;
    }
    drop(outcomes);
    report.peak_rss_after_storm_kib = peak_rss_kib(pid)?;
    eprintln!(
        "[{}] storm done in {:.2} s; restarting server",
        kind.name(),
        report.storm_wall_s
    );
    report.clean_shutdowns &= server.stop()?;
    report.db_bytes_after_storm = dir_size(&dir);

    // --- Cold fetch.
    let server = Running::start(kind, &dir, &extra)?;
    if kind == Kind::Node {
        server.wait_handshake_ready().await?;
    }
    let pid = server.pid();
    let addr = server.addr();
    let cpu = CpuMeter::start(pid, hz);
    // The cold fetch gets its own time budget.
    let deadline = Instant::now() + options.timeout;
    let manager = NativeClient::new("manager");
    let connect_started = Instant::now();
    let manager_url = match manager_session {
        Some(mut session) => {
            session.refresh(addr).await?;
            session.ticket_url(addr).await?.0
        }
        None => server.url(),
    };
    tokio::time::timeout_at(deadline, manager.connect(&manager_url))
        .await
        .context("manager handshake timed out")??;
    report.cold_connect_ms = ms(connect_started.elapsed());
    eprintln!("[{}] cold fetch of {} docs", kind.name(), fetch_list.len());
    let fetch_started = Instant::now();
    let left = deadline.saturating_duration_since(Instant::now());
    let found = join_all(fetch_list.iter().map(|(id, ..)| manager.find(*id, left))).await;
    report.cold_cpu = cpu.stop();
    report.cold_fetch_s = fetch_started.elapsed().as_secs_f64();
    report.cold_docs_per_s = fetch_list.len() as f64 / report.cold_fetch_s;
    for ((id, heads, acked), result) in fetch_list.iter().zip(found) {
        match result {
            Ok(Some(doc)) => {
                report.cold_ready += 1;
                // Ready means "has content"; give a partial first sync message time to finish.
                if sorted_heads(&doc) != *heads
                    && !settle_heads(&manager, *id, heads, deadline).await
                {
                    report.heads_mismatch += 1;
                    eprintln!(
                        "[{}] {id}: fetched heads differ from the original",
                        kind.name()
                    );
                }
            }
            Ok(None) if *acked => {
                report.wrongly_unavailable += 1;
                eprintln!(
                    "[{}] {id}: acknowledged but answered unavailable",
                    kind.name()
                );
            }
            Ok(None) => {}
            Err(err) if *acked => {
                report.lost_in_cold_fetch += 1;
                eprintln!("[{}] {err:#}", kind.name());
            }
            Err(_) => {}
        }
    }
    manager.disconnect().await;
    report.peak_rss_after_cold_fetch_kib = peak_rss_kib(pid)?;
    report.peak_rss_kib = report
        .peak_rss_after_storm_kib
        .max(report.peak_rss_after_cold_fetch_kib);
    report.clean_shutdowns &= server.stop()?;
    report.db_bytes = dir_size(&dir);
    report.run_s = run_started.elapsed().as_secs_f64();
    Ok(report)
}
