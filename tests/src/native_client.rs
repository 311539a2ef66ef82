//! [`NativeClient`]: a Rust automerge-repo client on the same sans-IO core as the server.
//!
//! It dials the server over a real WebSocket (tokio-tungstenite), keeps its documents in
//! memory (its "device storage" is a map), and lets tests create, edit, find and wait for
//! documents to be acknowledged, i.e. durable on the server.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use automerge::{Automerge, ChangeHash};
use futures::{SinkExt, StreamExt};
use shared::protocol::{self, Message};
use shared::sync::{
    ConnectionId, CoreConfig, Direction, Effects, Event, IoResult, StorageOutcome, StorageTask,
    StorageTaskKind, StoredChunks, SyncCore, Timestamp,
};
use shared::{DocumentId, PeerId};
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A client that syncs documents with a Doorstep (or any automerge-repo) server.
#[derive(Clone)]
pub struct NativeClient {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<ClientState>,
    /// Woken after every event, so waiters can re-check.
    changed: Notify,
}

struct ClientState {
    core: SyncCore,
    /// The device's storage: chunks per document.
    stored: HashMap<DocumentId, Vec<Vec<u8>>>,
    link: Option<Link>,
    next_connection: u64,
    /// `error` messages the server sent us.
    errors: Vec<String>,
}

struct Link {
    id: ConnectionId,
    frames: mpsc::UnboundedSender<Outgoing>,
}

enum Outgoing {
    Frame(Vec<u8>),
    Close,
}

impl NativeClient {
    /// A client with a random peer id, not yet connected.
    pub fn new(name: &str) -> Self {
        let peer = PeerId::new(format!("{name}-{:016x}", rand::random::<u64>()));
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(ClientState {
                    core: SyncCore::new(CoreConfig::client(peer)),
                    stored: HashMap::new(),
                    link: None,
                    next_connection: 0,
                    errors: Vec::new(),
                }),
                changed: Notify::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, ClientState> {
        // A panic while holding the lock poisons it; the state is still usable for tests.
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Dials `url` and completes the automerge-repo handshake.
    ///
    /// # Errors
    /// If the WebSocket cannot be opened or the handshake does not finish in 10 s.
    pub async fn connect(&self, url: &str) -> anyhow::Result<()> {
        self.connect_with_headers(url, &[]).await
    }

    /// Like [`NativeClient::connect`], with extra handshake headers (e.g. `Cookie` and
    /// `Origin`, as a browser sends them).
    ///
    /// # Errors
    /// If the WebSocket cannot be opened or the handshake does not finish in 10 s.
    pub async fn connect_with_headers(
        &self,
        url: &str,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<()> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
        let mut request = url.into_client_request()?;
        for (name, value) in headers {
            request.headers_mut().append(
                HeaderName::from_bytes(name.as_bytes())?,
                HeaderValue::from_str(value)?,
            );
        }
        // TCP_NODELAY, as browsers and Node's `ws` set for WebSockets.
        let (socket, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
            .await
            .with_context(|| format!("connecting to {url}"))?;
        let (mut sink, mut stream) = socket.split();
        let (frames, mut outgoing) = mpsc::unbounded_channel();
        let connection = {
            let mut state = self.lock();
            let id = ConnectionId(state.next_connection);
            state.next_connection += 1;
            state.link = Some(Link { id, frames });
            self.drive(
                &mut state,
                Event::Connected {
                    connection: id,
                    direction: Direction::Dialled,
                },
            );
            id
        };
        tokio::spawn(async move {
            while let Some(out) = outgoing.recv().await {
                match out {
                    Outgoing::Frame(bytes) => {
                        if sink.send(WsMessage::Binary(bytes.into())).await.is_err() {
                            break;
                        }
                    }
                    Outgoing::Close => {
                        let _ = sink.close().await;
                        break;
                    }
                }
            }
        });
        let client = self.clone();
        tokio::spawn(async move {
            while let Some(Ok(frame)) = stream.next().await {
                match frame {
                    WsMessage::Binary(bytes) => {
                        let mut state = client.lock();
                        if let Ok(Message::Error { message }) = protocol::decode(&bytes) {
                            state.errors.push(message);
                        }
                        let event = Event::Received {
                            connection,
                            bytes: bytes.to_vec(),
                        };
                        client.drive(&mut state, event);
                    }
                    WsMessage::Close(_) => break,
                    _ => {}
                }
            }
            let mut state = client.lock();
            if state
                .link
                .as_ref()
                .is_some_and(|link| link.id == connection)
            {
                state.link = None;
            }
            client.drive(&mut state, Event::Disconnected { connection });
        });
        self.wait_until(Duration::from_secs(10), |state| {
            (state.core.stats().ready_connections > 0).then_some(())
        })
        .await
        .context("handshake")
    }

    /// Closes the connection (the documents stay on this "device").
    pub async fn disconnect(&self) {
        {
            let mut state = self.lock();
            if let Some(link) = state.link.take() {
                let _ = link.frames.send(Outgoing::Close);
                self.drive(
                    &mut state,
                    Event::Disconnected {
                        connection: link.id,
                    },
                );
            }
        }
        self.inner.changed.notify_waiters();
    }

    /// Whether the handshake with the server is done and the socket open.
    pub fn is_connected(&self) -> bool {
        let state = self.lock();
        state.link.is_some() && state.core.stats().ready_connections > 0
    }

    /// Adds a new document (random id) and starts pushing it.
    pub fn create(&self, doc: Automerge) -> DocumentId {
        let id = DocumentId::from_bytes(rand::random());
        let mut state = self.lock();
        if let Ok(fx) = state.core.create_document(id, doc) {
            self.carry_out(&mut state, fx);
        }
        id
    }

    /// Adds a copy of an existing document under its id (as if this device had synced it
    /// before) and starts pushing it.
    ///
    /// # Errors
    /// If this client already holds the document.
    pub fn adopt(&self, id: DocumentId, doc: Automerge) -> anyhow::Result<()> {
        let mut state = self.lock();
        let fx = state.core.create_document(id, doc)?;
        self.carry_out(&mut state, fx);
        Ok(())
    }

    /// Waits until the server either acknowledges the document (`true`) or refuses it
    /// with `doc-unavailable` (`false`).
    ///
    /// # Errors
    /// On timeout.
    pub async fn wait_settled(&self, id: DocumentId, timeout: Duration) -> anyhow::Result<bool> {
        self.wait_until(timeout, |state| {
            if state.core.is_refused(&id) {
                Some(false)
            } else {
                state.core.is_acknowledged(&id).then_some(true)
            }
        })
        .await
        .with_context(|| format!("waiting for the server to accept or refuse {id}"))
    }

    /// Edits a document in place and syncs the change.
    ///
    /// # Errors
    /// If the document is not held by this client.
    pub fn change<R>(
        &self,
        id: DocumentId,
        edit: impl FnOnce(&mut Automerge) -> R,
    ) -> anyhow::Result<R> {
        let mut state = self.lock();
        let (result, fx) = state.core.change_document(id, edit)?;
        self.carry_out(&mut state, fx);
        Ok(result)
    }

    /// Fetches a document from the server; `None` if the server says it is unavailable.
    ///
    /// # Errors
    /// On timeout.
    pub async fn find(
        &self,
        id: DocumentId,
        timeout: Duration,
    ) -> anyhow::Result<Option<Automerge>> {
        {
            let mut state = self.lock();
            let fx = state.core.find(id);
            self.carry_out(&mut state, fx);
        }
        self.wait_until(timeout, |state| {
            use shared::sync::DocumentStatus::{Ready, Unavailable};
            match state.core.document_status(&id) {
                Ready => Some(state.core.document(&id).cloned()),
                Unavailable => Some(None),
                _ => None,
            }
        })
        .await
        .with_context(|| format!("finding {id}"))
    }

    /// Waits until the server has confirmed it holds every change of the document.
    ///
    /// # Errors
    /// On timeout.
    pub async fn wait_acknowledged(&self, id: DocumentId, timeout: Duration) -> anyhow::Result<()> {
        self.wait_until(timeout, |state| {
            state.core.is_acknowledged(&id).then_some(())
        })
        .await
        .with_context(|| format!("waiting for the server to acknowledge {id}"))
    }

    /// Whether the server refused the document (`doc-unavailable` for a document we hold).
    pub fn is_refused(&self, id: DocumentId) -> bool {
        self.lock().core.is_refused(&id)
    }

    /// Whether the server has confirmed every change of the document.
    pub fn is_acknowledged(&self, id: DocumentId) -> bool {
        self.lock().core.is_acknowledged(&id)
    }

    /// The heads the server last reported for a document (what it acknowledged).
    pub fn server_heads(&self, id: DocumentId) -> Vec<ChangeHash> {
        self.lock()
            .core
            .peer_heads(&id)
            .into_iter()
            .flatten()
            .collect()
    }

    /// A copy of the document as this client holds it.
    pub fn document(&self, id: DocumentId) -> Option<Automerge> {
        self.lock().core.document(&id).cloned()
    }

    /// Protocol `error` messages received from the server.
    pub fn errors(&self) -> Vec<String> {
        self.lock().errors.clone()
    }

    async fn wait_until<T>(
        &self,
        timeout: Duration,
        mut ready: impl FnMut(&ClientState) -> Option<T>,
    ) -> anyhow::Result<T> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(value) = ready(&self.lock()) {
                return Ok(value);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                bail!("timed out after {timeout:?}");
            }
        }
    }

    fn drive(&self, state: &mut ClientState, event: Event) {
        let fx = state.core.handle(now(), event);
        self.carry_out(state, fx);
    }

    /// Carries out effects: send frames, run storage against memory, close links.
    fn carry_out(&self, state: &mut ClientState, fx: Effects) {
        let mut pending = VecDeque::from([fx]);
        while let Some(fx) = pending.pop_front() {
            for (connection, message) in fx.outbound {
                if let Some(link) = state.link.as_ref().filter(|l| l.id == connection) {
                    let _ = link
                        .frames
                        .send(Outgoing::Frame(protocol::encode(&message)));
                }
            }
            for task in fx.storage {
                let result = run_in_memory(&mut state.stored, task);
                pending.push_back(state.core.handle(now(), Event::IoComplete(result)));
            }
            for (connection, _) in fx.close {
                if state.link.as_ref().is_some_and(|l| l.id == connection)
                    && let Some(link) = state.link.take()
                {
                    let _ = link.frames.send(Outgoing::Close);
                }
            }
        }
        self.inner.changed.notify_waiters();
    }
}

fn run_in_memory(stored: &mut HashMap<DocumentId, Vec<Vec<u8>>>, task: StorageTask) -> IoResult {
    let outcome = match task.kind {
        StorageTaskKind::Load => {
            StorageOutcome::Loaded(stored.get(&task.document).map(|chunks| StoredChunks {
                bytes: chunks.concat(),
                count: chunks.len(),
                index: None,
            }))
        }
        StorageTaskKind::Append { changes, .. } => {
            stored.entry(task.document).or_default().push(changes);
            StorageOutcome::Written
        }
        StorageTaskKind::Compact { snapshot } => {
            stored.insert(task.document, vec![snapshot]);
            StorageOutcome::Written
        }
    };
    IoResult {
        task: task.id,
        outcome,
    }
}

fn now() -> Timestamp {
    Timestamp::from_millis(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0),
    )
}
