//! `GET /sync`: one authenticated WebSocket per peer, relaying frames between it and the hub.
//!
//! The loop has no sync logic: it forwards binary frames to the hub (decoded, their changes
//! loaded off the hub by [`HubHandle::prepare`]) and writes what the hub sends back. It is generic over the socket so tests can drive it with channels.

use axum::Router;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use futures::{Sink, SinkExt, Stream, StreamExt};
use shared::protocol::{self, Message};
use shared::sync::{CloseReason, ConnectionId};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, info_span, warn};

use serde::Deserialize;

use super::pacer::Pacer;
use super::{ApiError, AppState, ClientAddress, session_api};
use crate::directory::denial_audit::Denied;
use crate::directory::sessions::{self, Identity, SessionError};
use crate::directory::{Role, audit};
use crate::hub::{HubHandle, HubInput, Outbound};

/// WebSocket close code for a policy violation (RFC 6455).
const CLOSE_POLICY: u16 = 1008;
/// WebSocket close code for a server-side failure.
const CLOSE_INTERNAL: u16 = 1011;
/// WebSocket close code for "going away" (shutdown or a peer's leave).
const CLOSE_AWAY: u16 = 1001;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/sync", get(upgrade))
}

/// `GET /sync` query: the single-use ticket from `POST /api/sync-ticket`, or the
/// session's sync credential from `POST /api/sync-credential`.
#[derive(Deserialize)]
struct SyncQuery {
    ticket: Option<String>,
    credential: Option<String>,
}

/// Authenticates the upgrade (ticket, sync credential or session cookie), then hands the
/// socket to [`relay`].
async fn upgrade(
    State(state): State<AppState>,
    client: ClientAddress,
    Query(query): Query<SyncQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let cookie = session_api::bearer_or_cookie(&headers);
    let denials = state.denials.clone();
    let who = Denied::Address(client.key().unwrap_or_default());
    let now = state.clock.now_ms();
    // A ticket is used up here, in memory, whatever happens next; what it names is
    // checked against the directory below.
    let holder = query
        .ticket
        .as_deref()
        .map(|ticket| state.tickets.redeem(ticket, now));
    let credential = query.credential;
    let metrics = state.metrics.clone();
    let identity = state
        .with_directory(move |conn| {
            let (outcome, presented) = match (holder, &credential, &cookie) {
                (Some(Some(holder)), _, _) => (
                    sessions::session_identity(conn, holder.session_id, now).and_then(|identity| {
                        // Bound to its device as well as its session.
                        if identity.device_id == holder.device_id {
                            Ok(identity)
                        } else {
                            Err(SessionError::Invalid)
                        }
                    }),
                    "ticket",
                ),
                (Some(None), _, _) => (Err(SessionError::Invalid), "ticket"),
                (None, Some(credential), _) => (
                    sessions::redeem_sync_credential(conn, credential, now),
                    "sync credential",
                ),
                (None, None, Some(token)) => {
                    (sessions::authenticate(conn, token, now), "session cookie")
                }
                (None, None, None) => (Err(SessionError::Invalid), "no credentials"),
            };
            if let Err(err) = &outcome {
                metrics.connections_refused.add(match presented {
                    "ticket" => "ticket",
                    "sync credential" => "sync_credential",
                    "session cookie" => "session_cookie",
                    _ => "no_credentials",
                });
                // A client retrying a dead ticket in a loop: one row per window, counted.
                let entry = audit::AuditEntry::new(now, "sync-connect", audit::Outcome::Denied)
                    .detail(format!("{presented}: {err}"));
                denials.record(conn, who, entry)?;
            }
            Ok::<_, SessionError>(outcome)
        })
        .await??;
    state
        .metrics
        .connections_accepted
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let limit = state.max_frame_bytes;
    let pacer = Pacer::new(state.max_messages_per_sec, state.message_burst);
    Ok(ws
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket: WebSocket| {
            let connection = state.hub.new_connection_id();
            let span = info_span!("sync", %connection, worker = %identity.username);
            let task = relay(
                socket,
                connection,
                identity,
                state.hub.clone(),
                pacer,
                state.shutdown.clone(),
            );
            state.sockets.spawn(task.instrument(span));
            std::future::ready(())
        }))
}

/// Relays between one socket and the hub until either side closes; frames are read no
/// faster than `pacer` allows.
pub async fn relay<S>(
    mut socket: S,
    connection: ConnectionId,
    identity: Identity,
    hub: HubHandle,
    mut pacer: Pacer,
    shutdown: CancellationToken,
) where
    S: Stream<Item = Result<WsMessage, axum::Error>> + Sink<WsMessage> + Unpin,
{
    let (outbox, mut from_hub) = mpsc::unbounded_channel();
    // Only social workers write through sync; managers decide through the HTTP API.
    let may_write = identity.role == Role::SocialWorker;
    let connected = HubInput::Connected {
        connection,
        identity,
        outbox,
    };
    if !hub.send(connected).await {
        return;
    }
    debug!("connected");
    loop {
        tokio::select! {
            incoming = socket.next() => match incoming {
                Some(Ok(WsMessage::Binary(bytes))) => {
                    let wait = pacer.delay();
                    if !wait.is_zero() {
                        tokio::time::sleep(wait).await;
                    }
                    let incoming = match hub.prepare(bytes.to_vec(), may_write).await {
                        Ok(incoming) => incoming,
                        Err(reason) => {
                            refuse(&mut socket, &reason).await;
                            break;
                        }
                    };
                    if !hub.send(HubInput::Frame { connection, incoming }).await {
                        break;
                    }
                }
                Some(Ok(WsMessage::Text(_))) => {
                    let reason = "text frames are not part of the protocol; send binary cbor";
                    refuse(&mut socket, reason).await;
                    break;
                }
                Some(Ok(WsMessage::Close(_))) | None => break,
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => {}
                Some(Err(err)) => {
                    match read_failure(err) {
                        ReadFailure::PeerFault(reason) => refuse(&mut socket, &reason).await,
                        ReadFailure::Gone(cause) => debug!(%cause, "socket read ended"),
                    }
                    break;
                }
            },
            outbound = from_hub.recv() => match outbound {
                Some(Outbound::Send(message)) => {
                    let bytes = protocol::encode(&message);
                    if socket.send(WsMessage::Binary(bytes.into())).await.is_err() {
                        break;
                    }
                }
                Some(Outbound::Close(reason)) => {
                    let (code, text) = match &reason {
                        CloseReason::ProtocolError(_) => (CLOSE_POLICY, "protocol error"),
                        CloseReason::StorageError(_) => (CLOSE_INTERNAL, "storage error"),
                        CloseReason::PeerLeft => (CLOSE_AWAY, "goodbye"),
                    };
                    close(&mut socket, code, text).await;
                    break;
                }
                None => break,
            },
            () = shutdown.cancelled() => {
                close(&mut socket, CLOSE_AWAY, "server shutting down").await;
                break;
            }
        }
    }
    hub.send(HubInput::Disconnected { connection }).await;
    debug!("disconnected");
}

/// Why reading from a socket failed.
enum ReadFailure {
    /// The peer sent something unacceptable (an oversized or malformed frame): tell it.
    PeerFault(String),
    /// The connection is gone (reset, closed): nobody to tell.
    Gone(String),
}

fn read_failure(err: axum::Error) -> ReadFailure {
    let inner = err.into_inner();
    match inner.downcast_ref::<tungstenite::Error>() {
        Some(tungstenite::Error::Capacity(cause)) => {
            ReadFailure::PeerFault(format!("frame refused: {cause}"))
        }
        Some(tungstenite::Error::Protocol(cause)) => {
            ReadFailure::PeerFault(format!("websocket protocol violation: {cause}"))
        }
        Some(tungstenite::Error::Utf8(cause)) => {
            ReadFailure::PeerFault(format!("invalid utf-8 in a text frame: {cause}"))
        }
        _ => ReadFailure::Gone(inner.to_string()),
    }
}

/// Sends a protocol `error` message and closes the socket.
async fn refuse<S>(socket: &mut S, reason: &str)
where
    S: Sink<WsMessage> + Unpin,
{
    warn!(%reason, "refusing connection");
    let error = Message::Error {
        message: reason.to_owned(),
    };
    let _ = socket
        .send(WsMessage::Binary(protocol::encode(&error).into()))
        .await;
    close(socket, CLOSE_POLICY, "protocol error").await;
}

async fn close<S>(socket: &mut S, code: u16, reason: &str)
where
    S: Sink<WsMessage> + Unpin,
{
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = socket.send(WsMessage::Close(Some(frame))).await;
    let _ = socket.close().await;
}
