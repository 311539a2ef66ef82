//! Creating and editing visits: each edit a typed `shared::model` change, committed with
//! its author and time, then stored and sent by the sync driver; the unsent set is kept
//! sealed.

use super::*;

/// Who makes this device's changes, for their commit messages.
pub(super) fn author(state: &State) -> Result<ChangeAuthor, ClientError> {
    let session = state.session.as_ref().ok_or(ClientError::Locked)?;
    Ok(ChangeAuthor {
        worker_id: session.worker.username.clone(),
        device: session.device_id.clone(),
    })
}

pub(super) fn create_visit(
    shared: &Rc<Shared>,
    child_ref: &str,
    visit_date: &str,
) -> Result<String, ClientError> {
    let fx_and_id = {
        let mut state = shared.state.borrow_mut();
        let worker = state
            .session
            .as_ref()
            .map(|s| s.worker.username.clone())
            .ok_or(ClientError::Locked)?;
        if !state
            .caseload
            .children
            .iter()
            .any(|c| c.child_ref == child_ref)
        {
            return Err(ClientError::BadArgument(format!(
                "{child_ref} is not on your caseload"
            )));
        }
        let date = CalendarDate::parse(visit_date).ok_or_else(|| {
            ClientError::BadArgument("The date of the visit must be a real date".into())
        })?;
        let author = author(&state)?;
        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        model::create_visit(
            &mut tx,
            &NewVisit {
                visit_id: new_uuid(),
                child_id: child_ref.to_owned(),
                worker_id: worker,
                visit_date: date,
                created_at: now(),
            },
        )?;
        // Social workers record their own visits; the form can say a personal adviser
        // made it instead.
        model::set_made_by(&mut tx, VisitMaker::SocialWorker)?;
        tx.commit_with(
            CommitOptions::default()
                .with_time((now_ms() / 1000.0) as i64)
                .with_message(author.message()),
        );
        let id = DocumentId::from_bytes(random_bytes()?);
        let core = state.core.as_mut().ok_or(ClientError::Locked)?;
        let fx = core.create_document(id, doc)?;
        state.documents.insert(id);
        state.unsent.insert(id);
        (fx, id)
    };
    let (fx, id) = fx_and_id;
    save_unsent(shared);
    carry_out(shared, fx);
    Ok(id.to_string())
}

pub(super) fn edit_visit(
    shared: &Rc<Shared>,
    id: DocumentId,
    edit: &FormEdit,
) -> Result<Option<usize>, ClientError> {
    let (result, fx) = {
        let mut state = shared.state.borrow_mut();
        let state = &mut *state;
        let author = author(state)?;
        let core = state.core.as_mut().ok_or(ClientError::Locked)?;
        core.change_document(id, |doc| apply_edit(doc, edit, new_uuid, now(), &author))?
    };
    if result.is_ok() && shared.state.borrow_mut().unsent.insert(id) {
        save_unsent(shared);
    }
    carry_out(shared, fx);
    result
}

/// Stores the set of documents waiting for the server (sealed), after it changed.
pub(super) fn save_unsent(shared: &Rc<Shared>) {
    let count = shared.state.borrow().unsent.len();
    if shared.state.borrow().guard.unsent != count {
        shared.state.borrow_mut().guard.unsent = count;
        save_guard(shared);
    }
    let sealed = {
        let state = shared.state.borrow();
        let Some(vault) = state.vault.as_ref() else {
            return;
        };
        let ids = array(state.unsent.iter().map(ToString::to_string));
        seal_record(vault, UNSENT_RECORD, &ids)
    };
    let Ok(sealed) = sealed else {
        return;
    };
    if let Ok(write) = shared
        .idb
        .write(RECORDS_STORE, &[], vec![(UNSENT_RECORD.into(), sealed)])
    {
        spawn_local(async move {
            let _ = write.await;
        });
    }
}

/// Drops from the unsent set every document the server has now confirmed.
pub(super) fn settle_unsent(shared: &Rc<Shared>) {
    let changed = {
        let mut state = shared.state.borrow_mut();
        let state = &mut *state;
        let Some(core) = state.core.as_ref() else {
            return;
        };
        let pending = &state.pending_writes;
        let before = state.unsent.len();
        state
            .unsent
            .retain(|id| pending.get(id).copied().unwrap_or(0) > 0 || !core.is_acknowledged(id));
        if state.unsent.is_empty() {
            state.server_refusal = None;
        }
        state.unsent.len() != before
    };
    if changed {
        save_unsent(shared);
    }
}
