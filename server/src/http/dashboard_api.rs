//! `GET /api/team/dashboard` (JSON) and `GET /api/team/dashboard.csv`: the signed-in team
//! manager's team, children by visit status, overdue counts per worker, overdue actions
//! and visits awaiting sign-off, each child with its retention (D1: retain-until date,
//! basis, legal hold), and the break-glass accesses to the team's children (open, and
//! those of the last 30 days: who, when, why, until when). Restricted children the manager
//! may not read are left out as if absent (`directory::access`). Both are audited
//! (`dashboard`, `dashboard-export`).
//! Documented in `server/openapi.yaml`.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use shared::sync::Timestamp;

use super::{ApiError, AppState, SignedIn};
use crate::directory::access::{self, NoTeam};
use crate::directory::audit::{AuditEntry, Outcome, append_audit_all};
use crate::directory::denial_audit::Denied;
use crate::directory::restricted;
use crate::projection::dashboard::{
    Dashboard, DashboardFilter, children_csv, team_dashboard_seen_by,
};
use crate::projection::date_of;

/// How far back the dashboard lists break-glass accesses that have ended: 30 days.
const BREAK_GLASS_SHOWN_MS: i64 = 30 * 24 * 60 * 60 * 1000;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/team/dashboard", get(dashboard_json))
        .route("/api/team/dashboard.csv", get(dashboard_csv))
}

/// The query string filters.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FilterQuery {
    status: Option<String>,
    due_within_days: Option<u32>,
    worker: Option<String>,
}

impl FilterQuery {
    fn into_filter(self) -> Result<DashboardFilter, ApiError> {
        if let Some(status) = &self.status
            && !["overdue", "dueSoon", "met", "upcoming", "noSchedule"].contains(&status.as_str())
        {
            return Err(ApiError::BadRequest(format!(
                "status must be overdue, dueSoon, met, upcoming or noSchedule, not {status:?}"
            )));
        }
        Ok(DashboardFilter {
            status: self.status,
            due_within_days: self.due_within_days,
            worker: self.worker,
        })
    }
}

async fn dashboard_json(
    State(state): State<AppState>,
    signed_in: SignedIn,
    query: Result<Query<FilterQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Dashboard>, ApiError> {
    let filter = parse_query(query)?;
    Ok(Json(build(&state, signed_in, filter, "dashboard").await?))
}

async fn dashboard_csv(
    State(state): State<AppState>,
    signed_in: SignedIn,
    query: Result<Query<FilterQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let filter = parse_query(query)?;
    let dashboard = build(&state, signed_in, filter, "dashboard-export").await?;
    let file = format!("attachment; filename=\"visits-{}.csv\"", dashboard.as_of);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, file),
        ],
        children_csv(&dashboard),
    )
        .into_response())
}

fn parse_query(
    query: Result<Query<FilterQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<DashboardFilter, ApiError> {
    let Query(query) = query.map_err(|err| ApiError::BadRequest(err.body_text()))?;
    query.into_filter()
}

async fn build(
    state: &AppState,
    SignedIn { identity, now }: SignedIn,
    filter: DashboardFilter,
    action: &'static str,
) -> Result<Dashboard, ApiError> {
    let policy = state.schedule_policy.clone();
    let denials = state.denials.clone();
    state
        .with_directory(move |conn| {
            let rights = access::grant_for(conn, &identity, now, std::time::Duration::ZERO)?;
            let team = match rights.managed_team() {
                Ok(team) => team,
                Err(no_team) => {
                    let err = ApiError::Forbidden(
                        match no_team {
                            NoTeam::Unassigned => "you are not the manager of a team",
                            NoTeam::NotAManager => "only a team manager can see the team dashboard",
                        }
                        .into(),
                    );
                    // Repeats within a window are counted, not appended one by one.
                    let row = AuditEntry::new(now, action, Outcome::Denied)
                        .by(&identity)
                        .detail(err.to_string());
                    denials.record(conn, Denied::Session(identity.session_id), row)?;
                    return Err(err);
                }
            };
            let today = date_of(Timestamp::from_millis(u64::try_from(now).unwrap_or(0)));
            // Restricted children the manager may not read are not on it at all.
            let visible = |child_ref: &str| rights.may_read(child_ref);
            let mut dashboard =
                team_dashboard_seen_by(conn, team, today, &policy, &filter, &visible)?;
            dashboard.break_glass =
                restricted::team_break_glass(conn, team, now, now - BREAK_GLASS_SHOWN_MS)?;
            for row in &mut dashboard.children {
                row.retention = crate::directory::retention::retention_of(
                    conn,
                    &row.child_ref,
                    policy.jurisdiction(),
                )
                .ok();
            }
            // Each child shown is a view of that child's record: one audit row per child,
            // so the child's audit export shows who saw them on a dashboard.
            let rows: Vec<AuditEntry> = dashboard
                .children
                .iter()
                .map(|row| {
                    AuditEntry::new(now, action, Outcome::Allowed)
                        .by(&identity)
                        .child(rights.child_ids.get(&row.child_ref).copied())
                        .detail(format!("status {}", row.status))
                })
                .collect();
            append_audit_all(conn, &rows)?;
            Ok::<_, ApiError>(dashboard)
        })
        .await
}
