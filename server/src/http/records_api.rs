//! Records for people to keep (issue 13 part 2; `record_print`):
//!
//! - `GET /api/records/{childRef}/subject-access` (JSON) and `.../subject-access.html`
//!   (printable HTML; print it to PDF): a child's full record with its redactions applied,
//!   for a records officer only; audited `subject-access-export`.
//! - `GET` and `POST /api/records/{childRef}/redactions`: the passages a records officer
//!   leaves out of exports; each addition audited `redaction-add`.
//! - `GET /api/visits/{id}/print` and `GET /api/children/{childRef}/handover/print`: one
//!   visit, or a handover summary, as the same printable HTML, for the worker holding the
//!   child or its team's manager; audited `print`.
//!
//! Anyone else gets `403` (a records officer's endpoints) or `404` (printing a record the
//! caller may not read, exactly as for one that does not exist). A restricted child the
//! officer is neither named for nor holds a break-glass on is, for the officer's
//! endpoints, a child that does not exist (`404`, the refusal audited).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use shared::DocumentId;

use super::{ApiError, AppState, SignedIn};
use crate::directory::access;
use crate::directory::audit::{AuditEntry, Outcome};
use crate::directory::sessions::Identity;
use crate::directory::subject_access::{self as sar, NewRedaction};
use crate::directory::{Connection, Role};
use crate::projection::record;
use crate::projection::review::ReviewError;
use crate::record_print::{RecordExport, Redaction, RedactionReason, html};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/records/{child}/subject-access", get(export_json))
        .route("/api/records/{child}/subject-access.html", get(export_html))
        .route(
            "/api/records/{child}/redactions",
            get(list_redactions).post(add_redaction),
        )
        .route("/api/visits/{id}/print", get(print_visit))
        .route("/api/children/{child}/handover/print", get(print_handover))
}

impl From<ReviewError> for ApiError {
    fn from(err: ReviewError) -> Self {
        match err {
            ReviewError::NotFound => ApiError::NotFound("no such record".into()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

fn officer_only(identity: &Identity) -> Result<(), ApiError> {
    if identity.role == Role::RecordsOfficer {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only a records officer may export a record or redact it".into(),
        ))
    }
}

/// Whether `identity` may print a child's visits and handover summary: whoever may read
/// the child's record now (the social worker holding the child, or its team's manager,
/// unless the child is restricted from them), by the one access policy
/// (`directory::access`). A refusal is audited against child row `child_id`.
fn may_print(
    conn: &Connection,
    identity: &Identity,
    now: i64,
    (child_id, child_ref): (i64, &str),
) -> Result<bool, ApiError> {
    let rights = access::grant_for(conn, identity, now, std::time::Duration::ZERO)?;
    let allowed = rights.may_read(child_ref);
    if !allowed {
        crate::directory::audit::append_audit(
            conn,
            &AuditEntry::new(now, "print", Outcome::Denied)
                .by(identity)
                .child(Some(child_id))
                .detail("not in the caseload or team"),
        )?;
    }
    Ok(allowed)
}

/// The row of the child a records officer may export or redact: `404`, exactly as for a
/// child that does not exist, when there is none or it is restricted from them (the
/// refusal is audited).
fn officer_child(
    conn: &Connection,
    identity: &Identity,
    now: i64,
    child_ref: &str,
) -> Result<i64, ApiError> {
    let child_id = sar::child_id(conn, child_ref)?.ok_or_else(|| no_child(child_ref))?;
    let rights = access::grant_for(conn, identity, now, std::time::Duration::ZERO)?;
    if !rights.may_export(child_ref) {
        crate::directory::audit::append_audit(
            conn,
            &AuditEntry::new(now, "subject-access-export", Outcome::Denied)
                .by(identity)
                .child(Some(child_id))
                .detail("restricted"),
        )?;
        return Err(no_child(child_ref));
    }
    Ok(child_id)
}

fn no_child(child_ref: &str) -> ApiError {
    ApiError::NotFound(format!("no child with reference {child_ref:?}"))
}

async fn export(
    state: &AppState,
    SignedIn { identity, now }: SignedIn,
    child_ref: String,
    format: &'static str,
) -> Result<RecordExport, ApiError> {
    officer_only(&identity)?;
    state
        .with_directory(move |conn| {
            let child_id = officer_child(conn, &identity, now, &child_ref)?;
            let mut export = record::full_record(conn, &child_ref, &identity.username, now)?
                .ok_or_else(|| no_child(&child_ref))?;
            let redactions = sar::redactions(conn, child_id)?;
            export.redact(&redactions);
            sar::record_export(
                conn,
                (&identity, now),
                "subject-access-export",
                child_id,
                None,
                format!(
                    "{format}: {} entries, {} redaction(s) applied",
                    export.entries.len(),
                    redactions.len()
                ),
            )?;
            Ok::<_, ApiError>(export)
        })
        .await
}

async fn export_json(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(child): Path<String>,
) -> Result<Json<RecordExport>, ApiError> {
    export(&state, signed_in, child, "json").await.map(Json)
}

async fn export_html(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(child): Path<String>,
) -> Result<Response, ApiError> {
    let export = export(&state, signed_in, child, "html").await?;
    Ok(printable(&export))
}

/// The policy of a printable page: no script, nothing loaded, only its own inline style
/// sheet (every value in it is escaped, so no markup of the record's can add style).
const PRINT_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
form-action 'none'; frame-ancestors 'none'";

/// HTML that the browser keeps out of shared caches.
fn printable(export: &RecordExport) -> Response {
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, PRINT_POLICY),
        ],
        Html(html::render(export)),
    )
        .into_response()
}

async fn list_redactions(
    State(state): State<AppState>,
    SignedIn { identity, now }: SignedIn,
    Path(child_ref): Path<String>,
) -> Result<Json<Vec<Redaction>>, ApiError> {
    officer_only(&identity)?;
    state
        .with_directory(move |conn| {
            let child_id = officer_child(conn, &identity, now, &child_ref)?;
            Ok::<_, ApiError>(Json(sar::redactions(conn, child_id)?))
        })
        .await
}

/// The body of `POST /api/records/{childRef}/redactions`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RedactionBody {
    /// The document (automerge-repo id); absent: any of the child's documents.
    #[serde(default)]
    document_id: Option<String>,
    /// The field (key such as `voice`, or label); absent: any field.
    #[serde(default)]
    field: Option<String>,
    /// The exact passage; absent: the whole field.
    #[serde(default)]
    passage: Option<String>,
    /// `third-party` or `serious-harm`.
    reason: String,
}

async fn add_redaction(
    State(state): State<AppState>,
    SignedIn { identity, now }: SignedIn,
    Path(child_ref): Path<String>,
    Json(body): Json<RedactionBody>,
) -> Result<(axum::http::StatusCode, Json<serde_json::Value>), ApiError> {
    officer_only(&identity)?;
    let reason = RedactionReason::from_code(&body.reason)
        .ok_or_else(|| ApiError::BadRequest("reason must be third-party or serious-harm".into()))?;
    let document_id = body
        .document_id
        .as_deref()
        .map(|id| {
            id.parse::<DocumentId>()
                .map_err(|_| ApiError::BadRequest("documentId is not a document id".into()))
        })
        .transpose()?;
    let blank = |text: &Option<String>| text.as_deref().is_none_or(|t| t.trim().is_empty());
    if blank(&body.field) && blank(&body.passage) {
        return Err(ApiError::BadRequest(
            "name a field or a passage to redact".into(),
        ));
    }
    let redaction = NewRedaction {
        document_id,
        field: body.field.filter(|f| !f.trim().is_empty()),
        passage: body.passage.filter(|p| !p.is_empty()),
        reason,
    };
    state
        .with_directory(move |conn| {
            let child_id = officer_child(conn, &identity, now, &child_ref)?;
            let id = sar::add_redaction(conn, (&identity, now), child_id, &redaction)?;
            Ok::<_, ApiError>((
                axum::http::StatusCode::CREATED,
                Json(serde_json::json!({ "redactionId": id })),
            ))
        })
        .await
}

async fn print_visit(
    State(state): State<AppState>,
    SignedIn { identity, now }: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let document: DocumentId = id
        .parse()
        .map_err(|_| ApiError::NotFound("no such record".into()))?;
    let export = state
        .with_directory(move |conn| {
            let not_found = || ApiError::NotFound("no such record".into());
            let (child_id, child_ref) =
                sar::child_of_document(conn, &document)?.ok_or_else(not_found)?;
            if !may_print(conn, &identity, now, (child_id, &child_ref))? {
                return Err(not_found());
            }
            let export = record::visit_print(conn, &document, &child_ref, &identity.username, now)?;
            sar::record_export(
                conn,
                (&identity, now),
                "print",
                child_id,
                Some(&document),
                "visit".into(),
            )?;
            Ok::<_, ApiError>(export)
        })
        .await?;
    Ok(printable(&export))
}

async fn print_handover(
    State(state): State<AppState>,
    SignedIn { identity, now }: SignedIn,
    Path(child_ref): Path<String>,
) -> Result<Response, ApiError> {
    let export = state
        .with_directory(move |conn| {
            let not_found = || ApiError::NotFound("no such record".into());
            let child_id = sar::child_id(conn, &child_ref)?.ok_or_else(not_found)?;
            if !may_print(conn, &identity, now, (child_id, &child_ref))? {
                return Err(not_found());
            }
            let export = record::handover(conn, &child_ref, &identity.username, now)?
                .ok_or_else(not_found)?;
            sar::record_export(
                conn,
                (&identity, now),
                "print",
                child_id,
                None,
                "handover summary".into(),
            )?;
            Ok::<_, ApiError>(export)
        })
        .await?;
    Ok(printable(&export))
}
