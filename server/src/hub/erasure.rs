//! Records deleted after their retention leave the running hub (D1).
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
//! `erased_documents` (migration 0007) drop any write that races the deletion.

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
        for (deletion, document) in &erased {
            self.erased_through = self.erased_through.max(*deletion);
            self.edits_loading.remove(document);
            let effects = self.core.erase_document(*document);
            self.carry_out(effects);
        }
        let dropped = loaded_before.saturating_sub(self.core.stats().loaded_documents);
        info!(
            documents = erased.len(),
            dropped_from_memory = dropped,
            "erased documents deleted after retention"
        );
    }
}
