//! Server edits ([`ServerEdit`]): a change the server makes to a document for a person (a
//! manager's decision, a visit moved to the right child), made only at the heads they
//! read and answered once durable; or a document rebuilt without expunged content, which
//! leaves memory at once so nothing more is accepted into it.

use super::*;

impl Hub {
    /// A server edit: made at once if the document is in memory, else after it loads.
    pub(super) fn on_edit(&mut self, edit: ServerEdit) {
        let document = edit.document;
        if self.core.is_erased(&document) {
            edit.refuse(EditError::NotFound);
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
                if self.core.document_status(&document) == DocumentStatus::Ready
                    && !self.core.is_erased(&document)
                {
                    self.make_edit(edit);
                } else {
                    edit.refuse(EditError::NotFound);
                }
            }
        }
    }

    pub(super) fn make_edit(&mut self, edit: ServerEdit) {
        let ServerEdit {
            document,
            expected_heads,
            author,
            work,
        } = edit;
        let (edit, refile, reply) = match work {
            EditWork::Change {
                edit,
                refile,
                reply,
            } => (edit, refile, reply),
            EditWork::Rebuild { rebuild, reply } => {
                let _ = reply.send(self.rebuild(document, rebuild));
                return;
            }
        };
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
        let moved = refile.is_some();
        let filed_before = match refile {
            Some(index) => match self.core.refile(document, index) {
                Ok(before) => before,
                Err(_) => {
                    let _ = reply.send(Err(EditError::NotFound));
                    return;
                }
            },
            None => None,
        };
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
                if moved {
                    // Peers syncing it are held to its new child's rights at once.
                    let connections: Vec<ConnectionId> = self.identities.keys().copied().collect();
                    for connection in connections {
                        self.refresh_grant(connection);
                    }
                }
            }
            Ok((Err(refusal), _)) => {
                if let Some(before) = filed_before {
                    let _ = self.core.refile(document, before);
                }
                let _ = reply.send(Err(EditError::Refused(refusal)));
            }
            Err(_) => {
                let _ = reply.send(Err(EditError::NotFound));
            }
        }
    }

    /// Builds the new lineage of a loaded document and erases the old one from the core:
    /// from here its peers are told it is unavailable and whatever they send about it is
    /// refused, so nothing is accepted that the new document does not hold. Changes it
    /// holds that are not yet stored are in the new document.
    fn rebuild(
        &mut self,
        document: DocumentId,
        rebuild: DocumentRebuild,
    ) -> Result<Rebuilt, EditError> {
        let old = self
            .core
            .open_document(&document)
            .ok_or(EditError::NotFound)?;
        let new = rebuild(old).map_err(EditError::Refused)?;
        let server_had = old
            .get_changes(&[])
            .iter()
            .map(|change| change.hash())
            .collect();
        self.edits_loading.remove(&document);
        let effects = self.core.erase_document(document);
        self.carry_out(effects);
        Ok(Rebuilt {
            document: new,
            server_had,
        })
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
