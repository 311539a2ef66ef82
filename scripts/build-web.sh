#!/usr/bin/env bash
# Builds the PWA into target/web: the wasm data core (client-wasm, size profile),
# its wasm-bindgen glue, wasm-opt -Oz (npm binaryen), and the app shell from client-wasm/web.
# The service worker's cache name is stamped with a hash of the build, so a new build is a
# new app version for installed copies. Needs scripts/setup.sh to have run.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
out="$target_dir/web"

# Panic locations name source files: keep them short (and free of this machine's paths).
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--remap-path-prefix=$cargo_home/registry/src/= --remap-path-prefix=$PWD/= --remap-path-prefix=$(rustc --print sysroot)/=rust/"
cargo build --locked -p client-wasm --target wasm32-unknown-unknown --profile wasm-release
rm -rf "$out.tmp" && mkdir -p "$out.tmp/pkg"
cp -R client-wasm/web/. "$out.tmp/"
wasm-bindgen --target web --no-typescript --out-dir "$out.tmp/pkg" \
  "$target_dir/wasm32-unknown-unknown/wasm-release/client_wasm.wasm"
tests/js/node_modules/.bin/wasm-opt -Oz --converge \
  "$out.tmp/pkg/client_wasm_bg.wasm" -o "$out.tmp/pkg/client_wasm_bg.wasm"
build=$(cd "$out.tmp" && find . -type f ! -name sw.js -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
sed -i "s/__BUILD__/$build/" "$out.tmp/sw.js"
rm -rf "$out" && mv "$out.tmp" "$out"
wasm="$out/pkg/client_wasm_bg.wasm"
echo "web app built in $out (build $build): wasm $(stat -c %s "$wasm") bytes, $(gzip -9c "$wasm" | wc -c) gzipped"
