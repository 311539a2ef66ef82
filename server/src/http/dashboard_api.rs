//! `GET /api/team/dashboard` (JSON) and `GET /api/team/dashboard.csv`: the signed-in team
//! manager's team, children by visit status, overdue counts per worker, overdue actions
//! and visits awaiting sign-off, each child with its retention (D1: retain-until date,
//! basis, legal hold). Both are audited (`dashboard`, `dashboard-export`).
//! Documented in `server/openapi.yaml`.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use shared::sync::Timestamp;

use super::session_api::{bearer_or_cookie, now_ms};
use super::{ApiError, AppState};
use crate::directory::Role;
use crate::directory::audit::{AuditEntry, Outcome, append_audit};
use crate::directory::denial_audit::Denied;
use crate::directory::sessions::{self, Identity};
use crate::projection::dashboard::{Dashboard, DashboardFilter, children_csv, team_dashboard};
use crate::projection::date_of;

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
    headers: HeaderMap,
    query: Result<Query<FilterQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Dashboard>, ApiError> {
    let filter = parse_query(query)?;
    Ok(Json(build(&state, &headers, filter, "dashboard").await?))
}

async fn dashboard_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<FilterQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let filter = parse_query(query)?;
    let dashboard = build(&state, &headers, filter, "dashboard-export").await?;
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
    headers: &HeaderMap,
    filter: DashboardFilter,
    action: &'static str,
) -> Result<Dashboard, ApiError> {
    let token = bearer_or_cookie(headers).ok_or(ApiError::Unauthorized)?;
    let policy = state.schedule_policy.clone();
    let denials = state.denials.clone();
    state
        .with_directory(move |conn| {
            let now = now_ms();
            let identity = sessions::authenticate(conn, &token, now)?;
            let audit_row = |outcome, child_id, detail: Option<String>| AuditEntry {
                at: now,
                actor_worker_id: Some(identity.worker_id),
                actor: Some(identity.username.clone()),
                device_id: Some(identity.device_id.clone()),
                action: action.into(),
                outcome,
                document_id: None,
                child_id,
                detail,
            };
            let team = match manager_team(&identity) {
                Ok(team) => team,
                Err(err) => {
                    // Repeats within a window are counted, not appended one by one.
                    let row = audit_row(Outcome::Denied, None, Some(err.to_string()));
                    denials.record(conn, Denied::Session(identity.session_id), row)?;
                    return Err(err);
                }
            };
            let today = date_of(Timestamp::from_millis(now as u64));
            let mut dashboard = team_dashboard(conn, team, today, &policy, &filter)?;
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
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let rows: Vec<(i64, String)> = tx
                .prepare_cached("SELECT child_id, child_ref FROM children WHERE team_id = ?1")?
                .query_map([team], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let ids: std::collections::HashMap<String, i64> = rows
                .into_iter()
                .map(|(id, child_ref)| (child_ref, id))
                .collect();
            for row in &dashboard.children {
                let detail = format!("status {}", row.status);
                append_audit(
                    &tx,
                    &audit_row(
                        Outcome::Allowed,
                        ids.get(&row.child_ref).copied(),
                        Some(detail),
                    ),
                )?;
            }
            tx.commit()?;
            Ok::<_, ApiError>(dashboard)
        })
        .await
}

/// The team a team manager manages; anyone else is refused.
fn manager_team(identity: &Identity) -> Result<i64, ApiError> {
    match (identity.role, identity.team_id) {
        (Role::TeamManager, Some(team)) => Ok(team),
        (Role::TeamManager, None) => Err(ApiError::Forbidden(
            "you are not the manager of a team".into(),
        )),
        _ => Err(ApiError::Forbidden(
            "only a team manager can see the team dashboard".into(),
        )),
    }
}
