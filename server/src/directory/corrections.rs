//! Correcting a misfiled record (issue 13 part 4): a visit moved to the right child, and a
//! visit rebuilt without expunged content as a new document (a new lineage) that replaces
//! the old one, which is then erased.
//!
//! A move changes the document and its index in the hub (`SyncCore::refile`, stored with
//! the change); [`record_move`] then keeps the correction, tells the devices and audits.
//! An expunge is one transaction here ([`store_expunge`]), with `secure_delete` on: the new
//! document's snapshot, index and projection rows; the old document's chunks, batches,
//! index, projection rows and redactions deleted; its id in `erased_documents` (whose
//! triggers drop any later write for it, from whoever); the correction (with the old
//! lineage's change hashes, no content), the devices to tell (`correction_notices`) and
//! the audit row. The WAL is then checkpointed and truncated, as a deletion after
//! retention does, so no old page of the document stays in it.
//!
//! Devices learn of corrections through their caseload ([`corrections_for`]); a device
//! holding unsent edits to an old lineage fetches [`expunged_for`] to carry them over.

use crate::store::sql::{Connection, OptionalExtension, params};
use automerge::ChangeHash;
use serde::Serialize;
use shared::DocumentId;

use super::audit::{AuditEntry, Outcome, append_audit};
use super::sessions::Identity;
use crate::projection::DocumentRows;

/// Who corrected a record, when and why.
#[derive(Debug, Clone)]
pub struct CorrectionBy<'a> {
    /// The manager.
    pub identity: &'a Identity,
    /// Why (required).
    pub reason: &'a str,
    /// Server time, ms.
    pub now: i64,
}

/// A visit moved from one child to another.
#[derive(Debug, Clone)]
pub struct Moved<'a> {
    /// The visit.
    pub document: DocumentId,
    /// The child it was filed under (case reference).
    pub from_child: &'a str,
    /// The child it belongs to.
    pub to_child: &'a str,
}

/// A visit rebuilt without expunged content, ready to store.
#[derive(Debug, Clone)]
pub struct Expunged<'a> {
    /// The old lineage (erased).
    pub document: DocumentId,
    /// The new one.
    pub replacement: DocumentId,
    /// The new document's bytes.
    pub snapshot: &'a [u8],
    /// The new document's heads.
    pub heads: &'a [ChangeHash],
    /// The new document's projection rows.
    pub rows: &'a DocumentRows,
    /// Every change the old lineage held when it was rebuilt.
    pub server_had: &'a [ChangeHash],
    /// How many passages the manager named (for the audit row; never their text).
    pub passages: usize,
}

/// A correction a worker's devices are told of (`GET /api/caseload`'s `corrections`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CorrectionListed {
    /// `moved` or `expunged`.
    pub kind: String,
    /// The record corrected (for an expunge, the old lineage, now erased).
    pub document: String,
    /// For an expunge, the new lineage.
    pub replacement: Option<String>,
    /// Server time, ms.
    pub at: i64,
    /// The manager's name.
    pub by_name: String,
    /// Why.
    pub reason: String,
}

/// What a device holding unsent edits to an expunged old lineage needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpungedDetail {
    /// The new lineage.
    pub replacement: DocumentId,
    /// Every change of the old lineage the server held when it rebuilt it.
    pub server_had: Vec<ChangeHash>,
}

/// Keeps a move (after the document's change and new index are stored), tells the
/// devices of both children and audits it. Returns the correction's row id.
///
/// # Errors
/// The database's error.
pub fn record_move(
    conn: &Connection,
    moved: &Moved<'_>,
    by: &CorrectionBy<'_>,
) -> crate::store::sql::Result<i64> {
    let id = moved.document.as_bytes().as_slice();
    conn.execute(
        "INSERT INTO record_corrections
           (kind, document_id, from_child_ref, to_child_ref, corrected_at, actor, actor_name, reason)
         VALUES ('moved', ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            id,
            moved.from_child,
            moved.to_child,
            by.now,
            by.identity.username,
            by.identity.display_name,
            by.reason
        ],
    )?;
    let correction = conn.last_insert_rowid()?;
    for child in [moved.from_child, moved.to_child] {
        notify(conn, correction, child, id)?;
    }
    let to_child: Option<i64> = conn
        .query_row(
            "SELECT child_id FROM children WHERE child_ref = ?1",
            [moved.to_child],
            |r| r.get(0),
        )
        .optional()?;
    append_audit(
        conn,
        &AuditEntry::new(by.now, "record-move", Outcome::Allowed)
            .by(by.identity)
            .document(&moved.document)
            .child(to_child)
            .detail(format!(
                "moved from child {} to child {}; reason: {}",
                moved.from_child, moved.to_child, by.reason
            )),
    )?;
    Ok(correction)
}

/// Stores an expunge in one transaction (see the module doc). Returns the correction's
/// row id.
///
/// # Errors
/// The database's error; nothing is changed then.
pub fn store_expunge(
    conn: &mut Connection,
    expunged: &Expunged<'_>,
    by: &CorrectionBy<'_>,
) -> crate::store::sql::Result<i64> {
    conn.sqlite_pragma("secure_delete", true)?;
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    let old = expunged.document.as_bytes().as_slice();
    let new = expunged.replacement.as_bytes().as_slice();
    let (child_id, child_ref, created_by, created_at): (i64, String, Option<i64>, i64) = tx
        .query_row(
            "SELECT d.child_id, c.child_ref, d.created_by, d.created_at FROM child_documents d
             JOIN children c ON c.child_id = d.child_id WHERE d.document_id = ?1",
            [old],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
    crate::store::insert_snapshot(&tx, &expunged.replacement, expunged.snapshot, by.now)?;
    tx.execute(
        "INSERT INTO child_documents (document_id, child_id, kind, created_by, created_at)
         VALUES (?1, ?2, 'visit', ?3, ?4)",
        params![new, child_id, created_by, created_at],
    )?;
    crate::projection::record_batch(
        &tx,
        &expunged.replacement,
        expunged.heads,
        Some(&by.identity.username),
        by.now,
    )?;
    crate::projection::write_rows(&tx, &expunged.replacement, expunged.rows)?;
    let had: Vec<u8> = expunged.server_had.iter().flat_map(|hash| hash.0).collect();
    tx.execute(
        "INSERT INTO record_corrections
           (kind, document_id, replacement_id, from_child_ref, to_child_ref, corrected_at,
            actor, actor_name, reason, server_had)
         VALUES ('expunged', ?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            old,
            new,
            child_ref,
            by.now,
            by.identity.username,
            by.identity.display_name,
            by.reason,
            had
        ],
    )?;
    let correction = tx.last_insert_rowid()?;
    notify(&tx, correction, &child_ref, old)?;
    tx.execute(
        "INSERT INTO erased_documents (document_id, correction_id) VALUES (?1, ?2)",
        params![old, correction],
    )?;
    for table in [
        "document_chunks",
        "change_batches",
        "proj_visits",
        "proj_actions",
        "proj_sign_offs",
        "proj_amendments",
        "sar_redactions",
        "child_documents",
    ] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE document_id = ?1"),
            [old],
        )?;
    }
    append_audit(
        &tx,
        &AuditEntry::new(by.now, "record-expunge", Outcome::Allowed)
            .by(by.identity)
            .document(&expunged.document)
            .child(Some(child_id))
            .detail(format!(
                "{} passage(s) removed from every version; replaced by {}; reason: {}",
                expunged.passages, expunged.replacement, by.reason
            )),
    )?;
    tx.commit()?;
    // Old pages of the document may still sit in the WAL: fold it in and truncate it.
    conn.truncate_sqlite_wal();
    Ok(correction)
}

/// Tells everyone who holds `child` or created the record, and the managers of its team.
fn notify(
    conn: &Connection,
    correction: i64,
    child_ref: &str,
    document: &[u8],
) -> crate::store::sql::Result<()> {
    conn.execute(
        "INSERT INTO correction_notices (correction_id, worker_id)
         SELECT CAST(?1 AS BIGINT), a.worker_id FROM allocations a
               JOIN children c ON c.child_id = a.child_id
               WHERE c.child_ref = ?2
         UNION SELECT CAST(?1 AS BIGINT), created_by FROM child_documents
               WHERE document_id = ?3 AND created_by IS NOT NULL
         UNION SELECT CAST(?1 AS BIGINT), w.worker_id FROM workers w
               JOIN children c ON c.team_id = w.team_id
               WHERE c.child_ref = ?2 AND w.role = 'team-manager'
         ON CONFLICT DO NOTHING",
        params![correction, child_ref, document],
    )?;
    Ok(())
}

/// The corrections `worker_id`'s devices are told of, oldest first.
///
/// # Errors
/// The database's error.
pub fn corrections_for(
    conn: &Connection,
    worker_id: i64,
) -> crate::store::sql::Result<Vec<CorrectionListed>> {
    conn.prepare_cached(
        "SELECT r.kind, r.document_id, r.replacement_id, r.corrected_at, r.actor_name, r.reason
         FROM correction_notices n JOIN record_corrections r ON r.correction_id = n.correction_id
         WHERE n.worker_id = ?1 ORDER BY r.correction_id",
    )?
    .query_map([worker_id], |r| {
        Ok(CorrectionListed {
            kind: r.get(0)?,
            document: id_text(&r.get::<_, Vec<u8>>(1)?),
            replacement: r.get::<_, Option<Vec<u8>>>(2)?.map(|bytes| id_text(&bytes)),
            at: r.get(3)?,
            by_name: r.get(4)?,
            reason: r.get(5)?,
        })
    })?
    .collect()
}

/// The expunge of `document` that `worker_id`'s devices were told of, if any.
///
/// # Errors
/// The database's error.
pub fn expunged_for(
    conn: &Connection,
    worker_id: i64,
    document: &DocumentId,
) -> crate::store::sql::Result<Option<ExpungedDetail>> {
    let row: Option<(Vec<u8>, Vec<u8>)> = conn
        .query_row(
            "SELECT r.replacement_id, r.server_had FROM record_corrections r
             JOIN correction_notices n ON n.correction_id = r.correction_id
             WHERE r.kind = 'expunged' AND r.document_id = ?1 AND n.worker_id = ?2",
            params![document.as_bytes().as_slice(), worker_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(row.and_then(|(replacement, had)| {
        let replacement =
            DocumentId::from_bytes(<[u8; 16]>::try_from(replacement.as_slice()).ok()?);
        let server_had = had
            .chunks_exact(32)
            .filter_map(|hash| <[u8; 32]>::try_from(hash).ok().map(ChangeHash))
            .collect();
        Some(ExpungedDetail {
            replacement,
            server_had,
        })
    }))
}

fn id_text(bytes: &[u8]) -> String {
    <[u8; 16]>::try_from(bytes)
        .map(|id| DocumentId::from_bytes(id).to_string())
        .unwrap_or_default()
}
