//! Per-test cost in one process: the same small body run many times on a fresh runtime, by
//! hand as `#[tokio::test]` does and through `leakcheck::Check`, alternating, in microseconds.
//! Also how many of those clean runs waited in the settle at all, and for how long at most.
//!
//! `per_test_cost once bare|checked FLAVOR` runs 500 tests one way and prints nothing, for
//! counting instructions under `valgrind --tool=callgrind`.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use leakcheck::{Check, Flavor, ResourceMode};

const ROUNDS: usize = 7;
const TESTS_PER_ROUND: usize = 500;

fn tokio_test(multi_thread: bool) {
    let mut builder = if multi_thread {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(2);
        builder
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = builder.enable_all().build().expect("a runtime builds");
    runtime.block_on(leakcheck_bench::spawn_four_and_await());
}

thread_local! {
    static SETTLE_TIMES: RefCell<Vec<Duration>> = const { RefCell::new(Vec::new()) };
}

fn bench_check(multi_thread: bool) -> Check {
    if multi_thread {
        Check::new("bench")
            .flavor(Flavor::MultiThread)
            .worker_threads(2)
    } else {
        Check::new("bench")
    }
}

fn leak_checked_test(multi_thread: bool) {
    let report = bench_check(multi_thread).run(leakcheck_bench::spawn_four_and_await);
    SETTLE_TIMES.with(|times| times.borrow_mut().push(report.settle_time()));
    report.assert_passed();
}

/// The same, without the resource check: the difference is what its two looks at `/proc`
/// cost (a program's main thread, like this one, runs alone, so the check runs here).
fn leak_checked_test_without_resources(multi_thread: bool) {
    bench_check(multi_thread)
        .resources(ResourceMode::Off)
        .run(leakcheck_bench::spawn_four_and_await)
        .assert_passed();
}

fn per_test(run: fn(bool), multi_thread: bool) -> Duration {
    let started = Instant::now();
    for _ in 0..TESTS_PER_ROUND {
        run(multi_thread);
    }
    started.elapsed() / TESTS_PER_ROUND as u32
}

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    if let [once, side, flavor] = arguments.as_slice() {
        assert_eq!(
            once, "once",
            "usage: per_test_cost [once bare|checked FLAVOR]"
        );
        let run = match side.as_str() {
            "bare" => tokio_test,
            "checked" => leak_checked_test,
            "unchecked_resources" => leak_checked_test_without_resources,
            other => panic!("{other:?} is neither bare nor checked"),
        };
        per_test(run, flavor == "multi_thread");
        return;
    }
    for multi_thread in [false, true] {
        let (mut plain, mut checked, mut no_resources) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            plain.push(per_test(tokio_test, multi_thread));
            checked.push(per_test(leak_checked_test, multi_thread));
            no_resources.push(per_test(leak_checked_test_without_resources, multi_thread));
        }
        plain.sort();
        checked.sort();
        no_resources.sort();
        let (plain, checked, no_resources) = (
            plain[ROUNDS / 2],
            checked[ROUNDS / 2],
            no_resources[ROUNDS / 2],
        );
        println!(
            "{}: a test takes {:.1} us by hand, {:.1} us through Check (ratio {:.3})",
            if multi_thread {
                "multi_thread"
            } else {
                "current_thread"
            },
            plain.as_secs_f64() * 1e6,
            checked.as_secs_f64() * 1e6,
            checked.as_secs_f64() / plain.as_secs_f64()
        );
        println!(
            "  without the resource check: {:.1} us (its two looks at /proc: {:.1} us)",
            no_resources.as_secs_f64() * 1e6,
            (checked.as_secs_f64() - no_resources.as_secs_f64()) * 1e6
        );
        let settle_times = SETTLE_TIMES.with(|times| times.take());
        let waited = settle_times.iter().filter(|time| !time.is_zero()).count();
        let longest = settle_times.iter().max().copied().unwrap_or_default();
        println!(
            "  {waited} of {} clean runs waited in the settle, the longest {:.1} us",
            settle_times.len(),
            longest.as_secs_f64() * 1e6
        );
    }
}
