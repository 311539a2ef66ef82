-- 0003: the projection (what the dashboard and sign-off queue read) and change batches.
-- Never edit a migration once released: add a new numbered file instead.
--
-- The proj_* tables hold nothing that is not in the documents: every accepted change
-- rewrites its document's rows in the same transaction as its chunk, and
-- `doorstep-server admin projection rebuild` recreates them from the documents alone.

-- One row per child document.
CREATE TABLE proj_children (
    document_id        BLOB PRIMARY KEY CHECK (length(document_id) = 16),
    child_ref          TEXT NOT NULL,
    legal_name         TEXT,
    preferred_name     TEXT,
    date_of_birth      TEXT,
    became_looked_after TEXT,
    care_leaver_from   TEXT,
    pathway_reviews    TEXT NOT NULL DEFAULT '' -- dates, comma separated
);
CREATE INDEX proj_children_by_ref ON proj_children (child_ref);

-- The placement of each child document (one current placement per child document).
CREATE TABLE proj_placements (
    document_id                BLOB NOT NULL,
    placement_id               TEXT NOT NULL,
    child_ref                  TEXT NOT NULL,
    start_date                 TEXT,
    end_date                   TEXT,
    placement_type             TEXT,
    statutory_basis            TEXT,
    intended_until_18          INTEGER,
    ltf_designated             INTEGER,
    child_agreement_date       TEXT,
    care_order_date            TEXT,
    short_breaks_interval_days INTEGER,
    local_interval_days        INTEGER,
    PRIMARY KEY (document_id, placement_id)
);
CREATE INDEX proj_placements_by_child ON proj_placements (child_ref);

-- Reviews recorded on a child document.
CREATE TABLE proj_reviews (
    document_id BLOB NOT NULL,
    review_id   TEXT NOT NULL,
    child_ref   TEXT NOT NULL,
    due_date    TEXT,
    held_date   TEXT,
    PRIMARY KEY (document_id, review_id)
);
CREATE INDEX proj_reviews_by_child ON proj_reviews (child_ref);

-- One row per visit document.
CREATE TABLE proj_visits (
    document_id  BLOB PRIMARY KEY CHECK (length(document_id) = 16),
    visit_id     TEXT NOT NULL,
    child_ref    TEXT NOT NULL,
    worker_ref   TEXT NOT NULL,
    visit_date   TEXT,    -- as stored: may not be a real date in a draft
    visit_kind   TEXT,
    location     TEXT,
    child_seen   INTEGER,
    seen_alone   INTEGER,
    status       TEXT,    -- draft / submitted, as the worker set it
    review_state TEXT NOT NULL, -- draft, submitted, signedOff, returned, amendedAfterSignOff, resubmitted
    created_at   INTEGER, -- device time, ms
    submitted_at INTEGER, -- device time, ms
    late         INTEGER NOT NULL, -- written up more than the allowed working days after the visit
    heads        TEXT NOT NULL     -- the version projected, hex hashes comma separated
);
CREATE INDEX proj_visits_by_child ON proj_visits (child_ref, visit_date);
CREATE INDEX proj_visits_by_state ON proj_visits (review_state);

-- Actions agreed at visits.
CREATE TABLE proj_actions (
    document_id BLOB NOT NULL,
    action_id   TEXT NOT NULL,
    child_ref   TEXT NOT NULL,
    description TEXT NOT NULL,
    owner_type  TEXT,
    owner_name  TEXT NOT NULL,
    due_date    TEXT,
    status      TEXT,
    PRIMARY KEY (document_id, action_id)
);
CREATE INDEX proj_actions_by_due ON proj_actions (status, due_date);

-- Management oversight decisions (sign-off, return) recorded on visits.
CREATE TABLE proj_sign_offs (
    document_id BLOB NOT NULL,
    entry_id    TEXT NOT NULL,
    decision    TEXT NOT NULL,
    comment     TEXT NOT NULL,
    manager_ref TEXT NOT NULL,
    heads       TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (document_id, entry_id)
);

-- Amendments of signed-off visits, with the worker's reason.
CREATE TABLE proj_amendments (
    document_id BLOB NOT NULL,
    entry_id    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    worker_ref  TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (document_id, entry_id)
);

-- Each batch of changes the server made durable for a document: when, from whom, and the
-- document's heads right after it (concatenated 32-byte change hashes). A change was
-- received in the first batch whose heads reach it (batch ids are in commit order), so
-- one row per batch records the receipt of every change in it. A log of facts the
-- documents cannot hold (server receipt time, sender), so it is not part of the rebuild.
CREATE TABLE change_batches (
    batch_id    INTEGER PRIMARY KEY,
    document_id BLOB    NOT NULL,
    received_at INTEGER NOT NULL, -- server time, ms
    worker_ref  TEXT,             -- the username of the connection it came from
    heads       BLOB    NOT NULL
);
CREATE INDEX change_batches_by_document ON change_batches (document_id, batch_id);
