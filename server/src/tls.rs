//! Serving HTTPS directly (rustls, ring provider), for deployments without a TLS proxy.

use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::config::TlsFiles;

/// Serves `app` over TLS on `listener` until `stop` is cancelled.
///
/// # Errors
/// If the certificate or key cannot be read, or serving fails.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    files: &TlsFiles,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    // Ignore "already installed": tests may start several servers in one process.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = RustlsConfig::from_pem_file(&files.cert, &files.key)
        .await
        .with_context(|| {
            format!(
                "reading TLS certificate {} and key {}",
                files.cert.display(),
                files.key.display()
            )
        })?;
    let listener = listener.into_std()?;
    info!(addr = %listener.local_addr()?, "listening (https)");
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        stop.cancelled().await;
        stopper.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    // TCP_NODELAY, as on the plain listener (see `crate::run`).
    let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(config)
        .acceptor(axum_server::accept::NoDelayAcceptor::new());
    axum_server::from_tcp(listener)?
        .acceptor(acceptor)
        .handle(handle)
        .serve(app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .await
        .context("serving https")
}
