//! [`Metrics`]: the server's counters, served in Prometheus's text format at `/metrics` on
//! the separate listener `--metrics-addr` (off by default: the figures are for operators,
//! not for the devices on the public address).
//!
//! Counters and histograms are atomics written where things happen (the HTTP handlers,
//! the hub, the storage thread, the password hashers); gauges of the sync core
//! (connections, documents loaded, packed, replies held) are asked of the hub at each
//! scrape. No label carries a user, a document or anything a peer chose: reasons are a
//! fixed set of words.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use shared::sync::CoreStats;

use crate::directory::password_hashers::HasherStats;

/// Upper bounds of the latency histograms' buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A latency histogram with fixed buckets (cumulative when rendered).
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        if let Some(index) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.buckets[index].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// Counters by a reason from a fixed vocabulary.
#[derive(Debug, Default)]
pub struct Tally(Mutex<BTreeMap<&'static str, u64>>);

impl Tally {
    /// Adds one to `reason`.
    pub fn add(&self, reason: &'static str) {
        *self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(reason)
            .or_insert(0) += 1;
    }

    fn render(&self, out: &mut String, name: &str, label: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for (reason, count) in self.0.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            let _ = writeln!(out, "{name}{{{label}=\"{reason}\"}} {count}");
        }
    }
}

/// Every figure `/metrics` reports, shared by the parts of the server that count them.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Sync connections accepted (authenticated upgrades).
    pub connections_accepted: AtomicU64,
    /// Sync connections refused at the upgrade, by what was wrong.
    pub connections_refused: Tally,
    /// Sign-ins answered, by outcome (`ok`, `bad_credentials`, `locked_out`, `busy`, ...).
    pub sign_ins: Tally,
    /// Time from a sign-in request to its answer (the password check and its queue
    /// included).
    pub sign_in_seconds: Histogram,
    /// How long each storage transaction took to commit (group commits: one per batch).
    pub storage_commit_seconds: Histogram,
    /// Peers' requests and changes the sync core refused, by reason.
    pub sync_refusals: Tally,
    /// The password hashers' queue and counts (set once they start).
    pub hashers: Mutex<Option<Arc<HasherStats>>>,
}

impl Metrics {
    /// A fresh set of zeros.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The Prometheus text exposition of every figure, with the core's gauges when the
    /// hub answered.
    pub fn render(&self, core: Option<CoreStats>) -> String {
        let mut out = String::with_capacity(4096);
        let gauge = |out: &mut String, name: &str, help: &str, value: f64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        };
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        gauge(
            &mut out,
            "doorstep_up",
            "Whether the hub answered this scrape (1) or not (0).",
            if core.is_some() { 1.0 } else { 0.0 },
        );
        if let Some(core) = core {
            gauge(
                &mut out,
                "doorstep_connections",
                "Open sync connections (any phase).",
                core.connections as f64,
            );
            gauge(
                &mut out,
                "doorstep_documents_loaded",
                "Documents in memory (working form or packed).",
                core.loaded_documents as f64,
            );
            gauge(
                &mut out,
                "doorstep_documents_packed",
                "Loaded documents held as their saved bytes.",
                core.packed_documents as f64,
            );
            gauge(
                &mut out,
                "doorstep_documents_loading",
                "Documents being read from storage.",
                core.loading_documents as f64,
            );
            gauge(
                &mut out,
                "doorstep_sync_replies_held",
                "Documents whose replies to peers wait for their changes to be durable.",
                core.replies_held as f64,
            );
            counter(
                &mut out,
                "doorstep_sync_replies_held_total",
                "Times a reply waited for a document's changes to be durable.",
                core.replies_held_total,
            );
        }
        counter(
            &mut out,
            "doorstep_connections_accepted_total",
            "Sync connections accepted.",
            self.connections_accepted.load(Ordering::Relaxed),
        );
        self.connections_refused.render(
            &mut out,
            "doorstep_connections_refused_total",
            "reason",
            "Sync connections refused at the upgrade, by reason.",
        );
        self.sync_refusals.render(
            &mut out,
            "doorstep_sync_refusals_total",
            "reason",
            "Peers' sync messages refused by the core, by reason.",
        );
        self.sign_ins.render(
            &mut out,
            "doorstep_sign_ins_total",
            "outcome",
            "Sign-ins answered, by outcome.",
        );
        self.sign_in_seconds.render(
            &mut out,
            "doorstep_sign_in_seconds",
            "Time to answer a sign-in, password check and queue included.",
        );
        self.storage_commit_seconds.render(
            &mut out,
            "doorstep_storage_commit_seconds",
            "Time to commit one storage transaction (a group of tasks).",
        );
        let hashers = self
            .hashers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(hashers) = hashers {
            gauge(
                &mut out,
                "doorstep_sign_in_queue_length",
                "Sign-ins waiting for a password-hashing thread.",
                hashers.queued.load(Ordering::Relaxed) as f64,
            );
            counter(
                &mut out,
                "doorstep_password_checks_total",
                "Passwords checked.",
                hashers.checked.load(Ordering::Relaxed),
            );
            counter(
                &mut out,
                "doorstep_password_checks_refused_busy_total",
                "Sign-ins refused because the hashing queue was full or too slow.",
                hashers.refused_busy.load(Ordering::Relaxed),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_has_every_family_with_cumulative_buckets() {
        let metrics = Metrics::new();
        metrics.sign_in_seconds.observe(Duration::from_millis(30));
        metrics.sign_in_seconds.observe(Duration::from_secs(3));
        metrics.sign_ins.add("ok");
        metrics.sync_refusals.add("read_only");
        let text = metrics.render(Some(CoreStats {
            connections: 3,
            ..CoreStats::default()
        }));
        assert!(text.contains("doorstep_connections 3\n"), "{text}");
        assert!(text.contains("doorstep_sign_in_seconds_bucket{le=\"0.05\"} 1\n"));
        assert!(text.contains("doorstep_sign_in_seconds_bucket{le=\"5\"} 2\n"));
        assert!(text.contains("doorstep_sign_in_seconds_count 2\n"));
        assert!(text.contains("doorstep_sign_ins_total{outcome=\"ok\"} 1\n"));
        assert!(text.contains("doorstep_sync_refusals_total{reason=\"read_only\"} 1\n"));
        assert!(metrics.render(None).contains("doorstep_up 0\n"));
    }
}
