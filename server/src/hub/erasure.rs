//! Records deleted after their retention (D1), and the old lineage of a visit rebuilt
//! without expunged content, leave the running hub.
//!
//! `admin retention delete` deletes a child's documents from the database, possibly from
//! another process while the server runs, and bumps the directory version. The hub then
//! reads the newly erased documents (`directory::retention::erased_since`) and erases each
//! from the core ([`shared::sync::SyncCore::erase_document`]): any copy in memory goes at
//! once with its pending storage work, so nothing of it is written back (not even an idle
//! unload's compaction), the devices syncing it are told `doc-unavailable`, and whatever a
//! device sends about it later is answered as for a document that never existed, even if
//! a child with the same case reference is added again. At start the hub erases every
//! document deleted before, so a restarted server refuses them too. The triggers on
//! `erased_documents` (migrations 0007 and 0009) drop any write that races the deletion.
//! An expunge (`http::corrections_api`) erases its old document from the core itself, as
//! it rebuilds it, before the database forgets it; if the database then fails to, the
//! document is restored (`Hub::restore_erased`) unless the database lists it as erased.

use tracing::{error, info};

use super::Hub;
use crate::directory::retention;

impl Hub {
    /// Erases from the core the documents deleted since the last look.
    pub(super) fn forget_erased(&mut self) {
        let erased = match retention::erased_since(&self.directory, self.erased_through) {
            Ok(erased) => erased,
            Err(err) => {
                error!(cause = %err, "cannot read the documents deleted after retention");
                return;
            }
        };
        if erased.is_empty() {
            return;
        }
        let loaded_before = self.core.stats().loaded_documents;
        for (seq, document) in &erased {
            self.erased_through = self.erased_through.max(*seq);
            self.edits_loading.remove(document);
            let effects = self.core.erase_document(*document);
            self.carry_out(effects);
        }
        let dropped = loaded_before.saturating_sub(self.core.stats().loaded_documents);
        info!(
            documents = erased.len(),
            dropped_from_memory = dropped,
            "erased documents deleted after retention or expunged"
        );
    }

    /// Serves a document erased from the core again, unless the database lists it as
    /// erased (then it stays refused): an expunge whose transaction failed.
    pub(super) fn restore_erased(&mut self, document: shared::DocumentId) {
        match retention::is_erased(&self.directory, &document) {
            Ok(false) => {
                self.core.restore_erased(document);
                info!(%document, "expunge not stored: the document is served again");
            }
            Ok(true) => {}
            Err(err) => error!(cause = %err, %document, "cannot tell whether a document is erased"),
        }
    }
}
