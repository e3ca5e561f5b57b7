#!/usr/bin/env bash
# The per-call working set of `send_payment` (SDK and hand-written): how many distinct 64-byte
# lines of code and of data, and 4 KiB pages of code, one call touches. Instruction counts are
# at parity (callgrind); this is what differs. The overhead bench runs in its profile mode
# (`VANDAR_BENCH_PROFILE=sdk|raw`, a fixed number of calls) under
# `valgrind --tool=lackey --trace-mem=yes`; the trace after the first WARM instructions is cut
# into windows of WINDOW instructions (about one call: callgrind gives ~80,000 per
# `send_payment`) and the median over the windows is printed. Client process only (the bench
# server is a child valgrind does not follow); user space only.
#
#   benches/scripts/footprint.sh [CALLS] [WINDOW] [WARM]   (defaults 150 80000 8000000)
#
# Needs valgrind and python3; takes a few minutes (lackey is slow).
set -euo pipefail
cd "$(dirname "$0")/../.."
calls=${1:-150}
window=${2:-80000}
warm=${3:-8000000}
command -v valgrind >/dev/null || { echo "footprint.sh: needs valgrind" >&2; exit 2; }
bench=$(cargo bench --no-run -p vandar-benches --bench overhead --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m["target"]["name"]=="overhead" and m.get("executable"): print(m["executable"])')
[ -n "$bench" ] || { echo "footprint.sh: the overhead bench did not build" >&2; exit 1; }
count='
import statistics, sys
window, warm = int(sys.argv[1]), int(sys.argv[2])
seen = {"I": set(), "P": set(), "D": set()}
executed = 0
windows = []
for line in sys.stdin:
    kind = line[:1]
    if kind == "I":
        executed += 1
        address = int(line[3:].split(",", 1)[0], 16)
        seen["I"].add(address >> 6)
        seen["P"].add(address >> 12)
        if executed % window == 0:
            if executed > warm:
                windows.append({k: len(v) for k, v in seen.items()})
            seen = {"I": set(), "P": set(), "D": set()}
    elif kind == " " and line[1:2] in "LSM":
        seen["D"].add(int(line[3:].split(",", 1)[0], 16) >> 6)
if not windows:
    sys.exit("footprint.sh: no window after the warm-up (more CALLS or a smaller WARM)")
code, pages, data = (statistics.median(w[k] for w in windows) for k in "IPD")
print(f"{len(windows)} windows: code lines {code:.0f}, code pages {pages:.0f}, data lines {data:.0f}")
'
for side in sdk raw; do
  printf 'RESULT footprint %s: ' "$side"
  VANDAR_BENCH_PROFILE=$side VANDAR_BENCH_PROFILE_CALLS=$calls \
    valgrind --tool=lackey --trace-mem=yes --log-fd=3 "$bench" 3>&1 1>/dev/null 2>/dev/null |
    python3 -c "$count" "$window" "$warm"
done
