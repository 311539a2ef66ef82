//! [`DenialAudit`]: repeated identical denials are audited once, then once more with their
//! number, instead of once per request.
//!
//! A script asking 10,000 times for a review it may not read used to append 10,000 rows. The
//! audit log must stay append-only (SQLite triggers refuse UPDATE and DELETE), so repeats
//! cannot be counted on the first row. Instead, denials are keyed by who (a session, or a
//! client address before sign-in), the row's actor, action, record and reason:
//! - the **first** denial of a key is appended at once, as before (`occurrences` 1), so a
//!   crash never hides that it happened;
//! - identical denials within [`DenialAudit::window`] of it are only counted, in memory;
//! - when the window has passed (checked by [`DenialAudit::take_expired`], which the server
//!   calls every few seconds, and by the next denial of the key), one more row is appended
//!   with `occurrences` = the number of repeats and a detail naming the first and last time.
//!
//! So a flood of N identical denials costs two rows per window, and the sum of
//! `occurrences` over the key's rows is N. A `kill -9` loses at most the count of the
//! current window's repeats (never the first denial). Memory is bounded: beyond
//! [`MAX_KEYS`] keys, denials are appended one by one as before.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::store::sql::Connection;

use super::audit::{AuditEntry, append_audit, append_audit_repeats};

/// The most distinct denials counted at once.
pub const MAX_KEYS: usize = 10_000;

/// Who was refused: a session, or (before sign-in) a client address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Denied {
    /// A signed-in session (its row id).
    Session(i64),
    /// A client address (no session).
    Address(String),
}

/// What identifies "the same denial".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct DenialKey {
    who: Denied,
    /// The row's actor (a username tried before sign-in, so one address's lockouts of
    /// different usernames stay apart).
    actor: Option<String>,
    action: String,
    document: Option<Vec<u8>>,
    detail: Option<String>,
}

/// Repeats of one denial since its row was appended.
#[derive(Debug)]
struct Run {
    /// The appended row (as a template for the summary).
    entry: AuditEntry,
    /// When the appended row happened.
    first_at: i64,
    /// When the last repeat happened.
    last_at: i64,
    /// How many repeats since the row.
    repeats: u64,
}

/// The in-memory counts of repeated denials (one per server).
#[derive(Debug)]
pub struct DenialAudit {
    window_ms: i64,
    runs: Mutex<HashMap<DenialKey, Run>>,
}

/// A row to append for a run of repeats: `entry` standing for `occurrences` denials.
#[derive(Debug)]
pub struct Repeats {
    entry: AuditEntry,
    occurrences: u64,
}

impl DenialAudit {
    /// Counting repeats within `window` of a denial's first row.
    pub fn new(window: Duration) -> Self {
        Self {
            window_ms: i64::try_from(window.as_millis()).unwrap_or(i64::MAX),
            runs: Mutex::new(HashMap::new()),
        }
    }

    /// The coalescing window.
    pub fn window(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.window_ms).unwrap_or(0))
    }

    /// Audits the denial `entry` by `who`: appends it, unless an identical denial was
    /// appended less than a window ago, in which case it is only counted.
    ///
    /// # Errors
    /// The database's error of an append.
    pub fn record(
        &self,
        conn: &Connection,
        who: Denied,
        entry: AuditEntry,
    ) -> crate::store::sql::Result<()> {
        let key = DenialKey {
            who,
            actor: entry.actor.clone(),
            action: entry.action.clone(),
            document: entry.document_id.clone(),
            detail: entry.detail.clone(),
        };
        let now = entry.at;
        // Decide under the lock, write outside it (an append may wait for SQLite's lock).
        let ended = {
            let mut runs = self.lock();
            match runs.get_mut(&key) {
                Some(run) if now - run.first_at < self.window_ms => {
                    run.repeats += 1;
                    run.last_at = now;
                    return Ok(());
                }
                _ => {}
            }
            let ended = runs.remove(&key).and_then(Run::into_repeats);
            if runs.len() < MAX_KEYS {
                runs.insert(
                    key,
                    Run {
                        entry: entry.clone(),
                        first_at: now,
                        last_at: now,
                        repeats: 0,
                    },
                );
            }
            ended
        };
        if let Some(ended) = ended {
            ended.append(conn)?;
        }
        append_audit(conn, &entry)
    }

    /// Takes the runs whose window has closed by `now` (all of them if `now` is `None`),
    /// as rows to append.
    pub fn take_expired(&self, now: Option<i64>) -> Vec<Repeats> {
        let mut runs = self.lock();
        let expired: Vec<DenialKey> = runs
            .iter()
            .filter(|(_, run)| now.is_none_or(|now| now - run.first_at >= self.window_ms))
            .map(|(key, _)| key.clone())
            .collect();
        expired
            .into_iter()
            .filter_map(|key| runs.remove(&key).and_then(Run::into_repeats))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<DenialKey, Run>> {
        self.runs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Run {
    /// The row for the repeats, if there were any.
    fn into_repeats(self) -> Option<Repeats> {
        if self.repeats == 0 {
            return None;
        }
        let mut entry = self.entry;
        let reason = entry.detail.take();
        entry.at = self.last_at;
        entry.detail = Some(format!(
            "{}repeated {} more times from {} to {} (ms since the epoch)",
            reason.map_or(String::new(), |reason| format!("{reason}; ")),
            self.repeats,
            self.first_at,
            self.last_at
        ));
        Some(Repeats {
            entry,
            occurrences: self.repeats,
        })
    }
}

impl Repeats {
    /// How many denials the row stands for.
    pub fn occurrences(&self) -> u64 {
        self.occurrences
    }

    /// Appends the row.
    ///
    /// # Errors
    /// The database's error.
    pub fn append(&self, conn: &Connection) -> crate::store::sql::Result<()> {
        append_audit_repeats(conn, &self.entry, self.occurrences)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::audit::Outcome;

    fn denial(at: i64) -> AuditEntry {
        AuditEntry {
            at,
            actor_worker_id: Some(1),
            actor: Some("mgr-south".into()),
            device_id: None,
            action: "review-read".into(),
            outcome: Outcome::Denied,
            document_id: Some(vec![7; 16]),
            child_id: None,
            detail: Some("no such record".into()),
        }
    }

    fn rows(conn: &Connection) -> Vec<(i64, Option<String>)> {
        conn.prepare("SELECT occurrences, detail FROM audit_log ORDER BY audit_id")
            .expect("prepare")
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .expect("query")
            .collect::<crate::store::sql::Result<_>>()
            .expect("rows")
    }

    #[test]
    fn a_flood_of_identical_denials_is_two_rows_whose_occurrences_add_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = crate::directory::open_connection(dir.path()).expect("db");
        let audit = DenialAudit::new(Duration::from_secs(60));
        for n in 0..10_000 {
            audit
                .record(&conn, Denied::Session(3), denial(1_000 + n))
                .expect("record");
        }
        // Another session's identical denial is its own run.
        audit
            .record(&conn, Denied::Session(4), denial(5_000))
            .expect("record");
        assert_eq!(rows(&conn).len(), 2, "first rows only, so far");
        for repeats in audit.take_expired(Some(1_000 + 59_999)) {
            repeats.append(&conn).expect("append");
        }
        assert_eq!(rows(&conn).len(), 2, "the window is still open");
        for repeats in audit.take_expired(None) {
            repeats.append(&conn).expect("append");
        }
        let rows = rows(&conn);
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert_eq!(rows.iter().map(|(n, _)| n).sum::<i64>(), 10_001);
        let summary = rows[2].1.as_deref().unwrap_or_default();
        assert!(summary.contains("repeated 9999 more times"), "{summary}");
        assert!(summary.starts_with("no such record"), "{summary}");
    }

    #[test]
    fn a_denial_after_the_window_starts_a_new_run_and_flushes_the_old() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = crate::directory::open_connection(dir.path()).expect("db");
        let audit = DenialAudit::new(Duration::from_secs(1));
        for at in [0, 10, 20, 1_500] {
            audit
                .record(&conn, Denied::Address("10.0.0.1".into()), denial(at))
                .expect("record");
        }
        let rows = rows(&conn);
        assert_eq!(
            rows.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            vec![1, 2, 1],
            "{rows:?}"
        );
    }
}
