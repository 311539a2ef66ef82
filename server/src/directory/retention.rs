//! Retention of children's records (D1): each child's retain-until date, legal holds, and
//! deletion once retention is over, leaving a tombstone.
//!
//! The date comes from `shared::retention` with the child's date of birth (the child
//! document, as projected into `proj_children`) and date of death (`child_retention`, set
//! by an administrator: the child document is written only when a child is imported, so
//! a later fact about the child lives in the directory). Deleting before the date, under a
//! legal hold, or without a date of birth is refused, and the refusal is audited.
//!
//! A deletion, in one transaction with `secure_delete` on (freed pages are zeroed): every
//! chunk, batch, index row and projection row of the child's documents, its allocations,
//! redactions and directory row go; `retention_deletions` keeps the tombstone (who, when,
//! why, which documents), `erased_documents` the ids (its triggers drop any later write
//! for them, whoever sends it), `erasure_notices` whose devices are told, through their
//! caseload, to delete their sealed copies; the audit log gets a `retention-delete` row.
//! The WAL is then checkpointed and truncated so no old page of the documents stays in it.

use crate::store::sql::{Connection, OptionalExtension, params};
use serde::Serialize;
use shared::DocumentId;
use shared::model::CalendarDate;
use shared::retention::{Retention, RetentionRule};
use shared::schedule::Jurisdiction;
use tracing::info;

use super::audit::{AuditEntry, Outcome, append_audit};

/// Why a retention action was refused.
#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    /// No child with that case reference.
    #[error("no child with reference {0:?}")]
    NoSuchChild(String),
    /// The child's date of birth is not recorded as a real date.
    #[error("child {0} has no date of birth on record, so its retention cannot be computed")]
    NoDateOfBirth(String),
    /// Retention has not ended.
    #[error("child {child}'s record must be kept until {until}; it cannot be deleted before")]
    NotYet {
        /// Case reference.
        child: String,
        /// The retain-until date.
        until: CalendarDate,
    },
    /// A legal hold stands.
    #[error("child {child}'s record is under a legal hold ({reason}); release it first")]
    Held {
        /// Case reference.
        child: String,
        /// The hold's reason.
        reason: String,
    },
    /// No hold to release.
    #[error("child {0}'s record is not under a legal hold")]
    NotHeld(String),
    /// A reason is required.
    #[error("a reason is required")]
    NoReason,
    /// The database reported an error.
    #[error(transparent)]
    Database(#[from] crate::store::StoreError),
}

/// One child's retention as administrators and managers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChildRetention {
    /// Case reference.
    pub child_ref: String,
    /// Date of birth as recorded (may not be a real date).
    pub date_of_birth: Option<String>,
    /// Date of death, if recorded.
    pub date_of_death: Option<String>,
    /// The first day the record may be deleted; `None` without a real date of birth.
    pub retain_until: Option<String>,
    /// Which rule gave it ("75th birthday", ...).
    pub basis: Option<String>,
    /// The legal hold's reason, if one stands.
    pub hold: Option<String>,
}

/// What [`delete_child`] removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    /// The tombstone's row.
    pub deletion_id: i64,
    /// The documents deleted.
    pub documents: Vec<DocumentId>,
    /// How many accounts' devices will be told to delete their copies.
    pub notified: usize,
}

struct ChildRow {
    child_id: i64,
    date_of_birth: Option<String>,
    date_of_death: Option<String>,
    hold: Option<String>,
}

fn child_row(conn: &Connection, child_ref: &str) -> Result<ChildRow, RetentionError> {
    conn.query_row(
        "SELECT c.child_id,
                (SELECT p.date_of_birth FROM proj_children p WHERE p.document_id = c.document_id),
                r.date_of_death, r.hold_reason
         FROM children c LEFT JOIN child_retention r ON r.child_id = c.child_id
         WHERE c.child_ref = ?1",
        [child_ref],
        |r| {
            Ok(ChildRow {
                child_id: r.get(0)?,
                date_of_birth: r.get(1)?,
                date_of_death: r.get(2)?,
                hold: r.get(3)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| RetentionError::NoSuchChild(child_ref.into()))
}

fn computed(row: &ChildRow, jurisdiction: Jurisdiction) -> Option<Retention> {
    let born = CalendarDate::parse(row.date_of_birth.as_deref()?)?;
    let died = row.date_of_death.as_deref().and_then(CalendarDate::parse);
    Some(RetentionRule::statutory(jurisdiction).retain_until(born, died))
}

fn describe(child_ref: &str, row: &ChildRow, jurisdiction: Jurisdiction) -> ChildRetention {
    let retention = computed(row, jurisdiction);
    ChildRetention {
        child_ref: child_ref.to_owned(),
        date_of_birth: row.date_of_birth.clone(),
        date_of_death: row.date_of_death.clone(),
        retain_until: retention.map(|r| r.retain_until.to_string()),
        basis: retention.map(|r| r.basis.describe()),
        hold: row.hold.clone(),
    }
}

/// One child's retention.
///
/// # Errors
/// [`RetentionError::NoSuchChild`] or the database's error.
pub fn retention_of(
    conn: &Connection,
    child_ref: &str,
    jurisdiction: Jurisdiction,
) -> Result<ChildRetention, RetentionError> {
    Ok(describe(
        child_ref,
        &child_row(conn, child_ref)?,
        jurisdiction,
    ))
}

/// Every child's retention, by case reference: all of them, or (`only_expired`) those
/// whose retain-until date is `today` or earlier.
///
/// # Errors
/// The database's error.
pub fn report(
    conn: &Connection,
    jurisdiction: Jurisdiction,
    today: CalendarDate,
    only_expired: bool,
) -> Result<Vec<ChildRetention>, RetentionError> {
    let refs: Vec<String> = conn
        .prepare("SELECT child_ref FROM children ORDER BY child_ref")?
        .query_map([], |r| r.get(0))?
        .collect::<crate::store::sql::Result<_>>()?;
    let mut out = Vec::new();
    for child_ref in refs {
        let row = child_row(conn, &child_ref)?;
        let expired = computed(&row, jurisdiction).is_some_and(|r| r.expired(today));
        if !only_expired || expired {
            out.push(describe(&child_ref, &row, jurisdiction));
        }
    }
    Ok(out)
}

fn audit(
    conn: &Connection,
    (actor, at): (&str, i64),
    action: &str,
    outcome: Outcome,
    child_id: Option<i64>,
    detail: String,
) -> crate::store::sql::Result<()> {
    append_audit(
        conn,
        &AuditEntry::new(at, action, outcome)
            .by_name(None, actor)
            .child(child_id)
            .detail(detail),
    )
}

/// Records a child's date of death (or, with `None`, clears it).
///
/// # Errors
/// [`RetentionError::NoSuchChild`] or the database's error.
pub fn record_death(
    conn: &mut Connection,
    child_ref: &str,
    date: Option<CalendarDate>,
    actor: &str,
    now: i64,
) -> Result<(), RetentionError> {
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    let row = child_row(&tx, child_ref)?;
    let text = date.map(|d| d.to_string());
    tx.execute(
        "INSERT INTO child_retention (child_id, date_of_death) VALUES (?1, ?2)
         ON CONFLICT (child_id) DO UPDATE SET date_of_death = ?2",
        params![row.child_id, text],
    )?;
    let detail = match &text {
        Some(date) => format!("date of death {date}"),
        None => "date of death cleared".into(),
    };
    audit(
        &tx,
        (actor, now),
        "retention-death",
        Outcome::Allowed,
        Some(row.child_id),
        detail,
    )?;
    tx.commit()?;
    Ok(())
}

/// Places a legal hold on a child's record: it cannot be deleted until released.
///
/// # Errors
/// [`RetentionError::NoReason`], [`RetentionError::NoSuchChild`] or the database's error.
pub fn hold(
    conn: &mut Connection,
    child_ref: &str,
    reason: &str,
    actor: &str,
    now: i64,
) -> Result<(), RetentionError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(RetentionError::NoReason);
    }
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    let row = child_row(&tx, child_ref)?;
    tx.execute(
        "INSERT INTO child_retention (child_id, hold_reason, held_at, held_by) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (child_id) DO UPDATE SET hold_reason = ?2, held_at = ?3, held_by = ?4",
        params![row.child_id, reason, now, actor],
    )?;
    audit(
        &tx,
        (actor, now),
        "retention-hold",
        Outcome::Allowed,
        Some(row.child_id),
        reason.into(),
    )?;
    tx.commit()?;
    Ok(())
}

/// Releases a legal hold.
///
/// # Errors
/// [`RetentionError::NoReason`], [`RetentionError::NotHeld`], unknown child, SQLite.
pub fn release(
    conn: &mut Connection,
    child_ref: &str,
    reason: &str,
    actor: &str,
    now: i64,
) -> Result<(), RetentionError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(RetentionError::NoReason);
    }
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    let row = child_row(&tx, child_ref)?;
    if row.hold.is_none() {
        return Err(RetentionError::NotHeld(child_ref.into()));
    }
    tx.execute(
        "UPDATE child_retention SET hold_reason = NULL, held_at = NULL, held_by = NULL WHERE child_id = ?1",
        [row.child_id],
    )?;
    audit(
        &tx,
        (actor, now),
        "retention-release",
        Outcome::Allowed,
        Some(row.child_id),
        reason.into(),
    )?;
    tx.commit()?;
    Ok(())
}

/// Deletes a child's record after retention (see the module doc); refuses, and audits the
/// refusal, before the date, under a hold or without a date of birth.
///
/// # Errors
/// [`RetentionError::NotYet`], [`RetentionError::Held`], [`RetentionError::NoDateOfBirth`],
/// [`RetentionError::NoReason`], unknown child, SQLite.
pub fn delete_child(
    conn: &mut Connection,
    child_ref: &str,
    reason: &str,
    jurisdiction: Jurisdiction,
    today: CalendarDate,
    actor: &str,
    now: i64,
) -> Result<Tombstone, RetentionError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(RetentionError::NoReason);
    }
    conn.sqlite_pragma("secure_delete", true)?;
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    let row = child_row(&tx, child_ref)?;
    let retention = computed(&row, jurisdiction);
    let refusal = match (retention, &row.hold) {
        (None, _) => Some(RetentionError::NoDateOfBirth(child_ref.into())),
        (Some(_), Some(hold)) => Some(RetentionError::Held {
            child: child_ref.into(),
            reason: hold.clone(),
        }),
        (Some(r), None) if !r.expired(today) => Some(RetentionError::NotYet {
            child: child_ref.into(),
            until: r.retain_until,
        }),
        _ => None,
    };
    if let Some(refusal) = refusal {
        audit(
            &tx,
            (actor, now),
            "retention-delete",
            Outcome::Denied,
            Some(row.child_id),
            format!("{refusal}; reason given: {reason}"),
        )?;
        tx.commit()?;
        return Err(refusal);
    }
    let until = retention
        .map(|r| r.retain_until.to_string())
        .unwrap_or_default();
    let tombstone = erase(&tx, child_ref, row.child_id, reason, &until, (actor, now))?;
    tx.commit()?;
    // Old pages of the documents may still sit in the WAL: fold it in and truncate it.
    conn.truncate_sqlite_wal();
    info!(
        child = child_ref,
        documents = tombstone.documents.len(),
        "deleted a record after retention"
    );
    Ok(tombstone)
}

fn erase(
    tx: &Connection,
    child_ref: &str,
    child_id: i64,
    reason: &str,
    until: &str,
    (actor, now): (&str, i64),
) -> Result<Tombstone, RetentionError> {
    let mut documents: Vec<Vec<u8>> = tx
        .prepare("SELECT document_id FROM child_documents WHERE child_id = ?1")?
        .query_map([child_id], |r| r.get(0))?
        .collect::<crate::store::sql::Result<_>>()?;
    let own: Option<Vec<u8>> = tx.query_row(
        "SELECT document_id FROM children WHERE child_id = ?1",
        [child_id],
        |r| r.get(0),
    )?;
    if let Some(own) = own.filter(|own| !documents.contains(own)) {
        documents.push(own);
    }
    let ids: Vec<DocumentId> = documents
        .iter()
        .filter_map(|bytes| <[u8; 16]>::try_from(bytes.as_slice()).ok())
        .map(DocumentId::from_bytes)
        .collect();
    let id_list = ids
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    tx.execute(
        "INSERT INTO retention_deletions (child_ref, deleted_at, actor, reason, retain_until, documents)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![child_ref, now, actor, reason, until, id_list],
    )?;
    let deletion_id = tx.last_insert_rowid()?;
    let notified = tx.execute(
        "INSERT INTO erasure_notices (deletion_id, worker_id)
         SELECT CAST(?1 AS BIGINT), worker_id FROM allocations WHERE child_id = ?2
         UNION SELECT CAST(?1 AS BIGINT), created_by FROM child_documents
               WHERE child_id = ?2 AND created_by IS NOT NULL
         UNION SELECT CAST(?1 AS BIGINT), w.worker_id FROM workers w
               JOIN children c ON c.team_id = w.team_id
               WHERE c.child_id = ?2 AND w.role = 'team-manager'
         ON CONFLICT DO NOTHING",
        params![deletion_id, child_id],
    )?;
    for document in &documents {
        tx.execute(
            "INSERT INTO erased_documents (document_id, deletion_id) VALUES (?1, ?2)",
            params![document, deletion_id],
        )?;
        for table in [
            "document_chunks",
            "change_batches",
            "proj_children",
            "proj_placements",
            "proj_reviews",
            "proj_visits",
            "proj_actions",
            "proj_sign_offs",
            "proj_amendments",
            "child_documents",
        ] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE document_id = ?1"),
                [document],
            )?;
        }
    }
    for table in [
        "allocations",
        "sar_redactions",
        "child_retention",
        "restricted_named",
        "restricted_children",
    ] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE child_id = ?1"),
            [child_id],
        )?;
    }
    tx.execute("DELETE FROM children WHERE child_id = ?1", [child_id])?;
    audit(
        tx,
        (actor, now),
        "retention-delete",
        Outcome::Allowed,
        Some(child_id),
        format!(
            "child {child_ref}, retained until {until}; reason: {reason}; documents: {id_list}"
        ),
    )?;
    Ok(Tombstone {
        deletion_id,
        documents: ids,
        notified,
    })
}

/// One tombstone, as `admin retention deletions` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletionRow {
    /// Case reference of the deleted record.
    pub child_ref: String,
    /// Server time, ms.
    pub deleted_at: i64,
    /// Who deleted it.
    pub actor: String,
    /// Why.
    pub reason: String,
    /// The date retention ended.
    pub retain_until: String,
    /// The deleted documents' ids.
    pub documents: Vec<String>,
}

/// Every tombstone, oldest first.
///
/// # Errors
/// The database's error.
pub fn deletions(conn: &Connection) -> crate::store::sql::Result<Vec<DeletionRow>> {
    conn.prepare(
        "SELECT child_ref, deleted_at, actor, reason, retain_until, documents
         FROM retention_deletions ORDER BY deletion_id",
    )?
    .query_map([], |r| {
        let documents: String = r.get(5)?;
        Ok(DeletionRow {
            child_ref: r.get(0)?,
            deleted_at: r.get(1)?,
            actor: r.get(2)?,
            reason: r.get(3)?,
            retain_until: r.get(4)?,
            documents: documents
                .split(',')
                .filter(|id| !id.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    })?
    .collect()
}

/// The documents deleted after retention that `worker_id`'s devices may still hold: the
/// device deletes its sealed copies of each (see `client-wasm`'s caseload handling).
///
/// # Errors
/// The database's error.
pub fn erased_for(conn: &Connection, worker_id: i64) -> crate::store::sql::Result<Vec<String>> {
    conn.prepare_cached(
        "SELECT e.document_id FROM erasure_notices n
         JOIN erased_documents e ON e.deletion_id = n.deletion_id
         WHERE n.worker_id = ?1 ORDER BY e.document_id",
    )?
    .query_map([worker_id], |r| r.get::<_, Vec<u8>>(0))?
    .map(|bytes| {
        bytes.map(|bytes| {
            <[u8; 16]>::try_from(bytes.as_slice())
                .map(|id| DocumentId::from_bytes(id).to_string())
                .unwrap_or_default()
        })
    })
    .collect()
}

/// The documents erased (after retention, or an expunge's old lineage) after `after` (an
/// erasure's `seq`; 0 for every one), each with its `seq`, in order: the running hub drops
/// each from memory once and refuses it from then on (`hub::erasure`).
///
/// # Errors
/// The database's error.
pub fn erased_since(
    conn: &Connection,
    after: i64,
) -> crate::store::sql::Result<Vec<(i64, DocumentId)>> {
    conn.prepare_cached(
        "SELECT seq, document_id FROM erased_documents WHERE seq > ?1 ORDER BY seq",
    )?
    .query_map([after], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?
    .filter_map(|row| match row {
        Ok((deletion, bytes)) => <[u8; 16]>::try_from(bytes.as_slice())
            .ok()
            .map(|id| Ok((deletion, DocumentId::from_bytes(id)))),
        Err(err) => Some(Err(err)),
    })
    .collect()
}

/// Whether `document` is listed in `erased_documents` (deleted after retention, or the old
/// lineage of an expunge).
///
/// # Errors
/// The database's error.
pub fn is_erased(conn: &Connection, document: &DocumentId) -> crate::store::sql::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM erased_documents WHERE document_id = ?1")?
        .exists([document.as_bytes().as_slice()])
}
