-- 0007: records for life (issue 13 parts 1 and 2): the records officer role, retention
-- (date of death, legal holds, deletion after retention with its tombstone, the devices
-- to tell) and subject-access redactions.
-- Never edit a migration once released: add a new numbered file instead.
-- (0006 is taken by another branch.)

-- The records officer role. SQLite cannot change a CHECK constraint in place, so the
-- workers table is rebuilt (the documented procedure: `migrations::apply` runs every
-- migration with foreign keys off and checks them before committing). Its triggers go
-- with it and are made again.
CREATE TABLE workers_new (
    worker_id     INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('social-worker', 'team-manager', 'admin', 'records-officer')),
    team_id       INTEGER REFERENCES teams (team_id),
    password_hash TEXT    NOT NULL, -- argon2id PHC string; never the password
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL
);
INSERT INTO workers_new (worker_id, username, display_name, role, team_id, password_hash, active, created_at)
    SELECT worker_id, username, display_name, role, team_id, password_hash, active, created_at FROM workers;
DROP TABLE workers;
ALTER TABLE workers_new RENAME TO workers;
CREATE TRIGGER workers_bump_i AFTER INSERT ON workers BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER workers_bump_u AFTER UPDATE ON workers BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER workers_bump_d AFTER DELETE ON workers BEGIN UPDATE directory_version SET version = version + 1; END;
-- Deleting a child (after retention) changes access too.
CREATE TRIGGER children_bump_d AFTER DELETE ON children BEGIN UPDATE directory_version SET version = version + 1; END;

-- What retention needs besides the date of birth (which the child document holds): the
-- date of death, recorded by an administrator, and a legal hold suspending deletion.
CREATE TABLE child_retention (
    child_id      INTEGER PRIMARY KEY REFERENCES children (child_id),
    date_of_death TEXT,    -- YYYY-MM-DD
    hold_reason   TEXT,    -- NULL: no legal hold
    held_at       INTEGER, -- server time, ms
    held_by       TEXT
);

-- The tombstone of each deletion after retention: who, when, why, which documents.
-- Append-only, like audit_log. It keeps the case reference and no child data.
CREATE TABLE retention_deletions (
    deletion_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    child_ref    TEXT    NOT NULL,
    deleted_at   INTEGER NOT NULL, -- server time, ms
    actor        TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    retain_until TEXT    NOT NULL, -- the date retention ended
    documents    TEXT    NOT NULL  -- the deleted documents' ids (automerge-repo form), comma separated
);
CREATE TRIGGER retention_deletions_no_update BEFORE UPDATE ON retention_deletions
BEGIN SELECT RAISE(ABORT, 'retention_deletions is append-only'); END;
CREATE TRIGGER retention_deletions_no_delete BEFORE DELETE ON retention_deletions
BEGIN SELECT RAISE(ABORT, 'retention_deletions is append-only'); END;

-- Every deleted document. Nothing of it may come back: the triggers below silently drop
-- any later write for it (a server that still held it in memory and compacts it on
-- unload, a device that uploads its old copy), so the store, the index and the
-- projection stay without it whoever writes.
CREATE TABLE erased_documents (
    document_id BLOB    PRIMARY KEY CHECK (length(document_id) = 16),
    deletion_id INTEGER NOT NULL REFERENCES retention_deletions (deletion_id)
);
CREATE TRIGGER erased_documents_no_update BEFORE UPDATE ON erased_documents
BEGIN SELECT RAISE(ABORT, 'erased_documents is append-only'); END;
CREATE TRIGGER erased_documents_no_delete BEFORE DELETE ON erased_documents
BEGIN SELECT RAISE(ABORT, 'erased_documents is append-only'); END;

-- Whose devices are told (in their caseload) to delete their sealed copies: everyone
-- who ever held the child, and the managers of its team, when it was deleted.
CREATE TABLE erasure_notices (
    deletion_id INTEGER NOT NULL REFERENCES retention_deletions (deletion_id),
    worker_id   INTEGER NOT NULL REFERENCES workers (worker_id),
    PRIMARY KEY (deletion_id, worker_id)
);
CREATE INDEX erasure_notices_by_worker ON erasure_notices (worker_id);

CREATE TRIGGER erased_chunks BEFORE INSERT ON document_chunks
WHEN EXISTS (SELECT 1 FROM erased_documents WHERE document_id = NEW.document_id)
BEGIN SELECT RAISE(IGNORE); END;
CREATE TRIGGER erased_index BEFORE INSERT ON child_documents
WHEN EXISTS (SELECT 1 FROM erased_documents WHERE document_id = NEW.document_id)
BEGIN SELECT RAISE(IGNORE); END;
CREATE TRIGGER erased_batches BEFORE INSERT ON change_batches
WHEN EXISTS (SELECT 1 FROM erased_documents WHERE document_id = NEW.document_id)
BEGIN SELECT RAISE(IGNORE); END;
CREATE TRIGGER erased_proj_children BEFORE INSERT ON proj_children
WHEN EXISTS (SELECT 1 FROM erased_documents WHERE document_id = NEW.document_id)
BEGIN SELECT RAISE(IGNORE); END;
CREATE TRIGGER erased_proj_placements BEFORE INSERT ON proj_placements
WHEN EXISTS (SELECT 1 FROM erased_documents WHERE document_id = NEW.document_id)
BEGIN SELECT RAISE(IGNORE); END;
CREATE TRIGGER erased_proj_reviews BEFORE INSERT ON proj_reviews
WHEN EXISTS (SELECT 1 FROM erased_documents WHERE document_id = NEW.document_id)
BEGIN SELECT RAISE(IGNORE); END;
CREATE TRIGGER erased_proj_visits BEFORE INSERT ON proj_visits
WHEN EXISTS (SELECT 1 FROM erased_documents WHERE document_id = NEW.document_id)
BEGIN SELECT RAISE(IGNORE); END;
CREATE TRIGGER erased_proj_actions BEFORE INSERT ON proj_actions
WHEN EXISTS (SELECT 1 FROM erased_documents WHERE document_id = NEW.document_id)
BEGIN SELECT RAISE(IGNORE); END;
CREATE TRIGGER erased_proj_sign_offs BEFORE INSERT ON proj_sign_offs
WHEN EXISTS (SELECT 1 FROM erased_documents WHERE document_id = NEW.document_id)
BEGIN SELECT RAISE(IGNORE); END;
CREATE TRIGGER erased_proj_amendments BEFORE INSERT ON proj_amendments
WHEN EXISTS (SELECT 1 FROM erased_documents WHERE document_id = NEW.document_id)
BEGIN SELECT RAISE(IGNORE); END;

-- Subject access: passages a records officer redacts from exports (never from the
-- record). A redaction names a document (NULL: any of the child's documents), a field
-- (a section label such as "Child's words"; NULL: any field) and a passage (exact text;
-- NULL: the whole field), with a reason code.
CREATE TABLE sar_redactions (
    redaction_id INTEGER PRIMARY KEY,
    child_id     INTEGER NOT NULL REFERENCES children (child_id),
    document_id  BLOB CHECK (document_id IS NULL OR length(document_id) = 16),
    field        TEXT,
    passage      TEXT,
    reason       TEXT    NOT NULL CHECK (reason IN ('third-party', 'serious-harm')),
    created_by   INTEGER NOT NULL REFERENCES workers (worker_id),
    created_at   INTEGER NOT NULL,
    CHECK (field IS NOT NULL OR passage IS NOT NULL)
);
CREATE INDEX sar_redactions_by_child ON sar_redactions (child_id);
