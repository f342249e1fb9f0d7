//! Fixtures and helpers shared by the test files.
#![allow(dead_code)] // each test file uses its own share of these

use std::cell::RefCell;
use std::future::pending;
use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use leakcheck::{AsyncFixture, BoxError, Check, Flavor, Report};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A short settle for tests that are meant to leak; the clean tests keep the default.
pub const LEAK_SETTLE: Duration = Duration::from_millis(100);

thread_local! {
    // Setup, the body, hooks and teardown all run on the test's own thread, so each test
    // sees only its own events even when tests run in parallel.
    static EVENTS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

pub fn event(text: impl Into<String>) {
    EVENTS.with(|events| events.borrow_mut().push(text.into()));
}

pub fn take_events() -> Vec<String> {
    EVENTS.with(|events| events.take())
}

/// A check meant to fail, with a short settle so the suite stays quick.
pub fn leaky_check(test: &str, flavor: Flavor) -> Check {
    Check::new(test).flavor(flavor).settle(LEAK_SETTLE)
}

/// Asserts the report failed and says each of `words`, showing the report when it does not.
pub fn assert_fails_saying(report: &Report, words: &[&str]) {
    let text = report.to_string();
    assert!(!report.passed(), "expected a failing report, got:\n{text}");
    assert!(
        text.starts_with(&format!("leakcheck: `{}` failed", report.test())),
        "{text}"
    );
    for word in words {
        assert!(text.contains(word), "report lacks {word:?}:\n{text}");
    }
}

pub fn assert_passes(report: &Report) {
    assert!(report.passed(), "expected a pass, got:\n{report}");
}

macro_rules! logged_fixture {
    ($name:ident) => {
        pub struct $name;

        impl AsyncFixture for $name {
            async fn setup() -> Result<Self, BoxError> {
                event(concat!("setup ", stringify!($name)));
                Ok($name)
            }

            async fn teardown(self) -> Result<(), BoxError> {
                event(concat!("teardown ", stringify!($name)));
                Ok(())
            }
        }
    };
}

logged_fixture!(First);
logged_fixture!(Second);
logged_fixture!(Third);

/// A fixture whose setup fails.
pub struct RefusedConnection;

impl AsyncFixture for RefusedConnection {
    async fn setup() -> Result<Self, BoxError> {
        event("setup RefusedConnection");
        Err("connection refused".into())
    }

    async fn teardown(self) -> Result<(), BoxError> {
        event("teardown RefusedConnection");
        Ok(())
    }
}

pub struct FailingTeardown;

impl AsyncFixture for FailingTeardown {
    async fn setup() -> Result<Self, BoxError> {
        Ok(FailingTeardown)
    }

    async fn teardown(self) -> Result<(), BoxError> {
        event("teardown FailingTeardown");
        Err("flush failed".into())
    }
}

pub struct PanickingTeardown;

impl AsyncFixture for PanickingTeardown {
    async fn setup() -> Result<Self, BoxError> {
        Ok(PanickingTeardown)
    }

    async fn teardown(self) -> Result<(), BoxError> {
        event("teardown PanickingTeardown");
        panic!("teardown exploded");
    }
}

pub struct HangingTeardown;

impl AsyncFixture for HangingTeardown {
    async fn setup() -> Result<Self, BoxError> {
        Ok(HangingTeardown)
    }

    async fn teardown(self) -> Result<(), BoxError> {
        event("teardown HangingTeardown");
        pending().await
    }
}

/// A fixture with a background task it stops, and awaits, in teardown.
pub struct Heartbeat {
    pub stop: CancellationToken,
    pub task: JoinHandle<u32>,
}

impl AsyncFixture for Heartbeat {
    async fn setup() -> Result<Self, BoxError> {
        let stop = CancellationToken::new();
        let task = tokio::spawn({
            let stop = stop.clone();
            async move {
                let mut beats = 0;
                loop {
                    tokio::select! {
                        () = stop.cancelled() => return beats,
                        () = tokio::time::sleep(Duration::from_millis(1)) => beats += 1,
                    }
                }
            }
        });
        Ok(Heartbeat { stop, task })
    }

    async fn teardown(self) -> Result<(), BoxError> {
        self.stop.cancel();
        self.task.await?;
        Ok(())
    }
}

/// Long enough for a slow, loaded machine; the children here finish in well under a second.
pub const CHILD_LIMIT: Duration = Duration::from_secs(60);

pub struct ChildRun {
    pub success: bool,
    pub output: String,
    pub took: Duration,
    /// Whether the child was still running at its limit, and was killed.
    pub timed_out: bool,
}

/// Runs this test binary with `args` and `environment`, bounded by `CHILD_LIMIT`, and
/// collects what it printed.
pub fn run_self(args: &[&str], environment: &[(&str, &str)]) -> ChildRun {
    let run = run_self_for(args, environment, CHILD_LIMIT);
    assert!(
        !run.timed_out,
        "the child test binary {args:?} did not exit within {CHILD_LIMIT:?}:\n{}",
        run.output
    );
    run
}

/// Runs this test binary with `args` and `environment`, kills it if it is still running
/// after `limit`, and collects what it printed.
pub fn run_self_for(args: &[&str], environment: &[(&str, &str)], limit: Duration) -> ChildRun {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let started = Instant::now();
    let mut child = Command::new(exe)
        .args(args)
        .env("RUST_BACKTRACE", "1")
        // The child is a libtest run of its own, with its own threads, whatever runs this.
        .env_remove("NEXTEST_EXECUTION_MODE")
        .envs(environment.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary starts again as a child");
    let readers = [
        drain(child.stdout.take().expect("stdout is piped")),
        drain(child.stderr.take().expect("stderr is piped")),
    ];
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            break status;
        }
        if started.elapsed() > limit {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("the killed child can be waited for");
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
        timed_out,
    }
}

/// Asserts that a child's output holds each of `expected`.
pub fn assert_said(run: &ChildRun, expected: &[&str]) {
    for words in expected {
        assert!(
            run.output.contains(words),
            "missing {words:?} in:\n{}",
            run.output
        );
    }
}

fn drain(mut stream: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        let _ = stream.read_to_string(&mut text);
        text
    })
}
