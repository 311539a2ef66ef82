#!/usr/bin/env bash
# Checks the running server against server/openapi.yaml with schemathesis (from PyPI,
# installed by scripts/setup.sh into .tools/schemathesis): every answer's status must be documented, none may be a
# 5xx, and bodies and content types must match the schemas. Three runs: every operation but
# sign-out with a signed-in social worker's token, the records officer's operations
# (`/api/records/...`) with a records officer's token, then sign-out with a token of its
# own (sign-out ends the session the first run needs).
#
# Usage: bash scripts/api-check.sh [SERVER_BINARY]   (default: target/debug/server-under-test)
set -euo pipefail
cd "$(dirname "$0")/.."

# schemathesis from scripts/setup.sh's virtualenv, else whichever `st` is on PATH.
st=.tools/schemathesis/bin/st
[ -x "$st" ] || st=st
binary=${1:-${CARGO_TARGET_DIR:-target}/debug/server-under-test}
examples=${API_CHECK_EXAMPLES:-40}
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance
data=$(mktemp -d)
log="$data/server.log"
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

password="api-check password 1234"
"$binary" admin --data-dir "$data" team add North >/dev/null
for user in sw-api-1 sw-api-2; do
  echo "$password" | "$binary" admin --data-dir "$data" user add "$user" \
    --role social-worker --team North --password-stdin >/dev/null
done
echo "$password" | "$binary" admin --data-dir "$data" user add records-api \
  --role records-officer --password-stdin >/dev/null
# A child to find: the spec's example case reference, so the records officer's operations
# are answered 200 as well as refused.
printf 'child_ref,team,legal_name,date_of_birth\nC-API-1,North,Api Example,2015-03-04\n' \
  >"$data/children.csv"
"$binary" admin --data-dir "$data" child import "$data/children.csv" >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DOORSTEP_LOG=server=warn "$binary" serve --addr "127.0.0.1:$port" --data-dir "$data" 2>"$log" &
pid=$!
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done

token_of() {
  curl -sf -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"$password\"}" "http://127.0.0.1:$port/api/session" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

run() {
  "$st" run server/openapi.yaml --url "http://127.0.0.1:$port" --checks "$checks" \
    --max-examples "$examples" --seed 14 --workers 1 --no-color "$@"
}

echo "api-check: every operation but sign-out, signed in as a social worker"
run -H "Authorization: Bearer $(token_of sw-api-1)" --exclude-method DELETE
echo "api-check: the records officer's operations, signed in as a records officer"
run -H "Authorization: Bearer $(token_of records-api)" --include-path-regex '^/api/records/'
exported=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(
  "SELECT count(*) FROM audit_log WHERE action = ? AND outcome = ?",
  ("subject-access-export", "allowed")).fetchone()[0])' "$data/doorstep.sqlite3")
if [ "$exported" -lt 1 ]; then
  echo "api-check: no subject-access export was answered; the run checked refusals only" >&2
  exit 1
fi
echo "api-check: $exported subject-access exports answered"
echo "api-check: sign-out"
run -H "Authorization: Bearer $(token_of sw-api-2)" --include-method DELETE
if grep -q "panicked" "$log"; then
  cat "$log" >&2
  echo "api-check: the server panicked" >&2
  exit 1
fi
echo "api-check: 0 failures"
