#!/usr/bin/env bash
# Item 1: `cargo xtask gen` over all specs, warm (xtask already built, generated code up to
# date, so nothing is written): the median wall time of RUNS runs, the generator's own time
# (what xtask prints) and cargo's start-up (`cargo xtask help`). Target: <= 1 s.
#
#   benches/scripts/gen.sh [RUNS]        (default 10)
#
# Runs in a throwaway copy of the workspace, so a spec being edited in this checkout is neither
# overwritten nor timed. Uses $CARGO_TARGET_DIR if set (registry crates are then reused).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-10}
ws=${TMPDIR:-/tmp}/vandar-gen-ws
rm -rf "$ws" && mkdir -p "$ws"
trap 'rm -rf "$ws"' EXIT
# What the workspace needs to build xtask (members must exist); not target/, .git/, fuzz/.
(cd "$root" && tar --exclude=target -cf - Cargo.toml Cargo.lock .cargo README.md xtask crates spec tests benches) \
  | tar -C "$ws" -xf -
cd "$ws"
# xtask finds the workspace through the CARGO_MANIFEST_DIR compiled into it, and cargo would
# take an identical copy (same relative paths and mtimes) as fresh: make it rebuild xtask here.
touch xtask/src/lib.rs xtask/src/main.rs
cargo build --quiet --manifest-path xtask/Cargo.toml
cargo xtask gen >/dev/null # the first run writes whatever is out of date; not timed

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
: >"$ws/wall" ; : >"$ws/inner" ; : >"$ws/noop"
for _ in $(seq 1 "$runs"); do
  s=$(date +%s.%N)
  cargo xtask gen >"$ws/out"
  e=$(date +%s.%N)
  echo "$e - $s" | bc >>"$ws/wall"
  # "generated 5 spec(s) in 412.31ms" (or "in 1.02s")
  grep -Eo 'in [0-9.]+(ms|s)$' "$ws/out" | awk '{v=$2; if (v ~ /ms$/) {sub(/ms/,"",v); v/=1000} else {sub(/s/,"",v)}; print v}' >>"$ws/inner"
  s=$(date +%s.%N)
  cargo xtask help >/dev/null
  e=$(date +%s.%N)
  echo "$e - $s" | bc >>"$ws/noop"
done
grep -c '^unchanged' "$ws/out" | xargs printf '%s generated files unchanged in the last run\n'
printf 'RESULT cargo xtask gen (warm, %s specs, median of %s): wall %.3f s, generator %.3f s, cargo start-up %.3f s (target <= 1 s); load %s\n' \
  "$(ls spec/*.yaml | wc -l)" "$runs" "$(median <"$ws/wall")" "$(median <"$ws/inner")" "$(median <"$ws/noop")" "$(cut -d' ' -f1 /proc/loadavg)"
