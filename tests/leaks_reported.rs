//! Tests that must be reported as failing: each runs a faulty test through `Check` on both
//! multi-task flavors and asserts the verdict and the words of the report.

mod common;

use std::future::pending;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::*;
use leakcheck::{Finding, Flavor, Problem, TeardownStep, on_teardown};
use rstest::rstest;

#[rstest]
fn a_fire_and_forget_task_is_one_leak(
    #[values(Flavor::CurrentThread, Flavor::MultiThread, Flavor::Local)] flavor: Flavor,
) {
    let report = leaky_check("fire_and_forget", flavor).run(|| async {
        tokio::spawn(pending::<()>());
    });
    assert_fails_saying(
        &report,
        &[
            "1 task leaked (still alive 100ms after the test and its teardown)",
            "hint: await the JoinHandle",
        ],
    );
    assert_eq!(report.leaked_tasks(), 1);
}

#[rstest]
fn a_reconnect_loop_is_a_leak(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let report = leaky_check("reconnect_loop", flavor).run(|| async {
        tokio::spawn(async {
            loop {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
    });
    assert_fails_saying(&report, &["1 task leaked"]);
}

#[test]
fn an_interval_loop_under_a_paused_clock_is_a_leak() {
    let report = leaky_check("paused_interval", Flavor::CurrentThread)
        .start_paused(true)
        .run(|| async {
            tokio::spawn(async {
                let mut every_minute = tokio::time::interval(Duration::from_secs(60));
                loop {
                    every_minute.tick().await;
                }
            });
            tokio::time::sleep(Duration::from_secs(600)).await;
        });
    assert_fails_saying(&report, &["1 task leaked"]);
}

#[rstest]
fn tasks_spawned_by_tasks_are_counted(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let report = leaky_check("nested_spawns", flavor).run(|| async {
        tokio::spawn(async {
            tokio::spawn(async {
                tokio::spawn(pending::<()>());
                pending::<()>().await
            });
            pending::<()>().await
        });
        // Let the chain spawn before the body ends; the settle would see it either way.
        tokio::time::sleep(Duration::from_millis(20)).await;
    });
    assert_fails_saying(&report, &["3 tasks leaked"]);
    assert_eq!(report.leaked_tasks(), 3);
}

#[rstest]
fn a_detached_task_that_panicked_fails_the_test(
    #[values(Flavor::CurrentThread, Flavor::MultiThread, Flavor::Local)] flavor: Flavor,
) {
    let report = leaky_check("detached_panic", flavor).run(|| async {
        drop(tokio::spawn(async {
            panic!("price feed closed unexpectedly");
        }));
        tokio::time::sleep(Duration::from_millis(20)).await;
    });
    assert_fails_saying(
        &report,
        &[
            "a spawned task panicked at tests/leaks_reported.rs:",
            ": price feed closed unexpectedly",
        ],
    );
    assert_eq!(report.leaked_tasks(), 0, "{report}");
}

#[rstest]
fn blocking_work_still_running_is_a_leak_and_the_run_still_ends(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let spinning = Arc::clone(&stop);
    let started = Instant::now();
    let report = leaky_check("blocking_leak", flavor).run(|| async move {
        tokio::task::spawn_blocking(move || {
            while !spinning.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(1));
            }
        });
    });
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    assert_fails_saying(&report, &["1 blocking task leaked", "spawn_blocking"]);
    assert!(took < Duration::from_secs(5), "the run took {took:?}");
}

#[rstest]
fn a_hung_body_times_out_and_teardown_still_runs(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let started = Instant::now();
    let report = leaky_check("hung_body", flavor)
        .timeout(Duration::from_millis(200))
        .run_with(async |_: &mut (First,)| {
            on_teardown(async { event("hook") });
            pending::<()>().await
        });
    let took = started.elapsed();
    assert_fails_saying(
        &report,
        &["the test timed out after 200ms (its teardown still ran)"],
    );
    assert_eq!(take_events(), ["setup First", "hook", "teardown First"]);
    assert!(took >= Duration::from_millis(200), "{took:?}");
}

#[test]
fn a_hung_body_times_out_in_real_time_under_a_paused_clock() {
    let started = Instant::now();
    let report = leaky_check("hung_paused_body", Flavor::CurrentThread)
        .start_paused(true)
        .timeout(Duration::from_millis(300))
        .run(|| async {
            // Auto-advance makes this hour pass at once; the wait after it never ends.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            pending::<()>().await
        });
    let took = started.elapsed();
    assert_fails_saying(&report, &["timed out after 300ms"]);
    assert!(
        took >= Duration::from_millis(300),
        "the paused clock cut the timeout short: {took:?}"
    );
}

#[rstest]
fn a_failed_setup_tears_down_what_was_set_up_and_names_the_fixture(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let report = leaky_check("refused", flavor).run_with(
        async |_: &mut (First, Second, RefusedConnection, Third)| {
            event("body");
        },
    );
    assert_fails_saying(
        &report,
        &["fixture `RefusedConnection` setup failed: connection refused"],
    );
    assert_eq!(
        take_events(),
        [
            "setup First",
            "setup Second",
            "setup RefusedConnection",
            "teardown Second",
            "teardown First"
        ]
    );
}

#[rstest]
fn every_teardown_runs_when_some_fail_panic_or_hang(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let report = leaky_check("bad_teardowns", flavor)
        .teardown_timeout(Duration::from_millis(150))
        .run_with(
            async |_: &mut (
                First,
                HangingTeardown,
                PanickingTeardown,
                FailingTeardown,
                Second,
            )| {},
        );
    assert_fails_saying(
        &report,
        &[
            "teardown of fixture `FailingTeardown` failed: flush failed",
            "teardown of fixture `PanickingTeardown` panicked: teardown exploded",
            "teardown of fixture `HangingTeardown` timed out after 150ms",
            "leakcheck::teardown_deadline()",
        ],
    );
    let events = take_events();
    assert_eq!(
        events[2..],
        [
            "teardown Second",
            "teardown FailingTeardown",
            "teardown PanickingTeardown",
            "teardown HangingTeardown",
            "teardown First"
        ]
    );
    let problems: Vec<&Problem> = report
        .findings()
        .iter()
        .filter_map(|finding| match finding {
            Finding::Teardown { problem, .. } => Some(problem),
            _ => None,
        })
        .collect();
    assert_eq!(problems.len(), 3, "{report}");
}

#[rstest]
fn teardown_hooks_that_fail_panic_or_hang_are_reported_and_the_rest_run(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let report = leaky_check("bad_hooks", flavor)
        .teardown_timeout(Duration::from_millis(150))
        .run_with(async |_: &mut (First,)| {
            on_teardown(async { event("first hook") });
            on_teardown(async { pending::<()>().await });
            on_teardown(explode());
            on_teardown(async { Err::<(), _>("socket already closed") });
        });
    assert_fails_saying(
        &report,
        &[
            "teardown hook registered at tests/leaks_reported.rs:",
            "failed: \"socket already closed\"",
            "panicked: hook exploded",
            "timed out after 150ms",
        ],
    );
    assert_eq!(
        take_events(),
        ["setup First", "first hook", "teardown First"]
    );
    let hooks = report
        .findings()
        .iter()
        .filter(|finding| {
            matches!(
                finding,
                Finding::Teardown {
                    step: TeardownStep::Hook(_),
                    ..
                }
            )
        })
        .count();
    assert_eq!(hooks, 3, "{report}");
}

#[test]
fn an_error_returned_by_the_body_fails_the_test() {
    let report = leaky_check("returns_err", Flavor::CurrentThread)
        .run(|| async { Err::<(), _>(std::io::Error::other("order rejected")) });
    assert_fails_saying(&report, &["the test returned an error: ", "order rejected"]);
}

#[rstest]
fn a_panicking_body_keeps_its_message_and_its_panic(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let report = leaky_check("panics", flavor).run_with(async |_: &mut (First,)| -> () {
        panic!("expected 3 fills, got 2");
    });
    assert_fails_saying(&report, &["the test panicked: expected 3 fills, got 2"]);
    assert_eq!(take_events(), ["setup First", "teardown First"]);
    let raised = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| report.assert_passed()));
    let payload = raised.expect_err("assert_passed must raise the body's panic");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"expected 3 fills, got 2")
    );
}

#[test]
fn a_failing_report_raises_its_own_text() {
    let report = leaky_check("raises_report", Flavor::CurrentThread).run(|| async {
        tokio::spawn(pending::<()>());
    });
    let text = report.to_string();
    let raised = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| report.assert_passed()));
    let payload = raised.expect_err("a failing report must fail the test");
    assert_eq!(payload.downcast_ref::<String>(), Some(&text));
}

#[test]
fn a_hook_registered_after_teardown_is_reported() {
    let report = leaky_check("late_hook", Flavor::CurrentThread).run(|| async {
        tokio::spawn(async {
            // Still running when teardown has finished: the hook can no longer run.
            tokio::time::sleep(Duration::from_millis(30)).await;
            on_teardown(async {});
        });
    });
    assert_fails_saying(
        &report,
        &[
            "on_teardown called at tests/leaks_reported.rs:",
            "its cleanup never ran",
        ],
    );
}

#[test]
fn misconfiguration_is_reported_not_panicked() {
    let report = leakcheck::Check::new("paused_pool")
        .flavor(Flavor::MultiThread)
        .start_paused(true)
        .run(|| async {});
    assert_fails_saying(
        &report,
        &["leakcheck could not run the test: start_paused needs"],
    );
    let report = leakcheck::Check::new("threads_without_pool")
        .worker_threads(2)
        .run(|| async {});
    assert_fails_saying(&report, &["worker_threads needs Flavor::MultiThread"]);
    let report = leakcheck::Check::new("unmatchable_rule")
        .allow_leaks(["bb8", "child:"])
        .run(|| async {});
    assert_fails_saying(
        &report,
        &[
            "leakcheck could not run the test: allow_leaks: `child:` names no child: write `child:` and what to let go, like `child:sleep`",
        ],
    );
}

async fn explode() {
    panic!("hook exploded");
}
