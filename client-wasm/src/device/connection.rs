//! The WebSocket to `/sync`: opened with a single-use ticket, reconnected with backoff,
//! following the browser's online and offline events; subscribers are told of changes.

use super::*;

/// Opens the WebSocket to `/sync` (with a fresh ticket) unless one is open or opening.
pub(super) fn connect(shared: &Rc<Shared>) {
    {
        let mut state = shared.state.borrow_mut();
        if state.link.is_some() || state.connecting || state.core.is_none() || !is_online() {
            return;
        }
        state.connecting = true;
    }
    let shared = shared.clone();
    spawn_local(async move {
        let opened = open_socket(&shared).await;
        shared.state.borrow_mut().connecting = false;
        if let Err(failure) = opened {
            on_api_failure(&shared, &failure).await;
            if matches!(
                failure,
                ApiFailure::Unreachable(_) | ApiFailure::Refused(..)
            ) {
                schedule_reconnect(&shared);
            }
        }
    });
}

pub(super) async fn open_socket(shared: &Rc<Shared>) -> Result<(), ApiFailure> {
    let token = access_token(shared).await?;
    let ticket = server_api::sync_ticket(&token).await?;
    let location = web_sys::window()
        .ok_or_else(|| ApiFailure::Unreachable("no window".into()))?
        .location();
    let scheme = if location.protocol().unwrap_or_default() == "https:" {
        "wss"
    } else {
        "ws"
    };
    let host = location.host().unwrap_or_default();
    let socket = WebSocket::new(&format!("{scheme}://{host}/sync?ticket={ticket}"))
        .map_err(|err| ApiFailure::Unreachable(crate::client_error::describe_js(&err)))?;
    socket.set_binary_type(BinaryType::Arraybuffer);
    let mut state = shared.state.borrow_mut();
    if state.core.is_none() {
        let _ = socket.close();
        return Ok(());
    }
    let id = ConnectionId(state.next_connection);
    state.next_connection += 1;
    let on_open = {
        let shared = shared.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |_| {
            if let Some(link) = shared.state.borrow_mut().link.as_mut() {
                link.ready = true;
            }
            {
                let mut state = shared.state.borrow_mut();
                if state.server_refusal.is_none() {
                    state.reconnect_attempt = 0;
                }
                state.offline_since = None;
                state.problem = None;
            }
            contact_made(&shared);
            drive(
                &shared,
                Event::Connected {
                    connection: id,
                    direction: Direction::Dialled,
                },
            );
        })
    };
    let on_message = {
        let shared = shared.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Ok(buffer) = event.data().dyn_into::<js_sys::ArrayBuffer>() {
                let bytes = Uint8Array::new(&buffer).to_vec();
                note_pushed_document(&shared, &bytes);
                drive(
                    &shared,
                    Event::Received {
                        connection: id,
                        bytes,
                    },
                );
            }
        })
    };
    let on_close = {
        let shared = shared.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |_| {
            let current = shared
                .state
                .borrow()
                .link
                .as_ref()
                .is_some_and(|l| l.id == id);
            if current {
                disconnected(&shared);
            }
        })
    };
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    state.link = Some(Link {
        id,
        socket,
        ready: false,
        _on_open: on_open,
        _on_message: on_message,
        _on_close: on_close,
    });
    Ok(())
}

/// A document the server sends without this device having asked for it (a record made on
/// the worker's other device, pushed live) joins the documents the screens list, so it
/// shows at once rather than at the next caseload fetch.
pub(super) fn note_pushed_document(shared: &Rc<Shared>, bytes: &[u8]) {
    let document = match protocol::decode(bytes) {
        Ok(protocol::Message::Sync { document_id, .. })
        | Ok(protocol::Message::Request { document_id, .. }) => document_id,
        _ => return,
    };
    let mut state = shared.state.borrow_mut();
    if !state.documents.contains(&document) {
        state.documents.insert(document);
    }
}

/// The link closed (either side): tell the core, note when we went offline, and try again
/// later (at once when the browser says it is online again).
pub(super) fn disconnected(shared: &Rc<Shared>) {
    let link = {
        let mut state = shared.state.borrow_mut();
        if state.offline_since.is_none() {
            state.offline_since = Some(now_ms());
        }
        state.link.take()
    };
    if let Some(link) = link {
        let id = link.id;
        // This may run inside one of the link's own callbacks: drop it (and its closures)
        // only after the callback has returned.
        spawn_local(async move { drop(link) });
        drive(shared, Event::Disconnected { connection: id });
        schedule_reconnect(shared);
    }
    notify(shared);
}

pub(super) fn schedule_reconnect(shared: &Rc<Shared>) {
    let delay = {
        let mut state = shared.state.borrow_mut();
        if state.reconnect_scheduled || state.core.is_none() {
            return;
        }
        state.reconnect_scheduled = true;
        state.reconnect_attempt = state.reconnect_attempt.saturating_add(1);
        let base = (1000.0 * 2f64.powi(state.reconnect_attempt.min(6) as i32)).min(MAX_BACKOFF_MS);
        base * (0.5 + js_sys::Math::random() / 2.0)
    };
    let again = shared.clone();
    let callback = Closure::once_into_js(move || {
        again.state.borrow_mut().reconnect_scheduled = false;
        connect(&again);
    });
    if let Some(window) = web_sys::window() {
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            callback.unchecked_ref(),
            delay as i32,
        );
    }
}

/// Listens for the browser going online (reconnect at once) or offline (drop the link).
pub(super) fn hook_window(shared: &Rc<Shared>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    {
        let mut state = shared.state.borrow_mut();
        if state.window_hooked {
            return;
        }
        state.window_hooked = true;
    }
    let online = {
        let shared = shared.clone();
        Closure::<dyn FnMut()>::new(move || {
            shared.state.borrow_mut().reconnect_attempt = 0;
            let pending = shared.clone();
            spawn_local(async move {
                // An offline sign-out goes first; then the session syncs.
                send_pending_sign_out(&pending).await;
                connect(&pending);
                if pending.state.borrow().vault.is_some() {
                    refresh_in_background(&pending);
                }
                notify(&pending);
            });
        })
    };
    let offline = {
        let shared = shared.clone();
        Closure::<dyn FnMut()>::new(move || disconnected(&shared))
    };
    let _ = window.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
    let _ = window.add_event_listener_with_callback("offline", offline.as_ref().unchecked_ref());
    // The device lives as long as the page; so do these listeners.
    online.forget();
    offline.forget();
}

/// Calls every subscriber (outside any borrow: a subscriber may call back in).
pub(super) fn notify(shared: &Rc<Shared>) {
    let listeners = shared.state.borrow().listeners.clone();
    for listener in listeners {
        let _ = listener.call0(&JsValue::NULL);
    }
}
