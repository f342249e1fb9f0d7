#!/usr/bin/env bash
# No false alarms: runs the suites of clean tests and provided fixtures RUNS times in a row
# (default 25) while every core is kept busy, and fails on the first run that does not pass.
# From the blocking suite, only the clean tests that sleep, yield and use spawn_blocking under
# a max_poll of 300ms: the rest of it fails tests and ends processes on purpose.
#
#   scripts/clean-under-load.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-25}
suites=(clean_runs attribute fixtures websocket classic_leaks blocking growth heap)
# Test-name filters per suite; a suite not named here runs whole.
declare -A filters=(
  [blocking]="awaiting_yielding_and_spawn_blocking_are_not_blocking the_attribute_passes_a_test_that_awaits"
)

cargo test --no-run --features websocket "${suites[@]/#/--test=}" 2>/dev/null
binaries=()
for suite in "${suites[@]}"; do
  binaries+=("$(cargo test --no-run --features websocket --message-format=json --test "$suite" 2>/dev/null \
    | grep -o '"executable":"[^"]*"' | cut -d'"' -f4 | grep "/deps/$suite-" | head -n 1)")
done
suite_of() { basename "$1" | sed 's/-[0-9a-f]*$//'; }

load_pids=()
stop_load() { ((${#load_pids[@]})) && kill "${load_pids[@]}" 2>/dev/null || true; }
trap stop_load EXIT
for _ in $(seq "$(nproc)"); do
  (while :; do :; done) &
  load_pids+=($!)
done
echo "load: ${#load_pids[@]} busy loops on $(nproc) cores"

started=$(date +%s.%N)
for run in $(seq "$runs"); do
  passed=0
  for binary in "${binaries[@]}"; do
    read -r -a filter <<<"${filters[$(suite_of "$binary")]:-}"
    if ! output=$("$binary" "${filter[@]}" 2>&1); then
      echo "run $run: $(basename "$binary") FAILED"
      echo "$output" | tail -n 40
      exit 1
    fi
    passed=$((passed + $(echo "$output" | sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p')))
  done
  echo "run $run: $passed tests passed"
done
elapsed=$(echo "$(date +%s.%N) - $started" | bc)
echo "$runs runs of ${suites[*]} passed under load in ${elapsed}s"
