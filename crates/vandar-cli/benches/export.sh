#!/usr/bin/env bash
# Benchmark of `vandar transactions export` (issue 18), run by hand:
#
#   bash crates/vandar-cli/benches/export.sh            # 10,000 and 100,000 rows
#   ROWS="100000" bash crates/vandar-cli/benches/export.sh
#
# Builds the release binaries, starts `vandar-sandbox` on 127.0.0.1 (rate limits off), seeds the
# statement (`POST /__sandbox/seed/transactions`), exports it to CSV with `vandar` (client-side
# rate limits off: the documented 100 GETs per 3 s would cap any export at ~3,333 rows/s), and
# prints rows/s and the CLI's peak RSS (`/usr/bin/time -v`), then checks that the CSV's row count
# and sum match the statement and the balance. Only 127.0.0.1 is contacted. Exits non-zero on a
# mismatch or below 20,000 rows/s.
set -euo pipefail

cd "$(dirname "$0")/../../.."
ROWS="${ROWS:-10000 100000}"
PORT="${PORT:-18917}"
MIN_RATE="${MIN_RATE:-20000}"
BASE="http://127.0.0.1:${PORT}"
OUT="$(mktemp -d)"
trap 'kill "${SANDBOX_PID:-0}" 2>/dev/null || true; rm -rf "$OUT"' EXIT

CARGO_INCREMENTAL=0 cargo build --release -q -p vandar-cli -p vandar-sandbox
BIN=target/release

"$BIN/vandar-sandbox" --listen "127.0.0.1:${PORT}" --no-rate-limit >"$OUT/sandbox.log" 2>&1 &
SANDBOX_PID=$!
for _ in $(seq 1 100); do
  curl -fsS "$BASE/__sandbox/credentials" >/dev/null 2>&1 && break
  sleep 0.1
done

status=0
printf '%-8s %-8s %-10s %-12s %-12s %s\n' rows pages seconds rows/s "max RSS" check
for n in $ROWS; do
  curl -fsS -X POST "$BASE/__sandbox/reset" >/dev/null
  curl -fsS -X POST "$BASE/__sandbox/seed/transactions" -H 'content-type: application/json' \
    -d "{\"count\": $n}" >"$OUT/seed.json"
  creds="$(curl -fsS "$BASE/__sandbox/credentials")"
  token="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["access_token"])' "$creds")"
  export VANDAR_ACCESS_TOKEN="$token" VANDAR_BASE_URL="$BASE" VANDAR_BUSINESS=sandbox \
    VANDAR_NO_RATE_LIMIT=true VANDAR_SECRETS_FILE="$OUT/none.json"
  /usr/bin/time -v "$BIN/vandar" transactions export --format csv --output "$OUT/statement.csv" \
    2>"$OUT/time.txt"
  wallet="$("$BIN/vandar" --json balance | python3 -c 'import json,sys; print(json.load(sys.stdin)["wallet"])')"
  python3 - "$OUT/statement.csv" "$OUT/time.txt" "$OUT/seed.json" "$wallet" "$n" "$MIN_RATE" <<'EOF' || status=1
import csv, json, re, sys
path, timing, seed, wallet, n, min_rate = sys.argv[1:7]
rows = total = 0
with open(path, newline="") as f:
    for rec in csv.DictReader(f):
        rows += 1
        total += int(rec["amount_toman"])
t = open(timing).read()
summary = re.search(r"exported (\d+) rows \((\d+) pages\); sum of amounts: (.*)", t)
secs = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", t)
seconds = (int(secs.group(1) or 0) * 3600 + int(secs.group(2)) * 60 + float(secs.group(3)))
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
seeded = json.load(open(seed))
ok = rows == int(n) + 1 and total == int(wallet) == seeded["wallet_toman"]
rate = rows / seconds if seconds > 0 else float("inf")
print(f"{rows:<8} {summary.group(2):<8} {seconds:<10.2f} {rate:<12.0f} {rss_kb / 1024:<9.1f} MiB "
      f"{'ok' if ok else 'MISMATCH'}: {rows} rows = {n} seeded + opening balance; sum {total} Toman = balance {wallet}")
if not ok or rate < float(min_rate):
    sys.exit(1)
EOF
done
exit $status
