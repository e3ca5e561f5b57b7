#!/usr/bin/env bash
# Run every example of the facade against the sandbox (in-process, or the one at
# VANDAR_BASE_URL); stop at the first failure with its exit status. CI calls this.
#
#   crates/vandar/examples/run-all.sh            # debug build
#   CARGO_PROFILE=release crates/vandar/examples/run-all.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."

profile_flag=()
if [[ "${CARGO_PROFILE:-dev}" == "release" ]]; then
  profile_flag=(--release)
fi

# name and features, one example a line
examples=(
  "checkout_axum ipg,sandbox"
  "statement_export core,sandbox"
  "settlement core,sandbox"
  "mandate subscription,sandbox"
  "sanbod_oauth sanbod,sandbox"
)

for entry in "${examples[@]}"; do
  read -r name features <<<"$entry"
  echo "=== example $name (features $features)" >&2
  out=$(mktemp)
  status=0
  timeout 300 cargo run --quiet -p vandar "${profile_flag[@]}" --features "$features" \
    --example "$name" >"$out" || status=$?
  if [[ "$name" == statement_export ]]; then
    echo "(stdout: $(wc -l <"$out") CSV lines)" >&2
  else
    cat "$out" >&2
  fi
  rm -f "$out"
  if [[ $status -ne 0 ]]; then
    echo "=== example $name FAILED (exit $status)" >&2
    exit "$status"
  fi
  echo "=== example $name OK" >&2
done
echo "all ${#examples[@]} examples passed" >&2
