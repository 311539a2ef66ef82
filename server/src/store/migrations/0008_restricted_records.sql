-- 0008: restricted records and break-glass (issue 13 part 3, domain D6).
-- Never edit a migration once released: add a new numbered file instead.

-- A restricted child: only its allocated social worker and the people named for it
-- (`restricted_named`) see it, whatever their role would otherwise give them.
CREATE TABLE restricted_children (
    child_id      INTEGER PRIMARY KEY REFERENCES children (child_id),
    restricted_at INTEGER NOT NULL, -- server time, ms
    restricted_by TEXT    NOT NULL,
    reason        TEXT    NOT NULL CHECK (length(trim(reason)) > 0)
);

-- The people named for a restricted child. Naming widens nothing beyond a person's role:
-- a named team manager of the child's team reads it as before; a named person of
-- another team still does not.
CREATE TABLE restricted_named (
    child_id  INTEGER NOT NULL REFERENCES children (child_id),
    worker_id INTEGER NOT NULL REFERENCES workers (worker_id),
    named_at  INTEGER NOT NULL,
    named_by  TEXT    NOT NULL,
    PRIMARY KEY (child_id, worker_id)
);

-- Each break-glass access: who, which child, why, from when until when. Append-only:
-- the row is the record of the access (the audit log has one too), and expiry is its
-- `expires_at` passing, never an update. Like `audit_log`, `child_id` is no foreign key:
-- the rows outlive a child deleted after retention.
CREATE TABLE break_glass (
    break_glass_id INTEGER PRIMARY KEY AUTOINCREMENT,
    child_id       INTEGER NOT NULL,
    worker_id      INTEGER NOT NULL REFERENCES workers (worker_id),
    reason         TEXT    NOT NULL CHECK (length(trim(reason)) > 0),
    granted_at     INTEGER NOT NULL, -- server time, ms
    expires_at     INTEGER NOT NULL CHECK (expires_at > granted_at)
);
CREATE INDEX break_glass_by_worker ON break_glass (worker_id, expires_at);
CREATE INDEX break_glass_by_child ON break_glass (child_id, granted_at);
CREATE TRIGGER break_glass_no_update BEFORE UPDATE ON break_glass
BEGIN SELECT RAISE(ABORT, 'break_glass is append-only'); END;
CREATE TRIGGER break_glass_no_delete BEFORE DELETE ON break_glass
BEGIN SELECT RAISE(ABORT, 'break_glass is append-only'); END;

-- Each of these changes who may read a child: live connections re-read their grants.
CREATE TRIGGER restricted_children_bump_i AFTER INSERT ON restricted_children BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER restricted_children_bump_d AFTER DELETE ON restricted_children BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER restricted_named_bump_i AFTER INSERT ON restricted_named BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER restricted_named_bump_d AFTER DELETE ON restricted_named BEGIN UPDATE directory_version SET version = version + 1; END;
CREATE TRIGGER break_glass_bump_i AFTER INSERT ON break_glass BEGIN UPDATE directory_version SET version = version + 1; END;
