//! A peer's `sync` or `request`: decoded, bounded, then applied or refused.
//!
//! Where access is enforced, a document is answered by the connection's standing on it
//! (see `admission`). Changes to a stored document are applied to a copy first and kept
//! only if the change check ([`super::PeerChecks`]) finds nothing the peer may not write. A
//! document the connection may not read is answered exactly as one that does not exist:
//! `doc-unavailable` to a `request` or to changes, and to a `sync` without changes the
//! reply an empty document would give (what any new document's first message gets).

use automerge::{Automerge, sync, sync::SyncDoc};
use tracing::debug;

use super::access::CLOCK_SKEW;
use super::admission::Standing;
use super::document::{Body, Slot, Waiting};
use super::incoming::decode_sync;
use super::{
    Access, AccessEvent, AccessKind, ConnectionId, DenialReason, Effects, SyncCore, Timestamp,
    refusal_notice,
};
use crate::protocol::Message;
use crate::{DocumentId, PeerId};

impl SyncCore {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_peer_message(
        &mut self,
        now: Timestamp,
        connection: ConnectionId,
        remote: &PeerId,
        message: Message,
        sync: Option<Result<sync::Message, String>>,
        preloaded: Option<Box<Automerge>>,
        fx: &mut Effects,
    ) {
        let (is_request, sender_id, document_id, data) = match message {
            Message::Request {
                sender_id,
                document_id,
                data,
                ..
            } => (true, sender_id, document_id, data),
            Message::Sync {
                sender_id,
                document_id,
                data,
                ..
            } => (false, sender_id, document_id, data),
            Message::DocUnavailable { document_id, .. } => {
                if let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&document_id) {
                    if loaded.is_empty() {
                        loaded.unavailable = true;
                        // Nothing more is synced with that peer until we ask again
                        // (`find`), afresh: automerge's state would still hold our request
                        // as in flight and never send another (the server may hold it by
                        // then: a visit moved to our child).
                        self.unsubscribe(now, connection, document_id);
                    } else {
                        loaded.refused_by.insert(connection);
                    }
                }
                return;
            }
            Message::Leave { .. } => {
                return fx.close.push((connection, super::CloseReason::PeerLeft));
            }
            Message::Error { message } => return self.on_peer_error(now, connection, &message, fx),
            Message::Ignored { .. } | Message::Ephemeral { .. } => return,
            other => {
                let reason = format!("unexpected `{}` after the handshake", other.kind());
                return self.fail(now, connection, reason, fx);
            }
        };
        if &sender_id != remote {
            let reason = format!("senderId {sender_id} does not match the handshake's {remote}");
            return self.fail(now, connection, reason, fx);
        }
        let sync_message = sync.unwrap_or_else(|| decode_sync(&data, &self.config));
        let message = match sync_message {
            Ok(message) => message,
            Err(err) => {
                let reason = format!("sync message for {document_id} rejected: {err}");
                return self.fail(now, connection, reason, fx);
            }
        };
        if self.erased.contains(&document_id) {
            let waiting = Waiting {
                connection,
                is_request,
                message,
                preloaded: None,
            };
            return self.answer_erased(waiting, document_id, fx);
        }
        let Some(conn) = self.connections.get_mut(&connection) else {
            return;
        };
        if !conn.documents.contains(&document_id)
            && conn.documents.len() >= self.config.max_documents_per_connection
        {
            let reason = format!(
                "more than {} documents at once on one connection",
                self.config.max_documents_per_connection
            );
            return self.fail(now, connection, reason, fx);
        }
        conn.documents.insert(document_id);
        let waiting = Waiting {
            connection,
            is_request,
            message,
            preloaded,
        };
        match self.documents.get_mut(&document_id) {
            Some(Slot::Loaded(_)) => self.apply(now, document_id, waiting, fx),
            Some(Slot::Loading { waiting: queue, .. }) => queue.push(waiting),
            None => self.start_load(document_id, vec![waiting], false, fx),
        }
    }

    /// Applies one peer sync message to a loaded document, or refuses it, by the
    /// connection's standing on the document.
    pub(super) fn apply(
        &mut self,
        now: Timestamp,
        id: DocumentId,
        waiting: Waiting,
        fx: &mut Effects,
    ) {
        if !self.connections.contains_key(&waiting.connection) {
            return;
        }
        match self.standing(waiting.connection, id) {
            Standing::Granted(access) => self.receive(now, id, waiting, Some(access), fx),
            Standing::Creating => self.receive(now, id, waiting, None, fx),
            Standing::Unclaimed => {
                let creates = !waiting.is_request
                    && !waiting.message.changes.is_empty()
                    && self
                        .connections
                        .get(&waiting.connection)
                        .is_some_and(|conn| conn.grant.may_create());
                if creates {
                    if let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id) {
                        loaded.pending_owner = Some(waiting.connection);
                    }
                    self.receive(now, id, waiting, None, fx);
                } else {
                    // Nothing exists here. A `sync` without changes is how every new
                    // document starts (answered, not a denial); asking for it, or sending
                    // changes without the right to create, is refused and reported.
                    let denied = waiting.is_request || !waiting.message.changes.is_empty();
                    self.answer_as_absent(waiting, id, denied.then_some(None), fx);
                    self.forget_if_unused(id);
                }
            }
            Standing::Absent => {
                let child = self.index_of(&id).map(|index| index.child_id.clone());
                self.answer_as_absent(waiting, id, Some(child), fx);
                self.forget_if_unused(id);
            }
        }
    }

    /// Answers a message about a document as if nothing of it existed here. `denied` is
    /// `Some` when it does exist (reported, with its child if known, as a denial).
    pub(super) fn answer_as_absent(
        &mut self,
        waiting: Waiting,
        id: DocumentId,
        denied: Option<Option<String>>,
        fx: &mut Effects,
    ) {
        let Waiting {
            connection,
            is_request,
            message,
            ..
        } = waiting;
        if let Some(conn) = self.connections.get_mut(&connection) {
            conn.documents.remove(&id);
        }
        if let Some(child) = denied {
            debug!(%connection, document = %id, "access denied");
            fx.access.push(AccessEvent {
                connection,
                document: id,
                child,
                kind: AccessKind::Denied(DenialReason::NotGranted),
            });
        }
        if is_request || !message.changes.is_empty() {
            fx.outbound
                .push((connection, self.unavailable(connection, id)));
            return;
        }
        // What an empty document would say, exactly (it depends only on the message).
        let mut empty = Automerge::new();
        let mut state = sync::State::new();
        let reply = empty
            .receive_sync_message(&mut state, message)
            .ok()
            .and_then(|()| empty.generate_sync_message(&mut state));
        if let Some(reply) = reply {
            fx.outbound.push((
                connection,
                Message::Sync {
                    sender_id: self.config.local_peer.clone(),
                    target_id: self.remote_of(connection),
                    document_id: id,
                    data: reply.encode(),
                },
            ));
        }
    }

    /// Applies a message from a connection entitled to the document (`access`), or creating
    /// it (`None`).
    fn receive(
        &mut self,
        now: Timestamp,
        id: DocumentId,
        waiting: Waiting,
        access: Option<Access>,
        fx: &mut Effects,
    ) {
        let Waiting {
            connection,
            is_request,
            message,
            preloaded,
        } = waiting;
        let checks = self.config.peer_checks;
        let remote = self.remote_of(connection);
        let is_pending = matches!(self.documents.get(&id),
            Some(Slot::Loaded(loaded)) if loaded.pending_owner.is_some());
        if let Some(read) = self.subscribe(connection, id).filter(|_| !is_pending) {
            fx.access.push(read);
        }
        if !self.unpack(id) {
            return;
        }
        let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id) else {
            return;
        };
        // Asking for a document we hold nothing of: say so, exactly as for an unknown id.
        if is_request && loaded.is_empty() {
            loaded.peers.remove(&connection);
            if let Some(conn) = self.connections.get_mut(&connection) {
                conn.documents.remove(&id);
            }
            fx.outbound
                .push((connection, self.unavailable(connection, id)));
            self.forget_if_unused(id);
            return;
        }
        // Replies wait until every change is durable (see `flush`).
        let reply_waits = !loaded.is_durable();
        let child = loaded.index.as_ref().map(|index| index.child_id.clone());
        // A former holder's changes must date (by their device's clock) from while they
        // held the child; they may not fetch a record they do not have.
        let held_until = match (access, &loaded.index) {
            (Some(Access::Former), Some(index)) => self
                .connections
                .get(&connection)
                .and_then(|conn| conn.grant.former.get(&index.child_id))
                .copied(),
            _ => None,
        };
        if held_until.is_some() && is_request {
            loaded.peers.remove(&connection);
            if let Some(conn) = self.connections.get_mut(&connection) {
                conn.documents.remove(&id);
            }
            return self.deny(connection, id, child, DenialReason::Revoked, fx);
        }
        let pending = loaded.pending_owner.is_some();
        let persisted_empty = loaded.persisted_heads.is_empty();
        let saving = loaded.saving.is_some();
        let (Body::Working(doc), Some(state)) =
            (&mut loaded.body, loaded.peers.get_mut(&connection))
        else {
            return;
        };
        // A read-only peer that sends changes, or announces heads we lack (an automerge
        // peer told we are read-only keeps its changes back), is trying to write.
        let tries_to_write = !message.changes.is_empty()
            || message
                .heads
                .iter()
                .any(|head| doc.get_change_meta_by_hash(head).is_none());
        if state.read_only && tries_to_write && loaded.read_only_writers.insert(connection) {
            fx.access.push(AccessEvent {
                connection,
                document: id,
                child: child.clone(),
                kind: AccessKind::Denied(DenialReason::ReadOnly),
            });
            // Told, not only audited: the connection stays open for reading.
            self.notices_sent += 1;
            fx.outbound.push((
                connection,
                refusal_notice(
                    &self.config,
                    self.notices_sent,
                    remote.clone(),
                    id,
                    &DenialReason::ReadOnly,
                ),
            ));
        }
        let before = doc.get_heads();
        let fills_empty_document =
            before.is_empty() && persisted_empty && !saving && !message.changes.is_empty();
        let raw_changes = fills_empty_document.then(|| {
            message
                .changes
                .iter()
                .flatten()
                .copied()
                .collect::<Vec<u8>>()
        });
        // A message without changes announcing exactly our heads makes automerge record
        // those heads as sent to the peer (`last_sent_heads`): it assumes we answered the
        // peer's earlier messages at once. If our answer is still waiting for an append, the
        // peer has not been told we hold its changes; keep what we really sent, so the
        // answer still goes out once the append commits.
        let echoes_our_heads = message.changes.is_empty() && message.heads == before;
        let last_sent = state.last_sent_heads.clone();
        // The driver may have loaded the changes already (`Incoming::preload`): use that
        // document where automerge would load the same bytes into an empty one, then let
        // automerge take the rest of the message without them.
        let preloaded = preloaded.filter(|preloaded| {
            fills_empty_document
                && !state.read_only
                && message
                    .heads
                    .iter()
                    .all(|head| preloaded.get_change_meta_by_hash(head).is_some())
        });
        // Changes to a stored document go to a copy first: kept only if they touch nothing
        // the peer may not write.
        let checked = checks
            .map(|checks| checks.change)
            .filter(|_| !pending && !before.is_empty() && !state.read_only);
        let outcome = match preloaded {
            Some(preloaded) => {
                let actor = doc.get_actor().clone();
                *doc = preloaded.with_actor(actor);
                let mut message = message;
                message.changes = Vec::<Vec<u8>>::new().into();
                let outcome = doc.receive_sync_message(state, message);
                // Without changes, a message naming our heads reads to automerge as an
                // echo of heads we sent; we have not.
                state.last_sent_heads = last_sent;
                outcome
            }
            None if checked.is_some() && !message.changes.is_empty() => {
                let mut candidate = doc.clone();
                let mut candidate_state = state.clone();
                let outcome = candidate.receive_sync_message(&mut candidate_state, message);
                let check_change = checked.unwrap_or(|_, _| Ok(()));
                if let Err(violation) = check_change(doc, &candidate) {
                    let reason = DenialReason::Integrity(violation);
                    return self.refuse_change(now, connection, id, child, reason, fx);
                }
                if let Some(until) = held_until
                    && !made_before(&candidate, &before, until)
                {
                    // Not a forgery, a reallocation: refused for this record only, so the
                    // device shows it refused and goes on syncing the rest.
                    loaded.peers.remove(&connection);
                    if let Some(conn) = self.connections.get_mut(&connection) {
                        conn.documents.remove(&id);
                    }
                    let reason = DenialReason::NoLongerAllocated;
                    self.notices_sent += 1;
                    fx.outbound.push((
                        connection,
                        refusal_notice(&self.config, self.notices_sent, remote, id, &reason),
                    ));
                    return self.deny(connection, id, child, reason, fx);
                }
                *doc = candidate;
                *state = candidate_state;
                outcome
            }
            None => {
                let outcome = doc.receive_sync_message(state, message);
                if echoes_our_heads && reply_waits {
                    state.last_sent_heads = last_sent;
                }
                outcome
            }
        };
        let after = doc.get_heads();
        if after != before {
            loaded.first_chunk = raw_changes.map(|bytes| (after.clone(), bytes));
            loaded.dirty = true;
            if loaded.pending_owner.is_none() {
                fx.access.push(AccessEvent {
                    connection,
                    document: id,
                    child,
                    kind: AccessKind::Wrote { heads: after },
                });
            }
        }
        if let Err(err) = outcome {
            let reason = format!("sync message for {id} rejected: {err}");
            self.fail(now, connection, reason, fx);
        }
        if !self.settle_new_document(now, connection, id, fx) {
            return;
        }
        self.after_change(id, fx);
    }

    /// Refuses a connection's changes outright: nothing of them is kept or stored, the
    /// refusal is reported, and the peer is told why (a refusal notice, then `error`) and
    /// closed.
    pub(super) fn refuse_change(
        &mut self,
        now: Timestamp,
        connection: ConnectionId,
        id: DocumentId,
        child: Option<String>,
        reason: DenialReason,
        fx: &mut Effects,
    ) {
        let message = format!("{reason} (document {id})");
        self.notices_sent += 1;
        let notice = refusal_notice(
            &self.config,
            self.notices_sent,
            self.remote_of(connection),
            id,
            &reason,
        );
        fx.outbound.push((connection, notice));
        fx.access.push(AccessEvent {
            connection,
            document: id,
            child,
            kind: AccessKind::Denied(reason),
        });
        self.fail(now, connection, message, fx);
    }
}

/// Whether every change `after` has beyond `before_heads` was made (by the device's clock,
/// automerge's change time in seconds) no later than `until`, give or take [`CLOCK_SKEW`].
/// A change without a time (0) cannot show when it was made, so it does not count.
fn made_before(
    after: &Automerge,
    before_heads: &[automerge::ChangeHash],
    until: Timestamp,
) -> bool {
    let limit_s = until.plus(CLOCK_SKEW).as_millis() / 1000;
    after.get_changes(before_heads).iter().all(|change| {
        let time = change.timestamp();
        // Seconds, as automerge writes them; a client writing milliseconds is read as such.
        let seconds = if time > 100_000_000_000 {
            time / 1000
        } else {
            time
        };
        u64::try_from(seconds).is_ok_and(|seconds| seconds > 0 && seconds <= limit_s)
    })
}
