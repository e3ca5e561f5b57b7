#!/usr/bin/env bash
# Issue 16: the Redis limiter's added latency per call on loopback, and the utilisation of the
# POST limit (30 per 3 s) by 4 processes sharing it. Needs redis-server (Debian package
# redis-server, or VANDAR_REDIS_SERVER=/path/to/redis-server); each benchmark starts its own
# on 127.0.0.1 and a local fake Vandar. Prints the BENCH lines.
set -euo pipefail
cd "$(dirname "$0")/../.."
export VANDAR_REQUIRE_REDIS=1
CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=false cargo test --release -p vandar-redis --test replicas -- \
  --ignored --exact bench_added_latency bench_utilisation --nocapture --test-threads=1 2>&1 | grep -oE 'BENCH.*|test result.*'
