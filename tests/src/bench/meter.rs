//! Metering from `/proc`: CPU per process and per thread, resident memory now and at its
//! peak, and a sampler that follows a process's resident memory through a phase.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Serialize;

/// Fields of /proc/<pid>/stat after the command name: [0] = state, [1] = ppid, ...
pub fn proc_stat_fields(pid: u32) -> Option<Vec<String>> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?).map(|(_, f)| f)
}

/// (comm, fields after comm) of a `stat` file.
fn parse_stat(stat: &str) -> Option<(String, Vec<String>)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_owned();
    let fields = stat
        .get(close + 1..)?
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    Some((comm, fields))
}

/// utime + stime in ticks from `stat` fields (fields 14 and 15 of the file).
fn cpu_ticks(fields: &[String]) -> u64 {
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    tick(11) + tick(12)
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`, 100 if unknown).
pub fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(100.0)
}

/// CPU ticks per thread of a process: tid -> (thread name, ticks).
fn thread_ticks(pid: u32) -> BTreeMap<u32, (String, u64)> {
    let mut threads = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return threads;
    };
    for task in tasks.flatten() {
        let Some(tid) = task
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some((comm, fields)) = std::fs::read_to_string(task.path().join("stat"))
            .ok()
            .as_deref()
            .and_then(parse_stat)
        {
            threads.insert(tid, (comm, cpu_ticks(&fields)));
        }
    }
    threads
}

/// CPU seconds used per thread name between two snapshots.
fn thread_cpu_delta(
    before: &BTreeMap<u32, (String, u64)>,
    after: &BTreeMap<u32, (String, u64)>,
    hz: f64,
) -> BTreeMap<String, f64> {
    let mut by_name = BTreeMap::new();
    for (tid, (name, ticks)) in after {
        let earlier = before.get(tid).map_or(0, |(_, t)| *t);
        let used = ticks.saturating_sub(earlier) as f64 / hz;
        if used > 0.0 {
            *by_name.entry(name.clone()).or_insert(0.0) += used;
        }
    }
    by_name
}

/// Whole-process CPU seconds (includes exited threads, unlike the per-thread view).
pub fn process_cpu_seconds(pid: u32, hz: f64) -> f64 {
    proc_stat_fields(pid).map_or(0.0, |f| cpu_ticks(&f) as f64 / hz)
}

/// CPU nanoseconds the calling thread has run (`/proc/thread-self/schedstat`, ns
/// resolution), for timing work done on one thread.
pub fn this_thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}

/// `VmHWM` (peak resident set since the process started) in KiB.
///
/// # Errors
/// If `/proc` cannot be read.
pub fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    status_kib(pid, "VmHWM:")
}

/// `VmRSS` (resident set now) in KiB.
///
/// # Errors
/// If `/proc` cannot be read.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    status_kib(pid, "VmRSS:")
}

/// Bytes under `dir`, recursively.
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => dir_size(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

/// CPU use of the server (total and per thread name) and of this process over a phase.
pub struct CpuMeter {
    pid: u32,
    hz: f64,
    server: f64,
    client: f64,
    threads: BTreeMap<u32, (String, u64)>,
}

/// What a [`CpuMeter`] measured.
#[derive(Debug, Serialize, Default, Clone)]
pub struct CpuUse {
    /// The server process's CPU seconds.
    pub server_s: f64,
    /// This (the load generator's) process's CPU seconds.
    pub client_s: f64,
    /// The server's CPU seconds by thread name (threads alive at the end).
    pub server_threads_s: BTreeMap<String, f64>,
}

impl CpuMeter {
    /// Starts metering the server `pid` (and this process).
    pub fn start(pid: u32, hz: f64) -> Self {
        Self {
            pid,
            hz,
            server: process_cpu_seconds(pid, hz),
            client: process_cpu_seconds(std::process::id(), hz),
            threads: thread_ticks(pid),
        }
    }

    /// What was used since [`CpuMeter::start`].
    pub fn stop(&self) -> CpuUse {
        CpuUse {
            server_s: process_cpu_seconds(self.pid, self.hz) - self.server,
            client_s: process_cpu_seconds(std::process::id(), self.hz) - self.client,
            server_threads_s: thread_cpu_delta(&self.threads, &thread_ticks(self.pid), self.hz),
        }
    }
}

impl CpuUse {
    /// One line: total, the four busiest threads, the client.
    pub fn summary(&self) -> String {
        let mut threads: Vec<_> = self.server_threads_s.iter().collect();
        threads.sort_by(|a, b| b.1.total_cmp(a.1));
        let threads: Vec<String> = threads
            .iter()
            .take(4)
            .map(|(name, s)| format!("{name} {s:.2}"))
            .collect();
        format!(
            "server {:.2} s [{}], client {:.2} s",
            self.server_s,
            threads.join(", "),
            self.client_s
        )
    }
}

/// Follows a process's `VmRSS` every 20 ms on a thread of its own until stopped.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<u64>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    /// Starts sampling `pid`.
    pub fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let (flag, sink) = (stop.clone(), samples.clone());
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                if let Ok(kib) = rss_kib(pid) {
                    sink.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(kib);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Self {
            stop,
            samples,
            thread: Some(thread),
        }
    }

    /// Stops sampling; the largest sample seen (KiB).
    pub fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.samples
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
    }
}

/// Waits until `pid`'s resident memory stops falling (three readings 250 ms apart within
/// 256 KiB of each other, at most `limit`), and returns it in KiB.
///
/// # Errors
/// If `/proc` cannot be read.
pub fn settled_rss_kib(pid: u32, limit: Duration) -> anyhow::Result<u64> {
    let started = std::time::Instant::now();
    let mut last = rss_kib(pid)?;
    let mut steady = 0;
    while started.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(250));
        let now = rss_kib(pid)?;
        if now.abs_diff(last) <= 256 {
            steady += 1;
            if steady >= 2 {
                return Ok(now);
            }
        } else {
            steady = 0;
        }
        last = now;
    }
    Ok(last)
}

/// The pid of our child process whose command line mentions `arg` (a unique temp dir).
///
/// # Errors
/// If no such process is found.
pub fn find_pid_by_arg(arg: &Path) -> anyhow::Result<u32> {
    let needle = arg.as_os_str().as_encoded_bytes();
    let me = std::process::id();
    for entry in std::fs::read_dir("/proc")?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if cmdline.windows(needle.len()).any(|w| w == needle)
            && proc_stat_fields(pid)
                .is_some_and(|f| f.get(1).map(String::as_str) == Some(&me.to_string()))
        {
            return Ok(pid);
        }
    }
    bail!(
        "cannot find the server process for {} in /proc",
        arg.display()
    )
}
