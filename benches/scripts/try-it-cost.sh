#!/usr/bin/env bash
# Issue 23, item 7: the README's "Try it with no account" path, cold, in a fresh throwaway
# target dir: build the sandbox (`cargo run -p vandar-sandbox` builds this), then build and run
# the checkout example (`cargo run -p vandar --example checkout_axum --features ipg,sandbox`).
# Prints wall and CPU time per step and the target dir's size afterwards, then deletes it.
# The workspace's own profile applies; the caller's CARGO_PROFILE_* and CARGO_INCREMENTAL are
# cleared so that this is what a new user gets.
#
#   benches/scripts/try-it-cost.sh            (results in $OUT, default /tmp/vandar-try-it)
#
# Needs the dependencies fetched (`cargo fetch`); the network is not timed.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/vandar-try-it}
mkdir -p "$out"
unset CARGO_PROFILE_DEV_DEBUG CARGO_INCREMENTAL CARGO_BUILD_JOBS RUSTFLAGS
cargo fetch --locked --quiet
dir=$(mktemp -d /tmp/vandar-try-it-target-XXXXXX)
export CARGO_TARGET_DIR=$dir
step() { # name, command...
  local name=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$out/$name.time" "$@" >"$out/$name.log" 2>&1
  read -r wall user sys maxrss <"$out/$name.time"
  printf '%-8s wall %6.1f s  cpu %6.1f s  load %s\n' "$name" "$wall" "$(echo "$user + $sys" | bc)" "$(cut -d' ' -f1 /proc/loadavg)"
  echo "$name $wall" >>"$out/results.txt"
}
: >"$out/results.txt"
echo "cold 'try it' path on $(nproc) cores, $(date -u +%FT%TZ), rustc $(rustc --version | cut -d' ' -f2), load $(cut -d' ' -f1 /proc/loadavg)"
step sandbox cargo build --locked -p vandar-sandbox
step example cargo build --locked -p vandar --example checkout_axum --features ipg,sandbox
step run cargo run --locked -q -p vandar --example checkout_axum --features ipg,sandbox
size=$(du -sb "$dir" | cut -f1)
rm -rf "$dir"
python3 - "$out/results.txt" "$size" <<'PY'
import sys
rows = dict(l.split() for l in open(sys.argv[1]) if l.strip())
total = sum(float(v) for v in rows.values())
print(f"RESULT try-it cold: {total:.1f} s wall (sandbox {float(rows['sandbox']):.1f} + example {float(rows['example']):.1f} + run {float(rows['run']):.1f}); target <= 120 s")
print(f"RESULT target dir after both commands: {int(sys.argv[2]) / 1e9:.2f} GB; target <= 2 GB")
PY
