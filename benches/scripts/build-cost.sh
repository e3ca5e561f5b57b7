#!/usr/bin/env bash
# Item 2: clean debug builds of the facade (`-p vandar`) with all features and with `ipg` only,
# each in a fresh throwaway target dir, with `cargo build --timings`. Prints wall and CPU time
# per build, the ipg/all ratio, and the slowest compilation units of each build (from the
# timings report). Rounds alternate the order (ipg, all, all, ipg, ...) so a busy patch of the
# machine hits both.
#
#   benches/scripts/build-cost.sh [ROUNDS]      (default 1; results in $OUT, default /tmp/vandar-build-cost)
#
# Needs the dependencies fetched (`cargo fetch`); the network is not timed.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-1}
out=${OUT:-/tmp/vandar-build-cost}
mkdir -p "$out"
cargo fetch --locked --quiet

build() { # name, cargo feature args...
  local name=$1; shift
  local dir
  dir=$(mktemp -d /tmp/vandar-build-XXXXXX)
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%e %U %S %M" -o "$out/$name.time" \
    cargo build --locked --quiet -p vandar "$@" --timings --target-dir "$dir" 2>"$out/$name.log"
  t1=$(date +%s.%N)
  cp "$dir"/cargo-timings/cargo-timing.html "$out/$name.html"
  rm -rf "$dir"
  read -r wall user sys maxrss <"$out/$name.time"
  printf '%-4s wall %7.1f s  cpu %7.1f s (user %.1f + sys %.1f)  load %s\n' \
    "$name" "$wall" "$(echo "$user + $sys" | bc)" "$user" "$sys" "$(cut -d' ' -f1 /proc/loadavg)"
  echo "$name $wall $(echo "$user + $sys" | bc)" >>"$out/results.txt"
}

top_units() { # timings html -> top units by duration
  python3 - "$1" <<'PY'
import json, re, sys
html = open(sys.argv[1]).read()
m = re.search(r"const UNIT_DATA = (\[.*?\]);", html, re.S)
units = json.loads(m.group(1)) if m else []
total = sum(u["duration"] for u in units)
print(f"    {len(units)} units, {total:.1f} s of compilation in total; slowest:")
for u in sorted(units, key=lambda u: -u["duration"])[:8]:
    print(f"    {u['duration']:7.1f} s  {u['name']} {u['version']} {u.get('target','').strip()}")
PY
}

: >"$out/results.txt"
echo "clean debug builds of -p vandar on $(nproc) cores, $(date -u +%FT%TZ), rustc $(rustc --version | cut -d' ' -f2)"
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) -eq 1 ]; then order="ipg all"; else order="all ipg"; fi
  for which in $order; do
    if [ "$which" = ipg ]; then
      build ipg --no-default-features --features ipg,rustls-ring
    else
      build all --all-features
    fi
    top_units "$out/$which.html"
  done
done
python3 - "$out/results.txt" <<'PY'
import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
by = {}
for name, wall, cpu in rows:
    by.setdefault(name, []).append((float(wall), float(cpu)))
w = {k: st.median(x[0] for x in v) for k, v in by.items()}
c = {k: st.median(x[1] for x in v) for k, v in by.items()}
print(f"RESULT build all features: wall {w['all']:.1f} s, cpu {c['all']:.1f} s (target wall <= 90 s on 2 cores)")
print(f"RESULT build ipg only:     wall {w['ipg']:.1f} s, cpu {c['ipg']:.1f} s")
print(f"RESULT ipg/all ratio: wall {w['ipg']/w['all']:.2f}, cpu {c['ipg']/c['all']:.2f} (target <= 0.50)")
PY
