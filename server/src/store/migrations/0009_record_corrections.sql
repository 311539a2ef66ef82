-- 0009: correcting a misfiled record (issue 13 part 4): a visit moved to the right child,
-- and content expunged by rebuilding a visit as a new document (a new lineage) whose old
-- document is then erased like a record deleted after retention.
-- Never edit a migration once released: add a new numbered file instead.

-- Each correction, append-only like audit_log. It holds no content of the record: the
-- reason is the manager's, and `server_had` is the old lineage's change hashes (32 bytes
-- each), which a device holding unsynced edits to it needs to tell its own work apart.
CREATE TABLE record_corrections (
    correction_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT    NOT NULL CHECK (kind IN ('moved', 'expunged')),
    document_id    BLOB    NOT NULL CHECK (length(document_id) = 16),
    replacement_id BLOB    CHECK (replacement_id IS NULL OR length(replacement_id) = 16),
    from_child_ref TEXT    NOT NULL,
    to_child_ref   TEXT    NOT NULL,
    corrected_at   INTEGER NOT NULL, -- server time, ms
    actor          TEXT    NOT NULL, -- username
    actor_name     TEXT    NOT NULL,
    reason         TEXT    NOT NULL,
    server_had     BLOB,
    CHECK ((kind = 'expunged') = (replacement_id IS NOT NULL))
);
CREATE INDEX record_corrections_by_document ON record_corrections (document_id);
CREATE TRIGGER record_corrections_no_update BEFORE UPDATE ON record_corrections
BEGIN SELECT RAISE(ABORT, 'record_corrections is append-only'); END;
CREATE TRIGGER record_corrections_no_delete BEFORE DELETE ON record_corrections
BEGIN SELECT RAISE(ABORT, 'record_corrections is append-only'); END;

-- Whose devices are told of a correction (in their caseload): everyone who held the
-- child or created the record, and the managers of its team, when it was corrected.
CREATE TABLE correction_notices (
    correction_id INTEGER NOT NULL REFERENCES record_corrections (correction_id),
    worker_id     INTEGER NOT NULL REFERENCES workers (worker_id),
    PRIMARY KEY (correction_id, worker_id)
);
CREATE INDEX correction_notices_by_worker ON correction_notices (worker_id);

-- An erased document now comes from a deletion after retention or an expunge. The table
-- is made again under its own name (renaming a copy would fail: the triggers of 0007 on
-- other tables name it), with `seq` as the order the hub reads erasures in.
CREATE TABLE erased_documents_copy AS SELECT document_id, deletion_id FROM erased_documents;
DROP TABLE erased_documents;
CREATE TABLE erased_documents (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id   BLOB    NOT NULL UNIQUE CHECK (length(document_id) = 16),
    deletion_id   INTEGER REFERENCES retention_deletions (deletion_id),
    correction_id INTEGER REFERENCES record_corrections (correction_id),
    CHECK ((deletion_id IS NULL) <> (correction_id IS NULL))
);
INSERT INTO erased_documents (document_id, deletion_id)
    SELECT document_id, deletion_id FROM erased_documents_copy ORDER BY deletion_id, document_id;
DROP TABLE erased_documents_copy;
CREATE TRIGGER erased_documents_no_update BEFORE UPDATE ON erased_documents
BEGIN SELECT RAISE(ABORT, 'erased_documents is append-only'); END;
CREATE TRIGGER erased_documents_no_delete BEFORE DELETE ON erased_documents
BEGIN SELECT RAISE(ABORT, 'erased_documents is append-only'); END;

-- Expunged passages may sit in redactions a records officer made on the old document.
CREATE TRIGGER erased_redactions BEFORE INSERT ON sar_redactions
WHEN NEW.document_id IS NOT NULL
 AND EXISTS (SELECT 1 FROM erased_documents WHERE document_id = NEW.document_id)
BEGIN SELECT RAISE(IGNORE); END;

-- A visit moved to another child changes who may read it.
CREATE TRIGGER child_documents_bump_u AFTER UPDATE OF child_id ON child_documents
BEGIN UPDATE directory_version SET version = version + 1; END;
