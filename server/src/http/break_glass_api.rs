//! `POST /api/children/{childRef}/break-glass`: open a child one cannot otherwise see
//! (restricted, or outside one's caseload) for a short time, with a mandatory reason
//! (domain D6). Who may is the access policy's `may_break_glass`; the access is recorded
//! by `directory::restricted::break_glass` (the `break_glass` row and a `break-glass`
//! audit row), reaches live sync connections through the directory version, ends by
//! itself at `expiresAt`, and is on the child's team manager's dashboard at once
//! (`breakGlass`). A child one may not break into is answered exactly as one that does not
//! exist, and the refusal is audited. Documented in `server/openapi.yaml`.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use super::{ApiError, AppState, SignedIn};
use crate::directory::access;
use crate::directory::audit::{AuditEntry, Outcome};
use crate::directory::denial_audit::Denied;
use crate::directory::restricted::{self, BreakGlass};

/// The longest reason kept (a reason is a sentence or two, not a document).
const MAX_REASON_CHARS: usize = 2_000;

/// The refusal for a missing or blank reason.
const NO_REASON: &str = "a reason is required: say why you need to see this child's record";

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/children/{child}/break-glass", post(break_glass))
}

/// The body of the request.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BreakGlassBody {
    /// Why the record must be opened (required, kept in the audit and shown to the
    /// child's manager).
    #[serde(default)]
    reason: Option<String>,
}

async fn break_glass(
    State(state): State<AppState>,
    SignedIn { identity, now }: SignedIn,
    Path(child_ref): Path<String>,
    body: Result<Json<BreakGlassBody>, JsonRejection>,
) -> Result<(StatusCode, Json<BreakGlass>), ApiError> {
    // The reason is checked first: the answer to a request without one says nothing about
    // the child.
    let reason = match body {
        Ok(Json(body)) => body.reason.unwrap_or_default(),
        Err(JsonRejection::MissingJsonContentType(_)) | Err(JsonRejection::JsonDataError(_)) => {
            String::new()
        }
        Err(err) => return Err(ApiError::BadRequest(err.body_text())),
    };
    let reason = reason.trim().to_owned();
    if reason.is_empty() {
        return Err(ApiError::BadRequest(NO_REASON.into()));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::BadRequest(format!(
            "the reason is longer than {MAX_REASON_CHARS} characters"
        )));
    }
    let duration_ms = i64::try_from(state.break_glass_for.as_millis()).unwrap_or(i64::MAX);
    let denials = state.denials.clone();
    state
        .with_directory(move |conn| {
            let rights = access::grant_for(conn, &identity, now, std::time::Duration::ZERO)?;
            let Some(child_id) = access::may_break_glass(conn, &identity, &child_ref)? else {
                let row = AuditEntry::new(now, "break-glass", Outcome::Denied)
                    .by(&identity)
                    .child(access::child_row_id(conn, &child_ref)?)
                    .detail(format!("not in the team: {child_ref}"));
                denials.record(conn, Denied::Session(identity.session_id), row)?;
                return Err(ApiError::NotFound(format!(
                    "no child with reference {child_ref:?}"
                )));
            };
            if rights.sees_already(&child_ref) {
                // They see the child already, so saying so reveals nothing.
                return Err(ApiError::Conflict(
                    "you can already see this child's record; no break-glass is needed".into(),
                ));
            }
            let granted = restricted::break_glass(
                conn,
                &identity,
                (child_id, &child_ref),
                &reason,
                now,
                duration_ms,
            )?;
            tracing::warn!(
                child = %child_ref,
                worker = %identity.username,
                until = granted.expires_at,
                "break-glass access granted"
            );
            Ok::<_, ApiError>((StatusCode::CREATED, Json(granted)))
        })
        .await
}
