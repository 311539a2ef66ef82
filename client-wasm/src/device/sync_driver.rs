//! The sync driver: runs the core with the device's clock and carries out its
//! [`Effects`] (frames to the socket, storage tasks as IndexedDB transactions, in order).

use super::*;

/// Feeds one event to the core and carries out what it asks.
pub(super) fn drive(shared: &Rc<Shared>, event: Event) {
    let fx = {
        let mut state = shared.state.borrow_mut();
        let Some(core) = state.core.as_mut() else {
            return;
        };
        core.handle(now(), event)
    };
    carry_out(shared, fx);
}

/// Sends, stores and closes as the core asked, then tells subscribers.
pub(super) fn carry_out(shared: &Rc<Shared>, fx: Effects) {
    let mut sends = Vec::new();
    let mut close = false;
    {
        let state = shared.state.borrow();
        if let Some(link) = state.link.as_ref() {
            for (connection, message) in &fx.outbound {
                if *connection == link.id {
                    sends.push((link.socket.clone(), protocol::encode(message)));
                }
            }
            close = fx
                .close
                .iter()
                .any(|(connection, _)| *connection == link.id);
        }
    }
    let refusal = fx.close.iter().find_map(|(_, reason)| match reason {
        CloseReason::ProtocolError(message) => message.strip_prefix(PEER_ERROR_PREFIX),
        _ => None,
    });
    if let Some(message) = refusal {
        shared.state.borrow_mut().server_refusal = Some(message.to_owned());
    }
    for (socket, bytes) in sends {
        let _ = socket.send_with_u8_array(&bytes);
    }
    for task in fx.storage {
        run_storage(shared, task);
    }
    if close {
        disconnected(shared);
    }
    settle_unsent(shared);
    notify(shared);
}

/// Starts one storage task: its IndexedDB transaction is created now (so writes keep
/// their order); the result goes back to the core when it completes.
pub(super) fn run_storage(shared: &Rc<Shared>, task: StorageTask) {
    let document = task.document;
    let is_write = !matches!(task.kind, StorageTaskKind::Load);
    let (generation, started) = {
        let mut state = shared.state.borrow_mut();
        (
            state.core_generation,
            start_storage(shared, &mut state, task),
        )
    };
    let (id, work) = match started {
        Ok(started) => started,
        Err((id, err)) => {
            drive(
                shared,
                Event::IoComplete(IoResult {
                    task: id,
                    outcome: StorageOutcome::Failed(err.to_string()),
                }),
            );
            return;
        }
    };
    if is_write {
        *shared
            .state
            .borrow_mut()
            .pending_writes
            .entry(document)
            .or_default() += 1;
    }
    let shared = shared.clone();
    spawn_local(async move {
        let outcome = work
            .await
            .unwrap_or_else(|err| StorageOutcome::Failed(err.to_string()));
        if shared.state.borrow().core_generation != generation {
            // The device was locked meanwhile: the core that asked is gone, and its task
            // numbers mean other tasks to the core that replaced it.
            return;
        }
        if is_write && let Some(n) = shared.state.borrow_mut().pending_writes.get_mut(&document) {
            *n = n.saturating_sub(1);
        }
        drive(&shared, Event::IoComplete(IoResult { task: id, outcome }));
    });
}

pub(super) type StorageWork =
    std::pin::Pin<Box<dyn Future<Output = Result<StorageOutcome, ClientError>>>>;

pub(super) fn start_storage(
    shared: &Rc<Shared>,
    state: &mut State,
    task: StorageTask,
) -> Result<(shared::sync::TaskId, StorageWork), (shared::sync::TaskId, ClientError)> {
    let id = task.id;
    let fail = |err| (id, err);
    let document = task.document;
    let generation = state.core_generation;
    let Some(vault) = state.vault.as_ref() else {
        return Err(fail(ClientError::Locked));
    };
    let prefix = chunk_prefix(&document);
    match task.kind {
        StorageTaskKind::Load if state.preloaded.contains_key(&document) => {
            let preloaded = state
                .preloaded
                .remove(&document)
                .ok_or((id, ClientError::Locked))?;
            state.next_seq.insert(document, preloaded.next_seq);
            let chunks = StoredChunks {
                bytes: preloaded.bytes,
                count: preloaded.count,
                index: None,
            };
            Ok((
                id,
                Box::pin(async move { Ok(StorageOutcome::Loaded(Some(chunks))) }),
            ))
        }
        StorageTaskKind::Load => {
            let read = shared
                .idb
                .range(CHUNKS_STORE, &prefix, &format!("{prefix}~"))
                .map_err(fail)?;
            let shared = shared.clone();
            Ok((
                id,
                Box::pin(async move {
                    let rows = read.await?;
                    let state = shared.state.borrow();
                    let vault = state.vault.as_ref().ok_or(ClientError::Locked)?;
                    let mut bytes = Vec::new();
                    let mut last_seq = None;
                    for (key, value) in &rows {
                        let sealed = value_bytes(value)
                            .ok_or_else(|| ClientError::Storage(format!("{key} is not bytes")))?;
                        bytes.extend(vault.open(key, &sealed)?);
                        last_seq = key.rsplit('/').next().and_then(|s| s.parse::<u64>().ok());
                    }
                    drop(state);
                    let mut state = shared.state.borrow_mut();
                    if state.core_generation != generation {
                        return Err(ClientError::Locked);
                    }
                    if let Some(seq) = last_seq {
                        state.next_seq.insert(document, seq + 1);
                    }
                    drop(state);
                    let count = rows.len();
                    Ok(StorageOutcome::Loaded((count > 0).then_some(
                        StoredChunks {
                            bytes,
                            count,
                            index: None,
                        },
                    )))
                }),
            ))
        }
        StorageTaskKind::Append { changes, .. } => {
            let key = chunk_key(&document, next_seq(&mut state.next_seq, document));
            write_chunk(shared, vault, key, &changes, &[])
                .map(|work| (id, work))
                .map_err(fail)
        }
        StorageTaskKind::Compact { snapshot } => {
            // The snapshot replaces every chunk before it, in the same transaction.
            let key = chunk_key(&document, next_seq(&mut state.next_seq, document));
            let older = [(prefix, key.clone())];
            write_chunk(shared, vault, key, &snapshot, &older)
                .map(|work| (id, work))
                .map_err(fail)
        }
    }
}

/// The sequence number of a document's next chunk (and counts it as used).
pub(super) fn next_seq(next: &mut HashMap<DocumentId, u64>, document: DocumentId) -> u64 {
    let seq = next.get(&document).copied().unwrap_or(0);
    next.insert(document, seq + 1);
    seq
}

/// Seals `bytes` as chunk `key` and starts writing it, deleting `older` key ranges first.
pub(super) fn write_chunk(
    shared: &Rc<Shared>,
    vault: &Vault,
    key: String,
    bytes: &[u8],
    older: &[(String, String)],
) -> Result<StorageWork, ClientError> {
    let sealed = vault.seal(&key, bytes, random_bytes::<NONCE_BYTES>()?)?;
    let write = shared.idb.write(
        CHUNKS_STORE,
        older,
        vec![(key, Uint8Array::from(sealed.as_slice()).into())],
    )?;
    Ok(Box::pin(async move {
        write.await.map(|()| StorageOutcome::Written)
    }))
}
