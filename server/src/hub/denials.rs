//! [`DenialLog`]: each distinct sync denial is audited once per session; repeats are
//! counted and written as one row per minute, so a peer hammering a refused document
//! cannot flood the audit log (10,000 refused messages are two rows, not 10,000).

use std::collections::HashMap;

use shared::DocumentId;

use crate::directory::audit::{AuditEntry, Outcome};
use crate::directory::sessions::Identity;

/// Distinct denials audited in full per session; beyond it they are counted together.
const MAX_DISTINCT_PER_SESSION: usize = 100;

/// How long a denial nobody repeats is remembered.
const FORGET_AFTER_MS: i64 = 15 * 60 * 1000;

/// The reason recorded for denials beyond [`MAX_DISTINCT_PER_SESSION`].
const FURTHER: &str = "further denials of other documents";

/// What the hub remembers of denials already audited.
#[derive(Default)]
pub(super) struct DenialLog {
    seen: HashMap<Key, Repeats>,
    distinct: HashMap<i64, usize>,
}

/// One session's one denial: the document and the reason.
#[derive(PartialEq, Eq, Hash)]
struct Key {
    session: i64,
    document: Option<DocumentId>,
    reason: String,
}

struct Repeats {
    identity: Identity,
    child: Option<i64>,
    /// Repeats since the last row written.
    count: u64,
    last_at: i64,
}

impl DenialLog {
    /// Whether this denial is new for the session (then the caller audits it); a repeat
    /// is counted instead, for [`DenialLog::flush`].
    pub(super) fn first(
        &mut self,
        identity: &Identity,
        document: DocumentId,
        child: Option<i64>,
        reason: &str,
        now: i64,
    ) -> bool {
        let key = Key {
            session: identity.session_id,
            document: Some(document),
            reason: reason.to_owned(),
        };
        if let Some(repeats) = self.seen.get_mut(&key) {
            repeats.count += 1;
            repeats.last_at = now;
            return false;
        }
        let distinct = self.distinct.entry(identity.session_id).or_default();
        if *distinct >= MAX_DISTINCT_PER_SESSION {
            let key = Key {
                session: identity.session_id,
                document: None,
                reason: FURTHER.to_owned(),
            };
            let repeats = self.seen.entry(key).or_insert_with(|| Repeats {
                identity: identity.clone(),
                child: None,
                count: 0,
                last_at: now,
            });
            repeats.count += 1;
            repeats.last_at = now;
            return false;
        }
        *distinct += 1;
        self.seen.insert(
            key,
            Repeats {
                identity: identity.clone(),
                child,
                count: 0,
                last_at: now,
            },
        );
        true
    }

    /// Audit rows for the repeats counted since the last flush; forgets denials nobody
    /// has repeated for a while.
    pub(super) fn flush(&mut self, now: i64) -> Vec<AuditEntry> {
        let mut rows = Vec::new();
        for (key, repeats) in &mut self.seen {
            if repeats.count == 0 {
                continue;
            }
            let detail = format!("{} (repeated {} more times)", key.reason, repeats.count);
            let mut row = AuditEntry::new(now, "sync", Outcome::Denied)
                .by(&repeats.identity)
                .detail(detail);
            if let Some(document) = &key.document {
                row = row.document(document).child(repeats.child);
            }
            rows.push(row);
            repeats.count = 0;
        }
        self.seen
            .retain(|_, repeats| repeats.count > 0 || now - repeats.last_at < FORGET_AFTER_MS);
        let sessions: std::collections::HashSet<i64> =
            self.seen.keys().map(|key| key.session).collect();
        self.distinct
            .retain(|session, _| sessions.contains(session));
        rows
    }
}
