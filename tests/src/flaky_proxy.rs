//! [`FlakyProxy`]: a TCP proxy on loopback whose connections a test can cut, and whose
//! target it can move (to a restarted server on another port), to see clients reconnect.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

/// Forwards every connection to a target; [`FlakyProxy::drop_connections`] cuts them.
pub struct FlakyProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    target: Arc<Mutex<SocketAddr>>,
    links: Arc<Mutex<Vec<AbortHandle>>>,
    accept: JoinHandle<()>,
}

impl FlakyProxy {
    /// Listens on `127.0.0.1:0`, forwarding to `target`.
    ///
    /// # Errors
    /// If it cannot bind.
    pub async fn start(target: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let target = Arc::new(Mutex::new(target));
        let links: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (to, held) = (target.clone(), links.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let target = *to.lock().unwrap_or_else(PoisonError::into_inner);
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                held.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(link.abort_handle());
            }
        });
        Ok(Self {
            addr,
            target,
            links,
            accept,
        })
    }

    /// New connections go to `target` from now on.
    pub fn retarget(&self, target: SocketAddr) {
        *self.target.lock().unwrap_or_else(PoisonError::into_inner) = target;
    }

    /// Cuts every connection made so far (both sockets are dropped at once, as when a
    /// tablet loses its signal); returns how many were open.
    pub fn drop_connections(&self) -> usize {
        let links: Vec<AbortHandle> =
            std::mem::take(&mut *self.links.lock().unwrap_or_else(PoisonError::into_inner));
        let open = links.iter().filter(|link| !link.is_finished()).count();
        for link in links {
            link.abort();
        }
        open
    }
}

impl Drop for FlakyProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.drop_connections();
    }
}
