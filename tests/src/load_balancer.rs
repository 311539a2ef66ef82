//! Debian's nginx as a test's load balancer: one loopback port in front of N Doorstep
//! replicas, proxying HTTP and WebSocket upgrades round-robin, skipping a replica that
//! refuses connections. Its prefix (configuration, pid, temp and log files) is a temporary
//! directory; it is stopped on drop.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::postgres_cluster::{free_port, is_root};

/// The nginx binary Debian installs.
const NGINX: &str = "/usr/sbin/nginx";

/// A running nginx in front of a set of replicas.
pub struct LoadBalancer {
    dir: tempfile::TempDir,
    /// Where devices connect.
    pub addr: SocketAddr,
    nginx: Option<Child>,
}

impl LoadBalancer {
    /// Starts nginx on a free loopback port in front of `replicas`.
    ///
    /// # Errors
    /// If nginx is not installed (`scripts/setup.sh` installs it), its configuration is
    /// refused, or it does not listen within 10 s.
    pub fn start(replicas: &[SocketAddr]) -> anyhow::Result<Self> {
        if !Path::new(NGINX).exists() {
            bail!("{NGINX} not found: nginx is not installed (scripts/setup.sh installs it)");
        }
        let dir = tempfile::Builder::new()
            .prefix("doorstep-nginx-")
            .tempdir()?;
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
        std::fs::write(
            dir.path().join("nginx.conf"),
            config(dir.path(), addr, replicas),
        )?;
        let nginx = Command::new(NGINX)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting nginx")?;
        let mut balancer = LoadBalancer {
            dir,
            addr,
            nginx: Some(nginx),
        };
        balancer.wait_listening(Duration::from_secs(10))?;
        Ok(balancer)
    }

    /// `http://` URL of the balancer.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// nginx's error log so far (where it says which upstream failed).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    fn wait_listening(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if std::net::TcpStream::connect(self.addr).is_ok() {
                return Ok(());
            }
            if let Some(nginx) = self.nginx.as_mut()
                && let Some(status) = nginx.try_wait()?
            {
                bail!("nginx exited ({status}): {}", self.log());
            }
            if Instant::now() > deadline {
                bail!("nginx not listening after {timeout:?}: {}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for LoadBalancer {
    fn drop(&mut self) {
        if let Some(mut nginx) = self.nginx.take() {
            // SIGTERM: nginx's fast shutdown (the master stops its workers).
            let _ = Command::new("kill")
                .args(["-TERM", &nginx.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = nginx.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = nginx.kill();
            let _ = nginx.wait();
        }
    }
}

/// The configuration: WebSocket upgrades passed through, long-lived sockets kept open, a
/// replica that refuses a connection or answers 502/503 skipped for the next one.
fn config(prefix: &Path, addr: SocketAddr, replicas: &[SocketAddr]) -> String {
    let prefix = prefix.display();
    let upstreams: String = replicas
        .iter()
        .map(|replica| format!("    server {replica} max_fails=1 fail_timeout=1s;\n"))
        .collect();
    // As root, the workers would otherwise switch to `nobody`, who cannot write the prefix.
    let user = if is_root() { "user root;\n" } else { "" };
    format!(
        "{user}daemon off;
master_process on;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/client_body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  upstream doorstep {{
{upstreams}  }}
  server {{
    listen {addr};
    client_max_body_size 16m;
    location / {{
      proxy_pass http://doorstep;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_connect_timeout 2s;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_next_upstream_tries 3;
    }}
  }}
}}
"
    )
}
