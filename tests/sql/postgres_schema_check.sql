-- Checks a database migrated with server/src/store/postgres_migrations against the SQLite
-- schema and the behaviour of every SQLite trigger. Run by tests/sql/check_postgres_schema.sh,
-- which first loads the SQLite schema's description into temporary tables (sqlite_tables,
-- sqlite_columns, sqlite_indexes, sqlite_foreign_keys, sqlite_triggers, sqlite_checks,
-- sqlite_schema_migrations) in the same psql session.
--
-- Only for a scratch database: the behaviour checks write rows (in one transaction, rolled
-- back at the end). Every check adds a line to `results`; the script prints them all and
-- fails (psql exits non-zero under ON_ERROR_STOP) if any failed.

\set ON_ERROR_STOP 1
\pset pager off
SET client_min_messages = warning;
-- The checks' own output is their lines in `results`, printed at the end.
\o /dev/null

CREATE TEMP TABLE results (
    n      serial  PRIMARY KEY,
    area   text    NOT NULL,
    what   text    NOT NULL,
    ok     boolean NOT NULL,
    detail text
);

CREATE FUNCTION pg_temp.expect(text, text, boolean, text DEFAULT NULL) RETURNS void
LANGUAGE sql AS $$ INSERT INTO results (area, what, ok, detail) VALUES ($1, $2, coalesce($3, false), $4) $$;

-- The SQLSTATE and message a statement fails with, or 'no error'; its changes are undone
-- either way.
CREATE FUNCTION pg_temp.failure(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state   text;
    message text;
BEGIN
    BEGIN
        EXECUTE statement;
        RAISE EXCEPTION USING ERRCODE = 'DS001', MESSAGE = 'no error';
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
    END;
    RETURN CASE WHEN state = 'DS001' THEN 'no error' ELSE state || ': ' || message END;
END;
$$;

-- How many rows a statement inserted, updated or deleted; its changes are kept.
CREATE FUNCTION pg_temp.row_count(statement text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE statement;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END;
$$;

-- How far a statement moved directory_version; its changes are kept.
CREATE FUNCTION pg_temp.bumps(statement text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    before bigint;
    after  bigint;
BEGIN
    SELECT version INTO before FROM directory_version WHERE id = 1;
    EXECUTE statement;
    SELECT version INTO after FROM directory_version WHERE id = 1;
    RETURN after - before;
END;
$$;

-- A 16-byte document id, from a short name (its MD5).
CREATE FUNCTION pg_temp.doc(name text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$ SELECT decode(md5($1), 'hex') $$;

----------------------------------------------------------------------------------------
-- Part 1: the schema, compared with SQLite's.
----------------------------------------------------------------------------------------

-- Columns PostgreSQL has and SQLite does not. SQLite's login_failures has no key of its
-- own and the application deletes a row by its implicit rowid; here that is a real column.
CREATE TEMP TABLE postgres_only_columns (tbl text, name text);
INSERT INTO postgres_only_columns VALUES ('login_failures', 'rowid');

-- SQLite rowid aliases (`INTEGER PRIMARY KEY`) that are no identity here: their value is
-- always given (another table's key, or the single row 1).
CREATE TEMP TABLE plain_keys (tbl text, name text);
INSERT INTO plain_keys VALUES
    ('directory_version', 'id'),
    ('sync_credentials', 'session_id'),
    ('child_retention', 'child_id'),
    ('restricted_children', 'child_id'),
    ('schema_migrations', 'version');

CREATE TEMP VIEW postgres_tables AS
SELECT c.oid, c.relname AS tbl
FROM pg_class c
WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r';

CREATE TEMP VIEW postgres_columns AS
SELECT t.tbl,
       row_number() OVER (
           PARTITION BY t.tbl, (o.name IS NOT NULL) ORDER BY a.attnum
       )::int AS position,
       a.attname::text AS name,
       format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null,
       regexp_replace(pg_get_expr(d.adbin, d.adrelid), '::[a-z ]+$', '') AS default_value,
       coalesce(array_position(p.conkey, a.attnum), 0) AS pk_position,
       CASE WHEN a.attcollation IN (0, 100) THEN NULL ELSE co.collname::text END AS collation_name,
       a.attidentity <> '' AS is_identity,
       o.name IS NOT NULL AS postgres_only
FROM postgres_tables t
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = t.oid AND d.adnum = a.attnum
LEFT JOIN pg_constraint p ON p.conrelid = t.oid AND p.contype = 'p'
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN postgres_only_columns o ON o.tbl = t.tbl AND o.name = a.attname;

CREATE TEMP VIEW postgres_indexes AS
SELECT t.tbl,
       i.relname::text AS name,
       x.indisunique AS is_unique,
       con.contype::text AS constraint_type,
       ARRAY(
           SELECT a.attname::text
           FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k (attnum, ord)
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
           ORDER BY k.ord
       ) AS columns,
       pg_get_expr(x.indpred, x.indrelid) AS predicate
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN postgres_tables t ON t.oid = x.indrelid
LEFT JOIN pg_constraint con
       ON con.conindid = x.indexrelid AND con.conrelid = x.indrelid AND con.contype IN ('p', 'u');

CREATE TEMP VIEW postgres_foreign_keys AS
SELECT t.tbl,
       ARRAY(
           SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY AS u (attnum, ord)
           JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum ORDER BY u.ord
       ) AS columns,
       r.relname::text AS ref_tbl,
       ARRAY(
           SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY AS u (attnum, ord)
           JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum ORDER BY u.ord
       ) AS ref_columns,
       k.confupdtype::text AS on_update,
       k.confdeltype::text AS on_delete
FROM pg_constraint k
JOIN postgres_tables t ON t.oid = k.conrelid
JOIN pg_class r ON r.oid = k.confrelid
WHERE k.contype = 'f';

CREATE TEMP VIEW postgres_triggers AS
SELECT t.tbl,
       g.tgname::text AS name,
       CASE WHEN g.tgtype & 2 <> 0 THEN 'BEFORE' WHEN g.tgtype & 64 <> 0 THEN 'INSTEAD OF' ELSE 'AFTER' END AS timing,
       concat_ws(' OR ',
           CASE WHEN g.tgtype & 4 <> 0 THEN 'INSERT' END,
           CASE WHEN g.tgtype & 8 <> 0 THEN 'DELETE' END,
           CASE WHEN g.tgtype & 16 <> 0 THEN 'UPDATE' END,
           CASE WHEN g.tgtype & 32 <> 0 THEN 'TRUNCATE' END) AS event,
       g.tgtype & 1 <> 0 AS for_each_row,
       nullif(ARRAY(
           SELECT a.attname::text FROM unnest(g.tgattr::int2[]) WITH ORDINALITY AS u (attnum, ord)
           JOIN pg_attribute a ON a.attrelid = g.tgrelid AND a.attnum = u.attnum ORDER BY u.ord
       ), '{}') AS update_of,
       p.proname::text AS function,
       g.tgnargs AS argument_count
FROM pg_trigger g
JOIN postgres_tables t ON t.oid = g.tgrelid
JOIN pg_proc p ON p.oid = g.tgfoid
WHERE NOT g.tgisinternal;

-- The database compares text byte by byte, as SQLite's BINARY collation does.
SELECT pg_temp.expect('database', 'UTF8, collation and ctype C',
       pg_encoding_to_char(encoding) = 'UTF8' AND datcollate IN ('C', 'POSIX') AND datctype IN ('C', 'POSIX'),
       format('encoding %s, collate %s, ctype %s', pg_encoding_to_char(encoding), datcollate, datctype))
FROM pg_database WHERE datname = current_database();
SELECT pg_temp.expect('database', 'text sorts by bytes',
       (SELECT string_agg(x, ' ' ORDER BY x) FROM (VALUES ('b'), ('B'), ('a'), ('_'), ('-'), ('é'), ('1')) v (x))
       = '- 1 B _ a b é',
       (SELECT string_agg(x, ' ' ORDER BY x) FROM (VALUES ('b'), ('B'), ('a'), ('_'), ('-'), ('é'), ('1')) v (x)));

SELECT pg_temp.expect('schema', 'the same tables',
       NOT EXISTS (SELECT tbl FROM sqlite_tables EXCEPT SELECT tbl FROM postgres_tables)
       AND NOT EXISTS (SELECT tbl FROM postgres_tables EXCEPT SELECT tbl FROM sqlite_tables),
       format('only in SQLite: %s; only in PostgreSQL: %s',
              (SELECT string_agg(tbl, ', ') FROM (SELECT tbl FROM sqlite_tables EXCEPT SELECT tbl FROM postgres_tables) x),
              (SELECT string_agg(tbl, ', ') FROM (SELECT tbl FROM postgres_tables EXCEPT SELECT tbl FROM sqlite_tables) x)));

-- Each table's columns, in order: name, type, NOT NULL, default, place in the primary
-- key, collation and whether the database numbers it.
WITH expected AS (
    SELECT s.tbl, s.position, s.name,
           CASE s.type WHEN 'INTEGER' THEN 'bigint' WHEN 'TEXT' THEN 'text' WHEN 'BLOB' THEN 'bytea'
                       WHEN 'REAL' THEN 'double precision' ELSE '? ' || s.type END AS type,
           -- A PostgreSQL key is never NULL; SQLite lets a TEXT or BLOB key be NULL
           -- unless it says NOT NULL (see sqlite_nullable_keys below).
           s.not_null OR s.pk_position > 0 AS not_null,
           s.default_value, s.pk_position, s.collation_name,
           s.rowid_alias AND NOT EXISTS (SELECT 1 FROM plain_keys k WHERE k.tbl = s.tbl AND k.name = s.name)
               AS is_identity
    FROM sqlite_columns s
),
actual AS (
    SELECT tbl, position, name, type, not_null, default_value, pk_position, collation_name, is_identity
    FROM postgres_columns WHERE NOT postgres_only
),
differences AS (
    SELECT coalesce(e.tbl, a.tbl) AS tbl,
           CASE
               WHEN a.name IS NULL THEN format('%s only in SQLite', e.name)
               WHEN e.name IS NULL THEN format('%s only in PostgreSQL', a.name)
               ELSE format('%s: %s', e.name, concat_ws(', ',
                   CASE WHEN e.position <> a.position THEN format('position %s, not %s', a.position, e.position) END,
                   CASE WHEN e.type <> a.type THEN format('type %s, not %s', a.type, e.type) END,
                   CASE WHEN e.not_null <> a.not_null THEN format('not null %s, not %s', a.not_null, e.not_null) END,
                   CASE WHEN e.default_value IS DISTINCT FROM a.default_value
                        THEN format('default %s, not %s', a.default_value, e.default_value) END,
                   CASE WHEN e.pk_position <> a.pk_position THEN format('key position %s, not %s', a.pk_position, e.pk_position) END,
                   CASE WHEN e.collation_name IS DISTINCT FROM a.collation_name THEN format('collation %s, not %s', a.collation_name, e.collation_name) END,
                   CASE WHEN e.is_identity <> a.is_identity THEN format('identity %s, not %s', a.is_identity, e.is_identity) END))
           END AS difference,
           a.name IS NULL OR e.name IS NULL
           OR e.position <> a.position OR e.type <> a.type OR e.not_null <> a.not_null
           OR e.default_value IS DISTINCT FROM a.default_value OR e.pk_position <> a.pk_position
           OR e.collation_name IS DISTINCT FROM a.collation_name OR e.is_identity <> a.is_identity AS differs
    FROM expected e
    FULL JOIN actual a ON a.tbl = e.tbl AND a.name = e.name
)
SELECT pg_temp.expect('columns', format('%s (%s columns)', tbl, count(*)),
       NOT bool_or(differs), string_agg(difference, '; ') FILTER (WHERE differs))
FROM differences GROUP BY tbl ORDER BY tbl;

SELECT pg_temp.expect('columns', format('%s.%s (PostgreSQL only): the first column, the bigint identity key', c.tbl, c.name),
       a.attnum = 1 AND c.type = 'bigint' AND c.not_null AND c.pk_position = 1 AND c.is_identity
       AND NOT EXISTS (SELECT 1 FROM postgres_columns k WHERE k.tbl = c.tbl AND k.name <> c.name AND k.pk_position > 0),
       format('column %s, %s, key position %s, identity %s', a.attnum, c.type, c.pk_position, c.is_identity))
FROM postgres_columns c
JOIN pg_attribute a ON a.attrelid = c.tbl::regclass AND a.attname = c.name
WHERE c.postgres_only;

-- Indexes made with CREATE INDEX: name, uniqueness, columns and WHERE clause.
WITH expected AS (
    SELECT tbl, name, is_unique, columns,
           trim(lower(regexp_replace(predicate, '[()[:space:]]+', ' ', 'g'))) AS predicate
    FROM sqlite_indexes WHERE origin = 'c'
),
actual AS (
    SELECT tbl, name, is_unique, columns,
           trim(lower(regexp_replace(predicate, '[()[:space:]]+', ' ', 'g'))) AS predicate
    FROM postgres_indexes WHERE constraint_type IS NULL
)
SELECT pg_temp.expect('indexes', format('%s indexes made by CREATE INDEX', (SELECT count(*) FROM expected)),
       NOT EXISTS (SELECT * FROM expected EXCEPT SELECT * FROM actual)
       AND NOT EXISTS (SELECT * FROM actual EXCEPT SELECT * FROM expected),
       format('only in SQLite: %s; only in PostgreSQL: %s',
              (SELECT string_agg(format('%s.%s %s', tbl, name, columns), ', ') FROM (SELECT * FROM expected EXCEPT SELECT * FROM actual) x),
              (SELECT string_agg(format('%s.%s %s', tbl, name, columns), ', ') FROM (SELECT * FROM actual EXCEPT SELECT * FROM expected) x)));

-- UNIQUE constraints, by table and columns (their index names differ by design).
WITH expected AS (SELECT tbl, columns FROM sqlite_indexes WHERE origin = 'u'),
     actual AS (SELECT tbl, columns FROM postgres_indexes WHERE constraint_type = 'u')
SELECT pg_temp.expect('indexes', format('%s UNIQUE constraints', (SELECT count(*) FROM expected)),
       NOT EXISTS (SELECT * FROM expected EXCEPT SELECT * FROM actual)
       AND NOT EXISTS (SELECT * FROM actual EXCEPT SELECT * FROM expected),
       format('only in SQLite: %s; only in PostgreSQL: %s',
              (SELECT string_agg(format('%s %s', tbl, columns), ', ') FROM (SELECT * FROM expected EXCEPT SELECT * FROM actual) x),
              (SELECT string_agg(format('%s %s', tbl, columns), ', ') FROM (SELECT * FROM actual EXCEPT SELECT * FROM expected) x)));

-- Foreign keys: columns, the table and columns they refer to, and their actions.
WITH expected AS (
    SELECT tbl, columns, ref_tbl, ref_columns,
           CASE on_update WHEN 'NO ACTION' THEN 'a' WHEN 'RESTRICT' THEN 'r' WHEN 'CASCADE' THEN 'c'
                          WHEN 'SET NULL' THEN 'n' WHEN 'SET DEFAULT' THEN 'd' END AS on_update,
           CASE on_delete WHEN 'NO ACTION' THEN 'a' WHEN 'RESTRICT' THEN 'r' WHEN 'CASCADE' THEN 'c'
                          WHEN 'SET NULL' THEN 'n' WHEN 'SET DEFAULT' THEN 'd' END AS on_delete
    FROM sqlite_foreign_keys
),
actual AS (SELECT tbl, columns, ref_tbl, ref_columns, on_update, on_delete FROM postgres_foreign_keys)
SELECT pg_temp.expect('foreign keys', format('%s foreign keys', (SELECT count(*) FROM expected)),
       NOT EXISTS (SELECT * FROM expected EXCEPT SELECT * FROM actual)
       AND NOT EXISTS (SELECT * FROM actual EXCEPT SELECT * FROM expected),
       format('only in SQLite: %s; only in PostgreSQL: %s',
              (SELECT string_agg(format('%s %s -> %s', tbl, columns, ref_tbl), ', ') FROM (SELECT * FROM expected EXCEPT SELECT * FROM actual) x),
              (SELECT string_agg(format('%s %s -> %s', tbl, columns, ref_tbl), ', ') FROM (SELECT * FROM actual EXCEPT SELECT * FROM expected) x)));

-- CHECK constraints, counted per table (their behaviour is checked in part 2).
WITH actual AS (
    SELECT t.tbl, count(k.oid)::int AS checks
    FROM postgres_tables t LEFT JOIN pg_constraint k ON k.conrelid = t.oid AND k.contype = 'c'
    GROUP BY t.tbl
)
SELECT pg_temp.expect('checks', format('CHECK constraints of %s tables (%s in all)', count(*), sum(s.checks)),
       bool_and(s.checks = a.checks),
       string_agg(format('%s: %s, not %s', s.tbl, a.checks, s.checks), '; ') FILTER (WHERE s.checks <> a.checks))
FROM sqlite_checks s JOIN actual a USING (tbl);

-- Triggers: the same names on the same tables, at the same time, on the same event (and
-- the same UPDATE OF columns), row by row as all SQLite triggers are. PostgreSQL adds one
-- BEFORE TRUNCATE trigger per append-only table, as TRUNCATE fires no row trigger.
WITH expected AS (SELECT tbl, name, timing, event, true AS for_each_row, update_of FROM sqlite_triggers),
     actual AS (SELECT tbl, name, timing, event, for_each_row, update_of FROM postgres_triggers
                WHERE event <> 'TRUNCATE')
SELECT pg_temp.expect('triggers', format('%s SQLite triggers', (SELECT count(*) FROM expected)),
       NOT EXISTS (SELECT * FROM expected EXCEPT SELECT * FROM actual)
       AND NOT EXISTS (SELECT * FROM actual EXCEPT SELECT * FROM expected),
       format('only in SQLite: %s; only in PostgreSQL: %s',
              (SELECT string_agg(format('%s.%s %s %s', tbl, name, timing, event), ', ') FROM (SELECT * FROM expected EXCEPT SELECT * FROM actual) x),
              (SELECT string_agg(format('%s.%s %s %s', tbl, name, timing, event), ', ') FROM (SELECT * FROM actual EXCEPT SELECT * FROM expected) x)));
WITH expected AS (
         SELECT tbl, tbl || '_no_truncate' AS name FROM sqlite_triggers WHERE name = tbl || '_no_delete'
     ),
     actual AS (
         SELECT tbl, name FROM postgres_triggers
         WHERE event = 'TRUNCATE' AND timing = 'BEFORE' AND NOT for_each_row
           AND function = 'refuse_append_only_change' AND argument_count = 1
     )
SELECT pg_temp.expect('triggers', format('%s BEFORE TRUNCATE triggers, one per append-only table',
                                         (SELECT count(*) FROM expected)),
       NOT EXISTS (SELECT * FROM expected EXCEPT SELECT * FROM actual)
       AND NOT EXISTS (SELECT * FROM actual EXCEPT SELECT * FROM expected)
       AND (SELECT count(*) FROM postgres_triggers WHERE event = 'TRUNCATE') = (SELECT count(*) FROM expected),
       (SELECT string_agg(tbl, ', ') FROM expected));
WITH kinds AS (
    SELECT tbl, name, function,
           (name ~ '_no_(update|delete|truncate)$' AND function = 'refuse_append_only_change' AND argument_count = 1)
           OR (name ~ '_bump_[iud]$' AND function = 'bump_directory_version' AND argument_count = 0)
           OR (name ~ '^erased_' AND function = 'drop_erased_document_insert' AND argument_count = 0) AS fits
    FROM postgres_triggers
)
SELECT pg_temp.expect('triggers', format('each of the %s triggers runs the function of its kind', count(*)),
       bool_and(fits), string_agg(format('%s.%s runs %s', tbl, name, function), ', ') FILTER (WHERE NOT fits))
FROM kinds;

SELECT pg_temp.expect('ledger', 'schema_migrations holds the same versions',
       (SELECT array_agg(version ORDER BY version) FROM schema_migrations)
       = (SELECT array_agg(version ORDER BY version) FROM sqlite_schema_migrations),
       (SELECT array_agg(version ORDER BY version)::text FROM schema_migrations));

-- For the report: the keys SQLite lets be NULL (a TEXT or BLOB key without NOT NULL), which
-- PostgreSQL never does. Listed, not failed.
SELECT pg_temp.expect('schema (information)', 'SQLite keys that may be NULL there, never here', true,
       string_agg(format('%s.%s', tbl, name), ', ' ORDER BY tbl, name))
FROM sqlite_columns WHERE pk_position > 0 AND NOT not_null AND NOT rowid_alias;

SELECT pg_temp.expect('data', 'server_meta.storage_id is 32 lowercase hex digits',
       (SELECT value ~ '^[0-9a-f]{32}$' FROM server_meta WHERE key = 'storage_id'),
       (SELECT value FROM server_meta WHERE key = 'storage_id'));
SELECT pg_temp.expect('data', 'directory_version starts as (1, 0)',
       (SELECT array_agg(ARRAY[id, version]) FROM directory_version) = ARRAY[ARRAY[1, 0]]::bigint[],
       (SELECT array_agg(ARRAY[id, version])::text FROM directory_version));

----------------------------------------------------------------------------------------
-- Part 2: behaviour, in one transaction rolled back at the end.
----------------------------------------------------------------------------------------
BEGIN;

-- Directory version bumps, with the rows later checks use. Like SQLite's, the triggers
-- fire once per row: an UPDATE of two rows bumps twice, of none not at all.
SELECT pg_temp.expect('bumps', 'teams: INSERT does not bump',
       pg_temp.bumps($$INSERT INTO teams (name, created_at) VALUES ('North', 0), ('South', 0)$$) = 0);
SELECT pg_temp.expect('bumps', 'workers_bump_i: INSERT of four workers bumps 4',
       pg_temp.bumps($$INSERT INTO workers (username, display_name, role, team_id, password_hash, created_at)
                       SELECT u, d, r, (SELECT team_id FROM teams WHERE name = 'North'), 'hash', 0
                       FROM (VALUES ('sw-north-1', 'Sam', 'social-worker'), ('mgr-north', 'Morgan', 'team-manager'),
                                    ('records-1', 'Rene', 'records-officer'), ('leaver', 'Lee', 'admin')) v (u, d, r)$$) = 4);
SELECT pg_temp.expect('bumps', 'workers_bump_u: UPDATE of two rows bumps 2',
       pg_temp.bumps($$UPDATE workers SET active = active WHERE username IN ('sw-north-1', 'mgr-north')$$) = 2);
SELECT pg_temp.expect('bumps', 'workers_bump_u: UPDATE of no row does not bump',
       pg_temp.bumps($$UPDATE workers SET active = 0 WHERE username = 'nobody'$$) = 0);
SELECT pg_temp.expect('bumps', 'workers_bump_d: DELETE bumps',
       pg_temp.bumps($$DELETE FROM workers WHERE username = 'leaver'$$) = 1);
SELECT pg_temp.expect('bumps', 'children: INSERT does not bump',
       pg_temp.bumps($$INSERT INTO children (child_ref, team_id, document_id, created_at)
                       SELECT r, (SELECT team_id FROM teams WHERE name = 'North'), d, 0
                       FROM (VALUES ('C-1', pg_temp.doc('child C-1')), ('C-2', NULL::bytea),
                                    ('C-3', NULL), ('C-gone', NULL)) v (r, d)$$) = 0);
SELECT pg_temp.expect('bumps', 'children_bump_u: UPDATE bumps',
       pg_temp.bumps($$UPDATE children SET team_id = team_id WHERE child_ref = 'C-2'$$) = 1);
SELECT pg_temp.expect('bumps', 'children_bump_d: DELETE bumps',
       pg_temp.bumps($$DELETE FROM children WHERE child_ref = 'C-gone'$$) = 1);
SELECT pg_temp.expect('bumps', 'allocations_bump_i: INSERT bumps',
       pg_temp.bumps($$INSERT INTO allocations (child_id, worker_id, started_at)
                       SELECT c.child_id, w.worker_id, 0 FROM children c, workers w
                       WHERE c.child_ref IN ('C-1', 'C-2') AND w.username = 'sw-north-1'$$) = 2);
SELECT pg_temp.expect('bumps', 'allocations_bump_u: UPDATE bumps',
       pg_temp.bumps($$UPDATE allocations SET ended_at = 5
                       WHERE child_id = (SELECT child_id FROM children WHERE child_ref = 'C-2')$$) = 1);
SELECT pg_temp.expect('bumps', 'allocations_bump_d: DELETE bumps',
       pg_temp.bumps($$DELETE FROM allocations WHERE ended_at = 5$$) = 1);
SELECT pg_temp.expect('bumps', 'devices: INSERT does not bump',
       pg_temp.bumps($$INSERT INTO devices (device_id, worker_id, label, created_at)
                       SELECT 'tablet', worker_id, 'Tablet', 0 FROM workers WHERE username = 'sw-north-1'$$) = 0);
SELECT pg_temp.expect('bumps', 'devices_bump_u: UPDATE bumps',
       pg_temp.bumps($$UPDATE devices SET last_seen_at = 1 WHERE device_id = 'tablet'$$) = 1);
SELECT pg_temp.expect('bumps', 'sessions: INSERT does not bump',
       pg_temp.bumps($$INSERT INTO sessions (token_hash, refresh_hash, worker_id, device_id, created_at,
                                             expires_at, refresh_expires_at)
                       SELECT '\x01', '\x02', worker_id, 'tablet', 0, 10, 20 FROM workers WHERE username = 'sw-north-1'$$) = 0);
SELECT pg_temp.expect('bumps', 'sessions_bump_u: UPDATE bumps',
       pg_temp.bumps($$UPDATE sessions SET revoked_at = 3$$) = 1);
SELECT pg_temp.expect('bumps', 'child_documents_bump_i: INSERT bumps',
       pg_temp.bumps($$INSERT INTO child_documents (document_id, child_id, kind, created_by, created_at)
                       SELECT pg_temp.doc('visit 1'), child_id, 'visit', NULL, 0 FROM children WHERE child_ref = 'C-1'$$) = 1);
SELECT pg_temp.expect('bumps', 'child_documents_bump_u: UPDATE OF child_id bumps, even to the same value',
       pg_temp.bumps($$UPDATE child_documents SET child_id = child_id WHERE document_id = pg_temp.doc('visit 1')$$) = 1);
SELECT pg_temp.expect('bumps', 'child_documents_bump_u: UPDATE OF child_id bumps when moved',
       pg_temp.bumps($$UPDATE child_documents SET child_id = (SELECT child_id FROM children WHERE child_ref = 'C-2')
                       WHERE document_id = pg_temp.doc('visit 1')$$) = 1);
SELECT pg_temp.expect('bumps', 'child_documents: UPDATE of other columns does not bump',
       pg_temp.bumps($$UPDATE child_documents SET created_at = 7$$) = 0);
SELECT pg_temp.expect('bumps', 'child_documents: the upsert that moves a visit bumps once (UPDATE OF child_id)',
       pg_temp.bumps($$INSERT INTO child_documents (document_id, child_id, kind, created_by, created_at)
                       SELECT pg_temp.doc('visit 1'), child_id, 'visit', NULL, 9 FROM children WHERE child_ref = 'C-1'
                       ON CONFLICT (document_id) DO UPDATE SET child_id = excluded.child_id$$) = 1);
SELECT pg_temp.expect('bumps', 'restricted_children_bump_i: INSERT bumps',
       pg_temp.bumps($$INSERT INTO restricted_children (child_id, restricted_at, restricted_by, reason)
                       SELECT child_id, 0, 'admin-cli', 'high profile' FROM children WHERE child_ref = 'C-3'$$) = 1);
SELECT pg_temp.expect('bumps', 'restricted_children: the upsert that updates does not bump (as in SQLite)',
       pg_temp.bumps($$INSERT INTO restricted_children (child_id, restricted_at, restricted_by, reason)
                       SELECT child_id, 1, 'admin-cli', 'still' FROM children WHERE child_ref = 'C-3'
                       ON CONFLICT (child_id) DO UPDATE SET restricted_at = 1, reason = 'still'$$) = 0);
SELECT pg_temp.expect('bumps', 'restricted_named_bump_i: INSERT bumps',
       pg_temp.bumps($$INSERT INTO restricted_named (child_id, worker_id, named_at, named_by)
                       SELECT c.child_id, w.worker_id, 0, 'admin-cli' FROM children c, workers w
                       WHERE c.child_ref = 'C-3' AND w.username IN ('sw-north-1', 'mgr-north')$$) = 2);
SELECT pg_temp.expect('bumps', 'restricted_named: a duplicate ON CONFLICT DO NOTHING does not bump',
       pg_temp.bumps($$INSERT INTO restricted_named (child_id, worker_id, named_at, named_by)
                       SELECT c.child_id, w.worker_id, 0, 'admin-cli' FROM children c, workers w
                       WHERE c.child_ref = 'C-3' AND w.username = 'sw-north-1' ON CONFLICT DO NOTHING$$) = 0);
SELECT pg_temp.expect('bumps', 'restricted_named_bump_d: DELETE bumps',
       pg_temp.bumps($$DELETE FROM restricted_named
                       WHERE worker_id = (SELECT worker_id FROM workers WHERE username = 'mgr-north')$$) = 1);
SELECT pg_temp.expect('bumps', 'restricted_children_bump_d: DELETE bumps',
       pg_temp.bumps($$DELETE FROM restricted_named; DELETE FROM restricted_children$$) = 2);
SELECT pg_temp.expect('bumps', 'break_glass_bump_i: INSERT bumps',
       pg_temp.bumps($$INSERT INTO break_glass (child_id, worker_id, reason, granted_at, expires_at)
                       SELECT 3, worker_id, 'emergency', 0, 100 FROM workers WHERE username = 'mgr-north'$$) = 1);
SELECT pg_temp.expect('bumps', 'device_reports, sync_credentials, child_retention: no bump',
       pg_temp.bumps($$INSERT INTO device_reports (device_id, unsent, reported_at) VALUES ('tablet', 2, 0);
                       INSERT INTO sync_credentials (session_id, credential_hash, created_at)
                           SELECT session_id, '\x03', 0 FROM sessions;
                       INSERT INTO child_retention (child_id, date_of_death) SELECT child_id, NULL FROM children WHERE child_ref = 'C-3'$$) = 0);

-- Append-only tables: UPDATE, DELETE and TRUNCATE fail with SQLite's message; an UPDATE
-- of no row is no error (no row trigger fires), as in SQLite.
INSERT INTO audit_log (at, actor, action, outcome) VALUES (0, 'system', 'test', 'allowed');
INSERT INTO retention_deletions (child_ref, deleted_at, actor, reason, retain_until, documents)
VALUES ('C-old', 0, 'records-1', 'retention ended', '2020-01-01', 'a'),
       ('C-older', 0, 'records-1', 'retention ended', '2019-01-01', 'b');
INSERT INTO record_corrections (kind, document_id, replacement_id, from_child_ref, to_child_ref, corrected_at,
                                actor, actor_name, reason, server_had)
VALUES ('expunged', pg_temp.doc('expunged'), pg_temp.doc('replacement'), 'C-1', 'C-1', 0, 'mgr-north', 'Morgan',
        'wrong child named', '\x00'),
       ('moved', pg_temp.doc('visit 1'), NULL, 'C-2', 'C-1', 0, 'mgr-north', 'Morgan', 'misfiled', NULL);
INSERT INTO erased_documents (document_id, deletion_id, correction_id)
VALUES (pg_temp.doc('deleted'), (SELECT min(deletion_id) FROM retention_deletions), NULL),
       (pg_temp.doc('expunged'), NULL, (SELECT min(correction_id) FROM record_corrections));

WITH append_only (t, c) AS (
    VALUES ('audit_log', 'detail'), ('retention_deletions', 'reason'), ('erased_documents', 'document_id'),
           ('break_glass', 'reason'), ('record_corrections', 'reason')
),
cases (t, what, statement, expected) AS (
    SELECT t, 'UPDATE refused', format('UPDATE %1$I SET %2$I = %2$I', t, c), format('23000: %s is append-only', t)
    FROM append_only
    UNION ALL
    SELECT t, 'DELETE refused', format('DELETE FROM %I', t), format('23000: %s is append-only', t) FROM append_only
    UNION ALL
    SELECT t, 'TRUNCATE ... CASCADE refused', format('TRUNCATE %I CASCADE', t), format('23000: %s is append-only', t)
    FROM append_only
    UNION ALL
    SELECT t, 'UPDATE and DELETE of no row are no error, as in SQLite',
           format('UPDATE %1$I SET %2$I = %2$I WHERE false; DELETE FROM %1$I WHERE false', t, c), 'no error'
    FROM append_only
)
SELECT pg_temp.expect('append-only', format('%s: %s', t, what),
       pg_temp.failure(statement) = expected, pg_temp.failure(statement))
FROM cases ORDER BY t, what;
SELECT pg_temp.expect('append-only', 'the rows are all still there',
       (SELECT count(*) FROM audit_log) = 1 AND (SELECT count(*) FROM retention_deletions) = 2
       AND (SELECT count(*) FROM erased_documents) = 2 AND (SELECT count(*) FROM break_glass) = 1
       AND (SELECT count(*) FROM record_corrections) = 2);

-- Erased documents: a later INSERT for one is silently dropped (by a deletion after
-- retention or by an expunge), the other rows of the same statement are written, an
-- upsert of an existing row changes nothing, and a dropped child_documents row does not
-- bump the directory version.
CREATE TEMP TABLE erased_cases (tbl text, trigger_name text, columns text, tuple text, upsert text);
INSERT INTO erased_cases VALUES
    ('document_chunks', 'erased_chunks', '(document_id, kind, data, written_at)',
     $$(%s, 'changes', '\x00', 0)$$, NULL),
    ('child_documents', 'erased_index', '(document_id, child_id, kind, created_at)',
     $$(%s, (SELECT child_id FROM children WHERE child_ref = 'C-1'), 'visit', 0)$$,
     'ON CONFLICT (document_id) DO UPDATE SET child_id = excluded.child_id'),
    ('change_batches', 'erased_batches', '(document_id, received_at, heads)',
     $$(%s, 0, '\x00')$$, NULL),
    ('proj_children', 'erased_proj_children', '(document_id, child_ref)',
     $$(%s, 'C-1')$$, 'ON CONFLICT (document_id) DO UPDATE SET child_ref = excluded.child_ref'),
    ('proj_placements', 'erased_proj_placements', '(document_id, placement_id, child_ref)',
     $$(%s, 'p-1', 'C-1')$$, 'ON CONFLICT (document_id, placement_id) DO UPDATE SET child_ref = excluded.child_ref'),
    ('proj_reviews', 'erased_proj_reviews', '(document_id, review_id, child_ref)',
     $$(%s, 'r-1', 'C-1')$$, 'ON CONFLICT (document_id, review_id) DO UPDATE SET child_ref = excluded.child_ref'),
    ('proj_visits', 'erased_proj_visits', '(document_id, visit_id, child_ref, worker_ref, review_state, late, heads)',
     $$(%s, 'v-1', 'C-1', 'sw-north-1', 'draft', 0, '')$$,
     'ON CONFLICT (document_id) DO UPDATE SET review_state = excluded.review_state'),
    ('proj_actions', 'erased_proj_actions', '(document_id, action_id, child_ref, description, owner_name)',
     $$(%s, 'a-1', 'C-1', 'call school', 'Sam')$$,
     'ON CONFLICT (document_id, action_id) DO UPDATE SET description = excluded.description'),
    ('proj_sign_offs', 'erased_proj_sign_offs', '(document_id, entry_id, decision, comment, manager_ref, heads, at)',
     $$(%s, 'e-1', 'signOff', 'fine', 'mgr-north', '', 0)$$,
     'ON CONFLICT (document_id, entry_id) DO UPDATE SET comment = excluded.comment'),
    ('proj_amendments', 'erased_proj_amendments', '(document_id, entry_id, reason, worker_ref, at)',
     $$(%s, 'e-1', 'typo', 'sw-north-1', 0)$$,
     'ON CONFLICT (document_id, entry_id) DO UPDATE SET reason = excluded.reason'),
    ('sar_redactions', 'erased_redactions', '(child_id, document_id, field, reason, created_by, created_at)',
     $$((SELECT child_id FROM children WHERE child_ref = 'C-1'), %s, 'Child''s words', 'third-party',
        (SELECT worker_id FROM workers WHERE username = 'records-1'), 0)$$, NULL);

SELECT pg_temp.expect('erased', format('%s: every table with a document id has its drop trigger', count(*)),
       count(*) = 11 AND bool_and(EXISTS (SELECT 1 FROM postgres_triggers p
                                          WHERE p.tbl = e.tbl AND p.name = e.trigger_name)))
FROM erased_cases e;

CREATE FUNCTION pg_temp.literal(name text) RETURNS text LANGUAGE sql AS
$$ SELECT format('decode(%L, ''hex'')', encode(pg_temp.doc($1), 'hex')) $$;

DO $$
DECLARE
    c      erased_cases;
    head   text;
    n      bigint;
    before bigint;
BEGIN
    FOR c IN SELECT * FROM erased_cases LOOP
        -- An error (a trigger missing, say) fails this table's checks, not the script.
        BEGIN
            head := format('INSERT INTO %I %s VALUES ', c.tbl, c.columns);
            n := pg_temp.row_count(head || format(c.tuple, pg_temp.literal('deleted')));
            PERFORM pg_temp.expect('erased', format('%s (%s): a document deleted after retention is dropped',
                                                    c.tbl, c.trigger_name), n = 0, format('%s rows', n));
            n := pg_temp.row_count(head || format(c.tuple, pg_temp.literal('expunged')));
            PERFORM pg_temp.expect('erased', format('%s (%s): an expunged document is dropped', c.tbl, c.trigger_name),
                                   n = 0, format('%s rows', n));
            n := pg_temp.row_count(head || format(c.tuple, pg_temp.literal('deleted')) || ', '
                                   || format(c.tuple, pg_temp.literal(c.tbl || ' live')));
            PERFORM pg_temp.expect('erased', format('%s (%s): the statement''s other rows are written',
                                                    c.tbl, c.trigger_name), n = 1, format('%s rows', n));
            EXECUTE format('SELECT count(*) FROM %I WHERE document_id IN (%s, %s)', c.tbl,
                           pg_temp.literal('deleted'), pg_temp.literal('expunged')) INTO n;
            PERFORM pg_temp.expect('erased', format('%s (%s): no row of an erased document', c.tbl, c.trigger_name),
                                   n = 0, format('%s rows', n));
            IF c.upsert IS NOT NULL THEN
                -- A row written before its document was erased (the erasing code deletes it;
                -- this checks the trigger alone): an upsert leaves it as it is.
                PERFORM pg_temp.row_count(head || format(c.tuple, pg_temp.literal(c.tbl || ' erased later')));
                INSERT INTO erased_documents (document_id, deletion_id)
                VALUES (pg_temp.doc(c.tbl || ' erased later'), (SELECT min(deletion_id) FROM retention_deletions));
                SELECT version INTO before FROM directory_version;
                n := pg_temp.row_count(head || format(c.tuple, pg_temp.literal(c.tbl || ' erased later')) || ' ' || c.upsert);
                PERFORM pg_temp.expect('erased', format('%s (%s): an upsert of an erased document changes nothing',
                                                        c.tbl, c.trigger_name),
                                       n = 0 AND (SELECT version FROM directory_version) = before, format('%s rows', n));
            END IF;
        EXCEPTION WHEN OTHERS THEN
            PERFORM pg_temp.expect('erased', format('%s (%s): the checks ran', c.tbl, c.trigger_name), false,
                                   SQLSTATE || ': ' || SQLERRM);
        END;
    END LOOP;
END;
$$;

SELECT pg_temp.expect('erased', 'child_documents: a dropped row fires no AFTER trigger (no bump)',
       pg_temp.bumps($$INSERT INTO child_documents (document_id, child_id, kind, created_at)
                       SELECT pg_temp.doc('deleted'), child_id, 'visit', 0 FROM children WHERE child_ref = 'C-1'$$) = 0);
WITH written AS (
    INSERT INTO document_chunks (document_id, kind, data, written_at)
    VALUES (pg_temp.doc('expunged'), 'snapshot', '\x00', 0) RETURNING id
)
SELECT pg_temp.expect('erased', 'document_chunks: INSERT ... RETURNING gives no row for a dropped one',
       (SELECT count(*) FROM written) = 0);
SELECT pg_temp.expect('erased', 'sar_redactions: a redaction naming no document is written',
       pg_temp.row_count($$INSERT INTO sar_redactions (child_id, document_id, passage, reason, created_by, created_at)
                           SELECT c.child_id, NULL, 'a name', 'serious-harm', w.worker_id, 0
                           FROM children c, workers w WHERE c.child_ref = 'C-1' AND w.username = 'records-1'$$) = 1);
SELECT pg_temp.expect('erased', 'an UPDATE to an erased document id is not dropped (the triggers are BEFORE INSERT only, as in SQLite)',
       pg_temp.row_count($$UPDATE proj_children SET document_id = pg_temp.doc('deleted')
                           WHERE document_id = pg_temp.doc('proj_children live')$$) = 1);

-- erased_documents after 0009: seq numbers in insert order, exactly one origin.
SELECT pg_temp.expect('erased_documents', 'seq numbers erasures in the order they were written',
       (SELECT (array_agg(document_id ORDER BY seq))[1:2] FROM erased_documents)
       = ARRAY[pg_temp.doc('deleted'), pg_temp.doc('expunged')]
       AND (SELECT count(DISTINCT seq) = count(*) FROM erased_documents));
SELECT pg_temp.expect('erased_documents', format('%s refused: %s', what, expected),
       pg_temp.failure(statement) LIKE expected || '%', pg_temp.failure(statement))
FROM (VALUES
    ('both a deletion and a correction',
     $$INSERT INTO erased_documents (document_id, deletion_id, correction_id) VALUES (pg_temp.doc('x'), 1, 1)$$, '23514:'),
    ('neither a deletion nor a correction',
     $$INSERT INTO erased_documents (document_id) VALUES (pg_temp.doc('x'))$$, '23514:'),
    ('the same document twice',
     $$INSERT INTO erased_documents (document_id, deletion_id) VALUES (pg_temp.doc('deleted'), 1)$$, '23505:'),
    ('a 15-byte id', $$INSERT INTO erased_documents (document_id, deletion_id) VALUES ('\x0102030405060708090a0b0c0d0e0f', 1)$$, '23514:'),
    ('a deletion that does not exist',
     $$INSERT INTO erased_documents (document_id, deletion_id) VALUES (pg_temp.doc('x'), 999999)$$, '23503:')
) v (what, statement, expected);

-- Constraints the application relies on.
SELECT pg_temp.expect('constraints', format('%s: %s', what, coalesce(expected, 'accepted')),
       CASE WHEN expected IS NULL THEN pg_temp.failure(statement) = 'no error'
            ELSE pg_temp.failure(statement) LIKE expected || '%' END,
       pg_temp.failure(statement))
FROM (VALUES
    ('workers: role records-officer (0007)',
     $$INSERT INTO workers (username, display_name, role, password_hash, created_at) VALUES ('ro-2', 'R', 'records-officer', 'h', 0)$$, NULL),
    ('workers: an unknown role', $$INSERT INTO workers (username, display_name, role, password_hash, created_at) VALUES ('x', 'X', 'janitor', 'h', 0)$$, '23514:'),
    ('workers: a username differing only in case',
     $$INSERT INTO workers (username, display_name, role, password_hash, created_at) VALUES ('SW-NORTH-1', 'Dup', 'admin', 'h', 0)$$, '23505:'),
    ('teams: a duplicate name', $$INSERT INTO teams (name, created_at) VALUES ('North', 1)$$, '23505:'),
    ('children: two without a document (UNIQUE allows many NULLs)',
     $$INSERT INTO children (child_ref, created_at) VALUES ('C-n1', 0), ('C-n2', 0)$$, NULL),
    ('children: a 15-byte document id', $$INSERT INTO children (child_ref, document_id, created_at) VALUES ('C-x', '\x01', 0)$$, '23514:'),
    ('allocations: a second current allocation of the same pair',
     $$INSERT INTO allocations (child_id, worker_id, started_at) SELECT child_id, worker_id, 1 FROM allocations WHERE ended_at IS NULL$$, '23505:'),
    ('allocations: a worker that does not exist (foreign keys always on)',
     $$INSERT INTO allocations (child_id, worker_id, started_at) SELECT child_id, 999999, 0 FROM children WHERE child_ref = 'C-1'$$, '23503:'),
    ('children: deleting a child that documents refer to',
     $$DELETE FROM children WHERE child_ref = 'C-1'$$, '23503:'),
    ('child_documents: an unknown kind',
     $$INSERT INTO child_documents (document_id, child_id, kind, created_at) SELECT pg_temp.doc('k'), child_id, 'note', 0 FROM children WHERE child_ref = 'C-1'$$, '23514:'),
    ('document_chunks: an unknown kind', $$INSERT INTO document_chunks (document_id, kind, data, written_at) VALUES (pg_temp.doc('k'), 'delta', '\x00', 0)$$, '23514:'),
    ('document_chunks: a 17-byte document id', $$INSERT INTO document_chunks (document_id, kind, data, written_at) VALUES ('\x0102030405060708090a0b0c0d0e0f1011', 'changes', '\x00', 0)$$, '23514:'),
    ('proj_visits: a 15-byte document id', $$INSERT INTO proj_visits (document_id, visit_id, child_ref, worker_ref, review_state, late, heads) VALUES ('\x01', 'v', 'C-1', 'w', 'draft', 0, '')$$, '23514:'),
    ('audit_log: occurrences 0', $$INSERT INTO audit_log (at, action, outcome, occurrences) VALUES (0, 'x', 'denied', 0)$$, '23514:'),
    ('audit_log: an unknown outcome', $$INSERT INTO audit_log (at, action, outcome) VALUES (0, 'x', 'maybe')$$, '23514:'),
    ('directory_version: a second row', $$INSERT INTO directory_version (id, version) VALUES (2, 0)$$, '23514:'),
    ('record_corrections: a move with a replacement',
     $$INSERT INTO record_corrections (kind, document_id, replacement_id, from_child_ref, to_child_ref, corrected_at, actor, actor_name, reason) VALUES ('moved', pg_temp.doc('m'), pg_temp.doc('n'), 'a', 'b', 0, 'x', 'X', 'r')$$, '23514:'),
    ('record_corrections: an expunge without a replacement',
     $$INSERT INTO record_corrections (kind, document_id, from_child_ref, to_child_ref, corrected_at, actor, actor_name, reason) VALUES ('expunged', pg_temp.doc('m'), 'a', 'a', 0, 'x', 'X', 'r')$$, '23514:'),
    ('break_glass: expiring when granted',
     $$INSERT INTO break_glass (child_id, worker_id, reason, granted_at, expires_at) SELECT 1, worker_id, 'r', 5, 5 FROM workers WHERE username = 'mgr-north'$$, '23514:'),
    ('break_glass: a blank reason',
     $$INSERT INTO break_glass (child_id, worker_id, reason, granted_at, expires_at) SELECT 1, worker_id, '   ', 0, 5 FROM workers WHERE username = 'mgr-north'$$, '23514:'),
    ('restricted_children: a blank reason',
     $$INSERT INTO restricted_children (child_id, restricted_at, restricted_by, reason) SELECT child_id, 0, 'a', ' ' FROM children WHERE child_ref = 'C-2'$$, '23514:'),
    ('sar_redactions: neither field nor passage',
     $$INSERT INTO sar_redactions (child_id, reason, created_by, created_at) SELECT 1, 'third-party', worker_id, 0 FROM workers WHERE username = 'records-1'$$, '23514:'),
    ('sar_redactions: an unknown reason',
     $$INSERT INTO sar_redactions (child_id, field, reason, created_by, created_at) SELECT c.child_id, 'f', 'other', w.worker_id, 0 FROM children c, workers w WHERE c.child_ref = 'C-1' AND w.username = 'records-1'$$, '23514:'),
    ('sync_credentials: the same credential for two sessions',
     $$INSERT INTO sessions (token_hash, worker_id, device_id, created_at, expires_at, refresh_expires_at) SELECT '\x09', worker_id, 'tablet', 0, 1, 2 FROM workers WHERE username = 'sw-north-1';
       INSERT INTO sync_credentials (session_id, credential_hash, created_at) SELECT max(session_id), '\x03', 0 FROM sessions$$, '23505:'),
    ('device_reports: a device that does not exist', $$INSERT INTO device_reports (device_id, unsent, reported_at) VALUES ('phone', 1, 0)$$, '23503:')
) v (what, statement, expected);

-- SQLite's NOCASE, as the application uses it.
SELECT pg_temp.expect('nocase', 'workers.username compares without case',
       (SELECT count(*) FROM workers WHERE username = 'SW-North-1') = 1);
SELECT pg_temp.expect('nocase', 'an explicit COLLATE NOCASE parses and applies (sign_in.rs)',
       pg_temp.failure($$SELECT count(*), min(at) FROM login_failures WHERE username = 'X' COLLATE NOCASE AND at > 0$$) = 'no error'
       AND (SELECT 'ABC' = 'abc' COLLATE NOCASE));
SELECT pg_temp.expect('nocase', 'workers.username joins a TEXT column (the NOCASE side wins, as SQLite''s left operand)',
       pg_temp.failure($$SELECT count(*) FROM proj_visits v LEFT JOIN workers w ON w.username = v.worker_ref$$) = 'no error'
       AND (SELECT count(*) FROM (VALUES ('SW-NORTH-1')) v (worker_ref) JOIN workers w ON w.username = v.worker_ref) = 1);
-- (A statement does not see what the functions it calls wrote: its reads come next.)
INSERT INTO login_failures (username, address, at) VALUES ('Sam', '192.0.2.1', 5);
SELECT pg_temp.expect('nocase', 'login_failures.username counts without case',
       (SELECT count(*) FROM login_failures WHERE username = 'SAM' COLLATE NOCASE AND at > 0) = 1);

-- Keys the database numbers, and login_failures' rowid as the sign-in code uses it.
INSERT INTO login_failures (username, address, at) VALUES ('sam', NULL, 6) RETURNING rowid AS provisional \gset
SELECT pg_temp.expect('identity', 'login_failures: INSERT ... RETURNING rowid, then DELETE ... WHERE rowid = it',
       pg_temp.row_count(format('DELETE FROM login_failures WHERE rowid = %s', :provisional)) = 1);
SELECT pg_temp.expect('identity', 'login_failures: only that row went',
       (SELECT array_agg(at) FROM login_failures) = ARRAY[5]::bigint[]);
WITH made AS (
    INSERT INTO teams (name, created_at) VALUES ('East', 0), ('West', 0) RETURNING team_id
)
SELECT pg_temp.expect('identity', 'teams: ids are numbered, increasing, never reused',
       (SELECT min(team_id) FROM made) > (SELECT max(team_id) FROM teams WHERE name IN ('North', 'South'))
       AND (SELECT count(DISTINCT team_id) FROM made) = 2);

\o
SELECT area, what, CASE WHEN ok THEN 'ok' ELSE 'FAILED' END AS result,
       nullif(detail, 'only in SQLite: ; only in PostgreSQL: ') AS detail
FROM results ORDER BY n;

DO $$
DECLARE
    failed bigint;
    total  bigint;
BEGIN
    SELECT count(*) FILTER (WHERE NOT ok), count(*) INTO failed, total FROM results;
    IF failed > 0 THEN
        RAISE EXCEPTION '% of % schema checks failed', failed, total;
    END IF;
    RAISE WARNING 'all % schema checks passed', total;
END;
$$;

ROLLBACK;
