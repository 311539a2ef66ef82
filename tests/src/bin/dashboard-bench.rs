//! `dashboard-bench`: the team dashboard's server time and the projection's cost per
//! accepted change. Not a test: it prints figures.
//!
//! ```text
//! cargo run --release -p tests --bin dashboard-bench -- [--children 500] [--visits 10000] [--runs 30]
//! ```
//!
//! 1. A team of `--children` children and `--visits` visits (spread over two years, some
//!    virtual, some with overdue actions, some submitted). The dashboard is built in
//!    process (`server::projection::dashboard::team_dashboard`: SQL reads plus the schedule
//!    engine for every child) `--runs` times; the baseline, same data and run, is the
//!    manager's caseload listing (`GET /api/caseload`'s query). Then the same through HTTP
//!    (`GET /api/team/dashboard` on a running server, round trip on loopback).
//! 2. Projection cost per accepted change: the storage thread's batch of `Append` tasks,
//!    each with its projection update (rows of the visit written in the same transaction),
//!    against the same appends without projection (the baseline); and the hub's CPU to
//!    compute one visit's rows.

// A benchmark's whole job is to print its figures on stdout.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use automerge::Automerge;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use server::directory::Role;
use server::directory::admin::{self, NewUser};
use server::projection::dashboard::{DashboardFilter, team_dashboard};
use server::projection::{DocumentRows, ProjectionUpdate};
use server::{DocumentStore, ServerConfig};
use shared::DocumentId;
use shared::model::{self, CalendarDate, NewAction, VisitLocation};
use shared::schedule::{Jurisdiction, SchedulePolicy};
use shared::sync::{StorageTask, StorageTaskKind, TaskId, Timestamp};
use tests::TestServer;
use tests::council::{PASSWORD, Session, test_child};
use tests::test_server::http_request;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A visit of `child_ref` on `date`, written like the worker's tablet writes them. Visits
/// more than a month before `today` are submitted and signed off, as in a team that keeps
/// up with oversight; later ones are drafts or await sign-off.
fn visit(
    seed: u64,
    child_ref: &str,
    date: CalendarDate,
    today: CalendarDate,
    rng: &mut StdRng,
) -> Automerge {
    let mut doc = tests::visit_fixture::visit_for_child(seed, child_ref, "sw-0", 120);
    let mut tx = doc.transaction();
    let _ = model::set_visit_date(&mut tx, date);
    if rng.random_bool(0.05) {
        let _ = model::set_location(&mut tx, VisitLocation::Virtual);
    }
    if rng.random_bool(0.1) {
        let _ = model::add_action(
            &mut tx,
            &NewAction {
                action_id: format!("action-{seed}"),
                description: "Check the school report".into(),
                owner_type: None,
                owner_name: "Carer".into(),
                due_date: date.add_days(14),
            },
        );
    }
    let old = date.days_since_epoch() < today.days_since_epoch() - 30;
    if old || rng.random_bool(0.5) {
        let _ = model::submit_visit(&mut tx, Timestamp::from_millis(days_ms(date)));
    }
    tx.commit();
    if old {
        let entry = model::OversightEntry {
            entry_id: format!("signoff-{seed}"),
            decision: model::OversightDecision::SignedOff,
            comment: "Seen.".into(),
            manager_id: "manager".into(),
            manager_name: "Manager".into(),
            heads: doc.get_heads(),
            at: Timestamp::from_millis(days_ms(date) + 86_400_000),
        };
        let _ = model::record_oversight(&mut doc, &entry, 0);
    }
    doc
}

fn days_ms(date: CalendarDate) -> u64 {
    u64::try_from(date.days_since_epoch()).unwrap_or(0) * 86_400_000
}

async fn run() -> anyhow::Result<()> {
    if std::env::var("DOORSTEP_LOG").is_ok() {
        tests::init_logging();
    }
    let children = arg("--children", 500);
    let visits = arg("--visits", 10_000);
    let runs = arg("--runs", 30).max(1);
    let http_runs = if std::env::var("NO_HTTP").is_ok() {
        0
    } else {
        runs
    };
    let policy = SchedulePolicy::statutory(Jurisdiction::England);
    let today = CalendarDate::parse("2026-11-23").context("date")?;
    let dir = tempfile::tempdir()?;

    // The team: 25 workers sharing the children, one manager.
    let started = Instant::now();
    let mut conn = server::directory::open_connection(dir.path())?;
    admin::add_team(&mut conn, "Bench", tests::council::now_ms())?;
    let workers = 25;
    for n in 0..workers {
        admin::add_user(
            &mut conn,
            &NewUser {
                username: &format!("sw-{n}"),
                display_name: &format!("Worker {n}"),
                role: Role::SocialWorker,
                team: Some("Bench"),
                password: PASSWORD,
            },
            tests::council::now_ms(),
        )?;
    }
    admin::add_user(
        &mut conn,
        &NewUser {
            username: "manager",
            display_name: "Manager",
            role: Role::TeamManager,
            team: Some("Bench"),
            password: PASSWORD,
        },
        tests::council::now_ms(),
    )?;
    let mut rng = StdRng::seed_from_u64(42);
    for n in 0..children {
        let child_ref = format!("B-{n:04}");
        let mut child = test_child(&child_ref);
        if let Some(placement) = child.placement.as_mut() {
            placement.start_date = today
                .add_days(-rng.random_range(30..1500))
                .context("date")?;
        }
        admin::add_child(&mut conn, "Bench", &child, tests::council::now_ms())?;
        admin::allocate(
            &mut conn,
            &child_ref,
            &format!("sw-{}", n % workers),
            tests::council::now_ms(),
        )?;
    }
    let tx = conn.transaction()?;
    for seed in 0..visits {
        let n = seed % children;
        let child_ref = format!("B-{n:04}");
        let child_row: i64 = tx.query_row(
            "SELECT child_id FROM children WHERE child_ref = ?1",
            [&child_ref],
            |row| row.get(0),
        )?;
        let date = today.add_days(-rng.random_range(0..730)).context("date")?;
        let doc = visit(seed as u64, &child_ref, date, today, &mut rng);
        admin::store_document(
            &tx,
            DocumentId::from_bytes(rng.random()),
            child_row,
            "visit",
            &doc,
            tests::council::now_ms(),
        )?;
    }
    tx.commit()?;
    println!(
        "data: 1 team, {children} children, {visits} visits, {workers} workers (seeded in {:.1} s)",
        started.elapsed().as_secs_f64()
    );

    // 1. In process: the dashboard against the caseload listing of the same team.
    let team: i64 = conn.query_row("SELECT team_id FROM teams WHERE name = 'Bench'", [], |r| {
        r.get(0)
    })?;
    let identity = server::directory::sessions::Identity {
        worker_id: 0,
        username: "manager".into(),
        display_name: "Manager".into(),
        role: Role::TeamManager,
        team_id: Some(team),
        device_id: "bench".into(),
        session_id: 0,
    };
    let filter = DashboardFilter::default();
    let dashboard = team_dashboard(&conn, team, today, &policy, &filter)?;
    let overdue = dashboard
        .children
        .iter()
        .filter(|c| c.status == "overdue")
        .count();
    println!(
        "dashboard: {} children ({overdue} overdue), {} overdue actions, {} awaiting sign-off",
        dashboard.children.len(),
        dashboard.overdue_actions.len(),
        dashboard.awaiting_sign_off.len()
    );
    let mut dash = Vec::with_capacity(runs);
    let mut base = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let built = team_dashboard(&conn, team, today, &policy, &filter)?;
        dash.push(t.elapsed());
        std::hint::black_box(built);
        let t = Instant::now();
        let rights = server::directory::access::grant_for(
            &conn,
            &identity,
            tests::council::now_ms(),
            std::time::Duration::ZERO,
        )?;
        let listed = server::directory::caseload::caseload_for(&conn, &identity, &rights)?;
        base.push(t.elapsed());
        std::hint::black_box(listed);
    }
    let (d50, d95) = (percentile(&mut dash, 0.5), percentile(&mut dash, 0.95));
    let (b50, b95) = (percentile(&mut base, 0.5), percentile(&mut base, 0.95));
    println!(
        "dashboard server time (in process, {runs} runs): p50 {:.1} ms, p95 {:.1} ms (target: under 50 ms)",
        ms(d50),
        ms(d95)
    );
    println!(
        "baseline caseload listing, same team: p50 {:.1} ms, p95 {:.1} ms; ratio dashboard/caseload p50 {:.2}",
        ms(b50),
        ms(b95),
        ms(d50) / ms(b50)
    );
    drop(conn);

    // Through HTTP on a running server.
    let server = TestServer::start_with(ServerConfig::new(dir.path().to_owned())).await?;
    let session = Session::login(server.addr, "manager", PASSWORD, None).await?;
    let auth = format!("Bearer {}", session.token);
    let headers = [("Authorization", auth.as_str())];
    let mut http = Vec::with_capacity(runs);
    let mut http_base = Vec::with_capacity(runs);
    for _ in 0..http_runs.max(1) {
        let t = Instant::now();
        let (status, _, _) =
            http_request(server.addr, "GET", "/api/team/dashboard", &headers, None).await?;
        http.push(t.elapsed());
        anyhow::ensure!(status == 200, "dashboard answered {status}");
        let t = Instant::now();
        http_request(server.addr, "GET", "/api/caseload", &headers, None).await?;
        http_base.push(t.elapsed());
    }
    server.stop().await?;
    let (h50, h95) = (percentile(&mut http, 0.5), percentile(&mut http, 0.95));
    let hb50 = percentile(&mut http_base, 0.5);
    println!(
        "GET /api/team/dashboard round trip: p50 {:.1} ms, p95 {:.1} ms; GET /api/caseload p50 {:.1} ms; ratio {:.2}",
        ms(h50),
        ms(h95),
        ms(hb50),
        ms(h50) / ms(hb50)
    );

    // 2. Projection cost per accepted change.
    let changes = 2_000usize;
    let docs: Vec<Automerge> = (0..changes)
        .map(|seed| visit(seed as u64, "B-0000", today, today, &mut rng))
        .collect();
    let t = Instant::now();
    let rows: Vec<DocumentRows> = docs
        .iter()
        .map(|doc| DocumentRows::of(doc, &policy))
        .collect();
    let rows_cpu = t.elapsed();
    let mut timings = [Duration::ZERO; 2];
    for (round, with_projection) in [(0usize, false), (1, true), (0, false), (1, true)] {
        let store_dir = tempfile::tempdir()?;
        let mut store = DocumentStore::open(store_dir.path(), server::clock::Clock::system())?;
        let t = Instant::now();
        for (chunk_index, chunk) in docs.chunks(50).enumerate() {
            let batch = chunk
                .iter()
                .enumerate()
                .map(|(i, doc)| {
                    let index = chunk_index * 50 + i;
                    let task = StorageTask {
                        id: TaskId(index as u64),
                        document: DocumentId::from_bytes((index as u128).to_be_bytes()),
                        kind: StorageTaskKind::Append {
                            changes: doc.save(),
                            index: None,
                        },
                    };
                    let projection = with_projection.then(|| ProjectionUpdate {
                        rows: rows[index].clone(),
                        heads: doc.get_heads(),
                        worker_ref: Some("sw-0".into()),
                        received_at: 0,
                    });
                    (task, projection)
                })
                .collect();
            store.run_batch(batch, &[]);
        }
        timings[round] += t.elapsed();
    }
    let per_plain = timings[0].as_secs_f64() * 1e6 / (2 * changes) as f64;
    let per_projected = timings[1].as_secs_f64() * 1e6 / (2 * changes) as f64;
    println!(
        "storage per accepted change (group commits of 50): {per_plain:.0} us without projection (baseline), {per_projected:.0} us with it; ratio {:.2}",
        per_projected / per_plain
    );
    println!(
        "hub CPU to read one visit's projection rows: {:.0} us",
        rows_cpu.as_secs_f64() * 1e6 / changes as f64
    );
    Ok(())
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start tokio: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("dashboard-bench failed: {err:#}");
            ExitCode::FAILURE
        }
    }
}
