-- 0002: the directory (teams, workers, children, allocations, devices, sessions) and the
-- append-only audit log. Never edit a migration once released: add a new numbered file.

CREATE TABLE teams (
    team_id    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE workers (
    worker_id     INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('social-worker', 'team-manager', 'admin')),
    team_id       INTEGER REFERENCES teams (team_id),
    password_hash TEXT    NOT NULL, -- argon2id PHC string; never the password
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL
);

-- Personal details live in the child's Automerge document; SQL holds only what access
-- control needs.
CREATE TABLE children (
    child_id    INTEGER PRIMARY KEY,
    child_ref   TEXT    NOT NULL UNIQUE, -- the council's case reference; visits name it as childId
    team_id     INTEGER REFERENCES teams (team_id),
    document_id BLOB    UNIQUE CHECK (document_id IS NULL OR length(document_id) = 16),
    created_at  INTEGER NOT NULL
);

-- Current allocation: ended_at IS NULL.
CREATE TABLE allocations (
    allocation_id INTEGER PRIMARY KEY,
    child_id      INTEGER NOT NULL REFERENCES children (child_id),
    worker_id     INTEGER NOT NULL REFERENCES workers (worker_id),
    started_at    INTEGER NOT NULL,
    ended_at      INTEGER
);
CREATE UNIQUE INDEX allocations_one_current
    ON allocations (child_id, worker_id) WHERE ended_at IS NULL;
CREATE INDEX allocations_by_worker ON allocations (worker_id) WHERE ended_at IS NULL;

-- Every document of a child (its child document and its visits), so a caseload can be listed.
CREATE TABLE child_documents (
    document_id BLOB    PRIMARY KEY CHECK (length(document_id) = 16),
    child_id    INTEGER NOT NULL REFERENCES children (child_id),
    kind        TEXT    NOT NULL CHECK (kind IN ('child', 'visit')),
    created_by  INTEGER REFERENCES workers (worker_id),
    created_at  INTEGER NOT NULL
);
CREATE INDEX child_documents_by_child ON child_documents (child_id);

CREATE TABLE devices (
    device_id      TEXT    PRIMARY KEY,
    worker_id      INTEGER NOT NULL REFERENCES workers (worker_id),
    label          TEXT,
    created_at     INTEGER NOT NULL,
    last_seen_at   INTEGER,
    revoked_at     INTEGER,
    wipe_requested INTEGER NOT NULL DEFAULT 0
);

-- Tokens are stored as SHA-256 hashes only.
CREATE TABLE sessions (
    session_id         INTEGER PRIMARY KEY,
    token_hash         BLOB    NOT NULL UNIQUE,
    refresh_hash       BLOB    UNIQUE,
    worker_id          INTEGER NOT NULL REFERENCES workers (worker_id),
    device_id          TEXT    NOT NULL REFERENCES devices (device_id),
    created_at         INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    refresh_expires_at INTEGER NOT NULL,
    revoked_at         INTEGER
);

CREATE TABLE sync_tickets (
    ticket_hash BLOB    PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES sessions (session_id),
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);

CREATE TABLE login_failures (
    username TEXT    NOT NULL COLLATE NOCASE,
    at       INTEGER NOT NULL
);
CREATE INDEX login_failures_by_username ON login_failures (username, at);

-- Append-only: the triggers below refuse UPDATE and DELETE, and no code does either.
CREATE TABLE audit_log (
    audit_id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at              INTEGER NOT NULL, -- server time, ms since the Unix epoch
    actor_worker_id INTEGER,
    actor           TEXT,             -- username, or 'admin-cli' / 'system'
    device_id       TEXT,
    action          TEXT    NOT NULL,
    outcome         TEXT    NOT NULL CHECK (outcome IN ('allowed', 'denied', 'failed')),
    document_id     BLOB,
    child_id        INTEGER,
    detail          TEXT
);
CREATE INDEX audit_log_by_child ON audit_log (child_id, audit_id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- Bumped on every change that can alter someone's access, so a running server notices
-- changes made by the admin command line in another process.
CREATE TABLE directory_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO directory_version (id, version) VALUES (1, 0);
CREATE TRIGGER workers_bump_i AFTER INSERT ON workers BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER workers_bump_u AFTER UPDATE ON workers BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER workers_bump_d AFTER DELETE ON workers BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER allocations_bump_i AFTER INSERT ON allocations BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER allocations_bump_u AFTER UPDATE ON allocations BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER allocations_bump_d AFTER DELETE ON allocations BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER devices_bump_u AFTER UPDATE ON devices BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER sessions_bump_u AFTER UPDATE ON sessions BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER child_documents_bump_i AFTER INSERT ON child_documents BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER children_bump_u AFTER UPDATE ON children BEGIN UPDATE directory_version SET version = version + 1; END;
