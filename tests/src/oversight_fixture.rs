//! Records with a manager's decision on them, shared by the oversight, subject-access,
//! projection and PWA tests: a visit stored for a child before the server starts, a
//! manager's decision made through the API, and waiting for it to reach a device.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use automerge::Automerge;
use serde_json::{Value, json};
use shared::DocumentId;

use crate::NativeClient;
use crate::council::{Session, now_ms};

/// Stores `doc` as visit `id` of the child `child_ref` in the database in `data_dir`, as the
/// demo seed does (before the server starts, or while it runs).
///
/// # Errors
/// If the database cannot be opened, the child is unknown or the write fails.
pub fn store_visit(
    data_dir: &Path,
    child_ref: &str,
    id: DocumentId,
    doc: &Automerge,
) -> anyhow::Result<()> {
    let conn = server::directory::open_connection(data_dir)?;
    let child_row: i64 = conn
        .query_row(
            "SELECT child_id FROM children WHERE child_ref = ?1",
            [child_ref],
            |r| r.get(0),
        )
        .with_context(|| format!("no child {child_ref}"))?;
    server::directory::admin::store_document(&conn, id, child_row, "visit", doc, now_ms())?;
    Ok(())
}

/// The manager's `decision` (`signOff` or `return`) on `visit` with `comment`, on the
/// version the review shows now. Returns the answer's status and its JSON body.
///
/// # Errors
/// If a request fails or the review is refused.
pub async fn decide(
    manager: &Session,
    visit: DocumentId,
    decision: &str,
    comment: &str,
) -> anyhow::Result<(u16, Value)> {
    let (status, _, review) = manager
        .request("GET", &format!("/api/visits/{visit}/review"), None)
        .await?;
    if status != 200 {
        bail!("review refused: {status} {review}");
    }
    let review: Value = serde_json::from_str(&review)?;
    let body = json!({ "decision": decision, "comment": comment, "heads": review["heads"] });
    let (status, _, answer) = manager
        .request(
            "POST",
            &format!("/api/visits/{visit}/oversight"),
            Some(&body),
        )
        .await?;
    Ok((status, serde_json::from_str(&answer).unwrap_or(Value::Null)))
}

/// Waits until `client`'s copy of `visit` holds `count` oversight entries.
///
/// # Errors
/// If the device does not hold the visit, or they have not synced within `timeout`.
pub async fn wait_decisions(
    client: &NativeClient,
    visit: DocumentId,
    count: usize,
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let doc = client
            .document(visit)
            .context("the device holds the visit")?;
        if shared::model::oversight_entries(&doc)?.len() >= count {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("the decision on {visit} never synced");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
