//! Each connection's rights, from the access policy (`directory::access`): computed when
//! it connects and again when the directory changes or a former holder's grace or a
//! break-glass ends;
//! connections whose session ended are told and closed.

use super::*;

impl Hub {
    /// Recomputes one connection's grant from the directory and gives it to the core.
    pub(super) fn refresh_grant(&mut self, connection: ConnectionId) {
        let Some(identity) = self.identities.get(&connection) else {
            return;
        };
        let now_ms = self.clock.now_ms();
        match access::grant_for(&self.directory, identity, now_ms, self.reallocation_grace) {
            Ok(granted) => {
                let break_glass_ends = granted.next_change();
                self.child_ids.extend(granted.child_ids);
                // The grant changes again when a former holder's grace or a break-glass ends.
                let grace_ms = self.reallocation_grace.as_millis() as i64;
                let ends = granted
                    .grant
                    .former
                    .values()
                    .map(|until| until.as_millis() as i64 + grace_ms)
                    .chain(break_glass_ends);
                for ends in ends {
                    self.grants_change_at =
                        Some(self.grants_change_at.map_or(ends, |next| next.min(ends)));
                }
                self.set_grant(connection, granted.grant);
            }
            Err(err) => {
                error!(cause = %err, "cannot read the directory; closing the connection");
                self.close(
                    connection,
                    CloseReason::StorageError("directory unavailable".into()),
                );
            }
        }
    }

    /// On a directory change (allocation, revocation, new document): end connections whose
    /// session is no longer valid, and give the others their new grants.
    pub(super) fn check_directory(&mut self) {
        // A lost PostgreSQL connection is opened again here, once a tick, until it can be.
        match self.directory.reconnect() {
            Ok(true) => tracing::info!("the hub reconnected to the directory"),
            Ok(false) => {}
            Err(_) => return,
        }
        let version = match access::directory_version(&self.directory) {
            Ok(version) => version,
            Err(err) => {
                error!(cause = %err, "cannot read the directory version");
                return;
            }
        };
        let now = self.clock.now_ms();
        let time_changed = self.grants_change_at.is_some_and(|ends| ends <= now);
        if version == self.directory_version && !time_changed {
            return;
        }
        self.directory_version = version;
        self.forget_erased();
        if time_changed {
            // Every grant is recomputed below, and each sets the next time again.
            self.grants_change_at = None;
        }
        let connections: Vec<ConnectionId> = self.identities.keys().copied().collect();
        for connection in connections {
            let Some(identity) = self.identities.get(&connection) else {
                continue;
            };
            match sessions::check_session(&self.directory, identity.session_id, now) {
                Ok(()) => self.refresh_grant(connection),
                // The database cannot say (it went away): the session stands until it can.
                Err(SessionError::Database(err)) => {
                    tracing::warn!(cause = %err, "cannot check a session; checked again later");
                    self.directory_version = -1;
                }
                Err(err) => {
                    let message = match err {
                        SessionError::DeviceRevoked => {
                            "device revoked: wipe the local copy of every record".to_owned()
                        }
                        _ => format!("session ended: {err}"),
                    };
                    let ended = AuditEntry::new(now, "sync-end", Outcome::Denied)
                        .by(identity)
                        .detail(message.clone());
                    self.audit(vec![ended]);
                    if let Some(outbox) = self.outboxes.get(&connection) {
                        let error = Message::Error {
                            message: message.clone(),
                        };
                        let _ = outbox.send(Outbound::Send(error));
                    }
                    self.close(connection, CloseReason::ProtocolError(message));
                }
            }
        }
    }

    pub(super) fn set_grant(&mut self, connection: ConnectionId, grant: AccessGrant) {
        self.handle(Event::AccessChanged { connection, grant });
    }

    pub(super) fn close(&mut self, connection: ConnectionId, reason: CloseReason) {
        if let Some(outbox) = self.outboxes.remove(&connection) {
            let _ = outbox.send(Outbound::Close(reason));
        }
        self.identities.remove(&connection);
        self.handle(Event::Disconnected { connection });
    }
}
