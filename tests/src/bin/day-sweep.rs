//! `day-sweep`: the randomised day of a worker on two devices and their manager
//! (`pwa.mjs day`, see `tests/tests/e2e/pwa_day.rs` for the fixed-seed test) over many seeds.
//! Not a test: it prints how many seeds kept every invariant, and the first that did not.
//!
//! ```text
//! bash scripts/build-web.sh
//! cargo run --release -p tests --bin day-sweep -- [--from 1] [--seeds 200] [--steps 40] [--chunk 8]
//! ```
//!
//! Seeds run `--chunk` at a time in one browser session (three signed-in browsers: the
//! worker's two devices and the manager's), against one server.

// A benchmark's whole job is to print its figures on stdout.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;
use std::time::Instant;

use server::ServerConfig;
use tests::council::{self, PASSWORD};
use tests::{TestServer, js_client};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

async fn run() -> anyhow::Result<bool> {
    let from = arg("--from", 1);
    let seeds = arg("--seeds", 200);
    let steps = arg("--steps", 40).to_string();
    let chunk = arg("--chunk", 8).max(1);
    let dir = tempfile::tempdir()?;
    council::create(dir.path())?;
    let mut config = ServerConfig::new(dir.path().to_owned());
    config.web_dir = Some(js_client::web_dir()?);
    let server = TestServer::start_with(config).await?;
    let url = format!("http://{}", server.addr);
    let data_dir = dir.path().to_string_lossy().into_owned();
    // The admin commands of the `server-under-test` binary built next to this one.
    let admin = std::env::current_exe()?
        .with_file_name("server-under-test")
        .to_string_lossy()
        .into_owned();
    let started = Instant::now();
    let mut passed = 0;
    let mut first = from;
    let end = from + seeds;
    let mut ok = true;
    while first < end {
        let last = (first + chunk - 1).min(end - 1);
        let range = format!("{first}-{last}");
        let profiles = tempfile::tempdir()?;
        let outcome = js_client::pwa(
            "day",
            profiles.path(),
            &[
                ("DOORSTEP_URL", url.as_str()),
                ("DOORSTEP_USER", "sw-north-1"),
                ("DOORSTEP_PASSWORD", PASSWORD),
                ("DOORSTEP_CHILD", "C-N1"),
                ("DOORSTEP_MANAGER", "mgr-north"),
                ("DOORSTEP_ADMIN", admin.as_str()),
                ("DOORSTEP_DATA_DIR", data_dir.as_str()),
                ("DOORSTEP_SEEDS", range.as_str()),
                ("DOORSTEP_STEPS", steps.as_str()),
            ],
        )
        .await;
        match outcome {
            Ok(result) => {
                passed += result["seeds"].as_u64().unwrap_or(0);
                println!(
                    "seeds {range}: every invariant kept ({} ms per seed); {}",
                    result["msPerSeed"], result["stats"]
                );
            }
            Err(err) => {
                println!("seeds {range}: FAILED\n{err:#}");
                ok = false;
                break;
            }
        }
        first = last + 1;
    }
    server.stop().await?;
    println!(
        "{passed} of {seeds} seeds (from {from}, {steps} steps each) kept every invariant in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(ok && passed == seeds)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    tests::init_logging();
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("day-sweep failed: {err:#}");
            ExitCode::FAILURE
        }
    }
}
