//! Synchronous code in async tests: a poll that blocks its thread fails a test with
//! `max_poll`, and a test stuck past its limit ends its process with a report instead of
//! hanging. The stuck tests run as children of this binary, since they end their process.

mod common;

use std::time::Duration;

use common::*;
use leakcheck::{AsyncFixture, BoxError, Check, Flavor, leak_checked_test};
use rstest::rstest;

const LIMIT: Duration = Duration::from_millis(300);
/// Long past `LIMIT` and the 25 ms the watchdog's looks may miss.
const BLOCK: Duration = Duration::from_millis(700);

// --- max_poll ---------------------------------------------------------------------------------

#[rstest]
fn a_body_that_blocks_its_thread_fails_with_max_poll(
    #[values(Flavor::CurrentThread, Flavor::MultiThread, Flavor::Local)] flavor: Flavor,
) {
    let report = Check::new("blocking_body")
        .flavor(flavor)
        .max_poll(LIMIT)
        .run(|| async {
            std::thread::sleep(BLOCK);
        });
    assert_fails_saying(
        &report,
        &[
            "the test body blocked its thread for at least ",
            " in one poll (max_poll is 300ms)",
            "hint: a blocking call in async code stalls every task on its thread: run it with tokio::task::spawn_blocking",
        ],
    );
}

#[rstest]
fn a_fixture_teardown_that_blocks_is_named(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    struct SyncClose;

    impl AsyncFixture for SyncClose {
        async fn setup() -> Result<Self, BoxError> {
            Ok(SyncClose)
        }

        async fn teardown(self) -> Result<(), BoxError> {
            std::thread::sleep(BLOCK);
            Ok(())
        }
    }

    let report = Check::new("blocking_teardown")
        .flavor(flavor)
        .max_poll(LIMIT)
        .run_with(async |_: &mut (SyncClose,)| {});
    assert_fails_saying(
        &report,
        &["teardown of fixture `SyncClose` blocked its thread for at least "],
    );
}

/// Only the task hooks of a `tokio_unstable` build see inside a spawned task's poll.
#[cfg(tokio_unstable)]
#[rstest]
fn a_task_that_blocks_its_thread_is_named_by_its_spawn_site(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let spawn_line = line!() + 5;
    let report = Check::new("blocking_task")
        .flavor(flavor)
        .max_poll(LIMIT)
        .run(|| async {
            let task = tokio::spawn(async { std::thread::sleep(BLOCK) });
            task.await.expect("the task completes");
        });
    assert_fails_saying(
        &report,
        &[&format!(
            "task spawned at tests/blocking.rs:{spawn_line}:24 (id "
        )],
    );
    assert!(
        report
            .to_string()
            .contains("blocked its thread for at least "),
        "{report}"
    );
}

#[test]
fn without_max_poll_a_long_poll_is_a_warning() {
    let report = Check::new("long_poll").run(|| async {
        std::thread::sleep(Duration::from_millis(1300));
    });
    assert_passes(&report);
    let text = report.to_string();
    assert!(
        text.contains("warning: the test body blocked its thread for at least 1"),
        "{text}"
    );
    assert!(
        text.contains("max_poll = \"<limit>\" fails a test"),
        "{text}"
    );
    assert_eq!(report.long_polls().len(), 1, "{text}");
}

#[test]
fn warn_mode_reports_a_blocking_poll_without_failing() {
    let report = Check::new("blocking_body_warned")
        .mode(leakcheck::Mode::Warn)
        .max_poll(LIMIT)
        .run(|| async {
            std::thread::sleep(BLOCK);
        });
    assert_passes(&report);
    assert!(
        report.to_string().contains("blocked its thread"),
        "{report}"
    );
}

/// Sleeping, yielding and blocking work on the blocking pool are not blocking: the clean
/// counterparts run in the under-load script too.
#[rstest]
fn awaiting_yielding_and_spawn_blocking_are_not_blocking(
    #[values(Flavor::CurrentThread, Flavor::MultiThread, Flavor::Local)] flavor: Flavor,
) {
    let report = Check::new("not_blocking")
        .flavor(flavor)
        .max_poll(LIMIT)
        .run(|| async {
            tokio::time::sleep(BLOCK).await;
            for _ in 0..1000 {
                tokio::task::yield_now().await;
            }
            tokio::task::spawn_blocking(|| std::thread::sleep(BLOCK))
                .await
                .expect("the blocking work completes");
            tokio::spawn(async { tokio::time::sleep(BLOCK).await })
                .await
                .expect("the task completes");
        });
    assert_passes(&report);
    assert!(report.warnings().is_empty(), "{report}");
}

#[leak_checked_test(max_poll = "300ms")]
#[should_panic(expected = "the test body blocked its thread for at least")]
async fn the_attribute_takes_max_poll() {
    std::thread::sleep(BLOCK);
}

#[leak_checked_test(max_poll = "300ms")]
async fn the_attribute_passes_a_test_that_awaits() {
    tokio::time::sleep(BLOCK).await;
}

// --- Stuck tests end their process --------------------------------------------------------------

#[leak_checked_test(timeout = "500ms")]
#[ignore = "ends its process, run as a child by a_stuck_body_ends_the_process_with_a_report"]
async fn stuck_body_current_thread() {
    std::thread::sleep(Duration::from_secs(3600));
}

#[leak_checked_test(flavor = "multi_thread", timeout = "500ms")]
#[ignore = "ends its process, run as a child by a_stuck_body_ends_the_process_with_a_report"]
async fn stuck_body_multi_thread() {
    std::thread::sleep(Duration::from_secs(3600));
}

#[leak_checked_test(flavor = "local", timeout = "500ms")]
#[ignore = "ends its process, run as a child by a_stuck_body_ends_the_process_with_a_report"]
async fn stuck_body_local() {
    std::thread::sleep(Duration::from_secs(3600));
}

/// A fixture whose teardown blocks in synchronous code for an hour.
struct StuckTeardown;

impl AsyncFixture for StuckTeardown {
    async fn setup() -> Result<Self, BoxError> {
        Ok(StuckTeardown)
    }

    async fn teardown(self) -> Result<(), BoxError> {
        std::thread::sleep(Duration::from_secs(3600));
        Ok(())
    }
}

#[leak_checked_test(teardown_timeout = "500ms")]
#[ignore = "ends its process, run as a child by a_stuck_teardown_ends_the_process_with_a_report"]
async fn stuck_teardown(_fixture: &StuckTeardown) {}

#[leak_checked_test(timeout = "500ms")]
#[ignore = "ends its process, run as a child by a_stuck_task_is_named"]
async fn stuck_in_a_task() {
    let stuck = tokio::spawn(async { std::thread::sleep(Duration::from_secs(3600)) });
    let _ = stuck.await;
}

/// The limit, the grace and a loaded machine's start-up, with room to spare: a stuck child
/// that ends by this has not hung.
const ENDS_WITHIN: Duration = Duration::from_secs(20);

fn assert_ended_stuck(run: &ChildRun, test: &str, phase: &str) {
    assert!(!run.success, "{test} must fail:\n{}", run.output);
    assert!(
        run.took < ENDS_WITHIN,
        "{test} ended only after {:?}:\n{}",
        run.took,
        run.output
    );
    let headline = format!(
        "leakcheck: `blocking::{test}` is stuck: {phase} is still running 2s past its limit (500ms)"
    );
    assert_said(
        run,
        &[
            headline.as_str(),
            "its thread is blocked in synchronous code",
            "leakcheck ends the test process now (exit code 101) rather than hang; the other tests of this process do not run or report",
            "hint: run blocking work with tokio::task::spawn_blocking",
        ],
    );
}

#[test]
fn a_stuck_body_ends_the_process_with_a_report() {
    for test in [
        "stuck_body_current_thread",
        "stuck_body_multi_thread",
        "stuck_body_local",
    ] {
        let run = run_self(&["--ignored", "--exact", test], &[]);
        assert_ended_stuck(&run, test, "its body");
        assert!(
            run.output.contains("the blocked poll: the test body"),
            "{}",
            run.output
        );
    }
}

#[test]
fn a_stuck_teardown_ends_the_process_with_a_report() {
    let run = run_self(&["--ignored", "--exact", "stuck_teardown"], &[]);
    assert_ended_stuck(
        &run,
        "stuck_teardown",
        "teardown of fixture `StuckTeardown`",
    );
    assert!(
        run.output
            .contains("the blocked poll: teardown of fixture `StuckTeardown`"),
        "{}",
        run.output
    );
}

#[test]
fn a_stuck_task_is_named() {
    let run = run_self(&["--ignored", "--exact", "stuck_in_a_task"], &[]);
    assert_ended_stuck(&run, "stuck_in_a_task", "its body");
    let named = if cfg!(tokio_unstable) {
        "the blocked poll: task spawned at tests/blocking.rs:"
    } else {
        "the blocked poll: a task of the test's runtime (a build with RUSTFLAGS=\"--cfg tokio_unstable\" names it)"
    };
    assert!(
        run.output.contains(named),
        "missing {named:?} in:\n{}",
        run.output
    );
}

#[test]
fn leakcheck_hang_wait_keeps_waiting() {
    // The child is stuck for an hour; it must still be running well past the limit and the
    // grace, having said so, when the test ends it.
    let run = run_self_for(
        &["--ignored", "--exact", "stuck_body_current_thread"],
        &[("LEAKCHECK_HANG", "wait")],
        Duration::from_secs(5),
    );
    assert!(run.timed_out, "the child exited:\n{}", run.output);
    assert_said(
        &run,
        &[
            "is stuck: its body is still running 2s past its limit (500ms)",
            "LEAKCHECK_HANG=wait: leakcheck keeps waiting",
        ],
    );
}

// --- A process of one test ends its watchdog ----------------------------------------------------

/// The names of this process's threads.
#[cfg(target_os = "linux")]
fn thread_names() -> Vec<String> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim_end().to_owned())
        .collect()
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "needs a process of its own, run as a child by a_process_of_one_test_ends_its_watchdog"]
fn checks_in_a_process_of_one_test() {
    assert_passes(&Check::new("first").run(|| async {}));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while thread_names()
        .iter()
        .any(|name| name.starts_with("leakcheck-watch"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the watchdog's thread outlived the run: {:?}",
            thread_names()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    println!("no watchdog after the first check");
    // Only a watchdog ends a wait on the wall clock: the second run starts one again.
    let second = Check::new("second")
        .timeout(LIMIT)
        .run(std::future::pending::<()>);
    assert_fails_saying(&second, &["the test timed out after 300ms"]);
    println!("the second check timed out");
}

#[cfg(target_os = "linux")]
#[test]
fn a_process_of_one_test_ends_its_watchdog() {
    let run = run_self(
        &[
            "--ignored",
            "--exact",
            "checks_in_a_process_of_one_test",
            "--nocapture",
        ],
        &[("NEXTEST_EXECUTION_MODE", "process-per-test")],
    );
    assert!(run.success, "{}", run.output);
    assert_said(
        &run,
        &[
            "no watchdog after the first check",
            "the second check timed out",
        ],
    );
}
