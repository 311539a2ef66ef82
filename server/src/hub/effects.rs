//! Carrying out the core's [`Effects`]: messages to each connection's outbox, storage
//! tasks (with the projection of each appended document) to the storage thread, closes,
//! and the core's access events as audit rows.

use super::*;

impl Hub {
    pub(super) fn carry_out(&mut self, effects: Effects) {
        let writers = self.writers(&effects.access);
        self.audit_access(effects.access);

        for (connection, message) in effects.outbound {
            if let Some(outbox) = self.outboxes.get(&connection) {
                let _ = outbox.send(Outbound::Send(message));
            }
        }
        // The last append of each document carries the projection of the document as it
        // now is; earlier ones (if any) are covered by it in the same or an earlier batch.
        let mut last_append = HashMap::new();
        for (index, task) in effects.storage.iter().enumerate() {
            if matches!(task.kind, StorageTaskKind::Append { .. }) {
                last_append.insert(task.document, index);
            }
        }
        let mut tasks = Vec::with_capacity(effects.storage.len());
        for (index, task) in effects.storage.into_iter().enumerate() {
            let projection = (last_append.get(&task.document) == Some(&index))
                .then(|| self.projection_update(task.document, writers.get(&task.document)))
                .flatten();
            tasks.push((task, projection));
        }
        if let Some(storage) = &self.storage {
            storage.submit(tasks);
        }
        for (connection, reason) in effects.close {
            debug!(%connection, ?reason, "closing connection");
            if let Some(outbox) = self.outboxes.remove(&connection) {
                let _ = outbox.send(Outbound::Close(reason));
            }
            self.identities.remove(&connection);
        }
    }

    /// Who sent the changes in these effects, per document (from the core's access events,
    /// or the person a server edit is made for).
    pub(super) fn writers(&self, events: &[AccessEvent]) -> HashMap<DocumentId, String> {
        let mut writers = HashMap::new();
        for event in events {
            if let AccessKind::Wrote { .. } | AccessKind::Created { .. } = event.kind
                && let Some(identity) = self.identities.get(&event.connection)
            {
                writers.insert(event.document, identity.username.clone());
            }
        }
        writers
    }

    /// The projection rows of a document as it is in memory, and its heads for the
    /// `change_batches` row.
    pub(super) fn projection_update(
        &self,
        document: DocumentId,
        writer: Option<&String>,
    ) -> Option<ProjectionUpdate> {
        // A document with an append in flight is never packed.
        let doc = self.core.document(&document)?;
        Some(ProjectionUpdate {
            rows: DocumentRows::of(doc, &self.policy),
            heads: doc.get_heads(),
            worker_ref: self.edit_author.clone().or_else(|| writer.cloned()),
            received_at: self.clock.now_ms(),
        })
    }

    /// Turns the core's access events into audit rows: the first read per session, every
    /// write and creation, and each distinct denial once (repeats are counted, see
    /// [`DenialLog`]).
    pub(super) fn audit_access(&mut self, events: Vec<AccessEvent>) {
        let now = self.clock.now_ms();
        let mut entries = Vec::with_capacity(events.len());
        for event in events {
            let Some(identity) = self.identities.get(&event.connection) else {
                continue;
            };
            // Every access goes into its child's record, refusals of children the worker does
            // not hold included.
            let child = event.child.as_ref().and_then(|child| {
                self.child_ids.get(child).copied().or_else(|| {
                    let found = access::child_row_id(&self.directory, child).ok().flatten();
                    if let Some(id) = found {
                        self.child_ids.insert(child.clone(), id);
                    }
                    found
                })
            });
            let (action, outcome, detail) = match event.kind {
                AccessKind::Read => {
                    if !self
                        .audited_reads
                        .insert((identity.session_id, event.document))
                    {
                        continue;
                    }
                    ("read", Outcome::Allowed, None)
                }
                AccessKind::Wrote { heads } => {
                    let heads: Vec<String> = heads.iter().map(ToString::to_string).collect();
                    let detail = format!("heads {}", heads.join(","));
                    ("write", Outcome::Allowed, Some(detail))
                }
                AccessKind::Created { child_id } => {
                    let detail = format!("visit for child {child_id}");
                    ("create", Outcome::Allowed, Some(detail))
                }
                AccessKind::Denied(reason) => {
                    self.metrics.sync_refusals.add(refusal_label(&reason));
                    let reason = reason.to_string();
                    if !self
                        .denials
                        .first(identity, event.document, child, &reason, now)
                    {
                        continue;
                    }
                    ("sync", Outcome::Denied, Some(reason))
                }
            };
            let mut row = AuditEntry::new(now, action, outcome)
                .by(identity)
                .document(&event.document)
                .child(child);
            if let Some(detail) = detail {
                row = row.detail(detail);
            }
            entries.push(row);
        }
        self.audit(entries);
    }

    pub(super) fn audit(&self, entries: Vec<AuditEntry>) {
        if entries.is_empty() {
            return;
        }
        if let Some(storage) = &self.storage {
            storage.audit(entries);
        }
    }
}

/// The `/metrics` label of a refusal (a fixed word, never what the peer sent).
fn refusal_label(reason: &DenialReason) -> &'static str {
    match reason {
        DenialReason::NotGranted => "not_granted",
        DenialReason::ReadOnly => "read_only",
        DenialReason::ChildNotAllocated { .. } => "child_not_allocated",
        DenialReason::NotAVisit => "not_a_visit",
        DenialReason::Revoked => "revoked",
        DenialReason::NoLongerAllocated => "no_longer_allocated",
        DenialReason::Erased => "erased",
        DenialReason::Integrity(_) => "integrity",
    }
}
