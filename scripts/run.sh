#!/usr/bin/env bash
# Builds and runs Doorstep on the embedded SQLite default (./data). On the first run it seeds
# a fictional demo council and prints the demo accounts and their one-time passwords.
# Extra arguments go to `doorstep-server serve`, e.g. `--addr 0.0.0.0:8080`.
set -euo pipefail
cd "$(dirname "$0")/.."
data_dir="${DOORSTEP_DATA_DIR:-./data}"
cargo build --release --locked -p server --bin doorstep-server
server=target/release/doorstep-server
"$server" seed-demo --data-dir "$data_dir" --if-empty
addr="${DOORSTEP_ADDR:-127.0.0.1:8080}"
cat <<MSG

Doorstep is starting on http://$addr (data in $data_dir).
  Check it:   curl http://$addr/healthz
  Sign in:    curl -X POST http://$addr/api/session -H 'Content-Type: application/json' \\
                -d '{"username":"sw-north-1","password":"<password printed above>"}'
  Sync:       ws://$addr/sync?ticket=<from POST /api/sync-ticket with the session token>
Stop it with Ctrl-C.

MSG
exec "$server" serve --data-dir "$data_dir" "$@"
