//! What one benchmark run measured ([`Report`]), printed as a table, paired into
//! Doorstep ÷ Node ratios per round ([`Ratios`]), with medians over rounds.

use std::time::Duration;

use serde::Serialize;

use super::meter::CpuUse;

/// One server's run of the sync storm (and its cold fetch).
#[derive(Debug, Serialize, Default, Clone)]
pub struct Report {
    /// `doorstep` or `node`.
    pub server: String,
    /// Clients (devices).
    pub clients: usize,
    /// Documents each client creates.
    pub docs_per_client: usize,
    /// Documents in all.
    pub docs: usize,
    /// Resident memory of the freshly started server, before anything (KiB).
    pub idle_rss_kib: u64,
    // Sign-in with passwords, before the storm (Doorstep only; none for Node).
    /// Password sign-ins made before the storm.
    pub sign_ins: usize,
    /// Their latency p50 / p95 (ms).
    pub sign_in_p50_ms: f64,
    /// p95.
    pub sign_in_p95_ms: f64,
    /// Wall time of the sign-in phase.
    pub sign_in_wall_s: f64,
    /// Server CPU seconds during the sign-in phase.
    pub sign_in_cpu_s: f64,
    /// Peak resident memory after the sign-ins (`VmHWM`, KiB).
    pub peak_rss_after_sign_in_kib: u64,
    // Storm.
    /// Wall time from the first client starting to the last document acknowledged.
    pub storm_wall_s: f64,
    /// Documents per second over the storm.
    pub docs_per_s: f64,
    /// Create → acknowledged latency percentiles (ms).
    pub latency_p50_ms: f64,
    /// p95.
    pub latency_p95_ms: f64,
    /// Slowest.
    pub latency_max_ms: f64,
    /// Connect latency (Doorstep: refresh + ticket + WebSocket + `join`/`peer`), p50.
    pub handshake_p50_ms: f64,
    /// p95.
    pub handshake_p95_ms: f64,
    /// Slowest.
    pub handshake_max_ms: f64,
    /// The refresh call's latency p95 (Doorstep).
    pub refresh_p95_ms: f64,
    /// The ticket call's latency p95 (Doorstep).
    pub ticket_p95_ms: f64,
    /// Clients that never connected.
    pub handshakes_failed: usize,
    /// Acknowledged documents.
    pub acknowledged: usize,
    /// Not acknowledged within the timeout (including docs of clients that never connected).
    pub lost_in_storm: usize,
    /// `error` messages the clients received.
    pub protocol_errors: usize,
    /// CPU during the storm.
    pub storm_cpu: CpuUse,
    /// Server CPU per acknowledged document during the storm (ms).
    pub server_cpu_per_doc_ms: f64,
    // Cold fetch.
    /// The manager's connect, after the restart (ms).
    pub cold_connect_ms: f64,
    /// Fetching every document back (s).
    pub cold_fetch_s: f64,
    /// Documents per second fetched.
    pub cold_docs_per_s: f64,
    /// Documents fetched with content.
    pub cold_ready: usize,
    /// Acknowledged documents the restarted server called unavailable.
    pub wrongly_unavailable: usize,
    /// Acknowledged documents not fetched within the timeout.
    pub lost_in_cold_fetch: usize,
    /// Fetched with heads different from the original.
    pub heads_mismatch: usize,
    /// CPU during the cold fetch.
    pub cold_cpu: CpuUse,
    // Resources.
    /// `VmHWM` after the storm (KiB): sign-ins included.
    pub peak_rss_after_storm_kib: u64,
    /// `VmHWM` of the restarted server after the cold fetch (KiB).
    pub peak_rss_after_cold_fetch_kib: u64,
    /// The larger of the two.
    pub peak_rss_kib: u64,
    /// Bytes on disk after the storm.
    pub db_bytes_after_storm: u64,
    /// Bytes on disk at the end.
    pub db_bytes: u64,
    /// Whether both stops were graceful.
    pub clean_shutdowns: bool,
    /// Whole run for this server, including starts and stops.
    pub run_s: f64,
}

impl Report {
    /// Documents lost one way or another.
    pub fn lost(&self) -> usize {
        self.lost_in_storm + self.lost_in_cold_fetch + self.heads_mismatch
    }
}

/// The `p` quantile (0..=1) of sorted durations (nearest rank).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Milliseconds as a float.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// MiB from KiB.
pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// How one table row renders a report.
type Cell = Box<dyn Fn(&Report) -> String>;

/// Prints the reports side by side.
#[allow(clippy::print_stdout)]
pub fn print_table(reports: &[Report]) {
    let rows: Vec<(&str, Cell)> = vec![
        (
            "documents (C x M)",
            Box::new(|r| format!("{} x {} = {}", r.clients, r.docs_per_client, r.docs)),
        ),
        (
            "password sign-ins p50 / p95",
            Box::new(|r| {
                if r.sign_ins == 0 {
                    "none".to_owned()
                } else {
                    format!(
                        "{} in {:.1} s: {:.0} / {:.0} ms",
                        r.sign_ins, r.sign_in_wall_s, r.sign_in_p50_ms, r.sign_in_p95_ms
                    )
                }
            }),
        ),
        (
            "storm wall time",
            Box::new(|r| format!("{:.2} s", r.storm_wall_s)),
        ),
        (
            "storm throughput",
            Box::new(|r| format!("{:.1} docs/s", r.docs_per_s)),
        ),
        (
            "doc latency p50 / p95 / max",
            Box::new(|r| {
                format!(
                    "{:.0} / {:.0} / {:.0} ms",
                    r.latency_p50_ms, r.latency_p95_ms, r.latency_max_ms
                )
            }),
        ),
        (
            "connect p50 / p95 / max",
            Box::new(|r| {
                format!(
                    "{:.0} / {:.0} / {:.0} ms",
                    r.handshake_p50_ms, r.handshake_p95_ms, r.handshake_max_ms
                )
            }),
        ),
        (
            "refresh / ticket p95",
            Box::new(|r| format!("{:.0} / {:.0} ms", r.refresh_p95_ms, r.ticket_p95_ms)),
        ),
        (
            "handshakes failed",
            Box::new(|r| r.handshakes_failed.to_string()),
        ),
        (
            "acknowledged",
            Box::new(|r| format!("{} / {}", r.acknowledged, r.docs)),
        ),
        (
            "lost (storm / cold / heads)",
            Box::new(|r| {
                format!(
                    "{} / {} / {}",
                    r.lost_in_storm, r.lost_in_cold_fetch, r.heads_mismatch
                )
            }),
        ),
        (
            "wrongly unavailable",
            Box::new(|r| r.wrongly_unavailable.to_string()),
        ),
        (
            "protocol errors",
            Box::new(|r| r.protocol_errors.to_string()),
        ),
        (
            "server CPU storm (per doc)",
            Box::new(|r| {
                format!(
                    "{:.2} s ({:.2} ms)",
                    r.storm_cpu.server_s, r.server_cpu_per_doc_ms
                )
            }),
        ),
        (
            "cold fetch",
            Box::new(|r| format!("{:.2} s ({:.1} docs/s)", r.cold_fetch_s, r.cold_docs_per_s)),
        ),
        (
            "idle RSS / peak after sign-in",
            Box::new(|r| {
                format!(
                    "{:.1} / {:.1} MiB",
                    mib(r.idle_rss_kib),
                    mib(r.peak_rss_after_sign_in_kib)
                )
            }),
        ),
        (
            "peak RSS storm / cold",
            Box::new(|r| {
                format!(
                    "{:.1} / {:.1} MiB",
                    mib(r.peak_rss_after_storm_kib),
                    mib(r.peak_rss_after_cold_fetch_kib)
                )
            }),
        ),
        (
            "size on disk",
            Box::new(|r| format!("{:.2} MiB", r.db_bytes as f64 / 1_048_576.0)),
        ),
        (
            "clean shutdowns",
            Box::new(|r| r.clean_shutdowns.to_string()),
        ),
        (
            "run time (with restarts)",
            Box::new(|r| format!("{:.1} s", r.run_s)),
        ),
    ];
    let label_width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|(_, cell)| reports.iter().map(cell).collect())
        .collect();
    let width = cells
        .iter()
        .flatten()
        .map(String::len)
        .chain(reports.iter().map(|r| r.server.len()))
        .max()
        .unwrap_or(0);
    let header: Vec<String> = reports
        .iter()
        .map(|r| format!("{:>width$}", r.server))
        .collect();
    println!("{:label_width$} | {}", "", header.join(" | "));
    println!(
        "{}",
        "-".repeat(label_width + 3 + reports.len() * (width + 3))
    );
    for ((label, _), row) in rows.iter().zip(&cells) {
        let row: Vec<String> = row.iter().map(|c| format!("{c:>width$}")).collect();
        println!("{label:label_width$} | {}", row.join(" | "));
    }
    for r in reports {
        println!(
            "CPU during storm      [{}]: {}",
            r.server,
            r.storm_cpu.summary()
        );
        println!(
            "CPU during cold fetch [{}]: {}",
            r.server,
            r.cold_cpu.summary()
        );
    }
}

/// Doorstep ÷ Node in one round, and Doorstep against the automerge floor.
#[derive(Debug, Serialize, Clone)]
pub struct Ratios {
    /// Doorstep docs/s ÷ Node docs/s (target ≥ 10).
    pub throughput: f64,
    /// Doorstep server CPU per document ÷ Node's (target ≤ 0.1).
    pub cpu_per_doc: f64,
    /// Doorstep peak RSS (sign-ins included) ÷ Node peak RSS (target ≤ 0.2).
    pub peak_rss: f64,
    /// Doorstep cold-fetch time ÷ Node cold-fetch time (lower is better).
    pub cold_fetch_time: f64,
    /// Doorstep server CPU per document ÷ the automerge floor measured in the same round
    /// (target ≤ 1.3).
    pub floor_multiple: f64,
}

/// The round's ratios, if it ran both servers.
pub fn ratios(reports: &[Report], floor_ms: f64) -> Option<Ratios> {
    let doorstep = reports.iter().find(|r| r.server == "doorstep")?;
    let node = reports.iter().find(|r| r.server == "node")?;
    Some(Ratios {
        throughput: doorstep.docs_per_s / node.docs_per_s,
        cpu_per_doc: doorstep.server_cpu_per_doc_ms / node.server_cpu_per_doc_ms,
        peak_rss: doorstep.peak_rss_kib as f64 / node.peak_rss_kib as f64,
        cold_fetch_time: doorstep.cold_fetch_s / node.cold_fetch_s,
        floor_multiple: doorstep.server_cpu_per_doc_ms / floor_ms,
    })
}

/// The median of `values`.
pub fn median(values: &[f64]) -> f64 {
    let mut values = values.to_vec();
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[mid],
        _ => f64::midpoint(values[mid - 1], values[mid]),
    }
}

/// The median of each ratio over the rounds (each on its own).
pub fn median_ratios(all: &[Ratios]) -> Option<Ratios> {
    let of = |pick: fn(&Ratios) -> f64| median(&all.iter().map(pick).collect::<Vec<_>>());
    (!all.is_empty()).then(|| Ratios {
        throughput: of(|r| r.throughput),
        cpu_per_doc: of(|r| r.cpu_per_doc),
        peak_rss: of(|r| r.peak_rss),
        cold_fetch_time: of(|r| r.cold_fetch_time),
        floor_multiple: of(|r| r.floor_multiple),
    })
}
