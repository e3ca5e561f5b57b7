#!/usr/bin/env bash
# Browser test of the sandbox pages in headless Chromium, with axe-core.
# Needs: Debian packages chromium (and chromium-driver), Node.js + npm.
# Starts the sandbox on 127.0.0.1 (free port), runs browser-test/test.mjs, stops the sandbox.
# Writes the README's screenshots to docs/screenshots/ (SCREENSHOT_DIR overrides; empty: none).
# Exit status: non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=false cargo build -p vandar-sandbox --bin vandar-sandbox
bin="${CARGO_TARGET_DIR:-$root/target}/debug/vandar-sandbox"
(cd "$here/browser-test" && npm ci --no-audit --no-fund --loglevel=error)

log="$(mktemp)"
"$bin" --listen 127.0.0.1:0 >"$log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT

url=""
for _ in $(seq 1 100); do
  url="$(sed -n 's/^vandar-sandbox listening on \(http:[^ ]*\)$/\1/p' "$log")"
  [ -n "$url" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then cat "$log"; echo "sandbox exited early" >&2; exit 1; fi
  sleep 0.1
done
if [ -z "$url" ]; then cat "$log"; echo "sandbox did not start" >&2; exit 1; fi
echo "sandbox at $url"
SANDBOX_URL="$url" SCREENSHOT_DIR="${SCREENSHOT_DIR-$root/docs/screenshots}" \
  node "$here/browser-test/test.mjs"
