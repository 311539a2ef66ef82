#!/usr/bin/env bash
# Checks the PostgreSQL migrations (server/src/store/postgres_migrations) against the SQLite
# ones (server/src/store/migrations) on a private, throwaway PostgreSQL cluster.
#
# It starts a cluster of its own (in a fresh directory under /tmp, on a free port, listening
# on 127.0.0.1 only, reached through a socket in that directory), applies the SQLite
# migrations to a temporary SQLite file the way `store::migrations::apply` does and
# describes the resulting schema, applies the PostgreSQL migrations in order (each in one
# transaction with its `schema_migrations` row, as the Rust store will), runs
# tests/sql/postgres_schema_check.sql, and removes the cluster. The exit code is non-zero
# on any failure.
#
# Needs python3 (its sqlite3 module) and the PostgreSQL server binaries: PG_BIN, or the
# newest /usr/lib/postgresql/*/bin, or `pg_config --bindir`. Run as root, the cluster runs
# as the `postgres` user (initdb refuses root).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
sqlite_migrations=$root/server/src/store/migrations
postgres_migrations=$root/server/src/store/postgres_migrations
check_sql=$here/postgres_schema_check.sql

fail() {
    echo "check_postgres_schema: $*" >&2
    exit 1
}

bin=${PG_BIN:-}
if [[ -z $bin ]]; then
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x $candidate/initdb ]]; then
            bin=$candidate
            break
        fi
    done
fi
if [[ -z $bin ]] && command -v pg_config >/dev/null; then
    bin=$(pg_config --bindir)
fi
[[ -n $bin && -x $bin/initdb && -x $bin/pg_ctl && -x $bin/psql ]] ||
    fail "no PostgreSQL server binaries found (set PG_BIN)"
command -v python3 >/dev/null || fail "python3 is needed to read the SQLite schema"

# Every SQLite migration has its PostgreSQL form under the same name, and nothing else.
sqlite_names=$(cd "$sqlite_migrations" && ls [0-9][0-9][0-9][0-9]_*.sql)
postgres_names=$(cd "$postgres_migrations" && ls [0-9][0-9][0-9][0-9]_*.sql)
[[ $sqlite_names == "$postgres_names" ]] ||
    fail "migration files differ: $(diff <(echo "$sqlite_names") <(echo "$postgres_names") | tr '\n' ' ')"

if [[ $(id -u) == 0 ]]; then
    as_cluster_owner() { runuser -u postgres -- "$@"; }
else
    as_cluster_owner() { "$@"; }
fi

work=$(mktemp -d /tmp/doorstep-pg-check.XXXXXX)
chmod 700 "$work"
[[ $(id -u) == 0 ]] && chown postgres: "$work"
data=$work/data
started=no
cleanup() {
    if [[ $started == yes ]]; then
        as_cluster_owner "$bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The schema SQLite ends with, as temporary tables of postgres_schema_check.sql's reference.
python3 - "$sqlite_migrations" "$work/sqlite.db" >"$work/reference.sql" <<'PYTHON'
import pathlib, re, sqlite3, sys

migrations, database = pathlib.Path(sys.argv[1]), sys.argv[2]
conn = sqlite3.connect(database, isolation_level=None)
# As store::migrations::apply: the ledger first, then each migration in its own
# transaction with its row, foreign keys off, checked before commit.
conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY NOT NULL) STRICT")
conn.execute("PRAGMA foreign_keys = OFF")
for path in sorted(migrations.glob("[0-9][0-9][0-9][0-9]_*.sql")):
    version = int(path.name[:4])
    conn.executescript("BEGIN;\n" + path.read_text() + "\n;")
    dangling = conn.execute("PRAGMA foreign_key_check").fetchall()
    if dangling:
        sys.exit(f"{path.name}: dangling foreign keys {dangling}")
    conn.execute("INSERT INTO schema_migrations (version) VALUES (?)", (version,))
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute("COMMIT")

def lit(value):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "ARRAY[" + ", ".join(lit(v) for v in value) + "]::text[]"
    return "'" + str(value).replace("'", "''") + "'"

def rows(table, values):
    for value in values:
        print(f"INSERT INTO {table} VALUES ({', '.join(lit(v) for v in value)});")

def without_comments(sql):
    return re.sub(r"--[^\n]*", "", sql)

def top_level_items(body):
    """Splits a CREATE TABLE body at its top-level commas."""
    items, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(body):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(body[start:i])
            start = i + 1
    items.append(body[start:])
    return [item.strip() for item in items]

print("CREATE TEMP TABLE sqlite_tables (tbl text);")
print("CREATE TEMP TABLE sqlite_columns (tbl text, position int, name text, type text, not_null boolean,"
      " default_value text, pk_position int, collation_name text, rowid_alias boolean);")
print("CREATE TEMP TABLE sqlite_indexes (tbl text, name text, is_unique boolean, origin text,"
      " columns text[], predicate text);")
print("CREATE TEMP TABLE sqlite_foreign_keys (tbl text, columns text[], ref_tbl text, ref_columns text[],"
      " on_update text, on_delete text);")
print("CREATE TEMP TABLE sqlite_triggers (tbl text, name text, timing text, event text, update_of text[]);")
print("CREATE TEMP TABLE sqlite_checks (tbl text, checks int);")
print("CREATE TEMP TABLE sqlite_schema_migrations (version bigint);")
rows("sqlite_schema_migrations", conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall())

tables = conn.execute(
    "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
).fetchall()
rows("sqlite_tables", [(name,) for name, _ in tables])
for table, sql in tables:
    body = without_comments(sql)
    body = body[body.index("(") + 1 : body.rindex(")")]
    items = top_level_items(body)
    collations = {}
    for item in items:
        name = item.split()[0].strip('"`[]')
        found = re.search(r"\bCOLLATE\s+(\w+)", item, re.I)
        if found:
            collations[name] = found.group(1).lower()
    info = conn.execute(f"PRAGMA table_info({table})").fetchall()
    pk_columns = [c for c in info if c[5] > 0]
    columns = []
    for cid, name, type_, notnull, default, pk in info:
        alias = len(pk_columns) == 1 and pk > 0 and type_.upper() == "INTEGER"
        columns.append((table, cid + 1, name, type_.upper(), bool(notnull), default, pk, collations.get(name), alias))
    rows("sqlite_columns", columns)
    checks = len(re.findall(r"\bCHECK\s*\(", re.sub(r"'[^']*'", "''", without_comments(sql)), re.I))
    rows("sqlite_checks", [(table, checks)])
    indexes = []
    for _, index, unique, origin, partial in conn.execute(f"PRAGMA index_list({table})").fetchall():
        cols = [r[2] for r in conn.execute(f"PRAGMA index_info({index})").fetchall()]
        predicate = None
        if partial:
            index_sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (index,)).fetchone()[0]
            predicate = re.search(r"\bWHERE\b(.*)$", index_sql, re.I | re.S).group(1)
        indexes.append((table, index, bool(unique), origin, cols, predicate))
    rows("sqlite_indexes", indexes)
    keys = {}
    for id_, seq, ref, from_, to, on_update, on_delete, _ in conn.execute(
        f"PRAGMA foreign_key_list({table})"
    ).fetchall():
        keys.setdefault(id_, [table, [], ref, [], on_update, on_delete])
        keys[id_][1].append(from_)
        keys[id_][3].append(to)
    rows("sqlite_foreign_keys", keys.values())

triggers = []
for name, table, sql in conn.execute(
    "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
).fetchall():
    found = re.match(
        r"CREATE\s+TRIGGER\s+(\w+)\s+(BEFORE|AFTER|INSTEAD\s+OF)\s+(INSERT|DELETE|UPDATE)(?:\s+OF\s+(.+?))?\s+ON\s",
        sql, re.I | re.S,
    )
    update_of = [c.strip() for c in found.group(4).split(",")] if found.group(4) else None
    triggers.append((table, name, found.group(2).upper(), found.group(3).upper(), update_of))
rows("sqlite_triggers", triggers)
PYTHON

as_cluster_owner "$bin/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=reject \
    --encoding=UTF8 --locale=C >"$work/initdb.log" 2>&1 || { cat "$work/initdb.log" >&2; fail "initdb failed"; }
as_cluster_owner "$bin/pg_ctl" -D "$data" -l "$work/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $work -c fsync=off -c full_page_writes=off" \
    start >/dev/null || { cat "$work/server.log" >&2; fail "the PostgreSQL server did not start"; }
started=yes

psql_as() {
    local user=$1 database=$2
    shift 2
    "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$work" -p "$port" -U "$user" -d "$database" "$@"
}

# The migrations run as an ordinary role owning its database, as a deployment's would:
# nothing in them needs a superuser.
psql_as postgres postgres -c "CREATE ROLE doorstep LOGIN" \
    -c "CREATE DATABASE doorstep OWNER doorstep TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
psql_as doorstep doorstep -c "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY NOT NULL)"
for name in $postgres_names; do
    version=$((10#${name:0:4}))
    psql_as doorstep doorstep -1 -f "$postgres_migrations/$name" \
        -c "INSERT INTO schema_migrations (version) VALUES ($version)" ||
        fail "migration $name failed"
done

psql_as doorstep doorstep -f "$work/reference.sql" -f "$check_sql" || fail "the schema check failed"

# 0009 remakes erased_documents: on a database with erasures made under 0007, their order
# becomes seq (by deletion, then document), and the drop triggers of 0007 on the other
# tables read the new table, even in a session that ran them before the change.
psql_as postgres postgres \
    -c "CREATE DATABASE doorstep_upgrade OWNER doorstep TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
for name in $postgres_names; do
    [[ $name < 0009 ]] || continue
    psql_as doorstep doorstep_upgrade -1 -f "$postgres_migrations/$name"
done
psql_as doorstep doorstep_upgrade -v rebuild="$postgres_migrations/0009_record_corrections.sql" <<'SQL' ||
INSERT INTO retention_deletions (child_ref, deleted_at, actor, reason, retain_until, documents)
VALUES ('C-a', 0, 'records-1', 'retention ended', '2020-01-01', 'a'),
       ('C-b', 0, 'records-1', 'retention ended', '2020-01-01', 'b');
INSERT INTO erased_documents (document_id, deletion_id)
VALUES (decode(repeat('00', 16), 'hex'), 2), (decode(repeat('02', 16), 'hex'), 1), (decode(repeat('01', 16), 'hex'), 1);
INSERT INTO proj_children (document_id, child_ref) VALUES (decode(repeat('01', 16), 'hex'), 'C-a');
BEGIN;
\i :rebuild
COMMIT;
DO $$
BEGIN
    IF (SELECT array_agg(encode(document_id, 'hex') || '/' || deletion_id ORDER BY seq) FROM erased_documents)
       <> ARRAY[repeat('01', 16) || '/1', repeat('02', 16) || '/1', repeat('00', 16) || '/2']
       OR (SELECT array_agg(seq ORDER BY seq) FROM erased_documents) <> ARRAY[1, 2, 3]::bigint[] THEN
        RAISE EXCEPTION 'upgrade: erased_documents lost its order: %',
            (SELECT array_agg(encode(document_id, 'hex') || '/' || deletion_id ORDER BY seq) FROM erased_documents);
    END IF;
    INSERT INTO proj_children (document_id, child_ref) VALUES (decode(repeat('01', 16), 'hex'), 'C-a');
    INSERT INTO document_chunks (document_id, kind, data, written_at)
    VALUES (decode(repeat('00', 16), 'hex'), 'changes', '\x00', 0);
    IF EXISTS (SELECT 1 FROM proj_children) OR EXISTS (SELECT 1 FROM document_chunks) THEN
        RAISE EXCEPTION 'upgrade: a write for an erased document was kept after 0009';
    END IF;
    IF to_regclass('erased_documents_copy') IS NOT NULL THEN
        RAISE EXCEPTION 'upgrade: erased_documents_copy was left behind';
    END IF;
    INSERT INTO erased_documents (document_id, deletion_id) VALUES (decode(repeat('03', 16), 'hex'), 2);
    IF (SELECT max(seq) FROM erased_documents) <> 4 THEN
        RAISE EXCEPTION 'upgrade: a new erasure is not numbered after the copied ones';
    END IF;
    BEGIN
        UPDATE erased_documents SET deletion_id = 1;
        RAISE EXCEPTION 'upgrade: erased_documents accepted an UPDATE after 0009';
    EXCEPTION WHEN integrity_constraint_violation THEN
        NULL;
    END;
    RAISE WARNING 'upgrade through 0009 with erasures: all checks passed';
END;
$$;
SQL
    fail "the upgrade check failed"
echo "check_postgres_schema: all checks passed"
