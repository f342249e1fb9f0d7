#!/usr/bin/env bash
# The cost of #[leak_checked_test] against #[tokio::test], measured in one run: a suite of 200
# small async tests (each spawns four tasks and awaits them) under each attribute, release
# build, --test-threads=2, the two suites alternating, median of RUNS runs (default 7), for the
# current-thread and the multi-thread runtime. Also: peak memory of each suite, and how long a
# leaky test takes to be reported beyond its settle, and the per-test cost inside one process
# (with how many clean runs waited in the settle at all). Then the resource check's cost, where
# it runs: under nextest and with --test-threads=1, and what one look at /proc costs. Last,
# instruction counts under callgrind, which a loaded machine does not move: the suites in one
# process with --test-threads=1 (every check on), and one test's process as nextest runs it.
#
#   scripts/bench-overhead.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}

executable() {
  cargo test --release -p leakcheck-bench --no-run --message-format=json --test "$1" 2>/dev/null \
    | grep -o '"executable":"[^"]*"' | cut -d'"' -f4 | grep "/deps/$1-" | head -n 1
}

median() { sort -n | awk '{ values[NR] = $1 } END { print values[int((NR + 1) / 2)] }'; }

# Sets `took` (wall time, microseconds) and `peak` (peak resident memory, KiB) for one run of
# a suite.
peak_file=$(mktemp)
trap 'rm -f "$peak_file"' EXIT
measure() {
  local binary=$1 started ended
  started=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$peak_file" "$binary" --test-threads=2 -q >/dev/null 2>&1
  ended=$(date +%s%N)
  took=$(( (ended - started) / 1000 ))
  peak=$(tail -n 1 "$peak_file")
}

cargo test --release -p leakcheck-bench --no-run 2>/dev/null
echo "machine: $(nproc) cores; $runs alternating runs of each suite, median"
for flavor in current_thread multi_thread; do
  tokio_binary=$(executable "tokio_$flavor")
  leakcheck_binary=$(executable "leakcheck_$flavor")
  tokio_times=() leakcheck_times=() tokio_peaks=() leakcheck_peaks=()
  for _ in $(seq "$runs"); do
    measure "$tokio_binary"
    tokio_times+=("$took") tokio_peaks+=("$peak")
    measure "$leakcheck_binary"
    leakcheck_times+=("$took") leakcheck_peaks+=("$peak")
  done
  tokio_median=$(printf '%s\n' "${tokio_times[@]}" | median)
  leakcheck_median=$(printf '%s\n' "${leakcheck_times[@]}" | median)
  tokio_peak=$(printf '%s\n' "${tokio_peaks[@]}" | median)
  leakcheck_peak=$(printf '%s\n' "${leakcheck_peaks[@]}" | median)
  awk -v flavor="$flavor" -v t="$tokio_median" -v l="$leakcheck_median" -v tp="$tokio_peak" -v lp="$leakcheck_peak" 'BEGIN {
    printf "%s: #[tokio::test] %.1f ms, #[leak_checked_test] %.1f ms, ratio %.3f; peak memory %d KiB vs %d KiB\n",
      flavor, t / 1000, l / 1000, l / t, tp, lp
  }'
done

# The resource check runs only where a test is alone in its process: under nextest (a process
# per test) or with --test-threads=1. The same current-thread suites both ways, leakcheck
# with the check off and on (LEAKCHECK_RESOURCES=warn, the default), medians of RUNS runs.
if command -v cargo-nextest >/dev/null; then
  nextest_seconds() {
    LEAKCHECK_RESOURCES=$2 cargo nextest run --release -p leakcheck-bench --test "$1" \
      --test-threads=2 2>&1 | grep -o 'Summary \[ *[0-9.]*s' | grep -o '[0-9.]*' | head -n 1
  }
  tokio_times=() off_times=() on_times=()
  for _ in $(seq "$runs"); do
    tokio_times+=("$(nextest_seconds tokio_current_thread warn)")
    off_times+=("$(nextest_seconds leakcheck_current_thread off)")
    on_times+=("$(nextest_seconds leakcheck_current_thread warn)")
  done
  awk -v t="$(printf '%s\n' "${tokio_times[@]}" | median)" \
    -v off="$(printf '%s\n' "${off_times[@]}" | median)" \
    -v on="$(printf '%s\n' "${on_times[@]}" | median)" 'BEGIN {
    printf "nextest, a process per test: #[tokio::test] %.0f ms; leakcheck, resource check off %.0f ms (ratio %.3f), on %.0f ms (ratio %.3f)\n",
      t * 1000, off * 1000, off / t, on * 1000, on / t
  }'
else
  echo "cargo-nextest is not installed: no per-process figures"
fi
serial_times() {
  local binary=$1 mode=$2 started ended
  started=$(date +%s%N)
  LEAKCHECK_RESOURCES=$mode "$binary" --test-threads=1 -q >/dev/null 2>&1
  ended=$(date +%s%N)
  echo $(( (ended - started) / 1000 ))
}
tokio_binary=$(executable tokio_current_thread)
leakcheck_binary=$(executable leakcheck_current_thread)
tokio_times=() off_times=() on_times=()
for _ in $(seq "$runs"); do
  tokio_times+=("$(serial_times "$tokio_binary" warn)")
  off_times+=("$(serial_times "$leakcheck_binary" off)")
  on_times+=("$(serial_times "$leakcheck_binary" warn)")
done
awk -v t="$(printf '%s\n' "${tokio_times[@]}" | median)" \
  -v off="$(printf '%s\n' "${off_times[@]}" | median)" \
  -v on="$(printf '%s\n' "${on_times[@]}" | median)" 'BEGIN {
  printf "--test-threads=1, one process: #[tokio::test] %.1f ms; leakcheck, resource check off %.1f ms (ratio %.3f), on %.1f ms (ratio %.3f)\n",
    t / 1000, off / 1000, off / t, on / 1000, on / t
}'

# Instructions under callgrind, which the load of a shared machine does not move: each suite
# once in one process with --test-threads=1, as serial suites run, where every check is on
# (the resource check runs only where a test is alone), default settings, both flavors.
if command -v valgrind >/dev/null; then
  # instructions_of SUITE ARGS...: what one run of SUITE's binary with ARGS executes.
  instructions_of() {
    local suite=$1
    shift
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$(executable "$suite")" "$@" -q 2>&1 \
      | grep -o 'Collected : [0-9]*' | grep -o '[0-9]*'
  }
  serial_instructions() { instructions_of "$1" --test-threads=1; }
  # Under nextest each test is a process of its own, whose start dominates its wall time on
  # a shared machine; the instructions of one such process (one test, run as nextest runs
  # it) tell the cost apart from the noise.
  process_instructions() {
    NEXTEST_EXECUTION_MODE=process-per-test instructions_of "$1" --exact m07::t3 --nocapture
  }
  # compare HOW LABEL TESTS: both flavors, #[tokio::test] against leakcheck with the resource
  # check on and off, each counted by HOW, which runs TESTS tests.
  compare() {
    local how=$1 label=$2 tests=$3 flavor tokio_count leakcheck_count off_count
    for flavor in current_thread multi_thread; do
      tokio_count=$("$how" "tokio_$flavor")
      leakcheck_count=$("$how" "leakcheck_$flavor")
      off_count=$(LEAKCHECK_RESOURCES=off "$how" "leakcheck_$flavor")
      awk -v f="$flavor" -v how="$label" -v n="$tests" -v t="$tokio_count" -v l="$leakcheck_count" -v off="$off_count" 'BEGIN {
        printf "%s, %s, instructions: #[tokio::test] %d, #[leak_checked_test] %d (ratio %.3f; %d a test), resource check off %d (ratio %.3f)\n",
          f, how, t, l, l / t, (l - t) / n, off, off / t
      }'
    done
  }
  compare serial_instructions "--test-threads=1" 200
  compare process_instructions "a process per test (nextest)" 1
  # What counting the heap (count_allocations!) costs a suite, and what a repetition costs
  # (repeat = 5: four more runs of each body, counted after each).
  single=$(serial_instructions leakcheck_current_thread)
  counted=$(serial_instructions leakcheck_current_thread_counted)
  repeated=$(serial_instructions leakcheck_current_thread_repeated)
  awk -v s="$single" -v c="$counted" -v r="$repeated" 'BEGIN {
    printf "current_thread, --test-threads=1, instructions: count_allocations! %d (%.3fx); repeat = 5 %d (%d a repetition of a test)\n",
      c, c / s, r, (r - s) / (200 * 4)
  }'
else
  echo "valgrind is not installed: no instruction counts"
fi
cargo run --release -q -p leakcheck-bench --bin snapshot_cost
cargo run --release -q -p leakcheck-bench --bin leak_latency
cargo run --release -q -p leakcheck-bench --bin per_test_cost

# Spawn sites and task names (the tokio_unstable tier): a test spawning and awaiting 100,000
# short tasks, bare runtime (as under #[tokio::test]) against leakcheck, in one
# `--cfg tokio_unstable` build; wall-time medians, then instruction counts under callgrind,
# which the load of a shared machine does not move. Goal: at most 1.5x.
echo
unstable_target=target/unstable
RUSTFLAGS="--cfg tokio_unstable" CARGO_TARGET_DIR=$unstable_target \
  cargo build --release -q -p leakcheck-bench --bin spawn_hooks_cost
spawn_cost=$unstable_target/release/spawn_hooks_cost
"$spawn_cost"
if command -v valgrind >/dev/null; then
  instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$spawn_cost" once "$@" 2>&1 \
      | grep -o 'Collected : [0-9]*' | grep -o '[0-9]*'
  }
  for flavor in current_thread multi_thread; do
    bare=$(instructions bare "$flavor")
    names_off=$(LEAKCHECK_TASK_NAMES=0 instructions checked "$flavor")
    names_on=$(instructions checked "$flavor")
    awk -v f="$flavor" -v b="$bare" -v off="$names_off" -v on="$names_on" 'BEGIN {
      printf "%s, instructions: bare %d, spawn sites %d (%.2fx), spawn sites and names %d (%.2fx)\n",
        f, b, off, off / b, on, on / b
    }'
  done
else
  echo "valgrind is not installed: no instruction counts"
fi
