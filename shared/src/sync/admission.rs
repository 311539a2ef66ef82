//! Who may read, write or create what: a connection's standing on a document, from its
//! grant (by child) and the document's index; new and moved documents, and grants that
//! change.

use std::collections::BTreeSet;

use automerge::sync;

use super::connection::Phase;
use super::document::Slot;
use super::{
    Access, AccessEvent, AccessGrant, AccessKind, ConnectionId, DenialReason, DocumentIndex,
    Effects, SyncCore, Timestamp,
};
use crate::DocumentId;
use crate::model::IntegrityViolation;

/// Where one connection stands on one loaded document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Standing {
    /// It may read (and perhaps write) it.
    Granted(Access),
    /// It sent this new document, which is held unstored until it shows its child.
    Creating,
    /// Nothing of it exists: no content, nothing stored, nobody creating it.
    Unclaimed,
    /// It exists but not for this connection (or someone else is creating it).
    Absent,
}

/// A document moved to another child (`SyncCore::refile`), to be offered to the new
/// child's writers: each connection that did not sync it when it moved is decided on its
/// next grant, which the driver hands out after the move (see `SyncCore::offer_moved`).
#[derive(Debug)]
pub(super) struct MoveOffer {
    /// Where it was filed before the move: filed back there while the offer is pending
    /// (the move's change was refused, so no grant was handed out), it is offered to
    /// nobody.
    from: Option<DocumentIndex>,
    /// The connections, ready and not syncing it when it moved, not given a grant since.
    undecided: BTreeSet<ConnectionId>,
}

impl SyncCore {
    /// The connection's standing on a loaded document.
    pub(super) fn standing(&self, connection: ConnectionId, id: DocumentId) -> Standing {
        let Some(Slot::Loaded(loaded)) = self.documents.get(&id) else {
            return Standing::Absent;
        };
        if loaded.pending_owner == Some(connection) {
            return Standing::Creating;
        }
        if !self.config.enforces_access() {
            return Standing::Granted(Access::ReadWrite);
        }
        if loaded.is_unclaimed() {
            return Standing::Unclaimed;
        }
        match (&loaded.index, self.connections.get(&connection)) {
            (Some(index), Some(conn)) if loaded.pending_owner.is_none() => conn
                .grant
                .access(index)
                .map_or(Standing::Absent, Standing::Granted),
            _ => Standing::Absent,
        }
    }

    /// Starts syncing a loaded document with a connection (read-only if so granted);
    /// returns the read to report if it is the connection's first.
    pub(super) fn subscribe(
        &mut self,
        connection: ConnectionId,
        id: DocumentId,
    ) -> Option<AccessEvent> {
        let read_only = self.standing(connection, id) == Standing::Granted(Access::ReadOnly);
        let conn = self.connections.get_mut(&connection)?;
        let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id) else {
            return None;
        };
        conn.documents.insert(id);
        loaded.idle_since = None;
        if loaded.peers.contains_key(&connection) {
            return None;
        }
        let state = if read_only {
            sync::State::new_read_only()
        } else {
            sync::State::new()
        };
        loaded.peers.insert(connection, state);
        Some(AccessEvent {
            connection,
            document: id,
            child: loaded.index.as_ref().map(|index| index.child_id.clone()),
            kind: AccessKind::Read,
        })
    }

    /// Stops syncing one document with one connection.
    pub(super) fn unsubscribe(&mut self, now: Timestamp, connection: ConnectionId, id: DocumentId) {
        if let Some(conn) = self.connections.get_mut(&connection) {
            conn.documents.remove(&id);
        }
        match self.documents.get_mut(&id) {
            Some(Slot::Loaded(loaded)) => {
                loaded.peers.remove(&connection);
                loaded.refused_by.remove(&connection);
                loaded.read_only_writers.remove(&connection);
                if loaded.peers.is_empty() {
                    loaded.idle_since = Some(now);
                    self.idle.push_back((now, id));
                }
            }
            Some(Slot::Loading { waiting, .. }) => waiting.retain(|w| w.connection != connection),
            None => {}
        }
    }

    /// Decides a new document once it has content: kept (and indexed under its child on
    /// its first append) if it is a visit its author may create, otherwise dropped
    /// unstored. Returns whether the document is still there.
    pub(super) fn settle_new_document(
        &mut self,
        now: Timestamp,
        connection: ConnectionId,
        id: DocumentId,
        fx: &mut Effects,
    ) -> bool {
        let Some(Slot::Loaded(loaded)) = self.documents.get(&id) else {
            return false;
        };
        if loaded.pending_owner != Some(connection) || loaded.is_empty() {
            return true;
        }
        let Some(conn) = self.connections.get(&connection) else {
            return false;
        };
        // A pending document is never packed (see `Loaded::is_settled`).
        let decided = match (loaded.working(), self.config.peer_checks) {
            (Some(doc), Some(checks)) => {
                // The children it holds, and those it held when (its device says) it began
                // this visit.
                let created_at = crate::model::visit_created_at(doc);
                let allowed: std::collections::HashSet<String> = conn
                    .grant
                    .may_create_for
                    .iter()
                    .chain(conn.grant.former.keys())
                    .filter(|child| conn.grant.may_create_visit(child, created_at))
                    .cloned()
                    .collect();
                (checks.new_document)(doc, conn.grant.author.as_deref(), &allowed)
            }
            _ => Err(IntegrityViolation::NotAVisit),
        };
        let worker = loaded.working().and_then(crate::model::visit_worker_id);
        match decided {
            Ok(child_id) => {
                let index = DocumentIndex {
                    child_id: child_id.clone(),
                    created_by: conn.grant.author.clone().or(worker),
                };
                if let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id) {
                    loaded.pending_owner = None;
                    loaded.index = Some(index.clone());
                    loaded.index_on_save = Some(index);
                }
                fx.access.push(AccessEvent {
                    connection,
                    document: id,
                    child: Some(child_id.clone()),
                    kind: AccessKind::Created {
                        child_id: child_id.clone(),
                    },
                });
                self.offer_to_holders(connection, id, &child_id, fx);
                true
            }
            Err(violation) => {
                // Never stored: drop the copy.
                self.documents.remove(&id);
                if let Some(conn) = self.connections.get_mut(&connection) {
                    conn.documents.remove(&id);
                }
                match violation {
                    // Told it does not exist here, as for any document it may not have.
                    IntegrityViolation::ChildNotAllocated { child_id } => {
                        let child = Some(child_id.clone());
                        let reason = DenialReason::ChildNotAllocated { child_id };
                        self.deny(connection, id, child, reason, fx);
                    }
                    IntegrityViolation::NotAVisit => {
                        self.deny(connection, id, None, DenialReason::NotAVisit, fx);
                    }
                    // A forged record: told why, and closed.
                    violation => {
                        let reason = DenialReason::Integrity(violation);
                        self.refuse_change(now, connection, id, None, reason, fx);
                    }
                }
                false
            }
        }
    }

    /// Notes that a document was moved from `from` to `to`, for `offer_moved`: a refile
    /// back to where it came from while the offer is pending drops the offer.
    pub(super) fn note_move(
        &mut self,
        id: DocumentId,
        from: Option<DocumentIndex>,
        to: &DocumentIndex,
    ) {
        if !self.config.enforces_access() {
            return;
        }
        let pending = self.move_offers.remove(&id);
        if let Some(offer) = &pending
            && offer.from.as_ref() == Some(to)
        {
            return;
        }
        let Some(Slot::Loaded(loaded)) = self.documents.get(&id) else {
            return;
        };
        let mut undecided: BTreeSet<ConnectionId> = self
            .connections
            .iter()
            .filter(|(connection, conn)| {
                matches!(conn.phase, Phase::Ready(_)) && !loaded.peers.contains_key(connection)
            })
            .map(|(connection, _)| *connection)
            .collect();
        // Moved twice before any grant: it comes from where it was first.
        let from = match pending {
            Some(offer) => {
                undecided.extend(offer.undecided);
                offer.from
            }
            None => from,
        };
        self.move_offers.insert(id, MoveOffer { from, undecided });
    }

    /// Offers a connection, on its first grant since, the documents moved to a child this
    /// grant lets it write, as a new document is offered (`offer_to_holders`): the worker
    /// now holding the visit could not ask for an id they never knew was their child's, and
    /// a device that asked before was told it does not exist. Read-only connections ask
    /// when they need it; nobody else is told anything. The offer goes out once the move is
    /// durable (`flush`).
    fn offer_moved(&mut self, connection: ConnectionId, fx: &mut Effects) {
        let mut moved = Vec::new();
        let connections = &self.connections;
        self.move_offers.retain(|id, offer| {
            if offer.undecided.remove(&connection) {
                moved.push(*id);
            }
            offer
                .undecided
                .retain(|other| connections.contains_key(other));
            !offer.undecided.is_empty()
        });
        for id in moved {
            if self.standing(connection, id) != Standing::Granted(Access::ReadWrite)
                || !self.unpack(id)
            {
                continue;
            }
            if let Some(read) = self.subscribe(connection, id) {
                fx.access.push(read);
                self.flush(id, fx);
            }
        }
    }

    /// A new document goes at once to every other connection that may change its child's
    /// records (the worker's other devices, co-workers): they could not ask for an id they
    /// have never heard of. Read-only connections (managers) ask when they need it.
    fn offer_to_holders(
        &mut self,
        creator: ConnectionId,
        id: DocumentId,
        child: &str,
        fx: &mut Effects,
    ) {
        let holders: Vec<ConnectionId> = self
            .connections
            .iter()
            .filter(|(connection, conn)| {
                **connection != creator
                    && matches!(conn.phase, super::connection::Phase::Ready(_))
                    && conn.grant.children.get(child) == Some(&Access::ReadWrite)
            })
            .map(|(connection, _)| *connection)
            .collect();
        for connection in holders {
            if let Some(read) = self.subscribe(connection, id) {
                fx.access.push(read);
            }
        }
    }

    /// Refuses a document exactly as if it did not exist, and reports the denial.
    pub(super) fn deny(
        &mut self,
        connection: ConnectionId,
        id: DocumentId,
        child: Option<String>,
        reason: DenialReason,
        fx: &mut Effects,
    ) {
        tracing::debug!(%connection, document = %id, %reason, "access denied");
        fx.outbound
            .push((connection, self.unavailable(connection, id)));
        fx.access.push(AccessEvent {
            connection,
            document: id,
            child,
            kind: AccessKind::Denied(reason),
        });
    }

    /// Applies new rights; documents no longer covered stop syncing at once, and documents
    /// moved to a child it may now write are offered (`offer_moved`).
    pub(super) fn on_access_changed(
        &mut self,
        now: Timestamp,
        connection: ConnectionId,
        grant: AccessGrant,
        fx: &mut Effects,
    ) {
        let Some(conn) = self.connections.get_mut(&connection) else {
            return;
        };
        conn.grant = grant;
        if !self.config.enforces_access() {
            return;
        }
        let documents: Vec<DocumentId> = conn.documents.iter().copied().collect();
        for id in documents {
            match self.standing(connection, id) {
                Standing::Granted(access) => {
                    if let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id)
                        && let Some(state) = loaded.peers.get_mut(&connection)
                    {
                        state.set_read_only(access == Access::ReadOnly);
                    }
                    if access == Access::Former {
                        self.withdraw_from_former_holders(id, fx);
                    }
                }
                Standing::Creating | Standing::Unclaimed => {}
                Standing::Absent => {
                    if !matches!(self.documents.get(&id), Some(Slot::Loaded(_))) {
                        // Still loading: decided when it arrives.
                        continue;
                    }
                    let child = self.index_of(&id).map(|index| index.child_id.clone());
                    self.unsubscribe(now, connection, id);
                    self.deny(connection, id, child, DenialReason::Revoked, fx);
                }
            }
        }
        self.offer_moved(connection, fx);
    }
}
