#!/usr/bin/env bash
# Installs what building and testing Doorstep needs, skipping whatever is present:
# the wasm32 Rust target, the wasm-bindgen CLI at the exact version of the wasm-bindgen crate,
# cargo-fuzz,
# the npm packages in tests/js (official automerge-repo clients, playwright-core, axe-core,
# binaryen's wasm-opt) and, unless --no-browser, Debian's Chromium for the PWA tests and
# poppler-utils (pdftotext) for the subject-access PDF test.
set -euo pipefail
cd "$(dirname "$0")/.."

browser=yes
[ "${1:-}" = "--no-browser" ] && browser=no

rustup target add wasm32-unknown-unknown >/dev/null 2>&1 \
  || rustup target add wasm32-unknown-unknown

wasm_bindgen=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $wasm_bindgen" ]; then
  echo "setup: installing wasm-bindgen-cli $wasm_bindgen (a few minutes, once)"
  # Not --locked: the CLI's own lock file pins a crate version the registry here lacks.
  cargo install -q wasm-bindgen-cli --version "$wasm_bindgen"
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "setup: installing cargo-fuzz (under a minute, once)"
  cargo install -q cargo-fuzz --locked
fi

command -v node >/dev/null || { echo "setup: Node.js 20+ is required (apt-get install nodejs npm)" >&2; exit 1; }
if [ ! -d tests/js/node_modules ] || [ tests/js/package-lock.json -nt tests/js/node_modules ]; then
  (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
  touch tests/js/node_modules
fi

# Debian packages: Chromium for the PWA tests and for printing a subject-access export
# to PDF, poppler-utils for reading that PDF back (`pdftotext`).
packages=()
if [ "$browser" = yes ]; then
  [ -x /usr/bin/chromium ] || packages+=(chromium)
  command -v pdftotext >/dev/null || packages+=(poppler-utils)
fi
if [ ${#packages[@]} -gt 0 ]; then
  echo "setup: installing Debian's ${packages[*]} for the browser tests"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
