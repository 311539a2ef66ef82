//! The JavaScript-facing methods of [`Device`]: what the screens call (sign-in, unlock, the
//! caseload, a visit and its edits, the dashboard and review, sync state, subscribe), each
//! handing the work to the session, records, online and sync-driver modules.

use super::*;

#[wasm_bindgen]
impl Device {
    /// Opens the device store. The device is then `new` (nobody signed in here), or `locked`.
    ///
    /// # Errors
    /// If IndexedDB cannot be opened.
    pub async fn open() -> Result<Device, JsValue> {
        let idb = Idb::open(DATABASE).await?;
        let set_up = idb.get(VAULT_STORE, WRAPPED_KEY)?.await?.is_some();
        let guard = idb
            .get(VAULT_STORE, GUARD_RECORD)?
            .await?
            .map(|value| Guard::from_js(&value))
            .unwrap_or_default();
        let shared = Rc::new(Shared {
            idb,
            state: RefCell::new(State {
                set_up,
                offline_since: (!is_online()).then(now_ms),
                guard,
                ..State::default()
            }),
        });
        // Domain requirement D7: a device that has not reached the server for too long
        // wipes itself when it is opened (the worker was warned on the openings before).
        let expired = set_up && shared.state.borrow().guard.contact_expired(now_ms());
        if expired {
            let unsent = shared.state.borrow().guard.unsent;
            wipe_with_notice(&shared, guard::notice("offlineWipe", unsent, now_ms())).await?;
        }
        hook_window(&shared);
        send_pending_sign_out(&shared).await;
        Ok(Device { shared })
    }

    /// What the device knows before (or without) the PIN: `notice` (what the worker must
    /// be told after a wipe: `{kind, unsent, at}`, `kind` being `signedOut`, `revoked`,
    /// `pinWipe` or `offlineWipe`; or `null`), `pin` (wrong PINs so far: `{failures,
    /// beforeWait, beforeWipe, waitSeconds}`) and `contactDaysLeft` (days before the device
    /// wipes itself for not reaching the server, once the council's warning window has
    /// begun, else `null`: domain requirement D7).
    #[wasm_bindgen(js_name = guardState)]
    pub fn guard_state(&self) -> JsValue {
        let state = self.shared.state.borrow();
        let days_left = state
            .guard
            .contact_days_left(now_ms())
            .filter(|_| state.set_up);
        Obj::new()
            .set("notice", state.guard.notice.clone())
            .set("pin", state.guard.pin_state(now_ms()))
            .set("contactDaysLeft", days_left.map(|days| days as usize))
            .done()
    }

    /// Whether anything this device stores or holds in memory contains `needle`: every
    /// sealed record (drafts and set-asides among them) and every document, now and in
    /// its history, each opened as the device opens it. For the end-to-end tests (an
    /// expunged passage must be on no device); resolves to a boolean.
    #[wasm_bindgen(js_name = holdsText)]
    pub fn holds_text(&self, needle: String) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            Ok(JsValue::from_bool(
                inspect::holds_text(&shared, &needle).await?,
            ))
        })
    }

    /// Forgets the notice once the worker has read it.
    #[wasm_bindgen(js_name = dismissNotice)]
    pub fn dismiss_notice(&self) {
        self.shared.state.borrow_mut().guard.notice = JsValue::NULL;
        save_guard(&self.shared);
        notify(&self.shared);
    }

    /// Form input not yet part of a record, kept under `key` (sealed on the device), or
    /// `null`.
    #[wasm_bindgen(js_name = formDraft)]
    pub fn form_draft(&self, key: String) -> JsValue {
        self.shared
            .state
            .borrow()
            .drafts
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(JsValue::NULL, |(_, value)| value.clone())
    }

    /// Keeps form input under `key` (`null` forgets it), sealed on the device at once.
    #[wasm_bindgen(js_name = setFormDraft)]
    pub fn set_form_draft(&self, key: String, value: JsValue) -> Result<(), JsValue> {
        {
            let mut state = self.shared.state.borrow_mut();
            if state.vault.is_none() {
                return Err(ClientError::Locked.into());
            }
            state.drafts.retain(|(k, _)| *k != key);
            if !value.is_null() && !value.is_undefined() {
                state.drafts.push((key, value));
            }
        }
        save_drafts(&self.shared);
        Ok(())
    }

    /// What stops a new action being added: `[{field, message}]` for `description`,
    /// `ownerName` and `dueDate` (`YYYY-MM-DD`), empty when it can be.
    #[wasm_bindgen(js_name = actionProblems)]
    pub fn action_problems(description: String, owner_name: String, due_date: String) -> JsValue {
        array(
            model::new_action_problems(&description, &owner_name, &due_date)
                .into_iter()
                .map(|p| Obj::new().set("field", p.field).set("message", p.message)),
        )
    }

    /// `"new"`, `"locked"` or `"unlocked"`.
    pub fn status(&self) -> String {
        let state = self.shared.state.borrow();
        if state.vault.is_some() {
            "unlocked".into()
        } else if state.set_up {
            "locked".into()
        } else {
            "new".into()
        }
    }

    /// Calls `listener` (no arguments) after anything changes: records, sync state, lock.
    pub fn subscribe(&self, listener: Function) {
        self.shared.state.borrow_mut().listeners.push(listener);
    }

    /// Signs in with the server (online only) and sets up this device with a PIN that
    /// unlocks it from then on, online or not. Resolves to the worker as JSON.
    #[wasm_bindgen(js_name = signIn)]
    pub fn sign_in(&self, username: String, password: String, pin: String) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move { Ok(sign_in(&shared, &username, &password, &pin).await?) })
    }

    /// Unlocks the device with its PIN (works offline) and starts syncing.
    pub fn unlock(&self, pin: String) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move { Ok(unlock(&shared, &pin).await?) })
    }

    /// Locks the device: waits for pending writes, then forgets the key and every record
    /// in memory and closes the connection.
    pub fn lock(&self) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            lock(&shared).await;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Signs out: tells the server and wipes everything from this device. Offline (or if
    /// the server cannot be reached), the device keeps only its refresh token's hash and
    /// sends it at its next contact, before anything else, so the session ends then.
    #[wasm_bindgen(js_name = signOut)]
    pub fn sign_out(&self) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            let (token, hash, unsent) = {
                let state = shared.state.borrow();
                (
                    state.session.as_ref().map(|s| s.token.clone()),
                    state.session.as_ref().map(|s| sha256_hex(&s.refresh_token)),
                    state.unsent.len(),
                )
            };
            let told = match &token {
                Some(token) => server_api::sign_out(token).await.is_ok(),
                None => false,
            };
            wipe_with_notice(&shared, guard::notice("signedOut", unsent, now_ms())).await?;
            if !told && let Some(hash) = hash {
                shared.state.borrow_mut().guard.pending_sign_out = Some(hash);
                save_guard(&shared);
            }
            Ok(JsValue::NULL)
        })
    }

    /// The signed-in worker (`null` while locked).
    pub fn worker(&self) -> JsValue {
        let state = self.shared.state.borrow();
        state
            .session
            .as_ref()
            .map_or(JsValue::NULL, |s| s.worker.to_js())
    }

    /// The sync state: `online`, `connected`, `offlineSince` (ms), `unsent` (records the
    /// server does not have yet and has not refused), `refused` (records the server
    /// refused: they are kept here, never shown as being sent), `saving`, `allSaved`
    /// (connected, and every record on this device is on the server), `problem` (what
    /// the worker must know, e.g. that the server refuses this device's changes and why),
    /// `waiting` (each record not on the server yet: `id`, `status`, `peers`, `peerHeads`,
    /// `pendingWrites`).
    #[wasm_bindgen(js_name = syncState)]
    pub fn sync_state(&self) -> JsValue {
        let state = self.shared.state.borrow();
        let refused = state.core.as_ref().map_or(0, |core| {
            state.unsent.iter().filter(|id| core.is_refused(id)).count()
        });
        let connected = state.link.as_ref().is_some_and(|l| l.ready);
        let saving = state.pending_writes.values().sum::<usize>();
        let unsent = state.unsent.len() - refused;
        let problem = state.problem.clone().or_else(|| {
            state.server_refusal.as_ref().map(|reason| {
                format!(
                    "The server refused what this device sent ({reason}). Everything is kept on \
                     this device; tell your system administrator."
                )
            })
        });
        // Why each record is not on the server yet (for support, and the day test's report).
        let waiting = array(state.core.as_ref().map_or_else(Vec::new, |core| {
            state
                .unsent
                .iter()
                .map(|id| {
                    Obj::new()
                        .set("id", id.to_string())
                        .set("status", format!("{:?}", core.document_status(id)))
                        .set("peers", core.peer_count(id))
                        .set("peerHeads", core.peer_heads(id).len())
                        .set(
                            "pendingWrites",
                            state.pending_writes.get(id).copied().unwrap_or(0),
                        )
                        .done()
                })
                .collect::<Vec<JsValue>>()
        }));
        Obj::new()
            .set("online", is_online())
            .set("connected", connected)
            .set("offlineSince", state.offline_since)
            .set("unsent", unsent)
            .set("refused", refused)
            .set("saving", saving)
            .set(
                "allSaved",
                connected && unsent == 0 && refused == 0 && saving == 0 && problem.is_none(),
            )
            .set("problem", problem)
            .set("waiting", waiting)
            .done()
    }

    /// The caseload: each child with name, placement, its visits, and (with `today`,
    /// `YYYY-MM-DD`) the statutory timescales worked out on this device by the rules and
    /// from the facts the team dashboard uses (`schedule`: `status`, `nextDue`, `rule`,
    /// `reason`, `lastQualifyingVisit`; `null` while the child's records are still
    /// loading). Children no longer allocated to the worker whose records this device
    /// still holds come last, with `former: true`.
    pub fn caseload(&self, today: Option<String>) -> JsValue {
        let state = self.shared.state.borrow();
        let today = today.as_deref().and_then(CalendarDate::parse);
        let current = state.caseload.children.iter().map(|child| (child, false));
        let former = state.caseload.former.iter().map(|child| (child, true));
        let children = current.chain(former).map(|(child, former)| {
            let entry = child_entry(&state, &child.child_ref, child.child_document_id.as_deref());
            let schedule = today.and_then(|today| child_schedule_view(&state, child, today));
            Obj::copy(&entry)
                .set("former", former)
                .set("schedule", schedule)
                .done()
        });
        Obj::new().set("children", array(children)).done()
    }

    /// The team dashboard as last fetched, `{fetchedAt, dashboard}` (the server's JSON),
    /// or `null` if it never was (or the worker is not a team manager).
    pub fn dashboard(&self) -> JsValue {
        let state = self.shared.state.borrow();
        state
            .dashboard
            .as_deref()
            .and_then(|text| js_sys::JSON::parse(text).ok())
            .unwrap_or(JsValue::NULL)
    }

    /// Fetches the team dashboard again and keeps it sealed on the device (team managers,
    /// online). Rejects with the reason if it could not (the stored one stays).
    #[wasm_bindgen(js_name = refreshDashboard)]
    pub fn refresh_dashboard(&self) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            refresh_dashboard(&shared).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// A manager's review of a visit from the server (online only): each section with its
    /// author and times, the review state, the signed version and what changed since.
    pub fn review(&self, document_id: String) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move { Ok(review(&shared, &document_id, None).await?) })
    }

    /// Records a manager's decision (`signOff` or `return`, with a comment, required to
    /// return) on the version of the record read (`heads`, from [`Device::review`]).
    /// Resolves to the review after it; rejects with a `ChangedError` if the record
    /// changed since it was read.
    pub fn decide(
        &self,
        document_id: String,
        decision: String,
        comment: String,
        heads: JsValue,
    ) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            if decision == "return" && comment.trim().is_empty() {
                return Err(ClientError::BadArgument(
                    "Say what needs to change before returning the record".into(),
                )
                .into());
            }
            let body = js_sys::Object::new();
            for (key, value) in [
                ("decision", JsValue::from(decision)),
                ("comment", JsValue::from(comment)),
                ("heads", heads),
            ] {
                let _ = js_sys::Reflect::set(&body, &JsValue::from(key), &value);
            }
            Ok(review(&shared, &document_id, Some(body.into())).await?)
        })
    }

    /// A team manager corrects a misfiled visit: `kind` `move` files it under the child
    /// `target` (a case reference of the team), `expunge` removes every occurrence of the
    /// passage `target` from every version (the record gets a new document id). `heads`
    /// is the version read (a move is made only on it). The manager has confirmed on the
    /// screen. Resolves to `{document, replacement, childRef}` once done and the caseload
    /// is fetched again; rejects with the server's words.
    #[wasm_bindgen(js_name = correctVisit)]
    pub fn correct_visit(
        &self,
        document_id: String,
        kind: String,
        target: String,
        reason: String,
        heads: JsValue,
    ) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            let (target, reason) = (target.trim().to_owned(), reason.trim().to_owned());
            if reason.is_empty() {
                return Err(ClientError::BadArgument(
                    "Enter why you are correcting this record".into(),
                )
                .into());
            }
            let (action, body) = match kind.as_str() {
                "move" if !target.is_empty() => (
                    "move",
                    Obj::new()
                        .set("toChildRef", target)
                        .set("reason", reason)
                        .set("heads", heads)
                        .set("confirm", true)
                        .done(),
                ),
                "expunge" if !target.is_empty() => (
                    "expunge",
                    Obj::new()
                        .set("passages", array([target]))
                        .set("reason", reason)
                        .set("confirm", true)
                        .done(),
                ),
                "move" => {
                    return Err(ClientError::BadArgument(
                        "Choose the child the record belongs to".into(),
                    )
                    .into());
                }
                "expunge" => {
                    return Err(
                        ClientError::BadArgument("Enter the exact words to remove".into()).into(),
                    );
                }
                _ => {
                    return Err(ClientError::BadArgument(
                        "Choose how to correct the record".into(),
                    )
                    .into());
                }
            };
            let needs = "Correcting a record needs a connection.";
            let token = token_or_fail(&shared)
                .await
                .map_err(|failure| online_failure(failure, needs))?;
            let text = server_api::correct(&token, &document_id, action, body)
                .await
                .map_err(|failure| online_failure(failure, needs))?;
            let _ = refresh_caseload(&shared).await;
            notify(&shared);
            Ok(js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL))
        })
    }

    /// Asks to read a child this worker cannot otherwise see (restricted, or outside their
    /// caseload: break-glass), with the reason the server requires. Resolves to the
    /// server's answer (`{childRef, expiresAt, …}`) once granted and the caseload is
    /// fetched again (the child is on it, read only, until then); rejects with the
    /// server's words otherwise (no such child, a reason needed, already visible).
    #[wasm_bindgen(js_name = breakGlass)]
    pub fn break_glass(&self, child_ref: String, reason: String) -> Promise {
        let shared = self.shared.clone();
        future_to_promise(async move {
            let (child_ref, reason) = (child_ref.trim().to_owned(), reason.trim().to_owned());
            if child_ref.is_empty() {
                return Err(
                    ClientError::BadArgument("Enter the child's case reference".into()).into(),
                );
            }
            if reason.is_empty() {
                return Err(ClientError::BadArgument(
                    "Enter why you need to see this child's record".into(),
                )
                .into());
            }
            let token = token_or_fail(&shared).await.map_err(|failure| {
                online_failure(failure, "Asking for access needs a connection.")
            })?;
            let body = Obj::new().set("reason", reason).done();
            let text = match server_api::break_glass(&token, &child_ref, body).await {
                Ok(text) => text,
                Err(ApiFailure::Refused(409, message)) => {
                    return Err(ClientError::BadArgument(message).into());
                }
                Err(failure) => {
                    return Err(
                        online_failure(failure, "Asking for access needs a connection.").into(),
                    );
                }
            };
            let _ = refresh_caseload(&shared).await;
            notify(&shared);
            Ok(js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL))
        })
    }

    /// The handover summary of a child on the caseload, from the documents on this device
    /// (works offline): profile and placement, the visits oldest first, the child's words
    /// over time, and the open actions (`overdue` against `today`, `YYYY-MM-DD`). `null`
    /// if the child is not on the caseload.
    pub fn handover(&self, child_ref: String, today: String) -> JsValue {
        let state = self.shared.state.borrow();
        let Some(child) = state
            .caseload
            .children
            .iter()
            .find(|c| c.child_ref == child_ref)
        else {
            return JsValue::NULL;
        };
        let entry = child_entry(&state, &child.child_ref, child.child_document_id.as_deref());
        views::handover(&entry, &today)
    }

    /// A visit record, with its sync state; with `today` (`YYYY-MM-DD`) it also
    /// lists what stops it being submitted.
    pub fn visit(&self, document_id: String, today: Option<String>) -> Result<JsValue, JsValue> {
        let id = parse_id(&document_id)?;
        let state = self.shared.state.borrow();
        let core = state.core.as_ref().ok_or(ClientError::Locked)?;
        let Some(doc) = core.document(&id) else {
            // Still loading (after an unlock or a reload): the screen waits for the next
            // change notice and asks again.
            return Ok(Obj::new()
                .set("documentId", document_id)
                .set("loading", true)
                .done());
        };
        let device = state.session.as_ref().map(|s| s.device_id.as_str());
        Ok(
            views::visit_view(doc, &document_id, today.as_deref(), device)
                .set("sync", document_sync(&state, &id))
                .done(),
        )
    }

    /// Starts a visit record for a child on the caseload; returns its document id.
    #[wasm_bindgen(js_name = createVisit)]
    pub fn create_visit(&self, child_ref: String, visit_date: String) -> Result<String, JsValue> {
        let result = create_visit(&self.shared, &child_ref, &visit_date);
        notify(&self.shared);
        Ok(result?)
    }

    /// Applies one form edit (an object, see `visit_form`) to a visit and saves it on the
    /// device at once. Returns the index of a new entry, or `undefined`.
    #[wasm_bindgen(js_name = editVisit)]
    pub fn edit_visit(&self, document_id: String, edit: JsValue) -> Result<JsValue, JsValue> {
        let id = parse_id(&document_id)?;
        let edit = FormEdit::read(&JsFields(edit))?;
        let result = edit_visit(&self.shared, id, &edit);
        notify(&self.shared);
        Ok(result?.map_or(JsValue::UNDEFINED, |index| JsValue::from(index as u32)))
    }
}

/// A form edit object from the screens, read field by field.
pub(super) struct JsFields(JsValue);

impl JsFields {
    fn get(&self, key: &str) -> JsValue {
        js_sys::Reflect::get(&self.0, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }
}

impl EditFields for JsFields {
    fn text(&self, key: &str) -> Option<String> {
        self.get(key).as_string()
    }
    fn number(&self, key: &str) -> Option<f64> {
        self.get(key).as_f64()
    }
    fn flag(&self, key: &str) -> Option<bool> {
        self.get(key).as_bool()
    }
}
