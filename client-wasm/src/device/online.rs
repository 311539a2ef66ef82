//! The server's API as the device uses it: the access token (refreshed when near expiry),
//! what a failure means (a revoked device wipes), the caseload (and forgetting the records
//! the server deleted after retention, and following the records a manager corrected),
//! dashboard and review.

use super::*;

/// A valid access token: the stored one, refreshed if it has expired.
pub(super) async fn access_token(shared: &Rc<Shared>) -> Result<String, ApiFailure> {
    let session = shared.state.borrow().session.clone();
    let Some(session) = session else {
        return Err(ApiFailure::Unauthorized("not signed in".into()));
    };
    if session.token_expires_at > now_ms() as i64 + 60_000 {
        return Ok(session.token);
    }
    let fresh = server_api::refresh(&session.refresh_token).await?;
    let token = fresh.token.clone();
    let _ = store_session(shared, fresh);
    Ok(token)
}

/// Handles an API failure that affects the whole device (revoked, signed out).
pub(super) async fn on_api_failure(shared: &Rc<Shared>, failure: &ApiFailure) {
    match failure {
        ApiFailure::Revoked => {
            // Several requests in flight may each hear "revoked": the first wipes and
            // tells; the later ones find nothing left (and must not replace the notice).
            if shared.state.borrow().session.is_none() {
                return;
            }
            let unsent = shared.state.borrow().unsent.len();
            let notice = guard::notice("revoked", unsent, now_ms());
            let _ = wipe_with_notice(shared, notice).await;
            shared.state.borrow_mut().problem = Some(format!(
                "This device has been revoked. Doorstep has wiped every record from it{}.",
                lost(unsent)
            ));
        }
        ApiFailure::Unauthorized(_) => {
            shared.state.borrow_mut().problem = Some(
                "Your session has ended. Your records are safe on this device; sign out and in again to send them."
                    .into(),
            );
        }
        _ => {}
    }
    notify(shared);
}

/// Fetches the caseload without waiting. (The team dashboard is fetched when its screen
/// opens: [`Device::refresh_dashboard`].)
pub(super) fn refresh_in_background(shared: &Rc<Shared>) {
    let shared = shared.clone();
    spawn_local(async move {
        let _ = refresh_caseload(&shared).await;
    });
}

/// A valid access token; a failure is first acted on (revoked device, ended session).
pub(super) async fn token_or_fail(shared: &Rc<Shared>) -> Result<String, ApiFailure> {
    let token = access_token(shared).await;
    if let Err(failure) = &token {
        on_api_failure(shared, failure).await;
    }
    token
}

/// An API failure of something that needs the server (`needs`: what, for the worker).
pub(super) fn online_failure(failure: ApiFailure, needs: &str) -> ClientError {
    match failure {
        ApiFailure::Unreachable(_) => ClientError::Offline(needs.into()),
        ApiFailure::Refused(409, _) => ClientError::Changed,
        other => other.into(),
    }
}

/// Fetches the team dashboard (team managers only) and stores it sealed with the time
/// it was fetched, so it opens offline as of then.
pub(super) async fn refresh_dashboard(shared: &Rc<Shared>) -> Result<(), ClientError> {
    const NEEDS: &str = "Updating the dashboard needs a connection to the server.";
    let manager = shared
        .state
        .borrow()
        .session
        .as_ref()
        .is_some_and(|s| s.worker.role == "team-manager");
    if !manager {
        return Ok(());
    }
    let fetched = match token_or_fail(shared).await {
        Ok(token) => server_api::team_dashboard(&token).await,
        Err(failure) => Err(failure),
    };
    let text = fetched.map_err(|failure| online_failure(failure, NEEDS))?;
    let record = format!("{{\"fetchedAt\":{},\"dashboard\":{text}}}", now_ms() as u64);
    let sealed = {
        let state = shared.state.borrow();
        let vault = state.vault.as_ref().ok_or(ClientError::Locked)?;
        seal_bytes(vault, DASHBOARD_RECORD, record.as_bytes())?
    };
    shared
        .idb
        .write(RECORDS_STORE, &[], vec![(DASHBOARD_RECORD.into(), sealed)])?
        .await?;
    shared.state.borrow_mut().dashboard = Some(record);
    notify(shared);
    Ok(())
}

/// Reads a visit's review from the server, or (with `decision`) posts a manager's decision
/// and reads the review after it. Online only.
pub(super) async fn review(
    shared: &Rc<Shared>,
    document_id: &str,
    decision: Option<JsValue>,
) -> Result<JsValue, ClientError> {
    const NEEDS: &str = "Reviewing a record needs a connection to the server.";
    let id = parse_id(document_id)?.to_string();
    if !is_online() {
        return Err(ClientError::Offline(NEEDS.into()));
    }
    let token = token_or_fail(shared)
        .await
        .map_err(|failure| online_failure(failure, NEEDS))?;
    let answer = match decision {
        None => server_api::visit_review(&token, &id).await,
        Some(body) => server_api::decide(&token, &id, body).await,
    };
    let text = answer.map_err(|failure| online_failure(failure, NEEDS))?;
    js_sys::JSON::parse(&text)
        .map_err(|_| ClientError::Server("unexpected answer from the server".into()))
}

pub(super) async fn refresh_caseload(shared: &Rc<Shared>) -> Result<(), ClientError> {
    let token = token_or_fail(shared).await?;
    // What the device held, and held unsent, when it asked: only those may be dropped for
    // being off the answer (a record pushed or acknowledged meanwhile is not).
    let (held, unsent_then) = {
        let state = shared.state.borrow();
        (state.documents.clone(), state.unsent.clone())
    };
    let mut caseload = match server_api::caseload(&token, unsent_then.len()).await {
        Ok(caseload) => caseload,
        Err(failure) => {
            on_api_failure(shared, &failure).await;
            return Err(failure.into());
        }
    };
    contact_made(shared);
    let replaced = follow_corrections(shared, &token, &caseload).await;
    let (sealed, effects, erased) = {
        let mut state = shared.state.borrow_mut();
        let mut gone = caseload.erased.clone();
        gone.extend(replaced.iter().map(ToString::to_string));
        gone.extend(
            no_longer_held(&state, &caseload, &held, &unsent_then)
                .iter()
                .map(ToString::to_string),
        );
        let erased = forget_erased(&mut state, &gone);
        caseload.former = former_children(&state, &caseload);
        let vault = state.vault.as_ref().ok_or(ClientError::Locked)?;
        let sealed = seal_record(vault, CASELOAD_RECORD, &caseload.to_js())?;
        let mut effects = Vec::new();
        for id in caseload_documents(&caseload) {
            if state.documents.insert(id)
                && let Some(core) = state.core.as_mut()
            {
                effects.push(core.find(id));
            }
        }
        state.caseload = caseload;
        (sealed, effects, erased)
    };
    shared
        .idb
        .write(RECORDS_STORE, &[], vec![(CASELOAD_RECORD.into(), sealed)])?
        .await?;
    if !erased.is_empty() {
        shared.idb.write(CHUNKS_STORE, &erased, Vec::new())?.await?;
        save_unsent(shared);
        persist_summaries(shared);
    }
    for fx in effects {
        carry_out(shared, fx);
    }
    notify(shared);
    Ok(())
}

/// Follows the records a manager corrected (the caseload's `corrections`) that this device
/// holds, and returns the documents it should now forget:
/// - expunged: the old document goes; if it holds edits the server never had, they are
///   first carried over onto the new document (`shared::model::correction::carry_over`),
///   without what the correction removed, and what cannot be merged is kept for the
///   worker to re-check (the sealed form draft `{new id}:set-aside`).
/// - moved: the document stays and sync brings its new child; it goes only if the device
///   may no longer hold it (its child is not on the caseload) and holds nothing unsent.
///
/// A carry-over happens once per old document, and the old document goes only after it
/// is safe: the new document's change is committed to IndexedDB ([`SyncCore::is_durable`]),
/// then the sealed `carried-over` record names the old document (after the set-asides,
/// in the same store, so committed after them). A reload before that finds the old
/// document and its unsent edits still there and carries them over again onto the
/// server's new document; a reload after it forgets the old document without carrying
/// twice. Within one unlock, `State::carried` remembers a carry-over not yet marked.
async fn follow_corrections(
    shared: &Rc<Shared>,
    token: &str,
    caseload: &Caseload,
) -> Vec<DocumentId> {
    let listed = |id: &DocumentId| {
        let id = id.to_string();
        caseload
            .children
            .iter()
            .any(|child| child.visit_document_ids.contains(&id))
    };
    let mut marked = carried_over(shared).await;
    let marked_before = marked.len();
    let mut gone = Vec::new();
    for correction in &caseload.corrections {
        let Ok(old) = correction.document.parse::<DocumentId>() else {
            continue;
        };
        let (held, unsent, carried) = {
            let state = shared.state.borrow();
            (
                state.documents.contains(&old),
                state.unsent.contains(&old),
                state.carried.get(&old).copied(),
            )
        };
        if !held {
            continue;
        }
        match correction.kind.as_str() {
            "expunged" if marked.contains(&correction.document) => gone.push(old),
            "expunged" if unsent || carried.is_some() => {
                // Kept, unsent, until a later refresh manages it (the document still
                // loading, no connection, the new one not yet stored): nothing is lost
                // meanwhile.
                let replacement = match carried {
                    Some(replacement) => replacement,
                    None => match carry_over_expunged(shared, token, old, correction).await {
                        Ok(replacement) => replacement,
                        Err(_) => continue,
                    },
                };
                if stored(shared, replacement).await {
                    marked.push(correction.document.clone());
                    gone.push(old);
                }
            }
            "expunged" => gone.push(old),
            "moved" if !unsent && !listed(&old) => gone.push(old),
            _ => {}
        }
    }
    if marked.len() != marked_before || marked.len() > caseload.corrections.len() {
        // Only the corrections the server still lists need remembering.
        marked.retain(|id| caseload.corrections.iter().any(|c| c.document == *id));
        if mark_carried_over(shared, &marked).await.is_err() {
            // Not marked: the old documents stay (and are not carried again this unlock).
            gone.retain(|id| !shared.state.borrow().carried.contains_key(id));
            return gone;
        }
    }
    let mut state = shared.state.borrow_mut();
    for id in &gone {
        state.carried.remove(id);
    }
    gone
}

/// The old documents whose carry-over is done and stored (the sealed `carried-over`
/// record: their ids).
async fn carried_over(shared: &Rc<Shared>) -> Vec<String> {
    open_unlocked(shared, CARRIED_RECORD)
        .await
        .ok()
        .flatten()
        .map(|ids| {
            js::list(&ids)
                .iter()
                .filter_map(JsValue::as_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Stores the `carried-over` record (sealed) and waits for it to commit.
async fn mark_carried_over(shared: &Rc<Shared>, ids: &[String]) -> Result<(), ClientError> {
    let sealed = {
        let state = shared.state.borrow();
        let vault = state.vault.as_ref().ok_or(ClientError::Locked)?;
        seal_record(vault, CARRIED_RECORD, &array(ids))?
    };
    shared
        .idb
        .write(RECORDS_STORE, &[], vec![(CARRIED_RECORD.into(), sealed)])?
        .await
}

/// Waits (a few seconds at most) until every change of `id` is committed to IndexedDB.
async fn stored(shared: &Rc<Shared>, id: DocumentId) -> bool {
    for _ in 0..250 {
        let durable = {
            let state = shared.state.borrow();
            state.core.as_ref().is_some_and(|core| core.is_durable(&id))
        };
        if durable {
            return true;
        }
        sleep_ms(20).await;
    }
    false
}

/// Carries this device's unsent edits of the expunged `old` over onto its replacement,
/// keeps what could not be merged for the worker (sealed, with the correction's date and
/// author) and returns the replacement.
async fn carry_over_expunged(
    shared: &Rc<Shared>,
    token: &str,
    old: DocumentId,
    correction: &server_api::CorrectionNotice,
) -> Result<DocumentId, ClientError> {
    let detail = server_api::expunged(token, &old.to_string()).await?;
    let replacement: DocumentId = detail
        .replacement
        .parse()
        .map_err(|_| ClientError::Server("unexpected answer from the server".into()))?;
    let server_had: std::collections::HashSet<automerge::ChangeHash> = detail
        .server_had
        .iter()
        .filter_map(|hash| hash.parse().ok())
        .collect();
    let (effects, set_aside) = {
        let mut state = shared.state.borrow_mut();
        if let Some(done) = state.carried.get(&old) {
            // Another refresh carried it over meanwhile.
            return Ok(*done);
        }
        let author = author(&state)?;
        let core = state.core.as_mut().ok_or(ClientError::Locked)?;
        let old_doc = core
            .document(&old)
            .cloned()
            .ok_or_else(|| ClientError::Record("the record is still loading".into()))?;
        let mut effects = Effects::default();
        match core.document_status(&replacement) {
            shared::sync::DocumentStatus::Unknown => {
                let doc = Automerge::load(&detail.document)
                    .map_err(|err| ClientError::Record(err.to_string()))?;
                effects.extend(core.create_document(replacement, doc)?);
            }
            shared::sync::DocumentStatus::Ready => {}
            _ => {
                return Err(ClientError::Record(
                    "the new record is still loading".into(),
                ));
            }
        }
        let commit = CommitOptions::default()
            .with_time((now_ms() / 1000.0) as i64)
            .with_message(author.message());
        let (outcome, more) = core.change_document(replacement, |doc| {
            model::correction::carry_over(&old_doc, &server_had, doc, commit)
        })?;
        effects.extend(more);
        let outcome = outcome.map_err(|err| ClientError::Record(err.to_string()))?;
        state.carried.insert(old, replacement);
        state.documents.insert(replacement);
        state.unsent.insert(replacement);
        let set_aside = (!outcome.set_aside.is_empty()).then(|| {
            let items = outcome.set_aside.iter().map(|item| {
                Obj::new()
                    .set("document", replacement.to_string())
                    .set("path", item.path.as_str())
                    .set("yours", item.yours.as_str())
                    .set("theirs", item.theirs.as_str())
                    .set("at", correction.at)
                    .set("byName", correction.by_name.as_str())
                    .done()
            });
            let key = format!("{replacement}:set-aside");
            // Added to what an earlier correction of the same record set aside.
            let mut all: Vec<JsValue> = state
                .drafts
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, earlier)| js::list(earlier))
                .unwrap_or_default();
            all.extend(items);
            state.drafts.retain(|(k, _)| *k != key);
            state.drafts.push((key, array(all)));
        });
        (effects, set_aside)
    };
    save_unsent(shared);
    if set_aside.is_some() {
        save_drafts(shared);
    }
    carry_out(shared, effects);
    Ok(replacement)
}

/// The documents this device held when it asked for `fresh` that it may no longer hold:
/// on none of its children (a child restricted to others, de-allocated, moved to another
/// team, a break-glass ended) and with nothing unsent, then or now. The server refuses
/// them to this device already; their sealed copies go too, as a deleted record's do.
/// Work not yet sent stays (its child is listed as former until it is).
fn no_longer_held(
    state: &State,
    fresh: &Caseload,
    held: &BTreeSet<DocumentId>,
    unsent_then: &BTreeSet<DocumentId>,
) -> Vec<DocumentId> {
    let listed: BTreeSet<DocumentId> = caseload_documents(fresh).into_iter().collect();
    held.iter()
        .filter(|id| {
            !listed.contains(id) && !unsent_then.contains(id) && !state.unsent.contains(id)
        })
        .copied()
        .collect()
}

/// Forgets documents the device must no longer hold (deleted after their retention, the
/// caseload's `erased`; replaced by an expunge; off the caseload): the core drops them, they leave the unsent set and the summaries, and the
/// returned key ranges (their sealed chunks) are deleted by the caller.
fn forget_erased(state: &mut State, erased: &[String]) -> Vec<(String, String)> {
    let mut ranges = Vec::new();
    for id in erased
        .iter()
        .filter_map(|text| text.parse::<DocumentId>().ok())
    {
        if let Some(core) = state.core.as_mut() {
            core.forget_document(id);
        }
        state.documents.remove(&id);
        state.unsent.remove(&id);
        state.next_seq.remove(&id);
        state.preloaded.remove(&id);
        if state.summaries.borrow_mut().remove(&id).is_some() {
            state.summaries_dirty.set(true);
        }
        let prefix = chunk_prefix(&id);
        ranges.push((prefix.clone(), format!("{prefix}~")));
    }
    ranges
}

/// The children no longer on `fresh` (the server's new caseload) about whom this device
/// still holds records the server does not have: they stay listed, so the worker sees
/// what became of each record instead of "child not found".
pub(super) fn former_children(
    state: &State,
    fresh: &Caseload,
) -> Vec<crate::server_api::CaseloadChild> {
    let cache = state.summaries.borrow();
    let holds_unsent = |child_ref: &str| {
        state.unsent.iter().any(|id| {
            cache
                .get(id)
                .is_some_and(|cached| cached.child.as_deref() == Some(child_ref))
        })
    };
    state
        .caseload
        .children
        .iter()
        .chain(state.caseload.former.iter())
        .filter(|old| !fresh.children.iter().any(|c| c.child_ref == old.child_ref))
        .filter(|old| holds_unsent(&old.child_ref))
        .cloned()
        .collect()
}
