//! A private PostgreSQL cluster for a test: `initdb` into a temporary directory, the
//! server on a free loopback port with its socket in that directory, stopped and removed on
//! drop. Uses Debian's server binaries (`/usr/lib/postgresql/<version>/bin`, off PATH);
//! `initdb` refuses root, so as root the cluster is created and run as the `postgres` user.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A running PostgreSQL cluster owned by one test.
pub struct PostgresCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    server: Option<Child>,
}

impl PostgresCluster {
    /// Creates and starts a cluster with one database, `doorstep`, owned by a superuser
    /// `doorstep` with password `doorstep`, reachable at [`Self::url`].
    ///
    /// # Errors
    /// If PostgreSQL is not installed (`scripts/setup.sh` installs it) or does not start
    /// within 30 s.
    pub fn start() -> anyhow::Result<Self> {
        let bin = server_bin_dir()?;
        let dir = tempfile::Builder::new().prefix("doorstep-pg-").tempdir()?;
        let as_postgres = is_root();
        if as_postgres {
            // The postgres user must own the data directory and reach it.
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path()))?;
            run(Command::new("chmod").arg("755").arg(dir.path()))?;
        }
        let data = dir.path().join("data");
        let password_file = dir.path().join("password");
        std::fs::write(&password_file, "doorstep\n")?;
        if as_postgres {
            run(Command::new("chown")
                .arg("postgres:postgres")
                .arg(&password_file))?;
        }
        run(command(as_postgres, &bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "doorstep", "--auth=scram-sha-256", "-E", "UTF8"])
            .arg(format!("--pwfile={}", password_file.display()))
            .arg("--no-sync"))
        .context("initdb")?;
        let port = free_port()?;
        let server = spawn_postgres(&bin, dir.path(), port)?;
        let mut cluster = PostgresCluster {
            dir,
            bin,
            port,
            server: Some(server),
        };
        cluster.wait_ready(Duration::from_secs(30))?;
        cluster.psql(
            "postgres",
            "CREATE DATABASE doorstep TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'",
        )?;
        Ok(cluster)
    }

    /// The connection URL of the `doorstep` database.
    pub fn url(&self) -> String {
        self.url_of("doorstep")
    }

    /// The connection URL of database `name` in this cluster.
    pub fn url_of(&self, name: &str) -> String {
        format!(
            "postgres://doorstep:doorstep@127.0.0.1:{}/{name}",
            self.port
        )
    }

    /// The port it listens on (loopback).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs `sql` in database `database` with `psql`, returning its unaligned output.
    ///
    /// # Errors
    /// If psql fails (the SQL is wrong or the server is down).
    pub fn psql(&self, database: &str, sql: &str) -> anyhow::Result<String> {
        let output = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(self.url_of(database))
            .args(["-c", sql])
            .output()
            .context("running psql")?;
        if !output.status.success() {
            bail!(
                "psql {sql:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Stops the server (PostgreSQL's fast shutdown: every client is disconnected), keeping
    /// its data, and waits until it has gone; [`PostgresCluster::start_again`] brings it back.
    ///
    /// # Errors
    /// If it cannot be signalled or does not stop within 30 s.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        let pid_file = self.dir.path().join("data").join("postmaster.pid");
        let pid = std::fs::read_to_string(&pid_file)
            .context("reading postmaster.pid")?
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned();
        run(Command::new("kill").args(["-INT", &pid]))?;
        if let Some(mut server) = self.server.take() {
            server.wait()?;
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while pid_file.exists() {
            if Instant::now() > deadline {
                bail!("postgres did not stop within 30 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Starts the server again on the same data and port, after [`PostgresCluster::stop`].
    ///
    /// # Errors
    /// If it does not start within 30 s.
    pub fn start_again(&mut self) -> anyhow::Result<()> {
        self.server = Some(spawn_postgres(&self.bin, self.dir.path(), self.port)?);
        self.wait_ready(Duration::from_secs(30))
    }

    /// Stops the server at once (as a crash would), keeping the data directory.
    ///
    /// # Errors
    /// If it cannot be signalled.
    pub fn kill9(&mut self) -> anyhow::Result<()> {
        if let Some(mut server) = self.server.take() {
            server.kill()?;
            server.wait()?;
        }
        Ok(())
    }

    fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .map(|status| status.success())
                .unwrap_or(false);
            if ready {
                return Ok(());
            }
            if let Some(server) = self.server.as_mut()
                && let Some(status) = server.try_wait()?
            {
                bail!("postgres exited ({status}): {}", self.log());
            }
            if Instant::now() > deadline {
                bail!("postgres not ready after {timeout:?}: {}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for PostgresCluster {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            // SIGINT: PostgreSQL's fast shutdown (disconnects clients, no checkpoint wait).
            let _ = Command::new("kill")
                .args(["-INT", &server.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = server.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = server.kill();
            let _ = server.wait();
        }
    }
}

/// Debian's PostgreSQL server binaries: the newest `/usr/lib/postgresql/<version>/bin`.
fn server_bin_dir() -> anyhow::Result<PathBuf> {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .with_context(|| {
            format!(
                "{} not found: PostgreSQL is not installed (scripts/setup.sh installs it)",
                root.display()
            )
        })?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .with_context(|| format!("no PostgreSQL server binaries under {}", root.display()))
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|output| output.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

/// `program`, run as the `postgres` user when `as_postgres` (initdb refuses root).
/// Starts `postgres` on the cluster in `dir` (its data in `dir/data`), on `port`.
fn spawn_postgres(bin: &Path, dir: &Path, port: u16) -> anyhow::Result<Child> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("log"))?;
    command(is_root(), &bin.join("postgres"))
        .arg("-D")
        .arg(dir.join("data"))
        .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
        .arg("-c")
        .arg(format!("unix_socket_directories={}", dir.display()))
        // A test's cluster: durability is not what it tests, speed is welcome.
        .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
        .args(["-c", "full_page_writes=off", "-c", "max_connections=200"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .context("starting postgres")
}

fn command(as_postgres: bool, program: &Path) -> Command {
    if as_postgres {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let output = command.output().with_context(|| format!("{command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// A loopback port free now (bound then released).
pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
