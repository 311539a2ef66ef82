//! Storage tasks and their results: loading a document, appending its changes (replies
//! wait for the commit), and compacting its chunks into one snapshot.

use automerge::Automerge;
use tracing::warn;

use super::core::PendingTask;
use super::document::{InFlightSave, Loaded, Slot, Waiting};
use super::{
    DocumentIndex, Effects, IoResult, StorageOutcome, StorageTask, StorageTaskKind, SyncCore,
    TaskId, Timestamp,
};
use crate::DocumentId;

impl SyncCore {
    pub(super) fn start_load(
        &mut self,
        id: DocumentId,
        waiting: Vec<Waiting>,
        wanted: bool,
        fx: &mut Effects,
    ) {
        let task = self.new_task(PendingTask::Load(id));
        self.documents.insert(
            id,
            Slot::Loading {
                task,
                waiting,
                wanted,
            },
        );
        fx.storage.push(StorageTask {
            id: task,
            document: id,
            kind: StorageTaskKind::Load,
        });
    }

    pub(super) fn new_task(&mut self, pending: PendingTask) -> TaskId {
        let id = TaskId(self.next_task);
        self.next_task += 1;
        self.tasks.insert(id, pending);
        id
    }

    pub(super) fn start_save(&mut self, id: DocumentId, fx: &mut Effects) {
        let Some(Slot::Loaded(loaded)) = self.documents.get(&id) else {
            return;
        };
        if !loaded.dirty || loaded.saving.is_some() || loaded.pending_owner.is_some() {
            return;
        }
        // A dirty document is never packed (see `Loaded::is_settled`).
        let task = self.new_task(PendingTask::Append(id));
        let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id) else {
            return;
        };
        let super::document::Body::Working(doc) = &loaded.body else {
            return;
        };
        let heads = doc.get_heads();
        let changes = match loaded.first_chunk.take() {
            // Exactly what one message brought into the empty document: store it as it came.
            Some((filled, bytes)) if filled == heads && loaded.persisted_heads.is_empty() => bytes,
            // Nothing stored yet: one compact document chunk. `save_after(&[])` would encode
            // every change on its own, about 20 times the work for a visit typed in bursts.
            _ if loaded.persisted_heads.is_empty() => doc.save(),
            _ => doc.save_after(&loaded.persisted_heads),
        };
        loaded.first_stored = loaded
            .persisted_heads
            .is_empty()
            .then(|| (heads.clone(), changes.clone()));
        let index = loaded.index_on_save.take();
        loaded.saving = Some(InFlightSave { task, heads });
        loaded.dirty = false;
        fx.storage.push(StorageTask {
            id: task,
            document: id,
            kind: StorageTaskKind::Append { changes, index },
        });
    }

    pub(super) fn on_io_complete(&mut self, now: Timestamp, result: IoResult, fx: &mut Effects) {
        let Some(pending) = self.tasks.remove(&result.task) else {
            warn!(task = result.task.0, "storage result for an unknown task");
            return;
        };
        match pending {
            PendingTask::Load(id) => self.on_loaded(now, id, result, fx),
            PendingTask::Append(id) => self.on_appended(now, id, result, fx),
            PendingTask::Compact(id) => {
                if let StorageOutcome::Failed(cause) = result.outcome {
                    // The chunks it would have replaced are still stored: nothing is lost.
                    warn!(document = %id, %cause, "compaction failed");
                }
            }
        }
    }

    fn on_loaded(&mut self, now: Timestamp, id: DocumentId, result: IoResult, fx: &mut Effects) {
        let Some(Slot::Loading {
            task,
            waiting,
            wanted,
        }) = self.documents.remove(&id)
        else {
            return;
        };
        if task != result.task {
            return;
        }
        let loaded = match result.outcome {
            StorageOutcome::Loaded(Some(chunks)) => {
                if let Some(index) = &chunks.index
                    && !wanted
                    && !self.any_granted(index, &waiting)
                {
                    // Nobody waiting may read it: answer each as for a missing document
                    // without spending a load on it.
                    for message in waiting {
                        let child = Some(index.child_id.clone());
                        self.answer_as_absent(message, id, Some(child), fx);
                    }
                    return;
                }
                match Automerge::load(&chunks.bytes) {
                    Ok(doc) => {
                        let mut loaded = Loaded::new(doc, chunks.count);
                        loaded.index = chunks.index;
                        loaded
                    }
                    Err(err) => {
                        let reason = format!("stored document {id} cannot be read: {err}");
                        return self.fail_waiting(now, waiting, reason, fx);
                    }
                }
            }
            StorageOutcome::Loaded(None) => {
                let mut empty = Loaded::new(Automerge::new(), 0);
                empty.persisted_heads = Vec::new();
                empty
            }
            StorageOutcome::Written => Loaded::new(Automerge::new(), 0),
            StorageOutcome::Failed(cause) => {
                return self.fail_waiting(now, waiting, format!("storage failed: {cause}"), fx);
            }
        };
        let holds_content = !loaded.is_empty();
        self.documents.insert(id, Slot::Loaded(Box::new(loaded)));
        if wanted {
            let asked = self.find(id);
            fx.extend(asked);
        }
        if self.config.announce_documents && holds_content {
            // A client offers what it holds to every peer; a handshake that finished while
            // this was loading offered only what was loaded then.
            for connection in self.ready_connections() {
                let _ = self.subscribe(connection, id);
            }
            self.flush(id, fx);
        }
        for message in waiting {
            self.apply(now, id, message, fx);
        }
        self.forget_if_unused(id);
    }

    /// Whether any of these waiting connections may read a document indexed so.
    fn any_granted(&self, index: &DocumentIndex, waiting: &[Waiting]) -> bool {
        !self.config.enforces_access()
            || waiting.iter().any(|w| {
                self.connections
                    .get(&w.connection)
                    .is_some_and(|conn| conn.grant.access(index).is_some())
            })
    }

    fn fail_waiting(
        &mut self,
        now: Timestamp,
        waiting: Vec<Waiting>,
        reason: String,
        fx: &mut Effects,
    ) {
        warn!(%reason, "document load failed");
        for waiting in waiting {
            self.close_for_storage(now, waiting.connection, &reason, fx);
        }
    }

    fn on_appended(&mut self, now: Timestamp, id: DocumentId, result: IoResult, fx: &mut Effects) {
        let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id) else {
            return;
        };
        let Some(save) = loaded.saving.take_if(|save| save.task == result.task) else {
            return;
        };
        match result.outcome {
            StorageOutcome::Written => {
                loaded.persisted_heads = save.heads;
                loaded.chunks_since_snapshot += 1;
                if loaded.dirty {
                    return self.start_save(id, fx);
                }
                if loaded.chunks_since_snapshot >= self.config.compact_after_chunks {
                    self.compact(id, fx);
                }
                self.flush(id, fx);
                self.forget_if_unused(id);
            }
            other => {
                let cause = match other {
                    StorageOutcome::Failed(cause) => cause,
                    _ => "unexpected storage result for an append".into(),
                };
                warn!(document = %id, %cause, "append failed; unloading the document");
                // Drop the in-memory copy: it holds changes that are not durable, and
                // peers resend them after reconnecting.
                let reason = format!("storage error: could not store changes to {id}");
                self.evict_document(now, id, &reason, fx);
            }
        }
    }

    pub(super) fn compact(&mut self, id: DocumentId, fx: &mut Effects) {
        let task = self.new_task(PendingTask::Compact(id));
        let Some(Slot::Loaded(loaded)) = self.documents.get_mut(&id) else {
            return;
        };
        loaded.chunks_since_snapshot = 1;
        fx.storage.push(StorageTask {
            id: task,
            document: id,
            kind: StorageTaskKind::Compact {
                snapshot: loaded.snapshot(),
            },
        });
    }
}
