//! Server edits ([`ServerEdit`]): a change the server makes to a document for a person
//! (a manager's decision), made only at the heads they read and answered once durable.

use super::*;

impl Hub {
    /// A server edit: made at once if the document is in memory, else after it loads.
    pub(super) fn on_edit(&mut self, edit: ServerEdit) {
        let document = edit.document;
        if self.core.is_erased(&document) {
            let _ = edit.reply.send(Err(EditError::NotFound));
            return;
        }
        match self.core.document_status(&document) {
            DocumentStatus::Ready => self.make_edit(edit),
            DocumentStatus::Loading => self.edits_loading.entry(document).or_default().push(edit),
            _ => {
                self.edits_loading.entry(document).or_default().push(edit);
                let effects = self.core.find(document);
                self.carry_out(effects);
            }
        }
    }

    /// Makes the edits whose documents have loaded (or answers that they are missing).
    pub(super) fn run_loaded_edits(&mut self) {
        let settled: Vec<DocumentId> = self
            .edits_loading
            .keys()
            .filter(|id| {
                !matches!(
                    self.core.document_status(id),
                    DocumentStatus::Loading | DocumentStatus::Unknown
                )
            })
            .copied()
            .collect();
        for document in settled {
            for edit in self.edits_loading.remove(&document).unwrap_or_default() {
                if self.core.document_status(&document) == DocumentStatus::Ready {
                    self.make_edit(edit);
                } else {
                    let _ = edit.reply.send(Err(EditError::NotFound));
                }
            }
        }
    }

    pub(super) fn make_edit(&mut self, edit: ServerEdit) {
        let ServerEdit {
            document,
            expected_heads,
            author,
            edit,
            reply,
        } = edit;
        let mut current = self
            .core
            .open_document(&document)
            .map(Automerge::get_heads)
            .unwrap_or_default();
        let mut expected = expected_heads;
        current.sort();
        expected.sort();
        if current != expected {
            let _ = reply.send(Err(EditError::Changed));
            return;
        }
        match self.core.change_document(document, edit) {
            Ok((Ok(()), effects)) => {
                self.edit_author = Some(author);
                self.carry_out(effects);
                self.edit_author = None;
                let heads = self
                    .core
                    .open_document(&document)
                    .map(Automerge::get_heads)
                    .unwrap_or_default();
                self.edits_storing.push((document, heads, reply));
                self.answer_durable_edits();
            }
            Ok((Err(refusal), _)) => {
                let _ = reply.send(Err(EditError::Refused(refusal)));
            }
            Err(_) => {
                let _ = reply.send(Err(EditError::NotFound));
            }
        }
    }

    /// Answers the server edits whose changes have committed (or failed to).
    pub(super) fn answer_durable_edits(&mut self) {
        let mut waiting = Vec::new();
        for (document, heads, reply) in std::mem::take(&mut self.edits_storing) {
            match self.core.document_status(&document) {
                DocumentStatus::Unknown | DocumentStatus::Loading => {
                    let _ = reply.send(Err(EditError::Storage(
                        "the record was unloaded before it was stored".into(),
                    )));
                }
                _ if self.core.is_durable(&document) => {
                    let _ = reply.send(Ok(heads));
                }
                _ => waiting.push((document, heads, reply)),
            }
        }
        self.edits_storing = waiting;
    }
}
