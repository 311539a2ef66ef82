//! `GET /api/visits/{id}/review` and `POST /api/visits/{id}/oversight`: a team manager
//! reads a visit with the provenance of each section and signs it off or returns it.
//!
//! The decision is written into the visit document by the hub (so it syncs to the
//! worker's device, offline afterwards) and only if the document is still exactly the
//! version the manager read: the sign-off pins those heads. Reads and decisions are
//! audited (`review-read`, `sign-off`, `return`; denials as `denied`).
//!
//! No existence oracle: a visit the caller may not read and one that does not exist get
//! the same answer, `404 {"error":"no such record"}`, and both are audited as denials
//! (repeats coalesced, see `directory::denial_audit`). Only someone who may read a record
//! learns more (e.g. a worker holding the child is told they cannot sign it off).

use std::str::FromStr;

use automerge::ChangeHash;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use shared::DocumentId;
use shared::model::{self, OversightDecision, OversightEntry, ReviewState};
use shared::sync::Timestamp;
use tokio::sync::oneshot;

use super::{ApiError, AppState, SignedIn};
use crate::directory::Connection;
use crate::directory::access::{self, DocumentChild};
use crate::directory::audit::{AuditEntry, Outcome, append_audit};
use crate::directory::denial_audit::{DenialAudit, Denied};
use crate::directory::sessions::Identity;
use crate::hub::{EditError, EditWork, HubInput, ServerEdit};
use crate::projection::review::{ReviewError, VisitReview, load_document, visit_review};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/visits/{id}/review", get(read_review))
        .route("/api/visits/{id}/oversight", post(decide))
}

/// The body of `POST /api/visits/{id}/oversight`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DecisionBody {
    /// `signOff` or `return`.
    decision: String,
    /// The manager's comment (required to return a record).
    #[serde(default)]
    comment: String,
    /// The version the manager read (hex change hashes).
    heads: Vec<String>,
}

async fn read_review(
    State(state): State<AppState>,
    SignedIn { identity, now }: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<VisitReview>, ApiError> {
    let document = parse_document_id(&id)?;
    let denials = state.denials.clone();
    let review = state
        .with_directory(move |conn| {
            let request = Request {
                identity: &identity,
                document: &document,
                action: "review-read",
                now,
            };
            let owner = authorise(conn, &denials, &request, false)?;
            let doc = load_document(conn, &document).map_err(review_error)?;
            let review = visit_review(conn, &document, &doc).map_err(review_error)?;
            append_audit(conn, &request.audit(Outcome::Allowed, &owner))?;
            Ok::<_, ApiError>(review)
        })
        .await?;
    Ok(Json(review))
}

async fn decide(
    State(state): State<AppState>,
    SignedIn { identity, now }: SignedIn,
    Path(id): Path<String>,
    body: Result<Json<DecisionBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<VisitReview>, ApiError> {
    let document = parse_document_id(&id)?;
    let Json(body) = body.map_err(|err| ApiError::BadRequest(err.body_text()))?;
    let decision = match body.decision.as_str() {
        "signOff" => OversightDecision::SignedOff,
        "return" => OversightDecision::Returned,
        other => {
            return Err(ApiError::BadRequest(format!(
                "decision must be signOff or return, not {other:?}"
            )));
        }
    };
    let comment = body.comment.trim().to_owned();
    if decision == OversightDecision::Returned && comment.is_empty() {
        return Err(ApiError::BadRequest(
            "say what needs to change before returning the record".into(),
        ));
    }
    let heads = body
        .heads
        .iter()
        .map(|head| ChangeHash::from_str(head))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ApiError::BadRequest("heads must be hex change hashes".into()))?;
    if heads.is_empty() {
        return Err(ApiError::BadRequest(
            "heads must name the version read".into(),
        ));
    }

    // Check who is deciding and that the stored record is ready for a decision.
    let action = match decision {
        OversightDecision::SignedOff => "sign-off",
        OversightDecision::Returned => "return",
    };
    let denials = state.denials.clone();
    let (identity, owner) = state
        .with_directory({
            move |conn| {
                let request = Request {
                    identity: &identity,
                    document: &document,
                    action,
                    now,
                };
                let owner = authorise(conn, &denials, &request, true)?;
                let doc = load_document(conn, &document).map_err(review_error)?;
                let review = model::review(&doc).map_err(|err| {
                    ApiError::Unprocessable(format!("the record cannot be read: {err}"))
                })?;
                match review.state {
                    ReviewState::Submitted
                    | ReviewState::AmendedAfterSignOff
                    | ReviewState::Resubmitted => {}
                    ReviewState::SignedOff => {
                        return Err(ApiError::Unprocessable(
                            "this record is already signed off".into(),
                        ));
                    }
                    ReviewState::Draft | ReviewState::Returned => {
                        return Err(ApiError::Unprocessable(
                            "this record has not been submitted for sign-off".into(),
                        ));
                    }
                }
                // A record with answers in dispute is not signed off as if it said one thing.
                if decision == OversightDecision::SignedOff
                    && !model::single_value_conflicts(&doc).is_empty()
                {
                    return Err(ApiError::Unprocessable(
                        "two devices gave different answers in this record: return it so the worker can choose".into(),
                    ));
                }
                Ok::<_, ApiError>((identity, owner))
            }
        })
        .await?;

    let entry = OversightEntry {
        entry_id: new_entry_id(),
        decision,
        comment: comment.clone(),
        manager_id: identity.username.clone(),
        manager_name: identity.display_name.clone(),
        heads: heads.clone(),
        at: Timestamp::from_millis(u64::try_from(now).unwrap_or(0)),
    };
    let (reply, answer) = oneshot::channel();
    let author = model::ChangeAuthor {
        worker_id: identity.username.clone(),
        device: identity.device_id.clone(),
    };
    let edit = ServerEdit {
        document,
        expected_heads: heads.clone(),
        author: identity.username.clone(),
        work: EditWork::Change {
            edit: Box::new(move |doc| {
                let time_s = entry.at.as_millis() as i64 / 1000;
                model::record_oversight_by(doc, &entry, time_s, Some(&author))
                    .map_err(|err| err.to_string())
            }),
            refile: None,
            reply,
        },
    };
    if !state.hub.send(HubInput::Edit(edit)).await {
        return Err(ApiError::Unavailable("the server is stopping".into()));
    }
    let outcome = answer
        .await
        .map_err(|_| ApiError::Unavailable("the server is stopping".into()))?;
    let detail_heads: Vec<String> = heads.iter().map(ToString::to_string).collect();
    let decided = state.clock.now_ms();
    let review = state
        .with_directory(move |conn| {
            let request = Request {
                identity: &identity,
                document: &document,
                action,
                now: decided,
            };
            match outcome {
                Ok(_) => {
                    let detail = format!("heads {}; comment: {comment}", detail_heads.join(","));
                    append_audit(
                        conn,
                        &request.audit(Outcome::Allowed, &owner).detail(detail),
                    )?;
                }
                Err(err) => {
                    let detail = format!("heads {}; {err}", detail_heads.join(","));
                    append_audit(conn, &request.audit(Outcome::Failed, &owner).detail(detail))?;
                    return Err(edit_error(err));
                }
            }
            let doc = load_document(conn, &document).map_err(review_error)?;
            visit_review(conn, &document, &doc).map_err(review_error)
        })
        .await?;
    Ok(Json(review))
}

/// One request about one visit, as its audit rows name it.
pub(super) struct Request<'a> {
    pub(super) identity: &'a Identity,
    pub(super) document: &'a DocumentId,
    pub(super) action: &'static str,
    pub(super) now: i64,
}

impl Request<'_> {
    /// The audit row for this request about the record of `child`.
    pub(super) fn audit(&self, outcome: Outcome, child: &DocumentChild) -> AuditEntry {
        AuditEntry::new(self.now, self.action, outcome)
            .by(self.identity)
            .document(self.document)
            .child(Some(child.child_row))
    }
}

/// The answer for a record that does not exist *or* that the caller may not read.
pub(super) fn no_such_record() -> ApiError {
    ApiError::NotFound("no such record".into())
}

/// Checks, by the access policy (`directory::access`), that the session may read the
/// visit or, when `deciding`, sign it off or return it. A refusal is audited (coalesced)
/// before it is answered, and a missing record is refused exactly like a forbidden one.
pub(super) fn authorise(
    conn: &Connection,
    denials: &DenialAudit,
    request: &Request<'_>,
    deciding: bool,
) -> Result<DocumentChild, ApiError> {
    let identity = request.identity;
    let deny = |child: Option<i64>, reason: &str| -> Result<(), ApiError> {
        let entry = AuditEntry::new(request.now, request.action, Outcome::Denied)
            .by(identity)
            .document(request.document)
            .child(child)
            .detail(reason);
        denials.record(conn, Denied::Session(identity.session_id), entry)?;
        Ok(())
    };
    let Some(child) = access::document_child(conn, request.document)? else {
        deny(None, "no such visit record")?;
        return Err(no_such_record());
    };
    // Read through the API: the child's current holders and team manager (a former holder
    // in the reallocation grace only syncs what they recorded).
    let rights = access::grant_for(conn, identity, request.now, std::time::Duration::ZERO)?;
    if rights.may_decide(&child.child_ref) || (rights.may_read(&child.child_ref) && !deciding) {
        return Ok(child);
    }
    if rights.may_read(&child.child_ref) {
        // They may read it, so nothing is revealed by saying why they may not decide.
        deny(Some(child.child_row), "only the team's manager may decide")?;
        return Err(ApiError::Forbidden(
            "only the manager of this child's team can sign off or return this record".into(),
        ));
    }
    deny(Some(child.child_row), "not in the caseload or team")?;
    Err(no_such_record())
}

pub(super) fn parse_document_id(text: &str) -> Result<DocumentId, ApiError> {
    DocumentId::from_str(text).map_err(|_| no_such_record())
}

fn review_error(err: ReviewError) -> ApiError {
    match err {
        ReviewError::NotFound => no_such_record(),
        ReviewError::Unreadable(_) | ReviewError::Corrupt(_) => {
            ApiError::Unprocessable(err.to_string())
        }
        ReviewError::Database(err) => ApiError::from(err),
    }
}

pub(super) fn edit_error(err: EditError) -> ApiError {
    match err {
        EditError::NotFound => ApiError::NotFound(err.to_string()),
        EditError::Changed => ApiError::Conflict(
            "this record changed since you opened it: read it again before deciding".into(),
        ),
        EditError::Refused(_) => ApiError::Unprocessable(err.to_string()),
        EditError::Storage(cause) => ApiError::Internal(cause),
        EditError::Stopping => ApiError::Unavailable(err.to_string()),
    }
}

/// A random id for an oversight entry (UUID v4 text).
pub(super) fn new_entry_id() -> String {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
