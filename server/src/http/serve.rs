//! Accepting connections: TCP (TLS when configured), then HTTP/1.1 with a deadline on
//! every handshake, so a peer that opens a socket and sends half a request (or half a TLS
//! hello) is closed instead of held forever.
//!
//! axum's own `serve` gives hyper no timer, so hyper's header-read timeout never fires;
//! this loop is the same thing with one: accept, set `TCP_NODELAY` (sync replies are small
//! frames written back to back), finish TLS within the deadline, serve HTTP/1.1 (with
//! upgrades, for `/sync`) with the deadline on reading each request's headers, and put
//! the peer's address in each request as axum's [`ConnectInfo`].

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;
use tracing::{debug, info};

/// How long, after shutdown begins, open HTTP connections get to finish.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `stop` is cancelled, then lets open connections
/// finish (up to [`DRAIN`]).
///
/// # Errors
/// If the listener's address cannot be read.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    handshake_timeout: Duration,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    info!(addr = %listener.local_addr()?, tls = tls.is_some(), "listening");
    let connections = TaskTracker::new();
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of descriptors and the like: wait a moment rather than spin.
                    debug!(cause = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stop.cancelled() => break,
        };
        let app = app.clone();
        let tls = tls.clone();
        let stop = stop.clone();
        connections.spawn(async move {
            if let Err(err) = tcp.set_nodelay(true) {
                debug!(cause = %err, "could not set TCP_NODELAY");
            }
            match tls {
                None => serve_connection(tcp, peer, app, handshake_timeout, stop).await,
                Some(tls) => match tokio::time::timeout(handshake_timeout, tls.accept(tcp)).await {
                    Ok(Ok(stream)) => {
                        serve_connection(stream, peer, app, handshake_timeout, stop).await
                    }
                    Ok(Err(err)) => debug!(%peer, cause = %err, "TLS handshake failed"),
                    Err(_) => debug!(%peer, "TLS handshake not finished in time"),
                },
            }
        });
    }
    connections.close();
    if tokio::time::timeout(DRAIN, connections.wait())
        .await
        .is_err()
    {
        debug!("some HTTP connections were still open after the drain period");
    }
    Ok(())
}

/// Serves HTTP/1.1 on one accepted stream.
async fn serve_connection<S>(
    stream: S,
    peer: SocketAddr,
    app: Router,
    handshake_timeout: Duration,
    stop: CancellationToken,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = app.map_request(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request.map(axum::body::Body::new)
    });
    let hyper_service = TowerToHyperService::new(service);
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(handshake_timeout)
        .serve_connection(TokioIo::new(stream), hyper_service)
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(err) = result {
                debug!(%peer, cause = %err, "HTTP connection ended");
            }
        }
        () = stop.cancelled() => {
            connection.as_mut().graceful_shutdown();
            if let Err(err) = connection.await {
                debug!(%peer, cause = %err, "HTTP connection ended during shutdown");
            }
        }
    }
}
