//! Runs the official automerge-repo client scripts in `tests/js/` with Node.
//!
//! Each script prints one JSON line; failures exit non-zero with a message on stderr.

use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{Context, bail};
use serde_json::Value;

/// The `tests/js` directory (with `node_modules` installed by `npm ci`).
pub fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("js")
}

/// Runs `node client.mjs ARGS...` signed in with a session token, and parses its JSON
/// result. The token goes through the environment (`DOORSTEP_TOKEN`), never argv.
///
/// # Errors
/// If Node fails, times out, or prints no JSON.
pub async fn client(token: &str, args: &[&str]) -> anyhow::Result<Value> {
    run_node("client.mjs", Some(token), args).await
}

async fn run_node(script: &str, token: Option<&str>, args: &[&str]) -> anyhow::Result<Value> {
    let dir = js_dir();
    if !dir.join("node_modules").exists() {
        bail!("tests/js/node_modules is missing: run `npm ci` in tests/js");
    }
    let output = tokio::process::Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(&dir)
        .envs(token.map(|token| ("DOORSTEP_TOKEN", token)))
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .context("running node")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "node {script} {args:?} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let line = stdout
        .lines()
        .rev()
        .find(|line| line.trim_start().starts_with('{'))
        .context("no JSON line on stdout")?;
    Ok(serde_json::from_str(line)?)
}

/// Starts the official Node sync server (`node-server.mjs`) on `port` with `dir` storage.
///
/// # Errors
/// If Node cannot start.
pub fn spawn_node_server(port: u16, dir: &std::path::Path) -> anyhow::Result<std::process::Child> {
    std::process::Command::new("node")
        .arg("node-server.mjs")
        .args(["--port", &port.to_string(), "--dir"])
        .arg(dir)
        .current_dir(js_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting node-server.mjs")
}

/// The built web app (`scripts/build-web.sh` writes it to `target/web`).
///
/// # Errors
/// If it has not been built.
pub fn web_dir() -> anyhow::Result<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    let dir = target.join("web");
    if !dir.join("pkg/client_wasm_bg.wasm").exists() {
        bail!(
            "{} has no built web app: run scripts/build-web.sh",
            dir.display()
        );
    }
    Ok(dir)
}

/// Runs one scenario of `pwa.mjs` (the PWA in headless Chromium, driven by playwright-core)
/// with `env`, and parses its JSON result. Chromium's profiles go under `profiles`.
///
/// # Errors
/// If the scenario fails (the error carries what it printed) or takes over 5 minutes.
pub async fn pwa(
    scenario: &str,
    profiles: &std::path::Path,
    env: &[(&str, &str)],
) -> anyhow::Result<Value> {
    let run = tokio::process::Command::new("node")
        .args(["pwa.mjs", scenario])
        .current_dir(js_dir())
        .env("DOORSTEP_PROFILE", profiles)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(300), run)
        .await
        .context("pwa.mjs took over 5 minutes")?
        .context("running node pwa.mjs")?;
    if !output.status.success() {
        bail!(
            "pwa.mjs {scenario} failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|line| line.trim_start().starts_with('{'))
        .context("no JSON line on stdout")?;
    Ok(serde_json::from_str(line)?)
}
