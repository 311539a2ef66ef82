-- 0001: documents stored as automerge chunks, plus this server's identity.
-- Never edit a migration once released: add a new numbered file instead.

-- Each row is one chunk of one document: a full snapshot (`Automerge::save`) or
-- incremental changes (`Automerge::save_after`). Concatenating a document's rows in
-- `id` order gives bytes that `Automerge::load` reads. Compaction replaces all rows
-- of a document with one snapshot, in one transaction.
CREATE TABLE document_chunks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id BLOB    NOT NULL CHECK (length(document_id) = 16),
    kind        TEXT    NOT NULL CHECK (kind IN ('snapshot', 'changes')),
    data        BLOB    NOT NULL,
    written_at  INTEGER NOT NULL -- server time, ms since the Unix epoch
);
CREATE INDEX document_chunks_by_document ON document_chunks (document_id, id);

-- Key/value facts about this server installation.
CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- The storage id announced to peers; stable for the life of the database.
INSERT INTO server_meta (key, value) VALUES ('storage_id', lower(hex(randomblob(16))));
