//! Failing leak-checked tests as a user meets them: run in a child `cargo test` binary (this
//! one, filtered to an ignored test), checking the exit status and what the user reads.

use std::future::pending;
use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use leakcheck::leak_checked_test;

/// Long enough for a slow, loaded machine; the children here finish in well under a second.
const CHILD_LIMIT: Duration = Duration::from_secs(60);

struct ChildRun {
    success: bool,
    output: String,
    took: Duration,
}

/// Runs this test binary with `args`, bounded by `CHILD_LIMIT`, and collects what it printed.
fn run_self(args: &[&str]) -> ChildRun {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let started = Instant::now();
    let mut child = Command::new(exe)
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary starts again as a child");
    let readers = [
        drain(child.stdout.take().expect("stdout is piped")),
        drain(child.stderr.take().expect("stderr is piped")),
    ];
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            break status;
        }
        if started.elapsed() > CHILD_LIMIT {
            let _ = child.kill();
            panic!("the child test binary {args:?} did not exit within {CHILD_LIMIT:?}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    let took = started.elapsed();
    let output = readers
        .map(|reader| reader.join().expect("the reader thread does not panic"))
        .concat();
    ChildRun {
        success: status.success(),
        output,
        took,
    }
}

fn drain(mut stream: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        let _ = stream.read_to_string(&mut text);
        text
    })
}

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
    let run = run_self(&["--ignored", "--exact", "leaks_one_task"]);
    assert!(!run.success, "a leaky test must fail:\n{}", run.output);
    for expected in [
        "leakcheck: `child_process::leaks_one_task` failed",
        "  1 task leaked (still alive 50ms after the test and its teardown)",
        "  hint: await the JoinHandle",
        "test leaks_one_task ... FAILED",
        "test result: FAILED. 0 passed; 1 failed",
    ] {
        assert!(
            run.output.contains(expected),
            "missing {expected:?} in:\n{}",
            run.output
        );
    }
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
    let run = run_self(&["--ignored", "--exact", "spins_a_blocking_thread"]);
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
    let run = run_self(&["--list", "--ignored"]);
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
