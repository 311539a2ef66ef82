//! Subject access (D10) in the directory: the redactions a records officer marks
//! (`sar_redactions`, migration 0007) and the audit rows of each redaction and export.
//! The record itself is never changed: redactions apply to exports only
//! (`record_print::RecordExport::redact`).

use crate::store::sql::{Connection, OptionalExtension, params};
use shared::DocumentId;

use super::audit::{AuditEntry, Outcome, append_audit};
use super::sessions::Identity;
use crate::record_print::{Redaction, RedactionReason};

/// A redaction to add.
#[derive(Debug, Clone)]
pub struct NewRedaction {
    /// The document; `None`: every document of the child.
    pub document_id: Option<DocumentId>,
    /// The field (key or label); `None`: every field.
    pub field: Option<String>,
    /// The exact passage; `None`: the whole field.
    pub passage: Option<String>,
    /// Why.
    pub reason: RedactionReason,
}

/// The row id of a child, if there is one.
///
/// # Errors
/// The database's error.
pub fn child_id(conn: &Connection, child_ref: &str) -> crate::store::sql::Result<Option<i64>> {
    conn.query_row(
        "SELECT child_id FROM children WHERE child_ref = ?1",
        [child_ref],
        |r| r.get(0),
    )
    .optional()
}

fn audit(
    conn: &Connection,
    (identity, at): (&Identity, i64),
    action: &str,
    child_id: i64,
    document: Option<&DocumentId>,
    detail: String,
) -> crate::store::sql::Result<()> {
    let mut entry = AuditEntry::new(at, action, Outcome::Allowed)
        .by(identity)
        .child(Some(child_id))
        .detail(detail);
    if let Some(document) = document {
        entry = entry.document(document);
    }
    append_audit(conn, &entry)
}

/// Adds a redaction (audited as `redaction-add`, naming the field and reason, never the
/// passage: the audit trail is itself exported); returns its id.
///
/// # Errors
/// The database's error.
pub fn add_redaction(
    conn: &Connection,
    (identity, now): (&Identity, i64),
    child_id: i64,
    redaction: &NewRedaction,
) -> crate::store::sql::Result<i64> {
    conn.execute(
        "INSERT INTO sar_redactions (child_id, document_id, field, passage, reason, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            child_id,
            redaction.document_id.map(|d| d.as_bytes().to_vec()),
            redaction.field,
            redaction.passage,
            redaction.reason.code(),
            identity.worker_id,
            now
        ],
    )?;
    let id = conn.last_insert_rowid()?;
    let scope = match (&redaction.field, &redaction.passage) {
        (Some(field), Some(_)) => format!("a passage of {field}"),
        (Some(field), None) => format!("the field {field}"),
        (None, _) => "a passage wherever it appears".into(),
    };
    audit(
        conn,
        (identity, now),
        "redaction-add",
        child_id,
        redaction.document_id.as_ref(),
        format!(
            "redaction {id}: {scope}, reason {}",
            redaction.reason.code()
        ),
    )?;
    Ok(id)
}

/// The redactions of a child, oldest first.
///
/// # Errors
/// The database's error.
pub fn redactions(conn: &Connection, child_id: i64) -> crate::store::sql::Result<Vec<Redaction>> {
    conn.prepare(
        "SELECT r.redaction_id, r.document_id, r.field, r.passage, r.reason, w.username, r.created_at
         FROM sar_redactions r JOIN workers w ON w.worker_id = r.created_by
         WHERE r.child_id = ?1 ORDER BY r.redaction_id",
    )?
    .query_map([child_id], |r| {
        let document: Option<Vec<u8>> = r.get(1)?;
        let reason: String = r.get(4)?;
        Ok(Redaction {
            redaction_id: r.get(0)?,
            document_id: document
                .and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
                .map(|b| DocumentId::from_bytes(b).to_string()),
            field: r.get(2)?,
            passage: r.get(3)?,
            reason: RedactionReason::from_code(&reason).unwrap_or(RedactionReason::ThirdParty),
            created_by: r.get(5)?,
            created_at: r.get(6)?,
        })
    })?
    .collect()
}

/// Audits an export or print of a child's record (`subject-access-export`, `print`).
///
/// # Errors
/// The database's error.
pub fn record_export(
    conn: &Connection,
    signed_in: (&Identity, i64),
    action: &str,
    child_id: i64,
    document: Option<&DocumentId>,
    detail: String,
) -> crate::store::sql::Result<()> {
    audit(conn, signed_in, action, child_id, document, detail)
}

/// The child (row id, case reference) a document is filed under, if any.
///
/// # Errors
/// The database's error.
pub fn child_of_document(
    conn: &Connection,
    document: &DocumentId,
) -> crate::store::sql::Result<Option<(i64, String)>> {
    conn.query_row(
        "SELECT c.child_id, c.child_ref FROM child_documents d JOIN children c ON c.child_id = d.child_id
         WHERE d.document_id = ?1",
        [document.as_bytes().as_slice()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}
