//! The signed-in session on this device: sign in, unlock with the PIN (wrong PINs, the
//! wait and the wipe), start the core, lock, sign out, and wipe with a notice. The guard
//! and drafts records are saved here.

use super::*;

/// The hex SHA-256 of `text` (a refresh token, for an offline sign-out).
pub(super) fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Stores the guard record as it is now (plain text: see [`Guard`]).
pub(super) fn save_guard(shared: &Rc<Shared>) {
    let value = shared.state.borrow().guard.to_js();
    if let Ok(write) = shared
        .idb
        .write(VAULT_STORE, &[], vec![(GUARD_RECORD.into(), value)])
    {
        spawn_local(async move {
            let _ = write.await;
        });
    }
}

/// Stores the form drafts (sealed).
pub(super) fn save_drafts(shared: &Rc<Shared>) {
    let sealed = {
        let state = shared.state.borrow();
        let Some(vault) = state.vault.as_ref() else {
            return;
        };
        let mut drafts = Obj::new();
        for (key, value) in &state.drafts {
            drafts = drafts.set(key, value.clone());
        }
        seal_record(vault, DRAFTS_RECORD, &drafts.done())
    };
    if let Ok(sealed) = sealed
        && let Ok(write) =
            shared
                .idb
                .write(RECORDS_STORE, &[], vec![(DRAFTS_RECORD.into(), sealed)])
    {
        spawn_local(async move {
            let _ = write.await;
        });
    }
}

/// Tells the server about an offline sign-out, if one is pending and there is signal;
/// done before anything else is sent (it runs when the app opens, before signing in, and
/// when the browser comes online).
pub(super) async fn send_pending_sign_out(shared: &Rc<Shared>) {
    let pending = shared.state.borrow().guard.pending_sign_out.clone();
    let Some(hash) = pending else {
        return;
    };
    if !is_online() {
        return;
    }
    if server_api::sign_out_offline(&hash).await.is_ok() {
        let mut state = shared.state.borrow_mut();
        if state.guard.pending_sign_out.as_deref() == Some(hash.as_str()) {
            state.guard.pending_sign_out = None;
        }
        drop(state);
        save_guard(shared);
    }
}

/// Notes that the server answered this device now (domain requirement D7).
pub(super) fn contact_made(shared: &Rc<Shared>) {
    shared.state.borrow_mut().guard.last_contact = now_ms();
    save_guard(shared);
}

pub(super) async fn sign_in(
    shared: &Rc<Shared>,
    username: &str,
    password: &str,
    pin: &str,
) -> Result<JsValue, ClientError> {
    crate::vault::check_pin(pin)?;
    if shared.state.borrow().set_up {
        return Err(ClientError::BadArgument(
            "Someone is already signed in on this device. Unlock it, or sign out first.".into(),
        ));
    }
    // An earlier offline sign-out reaches the server before this session begins.
    send_pending_sign_out(shared).await;
    let (session, policy) = server_api::sign_in(username, password, None).await?;
    let seed = VaultSeed {
        data_key: random_bytes()?,
        salt: random_bytes()?,
        nonce: random_bytes()?,
    };
    let (vault, wrapped) = Vault::create(pin, &seed, KdfParams::default())?;
    let wrapped_bytes = record_bytes(&wrapped_to_js(&wrapped))?;
    let sealed_session = seal_record(&vault, SESSION_RECORD, &session.to_js())?;
    shared
        .idb
        .write(
            VAULT_STORE,
            &[],
            vec![(WRAPPED_KEY.into(), bytes_value(&wrapped_bytes))],
        )?
        .await?;
    shared
        .idb
        .write(
            RECORDS_STORE,
            &[],
            vec![(SESSION_RECORD.into(), sealed_session)],
        )?
        .await?;
    let worker = session.worker.to_js();
    {
        let mut state = shared.state.borrow_mut();
        state.set_up = true;
        state.vault = Some(vault);
        state.session = Some(session);
        // A notice from before this sign-in has been read by now.
        state.guard = Guard {
            policy,
            last_contact: now_ms(),
            ..Guard::default()
        };
    }
    save_guard(shared);
    start(shared).await?;
    Ok(worker)
}

pub(super) async fn unlock(shared: &Rc<Shared>, pin: &str) -> Result<JsValue, ClientError> {
    if shared.state.borrow().vault.is_some() {
        return Ok(JsValue::NULL);
    }
    // A lock (or another unlock) while this one reads the device's records wins.
    let generation = shared.state.borrow().core_generation;
    let wrapped = shared
        .idb
        .get(VAULT_STORE, WRAPPED_KEY)?
        .await?
        .and_then(|v| value_bytes(&v))
        .ok_or(ClientError::NotSignedIn)?;
    let wrapped = wrapped_from_js(&record_value(&wrapped, WRAPPED_KEY)?)
        .ok_or_else(|| unreadable(WRAPPED_KEY))?;
    let wait = shared.state.borrow().guard.wait_left(now_ms());
    if wait > 0 {
        return Err(ClientError::Pin(format!(
            "You have entered too many wrong PINs. Wait {wait} second{} before you try again.",
            plural(wait as usize)
        )));
    }
    let vault = match Vault::unlock(pin, &wrapped) {
        Ok(vault) => vault,
        Err(ClientError::WrongPin) => return Err(wrong_pin(shared).await),
        Err(err) => return Err(err),
    };
    if shared.state.borrow().guard.failures > 0 {
        let mut state = shared.state.borrow_mut();
        state.guard.failures = 0;
        state.guard.wait_until = 0.0;
        drop(state);
        save_guard(shared);
    }
    let session = open_record(shared, &vault, SESSION_RECORD)
        .await?
        .and_then(|value| Session::from_js(&value))
        .ok_or(ClientError::NotSignedIn)?;
    let caseload = open_record(shared, &vault, CASELOAD_RECORD)
        .await?
        .and_then(|value| Caseload::from_js(&value))
        .unwrap_or_default();
    let unsent: Vec<String> = open_record(shared, &vault, UNSENT_RECORD)
        .await?
        .map(|ids| {
            js::list(&ids)
                .iter()
                .filter_map(JsValue::as_string)
                .collect()
        })
        .unwrap_or_default();
    let summaries = open_record(shared, &vault, SUMMARIES_RECORD)
        .await?
        .map(|value| js_sys::Object::entries(&js_sys::Object::from(value)).to_vec())
        .unwrap_or_default();
    let dashboard = open_bytes(shared, &vault, DASHBOARD_RECORD)
        .await?
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let drafts: Vec<(String, JsValue)> = open_record(shared, &vault, DRAFTS_RECORD)
        .await?
        .map(|value| {
            js_sys::Object::entries(&js_sys::Object::from(value))
                .iter()
                .filter_map(|entry| {
                    let entry = js_sys::Array::from(&entry);
                    Some((entry.get(0).as_string()?, entry.get(1)))
                })
                .collect()
        })
        .unwrap_or_default();
    let worker = session.worker.to_js();
    {
        let mut state = shared.state.borrow_mut();
        if state.vault.is_some() {
            return Ok(worker);
        }
        if state.core_generation != generation {
            return Err(ClientError::Locked);
        }
        state.vault = Some(vault);
        state.session = Some(session);
        state.caseload = caseload;
        state.dashboard = dashboard;
        state.drafts = drafts;
        state.unsent = unsent
            .iter()
            .filter_map(|id| DocumentId::parse_url_or_id(id).ok())
            .collect();
        // Each entry is `[documentId, summary]`.
        *state.summaries.borrow_mut() = summaries
            .iter()
            .filter_map(|entry| {
                let entry = js_sys::Array::from(entry);
                let id = DocumentId::parse_url_or_id(&entry.get(0).as_string()?).ok()?;
                Some((id, CachedSummary::from_js(&entry.get(1))))
            })
            .collect();
    }
    start(shared).await?;
    Ok(worker)
}

/// Counts a wrong PIN and answers what the worker must be told; after too many, wipes
/// the device first.
pub(super) async fn wrong_pin(shared: &Rc<Shared>) -> ClientError {
    let outcome = shared.state.borrow_mut().guard.wrong_pin(now_ms());
    save_guard(shared);
    match outcome {
        WrongPin::TryAgain {
            before_wait,
            before_wipe,
        } => ClientError::Pin(format!(
            "That PIN is not right. Try again. After {before_wait} more wrong PIN{} you will have to wait; after {before_wipe} more, Doorstep wipes this device.",
            plural(before_wait as usize)
        )),
        WrongPin::Wait {
            seconds,
            before_wipe,
        } => ClientError::Pin(format!(
            "That PIN is not right. Wait {seconds} second{} before you try again. After {before_wipe} more wrong PIN{}, Doorstep wipes this device.",
            plural(seconds as usize),
            plural(before_wipe as usize)
        )),
        WrongPin::Wipe => {
            let unsent = shared.state.borrow().guard.unsent;
            let _ = wipe_with_notice(shared, guard::notice("pinWipe", unsent, now_ms())).await;
            ClientError::Pin(format!(
                "Too many wrong PINs: Doorstep has wiped every record from this device{}. Sign in again to use it.",
                lost(unsent)
            ))
        }
    }
}

/// `"s"` unless there is one.
pub(super) fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// What a wipe lost, for a sentence: ", including 2 records that had not reached the
/// server", or nothing.
pub(super) fn lost(unsent: usize) -> String {
    match unsent {
        0 => String::new(),
        1 => ", including 1 record that had not reached the server".into(),
        n => format!(", including {n} records that had not reached the server"),
    }
}

/// Loads every stored document into a fresh core and connects if online.
pub(super) async fn start(shared: &Rc<Shared>) -> Result<(), ClientError> {
    let began = shared.state.borrow().core_generation;
    let rows = shared.idb.range(CHUNKS_STORE, "", "\u{ffff}")?.await?;
    if shared.state.borrow().core_generation != began {
        // Locked meanwhile: the next unlock starts its own core.
        return Ok(());
    }
    let mut preloaded: HashMap<DocumentId, Preloaded> = HashMap::new();
    {
        let state = shared.state.borrow();
        let vault = state.vault.as_ref().ok_or(ClientError::Locked)?;
        for (key, value) in &rows {
            let Some((id, seq)) = key.split_once('/') else {
                continue;
            };
            let (Ok(id), Ok(seq)) = (DocumentId::parse_url_or_id(id), seq.parse::<u64>()) else {
                continue;
            };
            let sealed = value_bytes(value)
                .ok_or_else(|| ClientError::Storage(format!("{key} is not bytes")))?;
            let chunk = vault.open(key, &sealed)?;
            let entry = preloaded.entry(id).or_insert(Preloaded {
                bytes: Vec::new(),
                count: 0,
                next_seq: 0,
            });
            entry.bytes.extend(chunk);
            entry.count += 1;
            entry.next_seq = seq + 1;
        }
    }
    let stored: BTreeSet<DocumentId> = preloaded.keys().copied().collect();
    let generation;
    let load_order = {
        let mut state = shared.state.borrow_mut();
        state.preloaded = preloaded;
        let username = state
            .session
            .as_ref()
            .map(|s| s.worker.username.clone())
            .unwrap_or_default();
        let suffix: [u8; 8] = random_bytes()?;
        let peer = PeerId::new(format!(
            "{username}-{}",
            suffix
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ));
        state.core = Some(SyncCore::new(CoreConfig::client(peer)));
        state.core_generation += 1;
        generation = state.core_generation;
        // Child documents first (names, placements), then everything else.
        let mut order: Vec<DocumentId> = state
            .caseload
            .children
            .iter()
            .filter_map(|c| c.child_document_id.as_deref())
            .filter_map(|id| DocumentId::parse_url_or_id(id).ok())
            .collect();
        order.extend(caseload_documents(&state.caseload));
        order.extend(stored.iter().copied());
        let mut seen = BTreeSet::new();
        order.retain(|id| seen.insert(*id));
        state.documents.extend(order.iter().copied());
        order
    };
    // The screens can show the caseload from the stored summaries at once; the documents
    // load in batches, yielding to the event loop between them.
    let loader = shared.clone();
    spawn_local(async move {
        for batch in load_order.chunks(LOAD_BATCH) {
            let fx = {
                let mut state = loader.state.borrow_mut();
                if state.core_generation != generation {
                    return;
                }
                let Some(core) = state.core.as_mut() else {
                    return;
                };
                let mut fx = Effects::default();
                for id in batch {
                    fx.extend(core.find(*id));
                }
                fx
            };
            carry_out(&loader, fx);
            sleep_ms(0).await;
        }
    });
    let keeper = shared.clone();
    spawn_local(async move {
        while keeper.state.borrow().vault.is_some() {
            sleep_ms(2_000).await;
            persist_summaries(&keeper);
        }
    });
    hook_window(shared);
    if is_online() {
        connect(shared);
        refresh_in_background(shared);
    }
    notify(shared);
    Ok(())
}

pub(super) fn caseload_documents(caseload: &Caseload) -> Vec<DocumentId> {
    caseload
        .children
        .iter()
        .flat_map(|child| {
            child
                .child_document_id
                .iter()
                .chain(child.visit_document_ids.iter())
        })
        .filter_map(|id| DocumentId::parse_url_or_id(id).ok())
        .collect()
}

/// Stores the screens' summaries (sealed) if they changed.
pub(super) fn persist_summaries(shared: &Rc<Shared>) {
    let sealed = {
        let state = shared.state.borrow();
        let Some(vault) = state.vault.as_ref() else {
            return;
        };
        if !state.summaries_dirty.replace(false) {
            return;
        }
        let mut summaries = Obj::new();
        for (id, summary) in state.summaries.borrow().iter() {
            summaries = summaries.set(&id.to_string(), summary.to_js());
        }
        seal_record(vault, SUMMARIES_RECORD, &summaries.done())
    };
    if let Ok(sealed) = sealed
        && let Ok(write) =
            shared
                .idb
                .write(RECORDS_STORE, &[], vec![(SUMMARIES_RECORD.into(), sealed)])
    {
        spawn_local(async move {
            let _ = write.await;
        });
    }
}

pub(super) async fn lock(shared: &Rc<Shared>) {
    persist_summaries(shared);
    save_drafts(shared);
    // Let every write the core asked for commit before forgetting the key.
    for _ in 0..250 {
        if shared
            .state
            .borrow()
            .pending_writes
            .values()
            .all(|n| *n == 0)
        {
            break;
        }
        sleep_ms(20).await;
    }
    {
        let mut state = shared.state.borrow_mut();
        forget_everything(&mut state);
    }
    notify(shared);
}

/// Drops the key, the session, every record in memory and the connection.
pub(super) fn forget_everything(state: &mut State) {
    if let Some(link) = state.link.take() {
        // Possibly inside one of the link's callbacks: drop it once that has returned.
        spawn_local(async move { drop(link) });
    }
    state.core = None;
    state.core_generation += 1;
    state.vault = None;
    state.session = None;
    state.caseload = Caseload::default();
    state.dashboard = None;
    state.documents.clear();
    state.unsent.clear();
    state.preloaded.clear();
    state.summaries.borrow_mut().clear();
    state.next_seq.clear();
    state.pending_writes.clear();
    state.drafts.clear();
    // `carried` stays: a carry-over of this page not yet marked must not be made again
    // after the next unlock (it holds document ids only).
}

/// Wipes every record from the device, then keeps only `notice` (what the worker must
/// be told) and an offline sign-out still to send, in the guard record.
pub(super) async fn wipe_with_notice(
    shared: &Rc<Shared>,
    notice: JsValue,
) -> Result<(), ClientError> {
    let pending = {
        let mut state = shared.state.borrow_mut();
        forget_everything(&mut state);
        state.set_up = false;
        state.guard.pending_sign_out.take()
    };
    let result = shared.idb.clear_everything().await;
    {
        let mut state = shared.state.borrow_mut();
        let policy = state.guard.policy;
        state.guard = Guard {
            policy,
            pending_sign_out: pending,
            notice,
            ..Guard::default()
        };
    }
    save_guard(shared);
    notify(shared);
    result
}

pub(super) async fn sleep_ms(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
