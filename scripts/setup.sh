#!/usr/bin/env bash
# Installs what building and testing Doorstep needs, skipping whatever is present:
# the wasm32 Rust target, the wasm-bindgen CLI at the exact version of the wasm-bindgen crate,
# cargo-fuzz,
# the npm packages in tests/js (official automerge-repo clients, playwright-core, axe-core,
# binaryen's wasm-opt), schemathesis from PyPI (the API check against server/openapi.yaml),
# Debian's PostgreSQL, nginx and poppler-utils (pdftotext, for the subject-access PDF test),
# and, unless --no-browser, Debian's Chromium for the PWA tests.
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

# schemathesis lives in its own virtualenv (.tools/schemathesis, git-ignored): Debian's
# python3 is "externally managed" and refuses a global pip install.
schemathesis_version=4.32.5
st=.tools/schemathesis/bin/st
if [ "$("$st" --version 2>/dev/null || true)" != "st, version $schemathesis_version" ]; then
  echo "setup: installing schemathesis $schemathesis_version from PyPI into .tools/schemathesis"
  rm -rf .tools/schemathesis
  command -v python3 >/dev/null || missing_python=yes
  # Debian ships venv (with pip) apart, in python3-venv.
  if [ -n "${missing_python:-}" ] || ! python3 -m venv .tools/schemathesis >/dev/null 2>&1; then
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
    rm -rf .tools/schemathesis
    python3 -m venv .tools/schemathesis
  fi
  .tools/schemathesis/bin/pip install -q --disable-pip-version-check "schemathesis==$schemathesis_version"
fi

# Debian's packages the tests run for real: Chromium for the PWA, PostgreSQL (a private
# cluster per test, started from /usr/lib/postgresql/*/bin), nginx (the load balancer in
# front of replicas) and poppler-utils (`pdftotext`, reading back the PDF Chromium prints
# for a subject-access export). Installed once; the packages' own services are not used.
packages=()
[ "$browser" = yes ] && [ ! -x /usr/bin/chromium ] && packages+=(chromium)
command -v pdftotext >/dev/null || packages+=(poppler-utils)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || packages+=(postgresql)
[ -x /usr/sbin/nginx ] || packages+=(nginx)
if [ ${#packages[@]} -gt 0 ]; then
  echo "setup: installing Debian's ${packages[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
