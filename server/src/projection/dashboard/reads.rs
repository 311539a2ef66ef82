//! The dashboard's reads of the projection: each team child's schedule facts, exactly as
//! `projection::rows` stored them (field for field, the same `shared::schedule` types),
//! and the write-ups, actions and visits awaiting sign-off.

use super::*;

/// A child with what the schedule needs, while the dashboard is assembled.
pub(super) struct TeamChild {
    pub(super) child_ref: String,
    pub(super) name: String,
    pub(super) worker: Option<String>,
    pub(super) worker_name: Option<String>,
    pub(super) placement_start: Option<String>,
    pub(super) input: ScheduleInput,
    /// How many of the child's records have open conflicts.
    pub(super) needs_decision: usize,
}

pub(super) fn team_children(
    conn: &Connection,
    team_id: i64,
) -> crate::store::sql::Result<HashMap<String, TeamChild>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.child_ref, pc.preferred_name, pc.legal_name, pc.became_looked_after,
                pc.care_leaver_from, pc.pathway_reviews,
                (SELECT w.username FROM allocations a JOIN workers w ON w.worker_id = a.worker_id
                  WHERE a.child_id = c.child_id AND a.ended_at IS NULL AND w.role = 'social-worker'
                  ORDER BY a.started_at DESC LIMIT 1) AS worker
         FROM children c LEFT JOIN proj_children pc ON pc.document_id = c.document_id
         WHERE c.team_id = ?1",
    )?;
    let mut names = conn.prepare_cached("SELECT display_name FROM workers WHERE username = ?1")?;
    let rows = stmt
        .query_map([team_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, Option<String>>(4)?,
                row.get::<_, String>(5).unwrap_or_default(),
                row.get::<_, Option<String>>(6)?,
            ))
        })?
        .collect::<crate::store::sql::Result<Vec<_>>>()?;
    let mut children = HashMap::with_capacity(rows.len());
    for (child_ref, preferred, legal, became, leaver_from, pathway, worker) in rows {
        let worker_name = match &worker {
            Some(username) => names.query_row([username], |row| row.get(0)).ok(),
            None => None,
        };
        let care_leaver = leaver_from
            .as_deref()
            .and_then(CalendarDate::parse)
            .map(|from| CareLeaverFacts {
                accommodation_from: from,
                pathway_reviews: pathway.split(',').filter_map(CalendarDate::parse).collect(),
            });
        let input = ScheduleInput {
            became_looked_after: became.as_deref().and_then(CalendarDate::parse),
            care_leaver,
            ..ScheduleInput::default()
        };
        children.insert(
            child_ref.clone(),
            TeamChild {
                name: preferred.or(legal).unwrap_or_else(|| child_ref.clone()),
                child_ref,
                worker,
                worker_name,
                placement_start: None,
                input,
                needs_decision: 0,
            },
        );
    }
    Ok(children)
}

pub(super) fn add_placements(
    conn: &Connection,
    team_id: i64,
    children: &mut HashMap<String, TeamChild>,
) -> crate::store::sql::Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.child_ref, p.placement_id, p.start_date, p.end_date, p.placement_type,
                p.statutory_basis, p.intended_until_18, p.ltf_designated, p.child_agreement_date,
                p.care_order_date, p.short_breaks_interval, p.other_arrangements_interval,
                p.local_interval
         FROM proj_placements p JOIN children c ON c.child_ref = p.child_ref
         WHERE c.team_id = ?1",
    )?;
    let mut rows = stmt.query([team_id])?;
    while let Some(row) = rows.next()? {
        let child_ref: String = row.get(0)?;
        let Some(child) = children.get_mut(&child_ref) else {
            continue;
        };
        // The facts as `rows` stored them, field for field.
        let date = |index: usize| -> crate::store::sql::Result<Option<CalendarDate>> {
            Ok(row
                .get::<_, Option<String>>(index)?
                .as_deref()
                .and_then(CalendarDate::parse))
        };
        let interval = |index: usize| -> crate::store::sql::Result<Option<Interval>> {
            Ok(row
                .get::<_, Option<String>>(index)?
                .and_then(|text| text.parse().ok()))
        };
        let Some(start) = date(2)? else {
            continue;
        };
        let basis: String = row.get(5)?;
        child.placement_start = Some(start.to_string());
        child.input.placements.push(PlacementFacts {
            placement_id: row.get(1)?,
            start,
            end: date(3)?,
            placement_type: row.get::<_, Option<String>>(4)?.unwrap_or_default(),
            basis: StatutoryBasis::from_code(&basis).unwrap_or(StatutoryBasis::Standard),
            intended_until_18: row.get(6)?,
            ltf_designated: row.get(7)?,
            child_agreement: date(8)?,
            care_order_date: date(9)?,
            short_breaks_interval: interval(10)?,
            other_arrangements_interval: interval(11)?,
            local_interval: interval(12)?,
        });
    }
    Ok(())
}

pub(super) fn add_reviews(
    conn: &Connection,
    team_id: i64,
    children: &mut HashMap<String, TeamChild>,
) -> crate::store::sql::Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.child_ref, r.due_date, r.held_date
         FROM proj_reviews r JOIN children c ON c.child_ref = r.child_ref WHERE c.team_id = ?1",
    )?;
    let mut rows = stmt.query([team_id])?;
    while let Some(row) = rows.next()? {
        let child_ref: String = row.get(0)?;
        if let Some(child) = children.get_mut(&child_ref) {
            let date = |index: usize| -> crate::store::sql::Result<Option<CalendarDate>> {
                Ok(row
                    .get::<_, Option<String>>(index)?
                    .as_deref()
                    .and_then(CalendarDate::parse))
            };
            child.input.reviews.push(ReviewFacts {
                due: date(1)?,
                held: date(2)?,
            });
        }
    }
    Ok(())
}

pub(super) fn add_visits(
    conn: &Connection,
    team_id: i64,
    children: &mut HashMap<String, TeamChild>,
) -> crate::store::sql::Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT v.child_ref, v.visit_id, v.fact_date, v.fact_child_seen, v.fact_virtual,
                v.fact_review_meeting, v.fact_submitted, v.fact_kind_recorded, v.fact_made_by,
                v.fact_discarded, v.open_conflicts
         FROM proj_visits v JOIN children c ON c.child_ref = v.child_ref WHERE c.team_id = ?1",
    )?;
    let mut rows = stmt.query([team_id])?;
    while let Some(row) = rows.next()? {
        // Borrowed, not copied: this runs once per visit of the team.
        let Some(child) = children.get_mut(row.get_ref(0)?.as_str()?) else {
            continue;
        };
        let open_conflicts: i64 = row.get(10)?;
        if open_conflicts > 0 {
            child.needs_decision += 1;
        }
        // The facts as `rows` stored them, field for field; none without a real date.
        let Some(date) = row
            .get::<_, Option<String>>(2)?
            .as_deref()
            .and_then(CalendarDate::parse)
        else {
            continue;
        };
        let flag = |index: usize| -> crate::store::sql::Result<bool> {
            Ok(row.get::<_, Option<bool>>(index)?.unwrap_or(false))
        };
        child.input.visits.push(VisitFacts {
            visit_id: row.get(1)?,
            date,
            child_seen: flag(3)?,
            location_virtual: flag(4)?,
            kind_review_meeting: flag(5)?,
            submitted: flag(6)?,
            kind_recorded: flag(7)?,
            made_by: row
                .get::<_, Option<String>>(8)?
                .as_deref()
                .and_then(VisitMaker::from_code),
            discarded: flag(9)?,
        });
    }
    Ok(())
}

/// The child of each record of the team that has answers two devices gave differently.
pub(super) fn needs_decision(
    conn: &Connection,
    team_id: i64,
) -> crate::store::sql::Result<Vec<String>> {
    conn.prepare_cached(
        "SELECT v.child_ref FROM proj_visits v JOIN children c ON c.child_ref = v.child_ref
         WHERE c.team_id = ?1 AND v.open_conflicts > 0 AND v.discarded = 0",
    )?
    .query_map([team_id], |row| row.get::<_, String>(0))?
    .collect()
}

/// Visits recorded as having happened (date, kind and child seen; not discarded) whose
/// record is not submitted, oldest first.
pub(super) fn write_ups_outstanding(
    conn: &Connection,
    team_id: i64,
    today: CalendarDate,
    policy: &SchedulePolicy,
) -> crate::store::sql::Result<Vec<WriteUpRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT v.document_id, v.child_ref, COALESCE(pc.preferred_name, pc.legal_name, v.child_ref),
                v.worker_ref, COALESCE(w.display_name, v.worker_ref), v.fact_date
         FROM proj_visits v
         JOIN children c ON c.child_ref = v.child_ref
         LEFT JOIN proj_children pc ON pc.document_id = c.document_id
         LEFT JOIN workers w ON w.username = v.worker_ref
         WHERE c.team_id = ?1 AND v.fact_date IS NOT NULL AND v.fact_child_seen = 1
           AND v.fact_kind_recorded = 1 AND v.fact_discarded = 0 AND v.fact_submitted = 0
           AND v.fact_date <= ?2
         ORDER BY v.fact_date, v.child_ref",
    )?;
    let rows = stmt
        .query_map(params![team_id, today.to_string()], |row| {
            Ok((
                document_id_text(&row.get::<_, Vec<u8>>(0)?),
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
            ))
        })?
        .collect::<crate::store::sql::Result<Vec<_>>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, child_ref, child_name, worker, worker_name, date)| {
            let visited = CalendarDate::parse(&date)?;
            Some(WriteUpRow {
                visit_document_id: id,
                child_ref,
                child_name,
                worker,
                worker_name,
                visit_date: date,
                days_since_visit: today.days_since_epoch() - visited.days_since_epoch(),
                late: is_late_write_up(visited, today, policy),
            })
        })
        .collect())
}

pub(super) fn overdue_actions(
    conn: &Connection,
    team_id: i64,
    today: CalendarDate,
) -> crate::store::sql::Result<Vec<ActionRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.child_ref, COALESCE(pc.preferred_name, pc.legal_name, a.child_ref), a.document_id,
                a.description, a.owner_name, a.due_date
         FROM proj_actions a
         JOIN children c ON c.child_ref = a.child_ref
         LEFT JOIN proj_children pc ON pc.document_id = c.document_id
         WHERE c.team_id = ?1 AND (a.status IS NULL OR a.status = 'open')
           AND a.due_date IS NOT NULL AND a.due_date < ?2
         ORDER BY a.due_date, a.child_ref",
    )?;
    let rows = stmt
        .query_map(params![team_id, today.to_string()], |row| {
            Ok(ActionRow {
                child_ref: row.get(0)?,
                child_name: row.get(1)?,
                visit_document_id: document_id_text(&row.get::<_, Vec<u8>>(2)?),
                description: row.get(3)?,
                owner_name: row.get(4)?,
                due_date: row.get(5)?,
            })
        })?
        .collect::<crate::store::sql::Result<Vec<_>>>()?;
    // Dates compare as text only when they are real dates.
    Ok(rows
        .into_iter()
        .filter(|row| CalendarDate::parse(&row.due_date).is_some())
        .collect())
}

pub(super) fn awaiting_sign_off(
    conn: &Connection,
    team_id: i64,
    today: CalendarDate,
) -> crate::store::sql::Result<Vec<AwaitingRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT v.document_id, v.child_ref, COALESCE(pc.preferred_name, pc.legal_name, v.child_ref),
                v.worker_ref, COALESCE(w.display_name, v.worker_ref), v.visit_date, v.submitted_at,
                v.review_state, v.late, v.open_conflicts,
                (SELECT cw.username FROM allocations a JOIN workers cw ON cw.worker_id = a.worker_id
                  WHERE a.child_id = c.child_id AND a.ended_at IS NULL AND cw.role = 'social-worker'
                  ORDER BY a.started_at DESC LIMIT 1) AS current_worker
         FROM proj_visits v
         JOIN children c ON c.child_ref = v.child_ref
         LEFT JOIN proj_children pc ON pc.document_id = c.document_id
         LEFT JOIN workers w ON w.username = v.worker_ref
         WHERE c.team_id = ?1 AND v.review_state IN ('submitted', 'amendedAfterSignOff', 'resubmitted')
         ORDER BY v.submitted_at IS NULL, v.submitted_at, v.visit_date NULLS FIRST",
    )?;
    stmt.query_map([team_id], |row| {
        let submitted_at: Option<i64> = row.get(6)?;
        let worker: String = row.get(3)?;
        let current: Option<String> = row.get(10)?;
        Ok(AwaitingRow {
            visit_document_id: document_id_text(&row.get::<_, Vec<u8>>(0)?),
            child_ref: row.get(1)?,
            child_name: row.get(2)?,
            by_previous_worker: current.is_some_and(|current| current != worker),
            worker,
            worker_name: row.get(4)?,
            visit_date: row.get(5)?,
            submitted_at,
            review_state: row.get(7)?,
            late: row.get(8)?,
            waiting_days: submitted_at.map(|at| {
                let submitted = super::super::date_of(shared::sync::Timestamp::from_millis(
                    u64::try_from(at).unwrap_or(0),
                ));
                (today.days_since_epoch() - submitted.days_since_epoch()).max(0)
            }),
            open_conflicts: usize::try_from(row.get::<_, i64>(9)?).unwrap_or(0),
        })
    })?
    .collect()
}

/// A document id as text (bs58check), or empty if the stored bytes are not an id.
pub fn document_id_text(bytes: &[u8]) -> String {
    <[u8; 16]>::try_from(bytes)
        .map(|array| DocumentId::from_bytes(array).to_string())
        .unwrap_or_default()
}
