//! Failing leak-checked tests as a user meets them: run in a child `cargo test` binary (this
//! one, filtered to an ignored test), checking the exit status and what the user reads.

mod common;

use std::future::pending;
use std::time::Duration;

use common::{CHILD_LIMIT, assert_said, run_self};
use leakcheck::leak_checked_test;

#[leak_checked_test(settle = "50ms")]
#[ignore = "a leaky test, run as a child by a_leaky_test_fails_with_the_report_and_no_harness_backtrace"]
async fn leaks_one_task() {
    tokio::spawn(pending::<()>());
}

#[leak_checked_test(settle = "50ms")]
#[ignore = "a leaky test, run as a child by a_spinning_blocking_task_does_not_keep_the_binary_alive"]
async fn spins_a_blocking_thread() {
    tokio::task::spawn_blocking(|| {
        loop {
            std::thread::sleep(Duration::from_millis(5));
        }
    });
}

#[test]
fn a_leaky_test_fails_with_the_report_and_no_harness_backtrace() {
    let run = run_self(&["--ignored", "--exact", "leaks_one_task"], &[]);
    assert!(!run.success, "a leaky test must fail:\n{}", run.output);
    assert_said(
        &run,
        &[
            "leakcheck: `child_process::leaks_one_task` failed",
            "  1 task leaked (still alive 50ms after the test and its teardown)",
            "  hint: await the JoinHandle",
            "test leaks_one_task ... FAILED",
            "test result: FAILED. 0 passed; 1 failed",
        ],
    );
    // The verdict is raised without the panic hook: a backtrace of the harness would only
    // bury the report, and costs time under RUST_BACKTRACE=1.
    for unexpected in ["stack backtrace", "panicked at"] {
        assert!(
            !run.output.contains(unexpected),
            "found {unexpected:?} in:\n{}",
            run.output
        );
    }
}

#[test]
fn a_spinning_blocking_task_does_not_keep_the_binary_alive() {
    let run = run_self(&["--ignored", "--exact", "spins_a_blocking_thread"], &[]);
    assert!(!run.success, "{}", run.output);
    assert!(
        run.output.contains("1 blocking task leaked"),
        "{}",
        run.output
    );
    assert!(
        run.took < CHILD_LIMIT,
        "the binary exited only after {:?}",
        run.took
    );
}

#[test]
fn ignore_and_its_reason_survive_the_attribute() {
    let run = run_self(&["--list", "--ignored"], &[]);
    assert!(run.success, "{}", run.output);
    assert!(
        run.output.contains("leaks_one_task: test"),
        "{}",
        run.output
    );
    assert!(
        run.output.contains("spins_a_blocking_thread: test"),
        "{}",
        run.output
    );
}
