//! Correcting a misfiled record (issue 13 part 4), for the manager of the child's team:
//! `POST /api/visits/{id}/move` files a visit recorded against the wrong child under the
//! right one; `POST /api/visits/{id}/expunge` rebuilds a visit without passages that must
//! not remain (another family's details) as a new document that replaces it. Both need a
//! reason and `"confirm": true`, are audited, and are listed in the visit's `corrections`
//! for later readers. `GET /api/corrections/{id}` gives a device holding unsent edits to
//! an expunged document what it needs to carry them over onto the new one.
//!
//! A move is a server edit (`hub::EditWork::Change` with `refile`): the document's
//! `childId`, its index, its projection rows and the rights of every peer syncing it
//! change together, and devices follow by sync. An expunge is `hub::EditWork::Rebuild`:
//! the hub builds the new lineage (`shared::model::correction::expunged_copy`) from the
//! document in memory and erases the old one from the core at once, then
//! `directory::corrections::store_expunge` stores the new one and erases the old one from
//! the database in one transaction. If that transaction fails, nothing of the expunge is
//! stored and the hub restores the old document (`HubInput::Restore`): it is loaded again
//! from its stored chunks when next asked for; changes the hub held but had not stored are
//! sent again by the devices, which were never told they were durable.
//!
//! As elsewhere, a record the caller may not read and one that does not exist get the same
//! `404 {"error":"no such record"}`; request bodies are never logged.

use std::str::FromStr;

use automerge::ChangeHash;
use automerge::transaction::CommitOptions;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use shared::DocumentId;
use shared::model::{self, correction};
use shared::sync::{DocumentIndex, Timestamp};
use tokio::sync::oneshot;

use super::review_api::{Request, authorise, edit_error, no_such_record, parse_document_id};
use super::{ApiError, AppState, SignedIn};
use crate::directory::audit::Outcome;
use crate::directory::corrections::{self, CorrectionBy, Expunged, Moved};
use crate::directory::sessions::Identity;
use crate::hub::{EditWork, HubInput, Rebuilt, ServerEdit};
use crate::projection::DocumentRows;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/visits/{id}/move", post(move_visit))
        .route("/api/visits/{id}/expunge", post(expunge))
        .route("/api/corrections/{id}", get(expunged_detail))
}

/// The body of `POST /api/visits/{id}/move`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MoveBody {
    /// The case reference of the child the visit belongs to.
    to_child_ref: String,
    /// Why (required).
    reason: String,
    /// The version the manager read (hex change hashes).
    heads: Vec<String>,
    /// Must be `true`: the manager confirmed.
    #[serde(default)]
    confirm: bool,
}

/// The body of `POST /api/visits/{id}/expunge`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExpungeBody {
    /// The exact passages to remove from every version.
    passages: Vec<String>,
    /// Why (required; never repeat the passage in it).
    reason: String,
    /// Must be `true`: the manager confirmed.
    #[serde(default)]
    confirm: bool,
}

/// The answer to a correction.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Corrected {
    /// The record corrected.
    document: String,
    /// The document that holds it now (an expunge's new lineage; the same one for a move).
    replacement: String,
    /// The child it is filed under.
    child_ref: String,
}

/// What `GET /api/corrections/{id}` answers.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ExpungedBody {
    document: String,
    replacement: String,
    /// Every change of the old document the server held when it rebuilt it (hex).
    server_had: Vec<String>,
    /// The new document as stored (base64).
    replacement_document: String,
}

fn checked_reason(reason: &str, confirm: bool) -> Result<String, ApiError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ApiError::BadRequest(
            "say why the record is corrected".into(),
        ));
    }
    if !confirm {
        return Err(ApiError::BadRequest(
            "confirm the correction (\"confirm\": true): it cannot be undone".into(),
        ));
    }
    Ok(reason.to_owned())
}

/// A refusal by the access policy for someone who may read the record but not correct it.
fn only_the_manager(err: ApiError) -> ApiError {
    match err {
        ApiError::Forbidden(_) => ApiError::Forbidden(
            "only the manager of this child's team can correct this record".into(),
        ),
        other => other,
    }
}

fn note(identity: &Identity, reason: &str, now: i64) -> correction::CorrectionNote {
    correction::CorrectionNote {
        at: Timestamp::from_millis(u64::try_from(now).unwrap_or(0)),
        by_id: identity.username.clone(),
        by_name: identity.display_name.clone(),
        reason: reason.to_owned(),
    }
}

fn author_message(identity: &Identity) -> String {
    model::ChangeAuthor {
        worker_id: identity.username.clone(),
        device: identity.device_id.clone(),
    }
    .message()
}

async fn move_visit(
    State(state): State<AppState>,
    SignedIn { identity, now }: SignedIn,
    Path(id): Path<String>,
    body: Result<Json<MoveBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Corrected>, ApiError> {
    let document = parse_document_id(&id)?;
    let Json(body) = body.map_err(|err| ApiError::BadRequest(err.body_text()))?;
    let reason = checked_reason(&body.reason, body.confirm)?;
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
    let to_child = body.to_child_ref.trim().to_owned();
    let denials = state.denials.clone();
    let checked = state
        .with_directory({
            let identity = identity.clone();
            let to_child = to_child.clone();
            move |conn| {
                let request = Request {
                    identity: &identity,
                    document: &document,
                    action: "record-move",
                    now,
                };
                let owner = authorise(conn, &denials, &request, true).map_err(only_the_manager)?;
                let rights = crate::directory::access::grant_for(
                    conn,
                    &identity,
                    now,
                    std::time::Duration::ZERO,
                )?;
                if !rights.may_decide(&to_child) {
                    return Err(ApiError::Unprocessable(format!(
                        "no child {to_child:?} in your team to move the record to"
                    )));
                }
                if owner.child_ref == to_child {
                    return Err(ApiError::Unprocessable(
                        "the record is already filed under that child".into(),
                    ));
                }
                let index = crate::store::index_of(conn, document.as_bytes())?
                    .ok_or_else(no_such_record)?;
                Ok::<_, ApiError>((owner, index.created_by))
            }
        })
        .await?;
    let (owner, created_by) = checked;
    let note = note(&identity, &reason, now);
    let message = author_message(&identity);
    let (reply, answer) = oneshot::channel();
    let edit = ServerEdit {
        document,
        expected_heads: heads,
        author: identity.username.clone(),
        work: EditWork::Change {
            edit: Box::new({
                let to_child = to_child.clone();
                move |doc| {
                    let mut tx = doc.transaction();
                    correction::move_visit(&mut tx, &to_child, &note)
                        .map_err(|err| err.to_string())?;
                    tx.commit_with(
                        CommitOptions::default()
                            .with_message(message)
                            .with_time(note.at.as_millis() as i64 / 1000),
                    );
                    Ok(())
                }
            }),
            refile: Some(DocumentIndex {
                child_id: to_child.clone(),
                created_by,
            }),
            reply,
        },
    };
    if !state.hub.send(HubInput::Edit(edit)).await {
        return Err(ApiError::Unavailable("the server is stopping".into()));
    }
    let outcome = answer
        .await
        .map_err(|_| ApiError::Unavailable("the server is stopping".into()))?;
    let from_child = owner.child_ref.clone();
    state
        .with_directory(move |conn| {
            match outcome {
                Ok(_) => {
                    let moved = Moved {
                        document,
                        from_child: &from_child,
                        to_child: &to_child,
                    };
                    let by = CorrectionBy {
                        identity: &identity,
                        reason: &reason,
                        now,
                    };
                    corrections::record_move(conn, &moved, &by)?;
                }
                Err(err) => {
                    let request = Request {
                        identity: &identity,
                        document: &document,
                        action: "record-move",
                        now,
                    };
                    crate::directory::audit::append_audit(
                        conn,
                        &request
                            .audit(Outcome::Failed, &owner)
                            .detail(err.to_string()),
                    )?;
                    return Err(edit_error(err));
                }
            }
            Ok::<_, ApiError>(Json(Corrected {
                document: document.to_string(),
                replacement: document.to_string(),
                child_ref: to_child,
            }))
        })
        .await
}

async fn expunge(
    State(state): State<AppState>,
    SignedIn { identity, now }: SignedIn,
    Path(id): Path<String>,
    body: Result<Json<ExpungeBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Corrected>, ApiError> {
    let document = parse_document_id(&id)?;
    let Json(body) = body.map_err(|err| ApiError::BadRequest(err.body_text()))?;
    let reason = checked_reason(&body.reason, body.confirm)?;
    let passages: Vec<String> = body
        .passages
        .iter()
        .map(|passage| passage.trim().to_owned())
        .filter(|passage| !passage.is_empty())
        .collect();
    if passages.is_empty() {
        return Err(ApiError::BadRequest(
            "name the exact passages to remove from the record".into(),
        ));
    }
    let denials = state.denials.clone();
    let owner = state
        .with_directory({
            let identity = identity.clone();
            move |conn| {
                let request = Request {
                    identity: &identity,
                    document: &document,
                    action: "record-expunge",
                    now,
                };
                authorise(conn, &denials, &request, true).map_err(only_the_manager)
            }
        })
        .await?;
    let note = note(&identity, &reason, now);
    let message = author_message(&identity);
    let (reply, answer) = oneshot::channel();
    let edit = ServerEdit {
        document,
        expected_heads: Vec::new(),
        author: identity.username.clone(),
        work: EditWork::Rebuild {
            rebuild: Box::new({
                let passages = passages.clone();
                move |doc| {
                    correction::expunged_copy(
                        doc,
                        &passages,
                        &document.to_string(),
                        &note,
                        &message,
                    )
                    .map(|expunged| expunged.document)
                    .map_err(|err| err.to_string())
                }
            }),
            reply,
        },
    };
    if !state.hub.send(HubInput::Edit(edit)).await {
        return Err(ApiError::Unavailable("the server is stopping".into()));
    }
    let outcome = answer
        .await
        .map_err(|_| ApiError::Unavailable("the server is stopping".into()))?;
    let Rebuilt {
        document: rebuilt,
        server_had,
    } = match outcome {
        Ok(rebuilt) => rebuilt,
        Err(err) => {
            let failed = err.to_string();
            state
                .with_directory(move |conn| {
                    let request = Request {
                        identity: &identity,
                        document: &document,
                        action: "record-expunge",
                        now,
                    };
                    crate::directory::audit::append_audit(
                        conn,
                        &request.audit(Outcome::Failed, &owner).detail(failed),
                    )
                })
                .await?;
            return Err(edit_error(err));
        }
    };
    let replacement = DocumentId::from_bytes(rand::random());
    let rows = DocumentRows::of(&rebuilt, &state.schedule_policy);
    let heads = rebuilt.get_heads();
    let snapshot = rebuilt.save();
    let child_ref = owner.child_ref.clone();
    let passages_count = passages.len();
    let stored = state
        .with_directory(move |conn| {
            let expunged = Expunged {
                document,
                replacement,
                snapshot: &snapshot,
                heads: &heads,
                rows: &rows,
                server_had: &server_had,
                passages: passages_count,
            };
            let by = CorrectionBy {
                identity: &identity,
                reason: &reason,
                now,
            };
            corrections::store_expunge(conn, &expunged, &by)?;
            Ok::<_, ApiError>(())
        })
        .await;
    if let Err(err) = stored {
        // Nothing of the expunge was stored: the old document is still the record, so
        // the hub serves it again (from its stored chunks) rather than refusing it.
        state.hub.send(HubInput::Restore(document)).await;
        return Err(err);
    }
    Ok(Json(Corrected {
        document: document.to_string(),
        replacement: replacement.to_string(),
        child_ref,
    }))
}

async fn expunged_detail(
    State(state): State<AppState>,
    SignedIn { identity, .. }: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<ExpungedBody>, ApiError> {
    let document = DocumentId::from_str(&id).map_err(|_| no_such_correction())?;
    state
        .with_directory(move |conn| {
            let detail = corrections::expunged_for(conn, identity.worker_id, &document)?
                .ok_or_else(no_such_correction)?;
            let stored = crate::projection::review::load_document(conn, &detail.replacement)
                .map_err(|_| no_such_correction())?;
            Ok::<_, ApiError>(Json(ExpungedBody {
                document: document.to_string(),
                replacement: detail.replacement.to_string(),
                server_had: detail.server_had.iter().map(ToString::to_string).collect(),
                replacement_document: base64(&stored.save()),
            }))
        })
        .await
}

fn no_such_correction() -> ApiError {
    ApiError::NotFound("no such correction".into())
}

/// Standard base64 with padding (the browser's `atob` reads it).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_the_standard_alphabet_with_padding() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"f"), "Zg==");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert_eq!(super::base64(b"foo"), "Zm9v");
        assert_eq!(super::base64(&[0xfb, 0xff]), "+/8=");
    }
}
