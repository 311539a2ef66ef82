//! `GET /api/caseload`: the children the signed-in worker may see and their document ids.
//!
//! The listing itself is audited (`caseload`), so a trail shows when a device learnt
//! which children it holds; the documents' contents are audited as they are synced.
//!
//! The answer also carries the council's visit-schedule rules (`schedulePolicy`), so the
//! device works out each child's timescales offline by the rules the dashboard applies.
//! A device says how many of its records the server does not have yet in the
//! `X-Doorstep-Unsent` header; the last report is kept (`device_reports`) so that
//! `admin device revoke` can warn before records are wiped.
//!
//! `erased` lists the documents deleted after their retention (`admin retention delete`)
//! that the worker held or managed: the device deletes its sealed copies of them.
//! `corrections` lists the records of theirs a manager moved or expunged
//! (`http::corrections_api`), so the device follows.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::{ApiError, AppState, SignedIn};
use crate::directory::admin::report_unsent;
use crate::directory::audit::{AuditEntry, Outcome, append_audit};
use crate::directory::caseload::{CaseloadChild, caseload_for};
use shared::schedule::SchedulePolicy;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/caseload", get(caseload))
}

/// `GET /api/caseload` answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CaseloadBody {
    username: String,
    role: &'static str,
    children: Vec<CaseloadChild>,
    schedule_policy: PolicyBody,
    /// Documents deleted after retention that this worker's devices may still hold: the
    /// device deletes its sealed copies (`directory::retention::erased_for`).
    erased: Vec<String>,
    /// Corrections of records this worker's devices may hold (moved, or expunged and
    /// replaced by a new document): `directory::corrections::corrections_for`.
    corrections: Vec<crate::directory::corrections::CorrectionListed>,
}

/// The visit-schedule rules, as the device rebuilds its `SchedulePolicy` from them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PolicyBody {
    jurisdiction: &'static str,
    /// `[rule, interval]` pairs, e.g. `["V1", "3 days"]`.
    local_intervals: Vec<(String, String)>,
    virtual_visits_count: bool,
    review_meetings_count: bool,
    unsubmitted_visits_count: bool,
    due_soon_days: u32,
    late_write_up_working_days: u32,
    temporary_placements_restart_clock: bool,
}

impl From<&SchedulePolicy> for PolicyBody {
    fn from(policy: &SchedulePolicy) -> Self {
        PolicyBody {
            jurisdiction: policy.jurisdiction().as_str(),
            local_intervals: policy
                .local_intervals()
                .iter()
                .map(|(rule, interval)| (rule.to_string(), interval.to_string()))
                .collect(),
            virtual_visits_count: policy.virtual_visits_count,
            review_meetings_count: policy.review_meetings_count,
            unsubmitted_visits_count: policy.unsubmitted_visits_count,
            due_soon_days: policy.due_soon_days,
            late_write_up_working_days: policy.late_write_up_working_days,
            temporary_placements_restart_clock: policy.temporary_placements_restart_clock,
        }
    }
}

async fn caseload(
    State(state): State<AppState>,
    SignedIn { identity, now }: SignedIn,
    headers: HeaderMap,
) -> Result<Json<CaseloadBody>, ApiError> {
    let unsent: Option<i64> = headers
        .get("x-doorstep-unsent")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse().ok())
        .filter(|count| *count >= 0);
    let policy = PolicyBody::from(&state.schedule_policy);
    let body = state
        .with_directory(move |conn| {
            if let Some(unsent) = unsent {
                report_unsent(conn, &identity.device_id, unsent, now)?;
            }
            let rights = crate::directory::access::grant_for(
                conn,
                &identity,
                now,
                std::time::Duration::ZERO,
            )?;
            let children = caseload_for(conn, &identity, &rights)?;
            let erased = crate::directory::retention::erased_for(conn, identity.worker_id)?;
            let corrections =
                crate::directory::corrections::corrections_for(conn, identity.worker_id)?;
            append_audit(
                conn,
                &AuditEntry::new(now, "caseload", Outcome::Allowed)
                    .by(&identity)
                    .detail(format!("{} children listed", children.len())),
            )?;
            Ok::<_, ApiError>(CaseloadBody {
                username: identity.username,
                role: identity.role.code(),
                children,
                schedule_policy: policy,
                erased,
                corrections,
            })
        })
        .await?;
    Ok(Json(body))
}
