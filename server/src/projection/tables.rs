//! Writing the projection tables: one document's rows, change batches, the rebuild from
//! stored documents, and a canonical dump used to compare a live projection with a rebuild.

use std::fmt::Write as _;

use crate::store::sql::{Connection, ValueRef, params};
use automerge::Automerge;
use shared::DocumentId;
use shared::model::{self, CalendarDate};
use shared::schedule::{
    CareLeaverFacts, Interval, PlacementFacts, ReviewFacts, SchedulePolicy, VisitFacts,
};
use tracing::{info, warn};

use super::rows::{ChildRows, DocumentRows, VisitRows};
use crate::directory::audit::{AuditEntry, Outcome, append_audit};

/// What one accepted batch of changes does to the projection: the document's rows afresh
/// and a `change_batches` row recording when and from whom the batch came.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectionUpdate {
    /// The document's rows after the change.
    pub rows: DocumentRows,
    /// The document's heads after the batch.
    pub heads: Vec<automerge::ChangeHash>,
    /// The username of who sent them (`None` when unknown).
    pub worker_ref: Option<String>,
    /// Server time of receipt, ms.
    pub received_at: i64,
}

/// Applies an update inside the caller's transaction (the one storing the change).
///
/// A new amendment (a signed-off visit changed, with the worker's reason) is also written
/// to the audit log in the same transaction.
///
/// # Errors
/// The database's error; the caller rolls the change back with it.
pub fn apply_update(
    conn: &Connection,
    document: &DocumentId,
    update: &ProjectionUpdate,
) -> crate::store::sql::Result<()> {
    record_batch(
        conn,
        document,
        &update.heads,
        update.worker_ref.as_deref(),
        update.received_at,
    )?;
    if let DocumentRows::Visit(visit) = &update.rows {
        audit_new_amendments(conn, document, visit, update.received_at)?;
        audit_new_discard(conn, document, visit, update.received_at)?;
    }
    write_rows(conn, document, &update.rows)
}

/// Records one batch of changes received (`change_batches`): when, from whom, and the
/// document's heads after it.
///
/// # Errors
/// The database's error.
pub fn record_batch(
    conn: &Connection,
    document: &DocumentId,
    heads: &[automerge::ChangeHash],
    worker_ref: Option<&str>,
    received_at: i64,
) -> crate::store::sql::Result<()> {
    let heads: Vec<u8> = heads.iter().flat_map(|head| head.0).collect();
    conn.prepare_cached(
        "INSERT INTO change_batches (document_id, received_at, worker_ref, heads)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        document.as_bytes().as_slice(),
        received_at,
        worker_ref,
        heads
    ])?;
    Ok(())
}

/// Replaces every projection row of one document with `rows`.
///
/// Rows are placed by the server's own index (`child_documents`: the child and the
/// creator recorded when the document was accepted), never by what the document says:
/// the dashboard shows a record under the child the server filed it under, whatever a
/// peer wrote into it.
///
/// # Errors
/// The database's error.
pub fn write_rows(
    conn: &Connection,
    document: &DocumentId,
    rows: &DocumentRows,
) -> crate::store::sql::Result<()> {
    let id = document.as_bytes().as_slice();
    let index = crate::store::index_of(conn, id)?.map(|index| (index.child_id, index.created_by));
    match rows {
        DocumentRows::Child(child) => match index {
            Some((child_ref, _)) if child_ref != child.child_ref => {
                let placed = ChildRows {
                    child_ref,
                    ..(**child).clone()
                };
                write_child(conn, id, &placed)
            }
            _ => write_child(conn, id, child),
        },
        DocumentRows::Visit(visit) => match index {
            Some((child_ref, creator))
                if child_ref != visit.child_ref
                    || creator.as_ref().is_some_and(|c| *c != visit.worker_ref) =>
            {
                let placed = VisitRows {
                    child_ref,
                    worker_ref: creator.unwrap_or_else(|| visit.worker_ref.clone()),
                    ..(**visit).clone()
                };
                write_visit(conn, id, &placed)
            }
            _ => write_visit(conn, id, visit),
        },
        DocumentRows::Other => Ok(()),
    }
}

fn write_child(conn: &Connection, id: &[u8], child: &ChildRows) -> crate::store::sql::Result<()> {
    let date = |date: Option<CalendarDate>| date.map(|date| date.to_string());
    let (care_leaver_from, pathway_reviews) = match &child.care_leaver {
        Some(CareLeaverFacts {
            accommodation_from,
            pathway_reviews,
        }) => (
            Some(accommodation_from.to_string()),
            pathway_reviews
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ),
        None => (None, String::new()),
    };
    conn.prepare_cached(
        "INSERT INTO proj_children (document_id, child_ref, legal_name, preferred_name,
             date_of_birth, became_looked_after, care_leaver_from, pathway_reviews)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (document_id) DO UPDATE SET child_ref = excluded.child_ref,
             legal_name = excluded.legal_name, preferred_name = excluded.preferred_name,
             date_of_birth = excluded.date_of_birth,
             became_looked_after = excluded.became_looked_after,
             care_leaver_from = excluded.care_leaver_from,
             pathway_reviews = excluded.pathway_reviews",
    )?
    .execute(params![
        id,
        child.child_ref,
        child.legal_name,
        child.preferred_name,
        child.date_of_birth,
        date(child.became_looked_after),
        care_leaver_from,
        pathway_reviews
    ])?;
    conn.prepare_cached("DELETE FROM proj_placements WHERE document_id = ?1")?
        .execute([id])?;
    if let Some(placement) = &child.placement {
        // Every field of the facts, so a field added to them cannot be left out here.
        let PlacementFacts {
            placement_id,
            start,
            end,
            placement_type,
            basis,
            intended_until_18,
            ltf_designated,
            child_agreement,
            care_order_date,
            short_breaks_interval,
            other_arrangements_interval,
            local_interval,
        } = placement;
        let text = |interval: &Option<Interval>| interval.map(|interval| interval.to_string());
        let days = |interval: &Option<Interval>| match interval {
            Some(Interval::Days(days)) => Some(*days),
            _ => None,
        };
        conn.prepare_cached(
            "INSERT INTO proj_placements (document_id, placement_id, child_ref, start_date, end_date,
                 placement_type, statutory_basis, intended_until_18, ltf_designated,
                 child_agreement_date, care_order_date, short_breaks_interval_days, local_interval_days,
                 short_breaks_interval, other_arrangements_interval, local_interval)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        )?
        .execute(params![
            id,
            placement_id,
            child.child_ref,
            start.to_string(),
            date(*end),
            placement_type,
            model::Coded::code(*basis),
            intended_until_18,
            ltf_designated,
            date(*child_agreement),
            date(*care_order_date),
            days(short_breaks_interval),
            days(local_interval),
            text(short_breaks_interval),
            text(other_arrangements_interval),
            text(local_interval)
        ])?;
    }
    conn.prepare_cached("DELETE FROM proj_reviews WHERE document_id = ?1")?
        .execute([id])?;
    let mut review = conn.prepare_cached(
        "INSERT INTO proj_reviews (document_id, review_id, child_ref, due_date, held_date)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (document_id, review_id) DO UPDATE SET child_ref = excluded.child_ref,
             due_date = excluded.due_date, held_date = excluded.held_date",
    )?;
    for row in &child.reviews {
        let ReviewFacts { due, held } = row.facts;
        review.execute(params![
            id,
            row.review_id,
            child.child_ref,
            date(due),
            date(held)
        ])?;
    }
    Ok(())
}

fn write_visit(conn: &Connection, id: &[u8], visit: &VisitRows) -> crate::store::sql::Result<()> {
    // Every field of the facts, so a field added to them cannot be left out here.
    let (fact_date, seen, virtual_visit, review_meeting, submitted, kind, made_by, discarded) =
        match &visit.facts {
            Some(VisitFacts {
                visit_id: _,
                date,
                child_seen,
                location_virtual,
                kind_review_meeting,
                submitted,
                kind_recorded,
                made_by,
                discarded,
            }) => (
                Some(date.to_string()),
                Some(*child_seen),
                Some(*location_virtual),
                Some(*kind_review_meeting),
                Some(*submitted),
                Some(*kind_recorded),
                made_by.map(|maker| model::Coded::code(maker).to_owned()),
                Some(*discarded),
            ),
            None => (None, None, None, None, None, None, None, None),
        };
    conn.prepare_cached(
        "INSERT INTO proj_visits (document_id, visit_id, child_ref, worker_ref, visit_date,
             visit_kind, location, child_seen, seen_alone, status, review_state, created_at,
             submitted_at, late, heads, fact_date, fact_child_seen, fact_virtual,
             fact_review_meeting, fact_submitted, fact_kind_recorded, fact_made_by,
             fact_discarded, made_by, discarded, open_conflicts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)
         ON CONFLICT (document_id) DO UPDATE SET visit_id = excluded.visit_id,
             child_ref = excluded.child_ref, worker_ref = excluded.worker_ref,
             visit_date = excluded.visit_date, visit_kind = excluded.visit_kind,
             location = excluded.location, child_seen = excluded.child_seen,
             seen_alone = excluded.seen_alone, status = excluded.status,
             review_state = excluded.review_state, created_at = excluded.created_at,
             submitted_at = excluded.submitted_at, late = excluded.late, heads = excluded.heads,
             fact_date = excluded.fact_date, fact_child_seen = excluded.fact_child_seen,
             fact_virtual = excluded.fact_virtual,
             fact_review_meeting = excluded.fact_review_meeting,
             fact_submitted = excluded.fact_submitted,
             fact_kind_recorded = excluded.fact_kind_recorded,
             fact_made_by = excluded.fact_made_by, fact_discarded = excluded.fact_discarded,
             made_by = excluded.made_by, discarded = excluded.discarded,
             open_conflicts = excluded.open_conflicts",
    )?
    .execute(params![
        id,
        visit.visit_id,
        visit.child_ref,
        visit.worker_ref,
        visit.visit_date,
        visit.visit_kind,
        visit.location,
        visit.child_seen,
        visit.seen_alone,
        visit.status,
        visit.review_state,
        visit.created_at,
        visit.submitted_at,
        visit.late,
        visit.heads,
        fact_date,
        seen,
        virtual_visit,
        review_meeting,
        submitted,
        kind,
        made_by,
        discarded,
        visit.made_by,
        visit.discarded,
        visit.open_conflicts as i64
    ])?;
    conn.prepare_cached("DELETE FROM proj_actions WHERE document_id = ?1")?
        .execute([id])?;
    let mut action = conn.prepare_cached(
        "INSERT INTO proj_actions (document_id, action_id, child_ref, description,
             owner_type, owner_name, due_date, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (document_id, action_id) DO UPDATE SET child_ref = excluded.child_ref,
             description = excluded.description, owner_type = excluded.owner_type,
             owner_name = excluded.owner_name, due_date = excluded.due_date,
             status = excluded.status",
    )?;
    for row in &visit.actions {
        action.execute(params![
            id,
            row.action_id,
            visit.child_ref,
            row.description,
            row.owner_type,
            row.owner_name,
            row.due_date,
            row.status
        ])?;
    }
    // Decisions and amendments are never removed from a document, so these rows only grow.
    let mut sign_off = conn.prepare_cached(
        "INSERT INTO proj_sign_offs (document_id, entry_id, decision, comment,
             manager_ref, heads, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (document_id, entry_id) DO UPDATE SET decision = excluded.decision,
             comment = excluded.comment, manager_ref = excluded.manager_ref,
             heads = excluded.heads, at = excluded.at",
    )?;
    for row in &visit.sign_offs {
        sign_off.execute(params![
            id,
            row.entry_id,
            row.decision,
            row.comment,
            row.manager_ref,
            row.heads,
            row.at
        ])?;
    }
    let mut amendment = conn.prepare_cached(
        "INSERT INTO proj_amendments (document_id, entry_id, reason, worker_ref, at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (document_id, entry_id) DO UPDATE SET reason = excluded.reason,
             worker_ref = excluded.worker_ref, at = excluded.at",
    )?;
    for row in &visit.amendments {
        amendment.execute(params![
            id,
            row.entry_id,
            row.reason,
            row.worker_ref,
            row.at
        ])?;
    }
    Ok(())
}

/// Audits amendments the projection has not seen before (`amend`, with the reason).
fn audit_new_amendments(
    conn: &Connection,
    document: &DocumentId,
    visit: &VisitRows,
    at: i64,
) -> crate::store::sql::Result<()> {
    if visit.amendments.is_empty() {
        return Ok(());
    }
    let id = document.as_bytes().as_slice();
    let mut known = conn
        .prepare_cached("SELECT 1 FROM proj_amendments WHERE document_id = ?1 AND entry_id = ?2")?;
    for amendment in &visit.amendments {
        if known.exists(params![id, amendment.entry_id])? {
            continue;
        }
        let (worker_id, child_id) = conn
            .prepare_cached(
                "SELECT (SELECT worker_id FROM workers WHERE username = ?1),
                        (SELECT child_id FROM children WHERE child_ref = ?2)",
            )?
            .query_row(params![amendment.worker_ref, visit.child_ref], |row| {
                Ok((row.get::<_, Option<i64>>(0)?, row.get::<_, Option<i64>>(1)?))
            })?;
        append_audit(
            conn,
            &AuditEntry::new(at, "amend", Outcome::Allowed)
                .by_name(worker_id, amendment.worker_ref.clone())
                .document(document)
                .child(child_id)
                .detail(format!("reason: {}", amendment.reason)),
        )?;
    }
    Ok(())
}

/// Audits a draft discarded in this change (`discard`, with the reason): the record is
/// kept and never counts, and the audit log says who took it out and why.
fn audit_new_discard(
    conn: &Connection,
    document: &DocumentId,
    visit: &VisitRows,
    at: i64,
) -> crate::store::sql::Result<()> {
    let Some((reason, worker_ref)) = &visit.discard else {
        return Ok(());
    };
    let id = document.as_bytes().as_slice();
    let known = conn
        .prepare_cached("SELECT 1 FROM proj_visits WHERE document_id = ?1 AND discarded = 1")?
        .exists([id])?;
    if known {
        return Ok(());
    }
    let (worker_id, child_id) = conn
        .prepare_cached(
            "SELECT (SELECT worker_id FROM workers WHERE username = ?1),
                    (SELECT child_id FROM children WHERE child_ref = ?2)",
        )?
        .query_row(params![worker_ref, visit.child_ref], |row| {
            Ok((row.get::<_, Option<i64>>(0)?, row.get::<_, Option<i64>>(1)?))
        })?;
    append_audit(
        conn,
        &AuditEntry::new(at, "discard", Outcome::Allowed)
            .by_name(worker_id, worker_ref.clone())
            .document(document)
            .child(child_id)
            .detail(format!("reason: {reason}")),
    )
}

/// Recreates every projection table from the stored documents alone, in one transaction.
/// Returns how many documents were read.
///
/// # Errors
/// The database's error (nothing is changed then). A document that cannot be loaded is
/// skipped with a warning: it has no rows, as in the live projection.
pub fn rebuild(conn: &mut Connection, policy: &SchedulePolicy) -> crate::store::sql::Result<usize> {
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    let read = rebuild_in(&tx, policy)?;
    tx.commit()?;
    info!(documents = read, "projection rebuilt");
    Ok(read)
}

/// Compares the live projection with a rebuild from the documents, changing nothing.
/// Returns `None` when they are equal, else the first lines that differ.
///
/// # Errors
/// The database's error.
pub fn check(
    conn: &mut Connection,
    policy: &SchedulePolicy,
) -> crate::store::sql::Result<Option<String>> {
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    let live = dump(&tx)?;
    rebuild_in(&tx, policy)?;
    let rebuilt = dump(&tx)?;
    tx.rollback()?;
    if live == rebuilt {
        return Ok(None);
    }
    let mut report = String::new();
    for (line, (a, b)) in live.lines().zip(rebuilt.lines()).enumerate() {
        if a != b {
            let _ = writeln!(report, "line {}:\n  live:    {a}\n  rebuilt: {b}", line + 1);
            if report.len() > 4000 {
                break;
            }
        }
    }
    let (live_lines, rebuilt_lines) = (live.lines().count(), rebuilt.lines().count());
    if live_lines != rebuilt_lines {
        let _ = writeln!(
            report,
            "live has {live_lines} lines, rebuilt {rebuilt_lines}"
        );
    }
    Ok(Some(report))
}

fn rebuild_in(tx: &Connection, policy: &SchedulePolicy) -> crate::store::sql::Result<usize> {
    for table in PROJECTION_TABLES {
        tx.execute(&format!("DELETE FROM {table}"), [])?;
    }
    let ids: Vec<Vec<u8>> = tx
        .prepare("SELECT DISTINCT document_id FROM document_chunks ORDER BY document_id")?
        .query_map([], |row| row.get(0))?
        .collect::<crate::store::sql::Result<_>>()?;
    let mut read = 0;
    for bytes in &ids {
        let Ok(array) = <[u8; 16]>::try_from(bytes.as_slice()) else {
            continue;
        };
        let document = DocumentId::from_bytes(array);
        let chunks: Vec<Vec<u8>> = tx
            .prepare_cached("SELECT data FROM document_chunks WHERE document_id = ?1 ORDER BY id")?
            .query_map([bytes], |row| row.get(0))?
            .collect::<crate::store::sql::Result<_>>()?;
        match Automerge::load(&chunks.concat()) {
            Ok(doc) => {
                write_rows(tx, &document, &DocumentRows::of(&doc, policy))?;
                read += 1;
            }
            Err(err) => warn!(%document, cause = %err, "document not loadable; no projection rows"),
        }
    }
    Ok(read)
}

/// Rebuilds the projection if it has never been built (a database from before
/// migration 0003) while documents exist.
///
/// # Errors
/// The database's error.
pub fn rebuild_if_empty(
    conn: &mut Connection,
    policy: &SchedulePolicy,
) -> crate::store::sql::Result<()> {
    let built: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM proj_children) OR EXISTS (SELECT 1 FROM proj_visits)",
        [],
        |row| row.get(0),
    )?;
    let documents: bool =
        conn.query_row("SELECT EXISTS (SELECT 1 FROM document_chunks)", [], |row| {
            row.get(0)
        })?;
    if !built && documents {
        rebuild(conn, policy)?;
    }
    Ok(())
}

/// The projection tables, in dump order.
const PROJECTION_TABLES: [&str; 7] = [
    "proj_children",
    "proj_placements",
    "proj_reviews",
    "proj_visits",
    "proj_actions",
    "proj_sign_offs",
    "proj_amendments",
];

/// Every projection row as text, tables and rows in a fixed order: two projections are
/// equal exactly when their dumps are.
///
/// # Errors
/// The database's error.
pub fn dump(conn: &Connection) -> crate::store::sql::Result<String> {
    let mut out = String::new();
    for table in PROJECTION_TABLES {
        let _ = writeln!(out, "[{table}]");
        let mut stmt = conn.prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2"))?;
        let columns = stmt.column_count();
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let mut line = Vec::with_capacity(columns);
            for column in 0..columns {
                line.push(match row.get_ref(column)? {
                    ValueRef::Null => "NULL".to_owned(),
                    ValueRef::Integer(value) => value.to_string(),
                    ValueRef::Real(value) => value.to_string(),
                    ValueRef::Text(text) => format!("{text:?}"),
                    ValueRef::Blob(blob) => blob.iter().map(|byte| format!("{byte:02x}")).collect(),
                });
            }
            let _ = writeln!(out, "{}", line.join("|"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use automerge::Automerge;
    use shared::DocumentId;
    use shared::model::{self, CalendarDate, NewVisit};
    use shared::sync::Timestamp;

    /// A visit whose `childId` says one child, filed by the server under another.
    #[test]
    fn rows_are_placed_by_the_servers_index_not_by_the_document() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = crate::directory::open_connection(dir.path()).expect("open");
        conn.execute_batch(
            "INSERT INTO teams (team_id, name, created_at) VALUES (1, 'North', 0);
             INSERT INTO teams (team_id, name, created_at) VALUES (2, 'South', 0);
             INSERT INTO children (child_id, child_ref, team_id, created_at) VALUES (1, 'C-N1', 1, 0);
             INSERT INTO children (child_id, child_ref, team_id, created_at) VALUES (2, 'C-S1', 2, 0);",
        )
        .expect("directory");
        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        model::create_visit(
            &mut tx,
            &NewVisit {
                visit_id: "visit-1".into(),
                child_id: "C-S1".into(),
                worker_id: "sw-south-1".into(),
                visit_date: CalendarDate::parse("2026-11-20").expect("date"),
                created_at: Timestamp::from_millis(1),
            },
        )
        .expect("visit");
        tx.commit();
        let id = DocumentId::from_bytes([3; 16]);
        crate::directory::admin::store_document(&conn, id, 1, "visit", &doc, 1).expect("store");
        let placed: String = conn
            .query_row(
                "SELECT child_ref FROM proj_visits WHERE document_id = ?1",
                [id.as_bytes().as_slice()],
                |row| row.get(0),
            )
            .expect("row");
        assert_eq!(placed, "C-N1", "filed under the indexed child");
    }
}
