-- PostgreSQL form of server/src/store/migrations/0006_sync_credentials.sql.
-- 0006: sync credentials; sync tickets leave the database. Never edit a migration once
-- released: add a new numbered file. (Numbered 0006: 0005 is taken by the schedule facts
-- of another branch.)

-- One credential per session, for clients that reconnect with the same URL (the official
-- automerge-repo WebSocket adapter): `/sync?credential=…` opens while the session lives.
-- Only the SHA-256 of the credential is stored; issuing a new one replaces the old.
-- The key is the session's own id, so it is no identity column.
CREATE TABLE sync_credentials (
    session_id      BIGINT PRIMARY KEY REFERENCES sessions (session_id),
    credential_hash BYTEA  NOT NULL UNIQUE,
    created_at      BIGINT NOT NULL
);

-- Single-use tickets now live in the server's memory (`directory::sync_tickets`): they
-- last 30 seconds and need no durability, and writing them cost an fsync per connect.
DROP TABLE sync_tickets;
