//! [`RawPeer`]: a WebSocket peer that sends whatever bytes a test hands it, for playing
//! a hostile client frame by frame; and crafting the hostile frames themselves.

use std::time::Duration;

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use shared::protocol::{self, Message};
use shared::{DocumentId, PeerId};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What a raw peer heard next.
#[derive(Debug, PartialEq)]
pub enum Heard {
    /// A protocol message.
    Message(Message),
    /// The server closed the socket (with its close frame, if it sent one).
    Closed(Option<u16>),
    /// Nothing within the wait.
    Silence,
}

/// A raw WebSocket peer.
pub struct RawPeer {
    socket: Socket,
    /// Its peer id on the wire.
    pub peer_id: PeerId,
}

impl RawPeer {
    /// Connects to a `/sync` URL (with its ticket) and does the `join`/`peer` handshake.
    ///
    /// # Errors
    /// If the connection or handshake fails.
    pub async fn joined(url: &str, peer_id: &str) -> anyhow::Result<Self> {
        let mut peer = Self::connected(url, peer_id).await?;
        peer.send(&Message::Join {
            sender_id: peer.peer_id.clone(),
            supported_protocol_versions: vec!["1".into()],
            peer_metadata: None,
        })
        .await?;
        match peer.next(Duration::from_secs(20)).await? {
            Heard::Message(Message::Peer { .. }) => Ok(peer),
            other => bail!("expected `peer`, heard {other:?}"),
        }
    }

    /// Connects without the handshake.
    ///
    /// # Errors
    /// If the upgrade is refused.
    pub async fn connected(url: &str, peer_id: &str) -> anyhow::Result<Self> {
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .context("websocket connect")?;
        Ok(Self {
            socket,
            peer_id: PeerId::new(peer_id),
        })
    }

    /// Sends one protocol message.
    ///
    /// # Errors
    /// If the socket is closed.
    pub async fn send(&mut self, message: &Message) -> anyhow::Result<()> {
        self.send_bytes(protocol::encode(message)).await
    }

    /// Sends one binary frame as is.
    ///
    /// # Errors
    /// If the socket is closed.
    pub async fn send_bytes(&mut self, bytes: Vec<u8>) -> anyhow::Result<()> {
        self.socket.send(WsMessage::Binary(bytes.into())).await?;
        Ok(())
    }

    /// Sends a text frame (not part of the protocol).
    ///
    /// # Errors
    /// If the socket is closed.
    pub async fn send_text(&mut self, text: &str) -> anyhow::Result<()> {
        self.socket.send(WsMessage::Text(text.into())).await?;
        Ok(())
    }

    /// A `sync` from this peer about `document` carrying automerge sync bytes `data`.
    pub fn sync(&self, document: DocumentId, data: Vec<u8>) -> Message {
        Message::Sync {
            sender_id: self.peer_id.clone(),
            target_id: PeerId::new("server"),
            document_id: document,
            data,
        }
    }

    /// A `request` from this peer for `document`.
    pub fn request(&self, document: DocumentId, data: Vec<u8>) -> Message {
        Message::Request {
            sender_id: self.peer_id.clone(),
            target_id: PeerId::new("server"),
            document_id: document,
            data,
        }
    }

    /// The next thing heard within `wait` (pings and pongs are skipped).
    ///
    /// # Errors
    /// If a frame is not a protocol message.
    pub async fn next(&mut self, wait: Duration) -> anyhow::Result<Heard> {
        loop {
            let frame = match tokio::time::timeout(wait, self.socket.next()).await {
                Err(_) => return Ok(Heard::Silence),
                Ok(None) => return Ok(Heard::Closed(None)),
                Ok(Some(Err(_))) => return Ok(Heard::Closed(None)),
                Ok(Some(Ok(frame))) => frame,
            };
            match frame {
                WsMessage::Binary(bytes) => {
                    return Ok(Heard::Message(protocol::decode(&bytes)?));
                }
                WsMessage::Close(frame) => {
                    return Ok(Heard::Closed(frame.map(|f: CloseFrame| u16::from(f.code))));
                }
                _ => {}
            }
        }
    }

    /// Expects an `error` message naming `needle`, then the close; returns the message.
    ///
    /// # Errors
    /// If the server answers otherwise.
    pub async fn expect_refusal(&mut self, needle: &str) -> anyhow::Result<String> {
        let heard = self.next(Duration::from_secs(20)).await?;
        let Heard::Message(Message::Error { message }) = heard else {
            bail!("expected an error naming {needle:?}, heard {heard:?}");
        };
        if !message.contains(needle) {
            bail!("the error {message:?} does not mention {needle:?}");
        }
        match self.next(Duration::from_secs(20)).await? {
            Heard::Closed(_) => Ok(message),
            other => bail!("expected the close after the error, heard {other:?}"),
        }
    }
}

/// Hostile automerge sync messages (the `data` of a `sync`), each refused by
/// `shared::sync::check_sync_message` for the reason in its name.
pub mod frames {
    use std::io::Write;

    fn uleb(out: &mut Vec<u8>, mut value: u64) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    /// No heads, no need, one `have` with these bloom filter bytes, these chunks.
    fn message(bloom: &[u8], chunks: &[Vec<u8>]) -> Vec<u8> {
        let mut out = vec![0x42, 0, 0, 1, 0];
        uleb(&mut out, bloom.len() as u64);
        out.extend(bloom);
        uleb(&mut out, chunks.len() as u64);
        for chunk in chunks {
            uleb(&mut out, chunk.len() as u64);
            out.extend(chunk);
        }
        out
    }

    fn chunk(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, kind];
        uleb(&mut out, body.len() as u64);
        out.extend(body);
        out
    }

    /// A bloom filter with 0 bits per entry: automerge 0.12 divides by zero on it.
    pub fn zero_bit_bloom() -> Vec<u8> {
        message(&[1, 0, 7], &[])
    }

    /// A bloom filter with four billion probes: automerge 0.12 allocates 16 GiB.
    pub fn billion_probe_bloom() -> Vec<u8> {
        message(&[1, 10, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xff, 0xff], &[])
    }

    /// A compressed change of `inflated` zero bytes (about a thousandth of that on the wire).
    pub fn deflate_bomb(inflated: usize) -> Vec<u8> {
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..inflated / zeros.len() {
            let _ = encoder.write_all(&zeros);
        }
        let body = encoder.finish().unwrap_or_default();
        message(&[], &[chunk(2, &body)])
    }

    /// A change whose one column declares a trillion rows in a few bytes.
    pub fn row_bomb() -> Vec<u8> {
        let mut body = vec![0, 16];
        body.extend([7u8; 16]);
        body.extend([1, 1, 0, 0, 0, 1, 0x22]);
        let run = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 1];
        body.push(run.len() as u8);
        body.extend(run);
        message(&[], &[chunk(1, &body)])
    }

    /// Bytes that are not an automerge chunk where a change should be.
    pub fn garbage_change() -> Vec<u8> {
        message(&[], &[b"this is not a change".to_vec()])
    }
}
