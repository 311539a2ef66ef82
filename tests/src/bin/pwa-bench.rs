//! `pwa-bench`: the PWA's size and offline start-up figures. Not a test: it prints figures.
//!
//! ```text
//! bash scripts/build-web.sh
//! cargo run --release -p tests --bin pwa-bench -- [--visits 500] [--runs 5]
//! ```
//!
//! 1. The size of the built wasm data core (`target/web/pkg/client_wasm_bg.wasm`), raw and
//!    gzipped (`gzip -9`), against the 600 KB gzip target.
//! 2. The time to open the app offline to a usable caseload (unlock with the PIN included)
//!    in headless Chromium, with `--visits` visit records stored on the device, against
//!    the same measurement with none (the baseline, same run, same machine): `pwa.mjs
//!    bench-open` fills two browser profiles through the app, then makes `--runs` cold
//!    starts of each (a new browser process each time) and reports the median.

// A benchmark's whole job is to print its figures on stdout.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use anyhow::Context;
use server::ServerConfig;
use tests::council::{self, PASSWORD};
use tests::{TestServer, js_client};

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

async fn run() -> anyhow::Result<()> {
    let web = js_client::web_dir()?;
    let wasm = web.join("pkg/client_wasm_bg.wasm");
    let raw = std::fs::metadata(&wasm)?.len();
    let gzip = std::process::Command::new("gzip")
        .arg("-9c")
        .arg(&wasm)
        .output()
        .context("running gzip")?
        .stdout
        .len();
    println!(
        "wasm data core: {raw} bytes raw, {gzip} bytes gzip -9 = {:.1} KiB (target: under 600 KB)",
        gzip as f64 / 1024.0
    );

    let visits = arg("--visits", "500");
    let runs = arg("--runs", "5");
    let dir = tempfile::tempdir()?;
    council::create(dir.path())?;
    let mut config = ServerConfig::new(dir.path().to_owned());
    config.web_dir = Some(web);
    let server = TestServer::start_with(config).await?;
    let profiles = tempfile::tempdir()?;
    let url = format!("http://{}", server.addr);
    let result = js_client::pwa(
        "bench-open",
        profiles.path(),
        &[
            ("DOORSTEP_URL", &url),
            ("DOORSTEP_USER", "sw-north-1"),
            ("DOORSTEP_PASSWORD", PASSWORD),
            ("DOORSTEP_CHILD", "C-N1"),
            ("DOORSTEP_VISITS", &visits),
            ("DOORSTEP_RUNS", &runs),
        ],
    )
    .await?;
    server.stop().await?;
    let (base, full) = (&result["baseline"], &result["full"]);
    println!(
        "open offline to a usable caseload, median of {runs} cold starts (unlock included):\n  \
         0 visits (baseline): {} ms (app ready {} ms, unlock to caseload {} ms; min {} max {})\n  \
         {visits} visits:          {} ms (app ready {} ms, unlock to caseload {} ms; min {} max {})\n  \
         ratio {visits} visits / baseline: {} (target: under 1000 ms)",
        base["total"],
        base["appReady"],
        base["unlockToCaseload"],
        base["min"],
        base["max"],
        full["total"],
        full["appReady"],
        full["unlockToCaseload"],
        full["min"],
        full["max"],
        result["ratio"]
    );
    println!("{result}");
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("pwa-bench failed: {err:#}");
            ExitCode::FAILURE
        }
    }
}
