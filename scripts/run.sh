#!/usr/bin/env bash
# Sets up, builds and runs Doorstep on the embedded SQLite default (./data): the server and
# the PWA it serves at /. On the first run it seeds a fictional demo council and prints the
# demo accounts and their one-time passwords.
# Extra arguments go to `doorstep-server serve`, e.g. `--addr 0.0.0.0:8080`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --no-browser
bash scripts/build-web.sh
data_dir="${DOORSTEP_DATA_DIR:-./data}"
cargo build --release --locked -p server --bin doorstep-server
server="${CARGO_TARGET_DIR:-target}/release/doorstep-server"
"$server" seed-demo --data-dir "$data_dir" --if-empty
addr="${DOORSTEP_ADDR:-127.0.0.1:8080}"
cat <<MSG

Doorstep is starting on http://$addr (data in $data_dir).
  Open it:    http://$addr/ in Chromium or Chrome, sign in as a social worker above
              (e.g. sw-north-1) and choose a PIN; the app then works offline too.
  Check it:   curl http://$addr/healthz
Stop it with Ctrl-C.

MSG
exec "$server" serve --data-dir "$data_dir" --web-dir "${CARGO_TARGET_DIR:-target}/web" "$@"
