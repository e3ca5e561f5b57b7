#!/usr/bin/env bash
# Item 6: peak RSS of a process making 10,000 calls (SDK, then the same with hand-written
# reqwest for comparison), under /usr/bin/time -v; the binary also prints its RSS after every
# thousand calls (growth = last thousand - first thousand).
#
#   benches/scripts/rss.sh [CALLS]       (default 10000)
set -euo pipefail
cd "$(dirname "$0")/../.."
calls=${1:-10000}
cargo build --quiet --release -p vandar-benches --bins
dir=${CARGO_TARGET_DIR:-target}/release
for side in "" --raw; do
  /usr/bin/time -v "$dir/rss" "$calls" $side 2>"${TMPDIR:-/tmp}/vandar-rss-time.txt"
  grep -E 'Maximum resident set size|Elapsed \(wall' "${TMPDIR:-/tmp}/vandar-rss-time.txt" | sed 's/^\s*/  time -v: /'
done
