//! `GET /api/caseload`: the children the signed-in worker may see and their document ids.
//!
//! The listing itself is audited (`caseload`), so a trail shows when a device learnt
//! which children it holds; the documents' contents are audited as they are synced.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::session_api::{bearer_or_cookie, now_ms};
use super::{ApiError, AppState};
use crate::directory::audit::{AuditEntry, Outcome, append_audit};
use crate::directory::caseload::{CaseloadChild, caseload_for};
use crate::directory::sessions;

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
}

async fn caseload(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<CaseloadBody>, ApiError> {
    let token = bearer_or_cookie(&headers).ok_or(ApiError::Unauthorized)?;
    let body = state
        .with_directory(move |conn| {
            let identity = sessions::authenticate(conn, &token, now_ms())?;
            let children = caseload_for(conn, &identity)?;
            append_audit(
                conn,
                &AuditEntry {
                    at: now_ms(),
                    actor_worker_id: Some(identity.worker_id),
                    actor: Some(identity.username.clone()),
                    device_id: Some(identity.device_id.clone()),
                    action: "caseload".into(),
                    outcome: Outcome::Allowed,
                    document_id: None,
                    child_id: None,
                    detail: Some(format!("{} children listed", children.len())),
                },
            )?;
            Ok::<_, ApiError>(CaseloadBody {
                username: identity.username,
                role: identity.role.code(),
                children,
            })
        })
        .await?;
    Ok(Json(body))
}
