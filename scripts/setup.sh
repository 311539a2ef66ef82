#!/usr/bin/env bash
# Installs what building and testing Doorstep needs, skipping whatever is present:
# the wasm32 Rust target and the npm packages of the JS interop tests (tests/js).
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-unknown-unknown >/dev/null 2>&1 \
  || rustup target add wasm32-unknown-unknown

command -v node >/dev/null || { echo "setup: Node.js 20+ is required (apt-get install nodejs npm)" >&2; exit 1; }
if [ ! -d tests/js/node_modules ] || [ tests/js/package-lock.json -nt tests/js/node_modules ]; then
  (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
fi
