-- PostgreSQL form of server/src/store/migrations/0004_sign_in_throttle_and_audit_repeats.sql.
-- 0004: sign-in failures counted per client address too, and audit rows that stand for
-- repeated identical denials. Never edit a migration once released: add a new numbered file.

-- The client's address (an IPv4 address, or an IPv6 /64 prefix) of each failed sign-in;
-- NULL when unknown (rows from before this migration, sign-ins not made over HTTP).
-- A sign-in attempt inserts its row *before* the password is checked (and removes it if
-- the password was right), so concurrent attempts all count against the limits.
ALTER TABLE login_failures ADD COLUMN address TEXT;
CREATE INDEX login_failures_by_address ON login_failures (address, at);

-- How many identical denials (same session or address, action, record and reason) a row
-- stands for. The first is appended at once with 1; repeats within the coalescing window
-- are counted in memory and appended as one more row with their number. Rows are still
-- only ever appended: the triggers of 0002 refuse UPDATE and DELETE (adding a column
-- with a constant default fires no trigger and rewrites no row).
ALTER TABLE audit_log ADD COLUMN occurrences BIGINT NOT NULL DEFAULT 1 CHECK (occurrences >= 1);
