#!/usr/bin/env bash
# The cost of #[leak_checked_test] against #[tokio::test], measured in one run: a suite of 200
# small async tests (each spawns four tasks and awaits them) under each attribute, release
# build, for the current-thread and the multi-thread runtime, in each way a suite runs: in
# parallel (--test-threads=2), under nextest (a process per test) and serially
# (--test-threads=1, where every check is on), with peak memory. Then how long a leaky test
# takes to be reported beyond its settle, the per-test cost inside one process (with how many
# clean runs waited in the settle at all) and what one look at /proc costs. Last, instruction
# counts under callgrind, which a loaded machine does not move: the suites in one process
# with --test-threads=1, and one test's process as nextest runs it.
#
# Wall time swings with a shared machine's load, which drifts while a benchmark runs: each
# round runs every suite compared once, in an order reversed from one round to the next, and
# the figure is the median of the rounds' ratios, beside the ratio of the median times. The
# in-process suites take milliseconds and get 5 x RUNS rounds; nextest gets 2 x RUNS.
#
#   scripts/bench-overhead.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}

executable() {
  cargo test --release -p leakcheck-bench --no-run --message-format=json --test "$1" 2>/dev/null \
    | grep -o '"executable":"[^"]*"' | cut -d'"' -f4 | grep "/deps/$1-" | head -n 1
}

median() { sort -g | awk '{ values[NR] = $1 } END { print values[int((NR + 1) / 2)] }'; }

# wall_of COMMAND...: the wall time of one run of COMMAND, in microseconds.
wall_of() {
  local started ended
  started=$(date +%s%N)
  "$@" >/dev/null 2>&1
  ended=$(date +%s%N)
  echo $(( (ended - started) / 1000 ))
}

# compare_rounds ROUNDS BASE OTHER...: runs each of the commands (functions that print a time)
# once a round, ROUNDS rounds, in an order reversed from one round to the next. Sets `medians`
# (each command's median time) and `ratios` (for each command, the median over the rounds of
# its time over BASE's; 1 for BASE).
compare_rounds() {
  local rounds=$1 round index at
  shift
  local commands=("$@") last=$(($# - 1))
  local -a times=() round_ratios=() this=()
  for round in $(seq "$rounds"); do
    for index in $(seq 0 "$last"); do
      at=$index
      (( round % 2 )) || at=$((last - index))
      this[at]=$("${commands[at]}")
    done
    for index in $(seq 0 "$last"); do
      times[index]+="${this[index]} "
      round_ratios[index]+="$(awk -v base="${this[0]}" -v time="${this[index]}" 'BEGIN { print time / base }') "
    done
  done
  medians=() ratios=()
  for index in $(seq 0 "$last"); do
    medians[index]=$(printf '%s\n' ${times[index]} | median)
    ratios[index]=$(printf '%s\n' ${round_ratios[index]} | median)
  done
}

# peak_of BINARY: the peak resident memory of one parallel run of a suite, in KiB.
peak_file=$(mktemp)
trap 'rm -f "$peak_file"' EXIT
peak_of() {
  /usr/bin/time -f '%M' -o "$peak_file" "$1" --test-threads=2 -q >/dev/null 2>&1
  tail -n 1 "$peak_file"
}

cargo test --release -p leakcheck-bench --no-run 2>/dev/null
echo "machine: $(nproc) cores; $((runs * 5)) rounds in one process, $((runs * 2)) under nextest"
for flavor in current_thread multi_thread; do
  tokio_binary=$(executable "tokio_$flavor")
  leakcheck_binary=$(executable "leakcheck_$flavor")
  tokio_parallel() { wall_of "$tokio_binary" --test-threads=2 -q; }
  leakcheck_parallel() { wall_of "$leakcheck_binary" --test-threads=2 -q; }
  compare_rounds $((runs * 5)) tokio_parallel leakcheck_parallel
  awk -v flavor="$flavor" -v t="${medians[0]}" -v l="${medians[1]}" -v r="${ratios[1]}" \
    -v tp="$(peak_of "$tokio_binary")" -v lp="$(peak_of "$leakcheck_binary")" 'BEGIN {
    printf "%s, --test-threads=2: #[tokio::test] %.1f ms, #[leak_checked_test] %.1f ms, ratio %.3f (of the rounds: %.3f); peak memory %d KiB vs %d KiB\n",
      flavor, t / 1000, l / 1000, l / t, r, tp, lp
  }'
done

# The resource check runs only where a test is alone in its process: under nextest (a process
# per test) or with --test-threads=1. Both flavors both ways, leakcheck with the check on
# (LEAKCHECK_RESOURCES=warn, the default) and off.
if command -v cargo-nextest >/dev/null; then
  # nextest_run SUITE: the wall time nextest gives for running SUITE, in microseconds.
  nextest_run() {
    cargo nextest run --release -p leakcheck-bench --test "$1" --test-threads=2 2>&1 \
      | grep -o 'Summary \[ *[0-9.]*s' | grep -o '[0-9.]*' | head -n 1 \
      | awk '{ printf "%d\n", $1 * 1000000 }'
  }
  for flavor in current_thread multi_thread; do
    tokio_nextest() { LEAKCHECK_RESOURCES=warn nextest_run "tokio_$flavor"; }
    leakcheck_nextest() { LEAKCHECK_RESOURCES=warn nextest_run "leakcheck_$flavor"; }
    unchecked_nextest() { LEAKCHECK_RESOURCES=off nextest_run "leakcheck_$flavor"; }
    compare_rounds $((runs * 2)) tokio_nextest leakcheck_nextest unchecked_nextest
    awk -v flavor="$flavor" -v t="${medians[0]}" -v on="${medians[1]}" -v off="${medians[2]}" \
      -v r_on="${ratios[1]}" -v r_off="${ratios[2]}" 'BEGIN {
      printf "%s, nextest, a process per test: #[tokio::test] %.0f ms; leakcheck %.0f ms, ratio %.3f (of the rounds: %.3f); resource check off %.0f ms, ratio %.3f (of the rounds: %.3f)\n",
        flavor, t / 1000, on / 1000, on / t, r_on, off / 1000, off / t, r_off
    }'
  done
else
  echo "cargo-nextest is not installed: no per-process figures"
fi
for flavor in current_thread multi_thread; do
  tokio_binary=$(executable "tokio_$flavor")
  leakcheck_binary=$(executable "leakcheck_$flavor")
  tokio_serial() { wall_of "$tokio_binary" --test-threads=1 -q; }
  leakcheck_serial() { LEAKCHECK_RESOURCES=warn wall_of "$leakcheck_binary" --test-threads=1 -q; }
  unchecked_serial() { LEAKCHECK_RESOURCES=off wall_of "$leakcheck_binary" --test-threads=1 -q; }
  compare_rounds $((runs * 5)) tokio_serial leakcheck_serial unchecked_serial
  awk -v flavor="$flavor" -v t="${medians[0]}" -v on="${medians[1]}" -v off="${medians[2]}" \
    -v r_on="${ratios[1]}" -v r_off="${ratios[2]}" 'BEGIN {
    printf "%s, --test-threads=1, one process: #[tokio::test] %.1f ms; leakcheck %.1f ms, ratio %.3f (of the rounds: %.3f); resource check off %.1f ms, ratio %.3f (of the rounds: %.3f)\n",
      flavor, t / 1000, on / 1000, on / t, r_on, off / 1000, off / t, r_off
  }'
done

# Instructions under callgrind, which the load of a shared machine does not move: each suite
# in one process with --test-threads=1, as serial suites run, where every check is on (the
# resource check runs only where a test is alone), default settings, both flavors. A suite's
# count still moves by a few percent between runs (which malloc arena each test's new thread
# takes over, and in what state, depends on when the last one ended): the median of three.
if command -v valgrind >/dev/null; then
  # instructions_of SUITE ARGS...: what one run of SUITE's binary with ARGS executes.
  instructions_of() {
    local suite=$1
    shift
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$(executable "$suite")" "$@" -q 2>&1 \
      | grep -o 'Collected : [0-9]*' | grep -o '[0-9]*'
  }
  serial_instructions() {
    for _ in 1 2 3; do instructions_of "$1" --test-threads=1; done | median
  }
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
