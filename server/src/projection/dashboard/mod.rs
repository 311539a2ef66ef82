//! The team manager's dashboard: headline counts (overdue, due this week, awaiting
//! sign-off, write-ups late, records that need a decision), the sign-off queue oldest
//! first with how long each record has waited, write-ups outstanding with their days,
//! every child of the team with their visit status under the statutory schedule, overdue
//! counts per worker and actions past their due date. Read from the projection tables
//! plus the schedule engine (`shared::schedule`), for "today" as given.
//!
//! The schedule's facts are read back from the tables field for field into the facts
//! `shared::schedule` made from the documents (`rows`): no interpretation happens here,
//! so the dashboard's answer for a child is the worker's device's answer.

use std::collections::HashMap;

use crate::store::sql::{Connection, params};
use serde::Serialize;
use shared::DocumentId;
use shared::model::{CalendarDate, Coded, StatutoryBasis, VisitMaker};
use shared::schedule::{
    CareLeaverFacts, ChildVisitStatus, Interval, PlacementFacts, ReviewFacts, ScheduleInput,
    SchedulePolicy, VisitFacts, child_schedule, is_late_write_up,
};

mod reads;
use reads::*;

/// What a dashboard request asks for (all optional filters).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DashboardFilter {
    /// Only children with this status (`overdue`, `dueSoon`, `met`, `upcoming`, `noSchedule`).
    pub status: Option<String>,
    /// Only children whose next visit is due within this many days of today (or overdue).
    pub due_within_days: Option<u32>,
    /// Only children held by this worker (username).
    pub worker: Option<String>,
}

/// The dashboard of one team (the JSON of `GET /api/team/dashboard`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    /// The date the statuses are computed for.
    pub as_of: String,
    /// The team's name.
    pub team: String,
    /// What needs the manager first, counted over the whole team (unfiltered).
    pub headline: Headline,
    /// The team's children (filtered), most urgent first.
    pub children: Vec<ChildRow>,
    /// Per worker: children held and how many are overdue (unfiltered).
    pub workers: Vec<WorkerRow>,
    /// Open actions past their due date.
    pub overdue_actions: Vec<ActionRow>,
    /// Submitted visits waiting for the manager, oldest first.
    pub awaiting_sign_off: Vec<AwaitingRow>,
    /// Visits that happened (date, kind and child seen recorded) whose record is not yet
    /// submitted, oldest first (domain requirement D5).
    pub write_ups_outstanding: Vec<WriteUpRow>,
    /// Break-glass accesses to the team's children, open now or granted in the last 30
    /// days, newest first (domain D6; filled by the API from `directory::restricted`).
    pub break_glass: Vec<crate::directory::restricted::BreakGlass>,
}

/// The dashboard's headline counts.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Headline {
    /// Children overdue a visit.
    pub overdue: usize,
    /// Children not overdue whose next visit is due within 7 days.
    pub due_this_week: usize,
    /// Records awaiting sign-off.
    pub awaiting_sign_off: usize,
    /// Write-ups outstanding for longer than the allowed working days.
    pub write_ups_late: usize,
    /// Write-ups outstanding.
    pub write_ups_outstanding: usize,
    /// Records with answers two devices gave differently, not yet settled.
    pub needs_decision: usize,
}

/// A visit whose write-up is outstanding.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteUpRow {
    /// The visit document.
    pub visit_document_id: String,
    /// The child's case reference.
    pub child_ref: String,
    /// The child's name.
    pub child_name: String,
    /// The visiting worker's username.
    pub worker: String,
    /// Their name.
    pub worker_name: String,
    /// The day of the visit.
    pub visit_date: String,
    /// Days since the visit.
    pub days_since_visit: i64,
    /// Outstanding for more than the allowed working days.
    pub late: bool,
}

/// One child on the dashboard.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChildRow {
    /// The council's case reference.
    pub child_ref: String,
    /// The name the child is known by.
    pub child_name: String,
    /// The allocated social worker's username.
    pub worker: Option<String>,
    /// Their name.
    pub worker_name: Option<String>,
    /// When the current placement started.
    pub placement_start: Option<String>,
    /// The last visit that counts under the rules.
    pub last_qualifying_visit: Option<String>,
    /// When the next visit is due.
    pub next_due: Option<String>,
    /// The rule that sets it (`V1`...`V16`).
    pub rule_id: Option<String>,
    /// Why it is due then, in plain words.
    pub reason: String,
    /// `overdue`, `dueSoon`, `met`, `upcoming` or `noSchedule`.
    pub status: &'static str,
    /// How many of the child's records have answers two devices gave differently.
    pub needs_decision: usize,
    /// Until when the record must be kept (D1; `directory::retention`, filled in by the
    /// API), and a legal hold if one stands.
    pub retention: Option<crate::directory::retention::ChildRetention>,
}

/// One worker's figures.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkerRow {
    /// Username.
    pub worker: String,
    /// Name.
    pub worker_name: String,
    /// Children allocated.
    pub children: usize,
    /// Of those, overdue a visit.
    pub overdue: usize,
}

/// An open action past its due date.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionRow {
    /// The child's case reference.
    pub child_ref: String,
    /// The child's name.
    pub child_name: String,
    /// The visit that agreed it.
    pub visit_document_id: String,
    /// What was to be done.
    pub description: String,
    /// Who owns it.
    pub owner_name: String,
    /// When it was due.
    pub due_date: String,
}

/// A visit waiting for sign-off.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AwaitingRow {
    /// The visit document.
    pub visit_document_id: String,
    /// The child's case reference.
    pub child_ref: String,
    /// The child's name.
    pub child_name: String,
    /// The visiting worker's username.
    pub worker: String,
    /// Their name.
    pub worker_name: String,
    /// The visit date as recorded.
    pub visit_date: Option<String>,
    /// When it was submitted (device time, ms).
    pub submitted_at: Option<i64>,
    /// `submitted`, `amendedAfterSignOff` or `resubmitted`.
    pub review_state: String,
    /// Written up more than the allowed working days after the visit.
    pub late: bool,
    /// Whole days since it was submitted (by the device's clock), if known.
    pub waiting_days: Option<i64>,
    /// Answers two devices gave differently, not yet settled.
    pub open_conflicts: usize,
    /// Recorded by a worker who no longer holds the child.
    pub by_previous_worker: bool,
}

/// Builds the dashboard of `team_id` for `today`.
///
/// # Errors
/// The database's error.
pub fn team_dashboard(
    conn: &Connection,
    team_id: i64,
    today: CalendarDate,
    policy: &SchedulePolicy,
    filter: &DashboardFilter,
) -> crate::store::sql::Result<Dashboard> {
    team_dashboard_seen_by(conn, team_id, today, policy, filter, &|_| true)
}

/// [`team_dashboard`] as one session sees it: the children `visible` refuses (restricted
/// children it may not read, by the access policy) are left out of everything, the
/// headline and the per-worker counts included, as if they did not exist.
///
/// # Errors
/// The database's error.
pub fn team_dashboard_seen_by(
    conn: &Connection,
    team_id: i64,
    today: CalendarDate,
    policy: &SchedulePolicy,
    filter: &DashboardFilter,
    visible: &dyn Fn(&str) -> bool,
) -> crate::store::sql::Result<Dashboard> {
    let team: String = conn.query_row(
        "SELECT name FROM teams WHERE team_id = ?1",
        [team_id],
        |row| row.get(0),
    )?;
    let started = crate::clock::monotonic();
    let mut children = team_children(conn, team_id)?;
    children.retain(|child_ref, _| visible(child_ref));
    let read_children = started.elapsed();
    add_placements(conn, team_id, &mut children)?;
    add_reviews(conn, team_id, &mut children)?;
    add_visits(conn, team_id, &mut children)?;
    let read_facts = started.elapsed();

    let mut rows = Vec::with_capacity(children.len());
    let mut workers: HashMap<String, WorkerRow> = HashMap::new();
    for child in children.into_values() {
        let schedule = child_schedule(&child.input, policy, today);
        let status = schedule.status.as_str();
        if let Some(worker) = &child.worker {
            let figures = workers.entry(worker.clone()).or_insert_with(|| WorkerRow {
                worker: worker.clone(),
                worker_name: child.worker_name.clone().unwrap_or_default(),
                children: 0,
                overdue: 0,
            });
            figures.children += 1;
            if schedule.status == ChildVisitStatus::Overdue {
                figures.overdue += 1;
            }
        }
        let next = schedule.next_due.as_ref();
        let needs_decision = child.needs_decision;
        rows.push(ChildRow {
            child_name: child.name.clone(),
            child_ref: child.child_ref,
            worker: child.worker,
            worker_name: child.worker_name,
            placement_start: child.placement_start,
            last_qualifying_visit: schedule.last_qualifying_visit.map(|date| date.to_string()),
            next_due: next.map(|requirement| requirement.due.to_string()),
            rule_id: next.map(|requirement| requirement.rule.to_string()),
            reason: next
                .map(|requirement| requirement.reason.clone())
                .or_else(|| schedule.no_schedule_reason.clone())
                .unwrap_or_else(|| "No visit schedule: no current placement recorded".into()),
            status,
            needs_decision,
            retention: None,
        });
    }
    let week_end = today.days_since_epoch() + 7;
    let mut headline = Headline {
        overdue: rows.iter().filter(|row| row.status == "overdue").count(),
        due_this_week: rows
            .iter()
            .filter(|row| row.status != "overdue")
            .filter_map(|row| row.next_due.as_deref().and_then(CalendarDate::parse))
            .filter(|due| due.days_since_epoch() <= week_end)
            .count(),
        ..Headline::default()
    };
    rows.retain(|row| keep(row, filter, today));
    rows.sort_by(|a, b| {
        urgency(a.status)
            .cmp(&urgency(b.status))
            .then_with(|| a.next_due.cmp(&b.next_due))
            .then_with(|| a.child_ref.cmp(&b.child_ref))
    });
    let mut workers: Vec<WorkerRow> = workers.into_values().collect();
    workers.sort_by(|a, b| b.overdue.cmp(&a.overdue).then(a.worker.cmp(&b.worker)));
    let scheduled = started.elapsed();
    let mut overdue_actions = overdue_actions(conn, team_id, today)?;
    overdue_actions.retain(|row| visible(&row.child_ref));
    let read_actions = started.elapsed();
    let mut awaiting_sign_off = awaiting_sign_off(conn, team_id, today)?;
    awaiting_sign_off.retain(|row| visible(&row.child_ref));
    let mut write_ups_outstanding = write_ups_outstanding(conn, team_id, today, policy)?;
    write_ups_outstanding.retain(|row| visible(&row.child_ref));
    headline.awaiting_sign_off = awaiting_sign_off.len();
    headline.write_ups_outstanding = write_ups_outstanding.len();
    headline.write_ups_late = write_ups_outstanding.iter().filter(|w| w.late).count();
    headline.needs_decision = needs_decision(conn, team_id)?
        .iter()
        .filter(|child_ref| visible(child_ref))
        .count();
    tracing::debug!(
        team_id,
        children_ms = read_children.as_secs_f64() * 1e3,
        facts_ms = read_facts.as_secs_f64() * 1e3,
        schedule_ms = scheduled.as_secs_f64() * 1e3,
        actions_ms = read_actions.as_secs_f64() * 1e3,
        total_ms = started.elapsed().as_secs_f64() * 1e3,
        "dashboard built (cumulative times)"
    );
    Ok(Dashboard {
        as_of: today.to_string(),
        team,
        headline,
        children: rows,
        workers,
        overdue_actions,
        awaiting_sign_off,
        write_ups_outstanding,
        break_glass: Vec::new(),
    })
}

/// The dashboard's children table as CSV (RFC 4180, a header row first).
pub fn children_csv(dashboard: &Dashboard) -> String {
    let mut out = String::from(
        "Case reference,Child,Worker,Placement start,Last qualifying visit,Next visit due,Rule,Status,Reason\r\n",
    );
    for row in &dashboard.children {
        let fields = [
            row.child_ref.as_str(),
            row.child_name.as_str(),
            row.worker_name.as_deref().unwrap_or(""),
            row.placement_start.as_deref().unwrap_or(""),
            row.last_qualifying_visit.as_deref().unwrap_or(""),
            row.next_due.as_deref().unwrap_or(""),
            row.rule_id.as_deref().unwrap_or(""),
            row.status,
            row.reason.as_str(),
        ];
        let line: Vec<String> = fields.iter().map(|field| csv_field(field)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// One CSV field, neutralised against formula injection (see [`crate::csv_cell`]).
fn csv_field(text: &str) -> String {
    crate::csv_cell::field(text)
}

fn urgency(status: &str) -> u8 {
    match status {
        "overdue" => 0,
        "dueSoon" => 1,
        "upcoming" => 2,
        "met" => 3,
        _ => 4,
    }
}

fn keep(row: &ChildRow, filter: &DashboardFilter, today: CalendarDate) -> bool {
    if let Some(status) = &filter.status
        && row.status != status
    {
        return false;
    }
    if let Some(worker) = &filter.worker
        && row.worker.as_deref() != Some(worker.as_str())
    {
        return false;
    }
    if let Some(days) = filter.due_within_days {
        let Some(due) = row.next_due.as_deref().and_then(CalendarDate::parse) else {
            return false;
        };
        if due.days_since_epoch() > today.days_since_epoch() + i64::from(days) {
            return false;
        }
    }
    true
}
