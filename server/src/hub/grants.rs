//! Each connection's rights, from the access policy (`directory::access`): computed when
//! it connects and again when the directory changes or a former holder's grace ends;
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
                self.child_ids.extend(granted.child_ids);
                // The grant changes again when a former holder's grace ends.
                let grace_ms = self.reallocation_grace.as_millis() as i64;
                for until in granted.grant.former.values() {
                    let ends = until.as_millis() as i64 + grace_ms;
                    self.grace_ends = Some(self.grace_ends.map_or(ends, |next| next.min(ends)));
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
        let version = match access::directory_version(&self.directory) {
            Ok(version) => version,
            Err(err) => {
                error!(cause = %err, "cannot read the directory version");
                return;
            }
        };
        let now = self.clock.now_ms();
        let grace_ended = self.grace_ends.is_some_and(|ends| ends <= now);
        if version == self.directory_version && !grace_ended {
            return;
        }
        self.directory_version = version;
        self.forget_erased();
        if grace_ended {
            self.grace_ends = None;
        }
        let connections: Vec<ConnectionId> = self.identities.keys().copied().collect();
        for connection in connections {
            let Some(identity) = self.identities.get(&connection) else {
                continue;
            };
            match sessions::check_session(&self.directory, identity.session_id, now) {
                Ok(()) => self.refresh_grant(connection),
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
