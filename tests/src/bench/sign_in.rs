//! Sign-in under load, against Doorstep alone (the Node server has no accounts):
//! - **flood**: N password sign-ins at the same moment, for N different accounts; the
//!   server's resident memory before (idle), at its peak and once it settles after, and
//!   each sign-in's answer and latency;
//! - **morning**: N workers arrive within a window (each at a random moment, seeded), sign
//!   in with their password, fetch a ticket, open the WebSocket and sync their M visits at
//!   once; every sign-in's answer, the memory peak and the storm's figures.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use automerge::Automerge;
use futures::future::join_all;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tokio::time::Instant;

use super::meter::{
    CpuMeter, RssSampler, clock_ticks_per_second, peak_rss_kib, rss_kib, settled_rss_kib,
};
use super::real_path::{self, DeviceSession, PASSWORD, sign_in_answer};
use super::report::{mib, ms, percentile};
use super::servers::{Kind, Running};
use crate::NativeClient;

/// What a flood of sign-ins did.
#[derive(Debug, Serialize, Default, Clone)]
pub struct FloodReport {
    /// Attempts made at once.
    pub attempts: usize,
    /// Answers by HTTP status.
    pub statuses: BTreeMap<u16, usize>,
    /// Attempts with no HTTP answer at all.
    pub unanswered: usize,
    /// Latency of every answer, p50 / p95 / max (ms).
    pub p50_ms: f64,
    /// p95.
    pub p95_ms: f64,
    /// Slowest.
    pub max_ms: f64,
    /// Latency of the `201` answers, p95 (ms).
    pub p95_ok_ms: f64,
    /// Wall time from the first attempt to the last answer.
    pub wall_s: f64,
    /// Server CPU over the flood.
    pub server_cpu_s: f64,
    /// Resident memory of the idle server before the flood (KiB).
    pub idle_rss_kib: u64,
    /// Peak resident memory (`VmHWM`) once the flood is answered (KiB).
    pub peak_rss_kib: u64,
    /// Resident memory once it settled after the flood (KiB).
    pub after_rss_kib: u64,
}

impl FloodReport {
    /// One paragraph for people.
    pub fn describe(&self) -> String {
        format!(
            "sign-in flood: {} attempts at once in {:.1} s; answers {:?}, unanswered {}; \
             latency p50 {:.0} ms, p95 {:.0} ms (201s: p95 {:.0} ms), max {:.0} ms; \
             server CPU {:.1} s; RSS idle {:.1} MiB, peak {:.1} MiB (+{:.1}), after {:.1} MiB (+{:.1})",
            self.attempts,
            self.wall_s,
            self.statuses,
            self.unanswered,
            self.p50_ms,
            self.p95_ms,
            self.p95_ok_ms,
            self.max_ms,
            self.server_cpu_s,
            mib(self.idle_rss_kib),
            mib(self.peak_rss_kib),
            mib(self.peak_rss_kib.saturating_sub(self.idle_rss_kib)),
            mib(self.after_rss_kib),
            mib(self.after_rss_kib.saturating_sub(self.idle_rss_kib)),
        )
    }
}

/// N password sign-ins at once against a fresh Doorstep with N accounts.
///
/// # Errors
/// If the server cannot be started or measured.
pub async fn flood(attempts: usize, doorstep_args: &[String]) -> anyhow::Result<FloodReport> {
    let data = tempfile::Builder::new()
        .prefix("sign-in-flood-")
        .tempdir()?;
    real_path::provision(data.path(), &[], attempts)?;
    let extra: Vec<&str> = doorstep_args.iter().map(String::as_str).collect();
    let server = Running::start(Kind::Doorstep, data.path(), &extra)?;
    let (pid, addr) = (server.pid(), server.addr());
    let hz = clock_ticks_per_second();
    let mut report = FloodReport {
        attempts,
        idle_rss_kib: settled_rss_kib(pid, Duration::from_secs(5))?,
        ..FloodReport::default()
    };
    let sampler = RssSampler::start(pid);
    let cpu = CpuMeter::start(pid, hz);
    let started = Instant::now();
    let tasks: Vec<_> = (0..attempts)
        .map(|i| {
            tokio::spawn(
                async move { sign_in_answer(addr, &real_path::worker_name(i), PASSWORD).await },
            )
        })
        .collect();
    let (mut all, mut ok) = (Vec::new(), Vec::new());
    for task in tasks {
        match task.await.context("sign-in task panicked")? {
            Ok(answer) => {
                *report.statuses.entry(answer.status).or_insert(0) += 1;
                all.push(answer.took);
                if answer.status == 201 {
                    ok.push(answer.took);
                }
            }
            Err(err) => {
                report.unanswered += 1;
                eprintln!("[flood] no answer: {err:#}");
            }
        }
    }
    report.wall_s = started.elapsed().as_secs_f64();
    report.server_cpu_s = cpu.stop().server_s;
    let _sampled_peak = sampler.stop();
    all.sort();
    ok.sort();
    report.p50_ms = ms(percentile(&all, 0.5));
    report.p95_ms = ms(percentile(&all, 0.95));
    report.max_ms = ms(percentile(&all, 1.0));
    report.p95_ok_ms = ms(percentile(&ok, 0.95));
    report.peak_rss_kib = peak_rss_kib(pid)?;
    report.after_rss_kib = settled_rss_kib(pid, Duration::from_secs(10))?;
    server.stop()?;
    Ok(report)
}

/// What the morning did.
#[derive(Debug, Serialize, Default, Clone)]
pub struct MorningReport {
    /// Workers.
    pub workers: usize,
    /// Documents per worker.
    pub docs_per_worker: usize,
    /// The window the sign-ins were spread over (s).
    pub window_s: f64,
    /// Sign-in answers by HTTP status.
    pub sign_in_statuses: BTreeMap<u16, usize>,
    /// Sign-ins with no HTTP answer.
    pub sign_ins_unanswered: usize,
    /// Sign-in latency p50 / p95 / max (ms).
    pub sign_in_p50_ms: f64,
    /// p95.
    pub sign_in_p95_ms: f64,
    /// Slowest.
    pub sign_in_max_ms: f64,
    /// Ticket + WebSocket + handshake after signing in, p95 (ms).
    pub connect_p95_ms: f64,
    /// Documents acknowledged.
    pub acknowledged: usize,
    /// Documents not acknowledged.
    pub lost: usize,
    /// Create → acknowledged p95 (ms).
    pub doc_latency_p95_ms: f64,
    /// From the first arrival to the last document acknowledged (s).
    pub wall_s: f64,
    /// Server CPU over the morning (s).
    pub server_cpu_s: f64,
    /// Resident memory of the idle server (KiB).
    pub idle_rss_kib: u64,
    /// Peak resident memory (`VmHWM`, KiB).
    pub peak_rss_kib: u64,
}

impl MorningReport {
    /// One paragraph for people.
    pub fn describe(&self) -> String {
        format!(
            "morning: {} workers arriving within {:.0} s, {} visits each; sign-ins {:?} \
             (unanswered {}), latency p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms; connect p95 {:.0} ms; \
             {} acknowledged, {} lost, doc latency p95 {:.0} ms; {:.1} s in all, server CPU {:.1} s; \
             RSS idle {:.1} MiB, peak {:.1} MiB (+{:.1})",
            self.workers,
            self.window_s,
            self.docs_per_worker,
            self.sign_in_statuses,
            self.sign_ins_unanswered,
            self.sign_in_p50_ms,
            self.sign_in_p95_ms,
            self.sign_in_max_ms,
            self.connect_p95_ms,
            self.acknowledged,
            self.lost,
            self.doc_latency_p95_ms,
            self.wall_s,
            self.server_cpu_s,
            mib(self.idle_rss_kib),
            mib(self.peak_rss_kib),
            mib(self.peak_rss_kib.saturating_sub(self.idle_rss_kib)),
        )
    }
}

struct Arrival {
    sign_in: Result<(u16, Duration), String>,
    connect: Option<Duration>,
    docs: Vec<Option<Duration>>,
}

async fn arrive(
    addr: std::net::SocketAddr,
    index: usize,
    at: Duration,
    docs: Vec<Automerge>,
    deadline: Instant,
) -> Arrival {
    tokio::time::sleep(at).await;
    let username = real_path::worker_name(index);
    let answer = match sign_in_answer(addr, &username, PASSWORD).await {
        Ok(answer) => answer,
        Err(err) => {
            return Arrival {
                sign_in: Err(format!("{err:#}")),
                connect: None,
                docs: vec![None; docs.len()],
            };
        }
    };
    let status = answer.status;
    let session = DeviceSession {
        username,
        token: answer.body["token"].as_str().unwrap_or_default().to_owned(),
        refresh_token: String::new(),
        device_id: String::new(),
    };
    let mut arrival = Arrival {
        sign_in: Ok((status, answer.took)),
        connect: None,
        docs: vec![None; docs.len()],
    };
    if status != 201 {
        return arrival;
    }
    let client = NativeClient::new(&format!("tablet-{index}"));
    let started = Instant::now();
    let connected = async {
        let (url, _) = session.ticket_url(addr).await?;
        client.connect(&url).await
    };
    if !matches!(
        tokio::time::timeout_at(deadline, connected).await,
        Ok(Ok(()))
    ) {
        return arrival;
    }
    arrival.connect = Some(started.elapsed());
    let created: Vec<_> = docs
        .into_iter()
        .map(|doc| (client.create(doc), Instant::now()))
        .collect();
    arrival.docs = join_all(created.iter().map(|&(id, at)| {
        let client = client.clone();
        async move {
            let left = deadline.saturating_duration_since(Instant::now());
            client
                .wait_acknowledged(id, left)
                .await
                .ok()
                .map(|()| at.elapsed())
        }
    }))
    .await;
    client.disconnect().await;
    arrival
}

/// N workers arrive within `window`, sign in with their passwords and sync.
///
/// # Errors
/// If the server cannot be started or measured.
pub async fn morning(
    workers: usize,
    docs_per_worker: usize,
    words_bytes: usize,
    window: Duration,
    timeout: Duration,
    doorstep_args: &[String],
) -> anyhow::Result<MorningReport> {
    let fixture = tokio::task::spawn_blocking(move || {
        super::storm::Fixture::generate(workers, docs_per_worker, words_bytes)
    })
    .await??;
    let data = tempfile::Builder::new().prefix("morning-").tempdir()?;
    real_path::provision(data.path(), &fixture.child_refs, workers)?;
    let extra: Vec<&str> = doorstep_args.iter().map(String::as_str).collect();
    let server = Running::start(Kind::Doorstep, data.path(), &extra)?;
    let (pid, addr) = (server.pid(), server.addr());
    let hz = clock_ticks_per_second();
    let mut report = MorningReport {
        workers,
        docs_per_worker,
        window_s: window.as_secs_f64(),
        idle_rss_kib: settled_rss_kib(pid, Duration::from_secs(5))?,
        ..MorningReport::default()
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(14);
    let cpu = CpuMeter::start(pid, hz);
    let started = Instant::now();
    let deadline = started + window + timeout;
    let tasks: Vec<_> = fixture
        .docs
        .chunks(docs_per_worker.max(1))
        .map(<[Automerge]>::to_vec)
        .enumerate()
        .map(|(index, docs)| {
            let at = window.mul_f64(rng.random::<f64>());
            tokio::spawn(arrive(addr, index, at, docs, deadline))
        })
        .collect();
    let (mut sign_ins, mut connects, mut latencies) = (Vec::new(), Vec::new(), Vec::new());
    for task in tasks {
        let arrival = task.await.context("arrival task panicked")?;
        match arrival.sign_in {
            Ok((status, took)) => {
                *report.sign_in_statuses.entry(status).or_insert(0) += 1;
                sign_ins.push(took);
            }
            Err(err) => {
                report.sign_ins_unanswered += 1;
                eprintln!("[morning] sign-in unanswered: {err}");
            }
        }
        connects.extend(arrival.connect);
        for doc in arrival.docs {
            match doc {
                Some(latency) => {
                    report.acknowledged += 1;
                    latencies.push(latency);
                }
                None => report.lost += 1,
            }
        }
    }
    report.wall_s = started.elapsed().as_secs_f64();
    report.server_cpu_s = cpu.stop().server_s;
    for list in [&mut sign_ins, &mut connects, &mut latencies] {
        list.sort();
    }
    report.sign_in_p50_ms = ms(percentile(&sign_ins, 0.5));
    report.sign_in_p95_ms = ms(percentile(&sign_ins, 0.95));
    report.sign_in_max_ms = ms(percentile(&sign_ins, 1.0));
    report.connect_p95_ms = ms(percentile(&connects, 0.95));
    report.doc_latency_p95_ms = ms(percentile(&latencies, 0.95));
    report.peak_rss_kib = peak_rss_kib(pid)?;
    let _ = rss_kib(pid);
    server.stop()?;
    Ok(report)
}

/// What connecting costs the server.
#[derive(Debug, Serialize, Default, Clone)]
pub struct ConnectsReport {
    /// Tickets issued (and as many connections made with them).
    pub count: usize,
    /// Server CPU per `POST /api/sync-ticket` (HTTP request, bearer check, ticket), µs.
    pub ticket_cpu_us: f64,
    /// Its latency p50 / p95 (ms).
    pub ticket_p50_ms: f64,
    /// p95.
    pub ticket_p95_ms: f64,
    /// Server CPU per connection: the upgrade with the ticket (redeemed, the session
    /// checked), the `join`/`peer` handshake and the close, µs.
    pub connect_cpu_us: f64,
    /// Upgrade to `peer`, p50 / p95 (ms).
    pub connect_p50_ms: f64,
    /// p95.
    pub connect_p95_ms: f64,
    /// Server CPU per `POST /api/session/refresh`, µs.
    pub refresh_cpu_us: f64,
}

impl ConnectsReport {
    /// One paragraph for people.
    pub fn describe(&self) -> String {
        format!(
            "connects: {} tickets, server CPU {:.0} µs each (latency p50 {:.2} ms, p95 {:.2} ms); \
             {} connections with them (upgrade, ticket redeemed, join/peer, close), server CPU \
             {:.0} µs each (p50 {:.2} ms, p95 {:.2} ms); refresh {:.0} µs CPU each",
            self.count,
            self.ticket_cpu_us,
            self.ticket_p50_ms,
            self.ticket_p95_ms,
            self.count,
            self.connect_cpu_us,
            self.connect_p50_ms,
            self.connect_p95_ms,
            self.refresh_cpu_us,
        )
    }
}

/// `count` tickets one after another, then `count` connections with them, then `count`
/// refreshes, on an idle Doorstep: the server's CPU per ticket, per connection and per
/// refresh (whole-process CPU over each phase, divided).
///
/// # Errors
/// If the server cannot be started or a step fails.
pub async fn connects(count: usize, doorstep_args: &[String]) -> anyhow::Result<ConnectsReport> {
    let data = tempfile::Builder::new().prefix("connects-").tempdir()?;
    real_path::provision(data.path(), &[], 1)?;
    let extra: Vec<&str> = doorstep_args.iter().map(String::as_str).collect();
    let server = Running::start(Kind::Doorstep, data.path(), &extra)?;
    let (pid, addr) = (server.pid(), server.addr());
    let hz = clock_ticks_per_second();
    // A session holds at most MAX_TICKETS_PER_SESSION unused tickets (the oldest go
    // first), so the tickets are spread over enough sessions of the same worker.
    let per_session = server::directory::sync_tickets::MAX_TICKETS_PER_SESSION;
    let mut sessions = Vec::new();
    for _ in 0..count.div_ceil(per_session).max(1) {
        sessions.push(
            DeviceSession::sign_in(addr, &real_path::worker_name(0))
                .await?
                .0,
        );
    }
    let per = |seconds: f64| seconds * 1e6 / count.max(1) as f64;
    let mut report = ConnectsReport {
        count,
        ..ConnectsReport::default()
    };

    let cpu = CpuMeter::start(pid, hz);
    let mut urls = Vec::with_capacity(count);
    let mut took = Vec::with_capacity(count);
    for i in 0..count {
        let (url, latency) = sessions[i / per_session].ticket_url(addr).await?;
        urls.push(url);
        took.push(latency);
    }
    report.ticket_cpu_us = per(cpu.stop().server_s);
    took.sort();
    report.ticket_p50_ms = ms(percentile(&took, 0.5));
    report.ticket_p95_ms = ms(percentile(&took, 0.95));

    let cpu = CpuMeter::start(pid, hz);
    let mut took = Vec::with_capacity(count);
    for url in urls {
        let client = NativeClient::new("connector");
        let started = Instant::now();
        client.connect(&url).await?;
        took.push(started.elapsed());
        client.disconnect().await;
    }
    // The hub notices each close on its own; give it a moment before reading the CPU.
    tokio::time::sleep(Duration::from_millis(200)).await;
    report.connect_cpu_us = per(cpu.stop().server_s);
    took.sort();
    report.connect_p50_ms = ms(percentile(&took, 0.5));
    report.connect_p95_ms = ms(percentile(&took, 0.95));

    let cpu = CpuMeter::start(pid, hz);
    let session = &mut sessions[0];
    for _ in 0..count {
        session.refresh(addr).await?;
    }
    report.refresh_cpu_us = per(cpu.stop().server_s);
    server.stop()?;
    Ok(report)
}
