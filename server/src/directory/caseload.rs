//! A worker's caseload as the PWA needs it: which children, and the ids of their documents.
//!
//! automerge-repo cannot list documents, so the PWA asks the server which documents to
//! `find`: a social worker gets the children currently allocated to them, a team manager
//! their team's children, an admin nobody, and each the children they hold an open
//! break-glass on (read only, until it ends); restricted children the access policy hides
//! from the session are left out, as if absent. The contents (names, placements, visits) then
//! arrive by sync, under the same access checks as every other read.

use crate::store::sql::{Connection, OptionalExtension};
use serde::Serialize;
use shared::DocumentId;

use super::Role;
use super::sessions::Identity;

/// One child on a caseload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseloadChild {
    /// The council's case reference (visits name it as `childId`).
    pub child_ref: String,
    /// The child document's id, if the child has one.
    pub child_document_id: Option<String>,
    /// The ids of the child's visit documents.
    pub visit_document_ids: Vec<String>,
    /// The username of the social worker currently holding the child, if any.
    pub worker: Option<String>,
}

/// The children `identity` may see, ordered by case reference.
///
/// # Errors
/// The database's error if the directory cannot be read.
pub fn caseload_for(
    conn: &Connection,
    identity: &Identity,
    rights: &super::access::SessionAccess,
) -> crate::store::sql::Result<Vec<CaseloadChild>> {
    let (sql, key) = match identity.role {
        Role::SocialWorker => (
            "SELECT c.child_id, c.child_ref, c.document_id FROM allocations a
             JOIN children c ON c.child_id = a.child_id
             WHERE a.worker_id = ?1 AND a.ended_at IS NULL ORDER BY c.child_ref",
            identity.worker_id,
        ),
        Role::TeamManager => match identity.team_id {
            Some(team) => (
                "SELECT child_id, child_ref, document_id FROM children
                 WHERE team_id = ?1 ORDER BY child_ref",
                team,
            ),
            None => return Ok(Vec::new()),
        },
        Role::Admin | Role::RecordsOfficer => return Ok(Vec::new()),
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt
        .query_map([key], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<Vec<u8>>>(2)?,
            ))
        })?
        .collect::<crate::store::sql::Result<Vec<_>>>()?
        .into_iter()
        .filter(|(_, child_ref, _)| rights.may_read(child_ref))
        .collect::<Vec<_>>();
    // Children opened by break-glass are on it too (read only) while the access lasts, so
    // the app can show them.
    let mut opened = conn.prepare_cached(
        "SELECT child_id, child_ref, document_id FROM children WHERE child_ref = ?1",
    )?;
    for child_ref in rights.break_glass.keys() {
        if !rows.iter().any(|(_, listed, _)| listed == child_ref)
            && let Some(row) = opened
                .query_row([child_ref], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })
                .optional()?
        {
            rows.push(row);
        }
    }
    rows.sort_by(|a, b| a.1.cmp(&b.1));
    let mut visits = conn.prepare_cached(
        "SELECT document_id FROM child_documents WHERE child_id = ?1 AND kind = 'visit'
         ORDER BY created_at, document_id",
    )?;
    let mut worker = conn.prepare_cached(
        "SELECT w.username FROM allocations a JOIN workers w ON w.worker_id = a.worker_id
         WHERE a.child_id = ?1 AND a.ended_at IS NULL AND w.role = 'social-worker'
         ORDER BY a.started_at DESC LIMIT 1",
    )?;
    let mut children = Vec::with_capacity(rows.len());
    for (child_id, child_ref, document) in rows {
        let visit_document_ids = visits
            .query_map([child_id], |row| row.get::<_, Vec<u8>>(0))?
            .filter_map(|bytes| bytes.map(|bytes| document_id_text(&bytes)).transpose())
            .collect::<crate::store::sql::Result<Vec<_>>>()?;
        children.push(CaseloadChild {
            child_ref,
            child_document_id: document.as_deref().and_then(document_id_text),
            visit_document_ids,
            worker: worker
                .query_row([child_id], |row| row.get::<_, String>(0))
                .optional()?,
        });
    }
    Ok(children)
}

fn document_id_text(bytes: &[u8]) -> Option<String> {
    let bytes: [u8; 16] = bytes.try_into().ok()?;
    Some(DocumentId::from_bytes(bytes).to_string())
}
