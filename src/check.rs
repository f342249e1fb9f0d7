//! The run of one leak-checked test, from building its runtime to the verdict.

use std::future::Future;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Handle, LocalOptions, LocalRuntime, Runtime};

use crate::fixture::FixtureSet;
use crate::outcome::TestOutcome;
use crate::panics::{self, PanicPayload};
use crate::registry::{self, RunState};
use crate::report::{Finding, Report};
use crate::steps::Steps;
use crate::wallclock::{self, Bounded};

/// The limit for a test body, and for each fixture's setup, unless the test sets `timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The limit for each teardown step unless the test sets `teardown_timeout`.
pub const DEFAULT_TEARDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// How long leftover tasks get to finish before they count as leaked, unless the test sets
/// `settle`. A run with nothing left over does not wait at all.
pub const DEFAULT_SETTLE: Duration = Duration::from_millis(250);

/// Shutdown waits at least this long for blocking work, even with a shorter `settle`: idle
/// blocking threads need a moment to see the shutdown on a loaded machine, and must not be
/// mistaken for busy ones.
const MIN_BLOCKING_GRACE: Duration = Duration::from_millis(100);
/// The settle loop first yields this often, which lets tasks that are ready finish on the
/// test's own thread before any sleep.
const SETTLE_YIELDS: u32 = 8;
/// Then it sleeps, starting this short and doubling up to `SETTLE_MAX_PAUSE`, so a task that
/// needs a moment is seen soon and a leak is reported soon after `settle`.
const SETTLE_FIRST_PAUSE: Duration = Duration::from_micros(50);
const SETTLE_MAX_PAUSE: Duration = Duration::from_millis(5);
/// A task whose panic hook is still printing (a backtrace can take a second to symbolise) is
/// waited for past `settle`, up to this much longer, so it is not reported as a leak too.
const PANIC_HOOK_ALLOWANCE: Duration = Duration::from_secs(10);

/// Which tokio runtime a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// One thread, the test's own: `#[tokio::test]`'s default.
    #[default]
    CurrentThread,
    /// A pool of worker threads besides the test's thread.
    MultiThread,
    /// A [`LocalRuntime`]: one thread, and `tokio::task::spawn_local` works anywhere in the test.
    Local,
}

/// A leak-checked run, configured with builder methods: what `#[leak_checked_test]` expands to.
///
/// [`Check::run`] and [`Check::run_with`] build a fresh runtime, run the test on it and
/// return a [`Report`] of everything that went wrong; they never panic because of the test.
/// [`Report::assert_passed`] turns the report into a test verdict.
///
/// # Examples
///
/// ```
/// use std::future::pending;
/// use leakcheck::Check;
///
/// let report = Check::new("fire_and_forget").run(|| async {
///     tokio::spawn(pending::<()>());
/// });
/// assert!(!report.passed());
/// assert!(report.to_string().contains("1 task leaked"));
///
/// let report = Check::new("awaited").run(|| async {
///     tokio::spawn(async {}).await.unwrap();
/// });
/// assert!(report.passed(), "{report}");
/// ```
#[derive(Debug, Clone)]
pub struct Check {
    test: String,
    flavor: Flavor,
    worker_threads: Option<usize>,
    start_paused: bool,
    timeout: Duration,
    teardown_timeout: Duration,
    settle: Duration,
}

impl Check {
    /// A check of the test called `test`, with the defaults of `#[leak_checked_test]`.
    pub fn new(test: impl Into<String>) -> Self {
        Check {
            test: test.into(),
            flavor: Flavor::default(),
            worker_threads: None,
            start_paused: false,
            timeout: DEFAULT_TIMEOUT,
            teardown_timeout: DEFAULT_TEARDOWN_TIMEOUT,
            settle: DEFAULT_SETTLE,
        }
    }

    /// The runtime to run on. Default: [`Flavor::CurrentThread`].
    pub fn flavor(mut self, flavor: Flavor) -> Self {
        self.flavor = flavor;
        self
    }

    /// Worker threads of a [`Flavor::MultiThread`] runtime. Default: tokio's, one per core.
    pub fn worker_threads(mut self, count: usize) -> Self {
        self.worker_threads = Some(count);
        self
    }

    /// Starts tokio's clock paused, as `#[tokio::test(start_paused = true)]`. The harness's
    /// own limits still count real time.
    pub fn start_paused(mut self, paused: bool) -> Self {
        self.start_paused = paused;
        self
    }

    /// Real-time limit for the test body, and for each fixture's setup. Default: 60 s.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = limit;
        self
    }

    /// Real-time limit for each teardown step. Default: 5 s.
    pub fn teardown_timeout(mut self, limit: Duration) -> Self {
        self.teardown_timeout = limit;
        self
    }

    /// How long leftover tasks get to finish after teardown before they count as leaked.
    /// Default: 250 ms. A run with nothing left over does not wait.
    pub fn settle(mut self, window: Duration) -> Self {
        self.settle = window;
        self
    }

    /// Runs a test body that takes no fixtures.
    pub fn run<F, Fut>(self, body: F) -> Report
    where
        F: FnOnce() -> Fut,
        Fut: Future,
        Fut::Output: TestOutcome,
    {
        self.run_with(async move |_: &mut ()| body().await)
    }

    /// Runs a test body that borrows fixtures, given as a tuple type.
    ///
    /// The fixtures are set up in tuple order before the body and torn down in reverse after
    /// it, after the [`on_teardown`](crate::on_teardown) hooks.
    ///
    /// ```
    /// use leakcheck::{AsyncFixture, BoxError, Check};
    ///
    /// struct Greeting(String);
    ///
    /// impl AsyncFixture for Greeting {
    ///     async fn setup() -> Result<Self, BoxError> {
    ///         Ok(Greeting("hello".into()))
    ///     }
    ///     async fn teardown(self) -> Result<(), BoxError> {
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let report = Check::new("greets").run_with(async |(greeting,): &mut (Greeting,)| {
    ///     assert_eq!(greeting.0, "hello");
    /// });
    /// assert!(report.passed(), "{report}");
    /// ```
    pub fn run_with<S, F, R>(self, body: F) -> Report
    where
        S: FixtureSet,
        F: AsyncFnOnce(&mut S) -> R,
        R: TestOutcome,
    {
        if let Some(problem) = self.misconfiguration() {
            return self.harness_failure(problem);
        }
        panics::install_task_panic_hook();
        if let Err(error) = wallclock::start() {
            return self.harness_failure(error.to_string());
        }
        let busy_threads = Arc::new(AtomicUsize::new(0));
        let runtime = match self.build_runtime(&busy_threads) {
            Ok(runtime) => runtime,
            Err(error) => {
                return self.harness_failure(format!("could not build the tokio runtime: {error}"));
            }
        };
        let run = Arc::new(RunState::new());
        let registration = registry::register(runtime.handle().id(), Arc::clone(&run));
        // Everything the user wrote runs under its own catch_unwind inside `drive`; this one
        // catches what escapes it (a panicking `Drop` of a timed-out body, say) so that the
        // runtime still shuts down with a bound instead of waiting in its own `Drop`.
        let driven = catch_unwind(AssertUnwindSafe(|| {
            runtime.block_on(self.drive::<S, F, R>(body, &run))
        }));
        let (mut findings, test_panic) = match driven {
            Ok(driven) => driven,
            Err(payload) => (
                vec![Finding::TestPanicked {
                    message: panics::message(&*payload),
                }],
                Some(payload),
            ),
        };

        let grace = self.settle.max(MIN_BLOCKING_GRACE);
        runtime.shutdown(grace);
        let still_busy = busy_threads.load(Ordering::SeqCst);
        if still_busy > 0 {
            findings.push(Finding::BlockingTasksLeaked {
                count: still_busy,
                grace,
            });
        }
        drop(registration);
        findings.extend(run.take_findings());
        Report::new(self.test, findings, test_panic)
    }

    fn misconfiguration(&self) -> Option<String> {
        let multi_thread = self.flavor == Flavor::MultiThread;
        match self.worker_threads {
            Some(_) if !multi_thread => {
                return Some("worker_threads needs Flavor::MultiThread".to_owned());
            }
            Some(0) => return Some("worker_threads must be at least 1".to_owned()),
            _ => {}
        }
        if self.start_paused && multi_thread {
            return Some(
                "start_paused needs Flavor::CurrentThread or Flavor::Local (tokio pauses only a single-threaded clock)"
                    .to_owned(),
            );
        }
        None
    }

    fn harness_failure(self, message: String) -> Report {
        Report::new(self.test, vec![Finding::Harness { message }], None)
    }

    fn build_runtime(&self, busy_threads: &Arc<AtomicUsize>) -> io::Result<TestRuntime> {
        let mut builder = match self.flavor {
            Flavor::MultiThread => Builder::new_multi_thread(),
            Flavor::CurrentThread | Flavor::Local => Builder::new_current_thread(),
        };
        builder.enable_all().start_paused(self.start_paused);
        if let Some(count) = self.worker_threads {
            builder.worker_threads(count);
        }
        // After shutdown, a runtime thread still alive is one whose blocking work would not
        // stop: tokio keeps no other count of them on stable.
        let started = Arc::clone(busy_threads);
        let stopped = Arc::clone(busy_threads);
        builder
            .on_thread_start(move || {
                started.fetch_add(1, Ordering::SeqCst);
            })
            .on_thread_stop(move || {
                stopped.fetch_sub(1, Ordering::SeqCst);
            });
        let runtime = match self.flavor {
            Flavor::Local => TestRuntime::Local(builder.build_local(LocalOptions::default())?),
            Flavor::CurrentThread | Flavor::MultiThread => TestRuntime::Shared(builder.build()?),
        };
        Ok(runtime)
    }

    /// Steps 2 to 5 of a run: setup, body, teardown, settle.
    async fn drive<S, F, R>(&self, body: F, run: &RunState) -> (Vec<Finding>, Option<PanicPayload>)
    where
        S: FixtureSet,
        F: AsyncFnOnce(&mut S) -> R,
        R: TestOutcome,
    {
        let baseline = Handle::current().metrics().num_alive_tasks();
        let mut steps = Steps::new(run, self.timeout, self.teardown_timeout);
        let mut test_panic = None;
        let fixtures = S::setup_all(&mut steps).await;
        if let Some(mut fixtures) = fixtures {
            match wallclock::within(self.timeout, body(&mut fixtures)).await {
                Bounded::Completed(outcome) => {
                    if let Some(error) = outcome.failure() {
                        steps.findings.push(Finding::TestFailed { error });
                    }
                }
                Bounded::Panicked(payload) => {
                    steps.findings.push(Finding::TestPanicked {
                        message: panics::message(&*payload),
                    });
                    test_panic = Some(payload);
                }
                Bounded::TimedOut => {
                    steps.findings.push(Finding::TestTimedOut {
                        after: self.timeout,
                    });
                }
            }
            steps.run_hooks().await;
            fixtures.teardown_all(&mut steps).await;
        }
        // Hooks registered by fixture teardowns, or by tasks during a failed setup.
        steps.run_hooks().await;
        run.close_hooks();

        let leaked = settle(run, baseline, self.settle).await;
        let mut findings = steps.findings;
        if leaked > 0 {
            findings.push(Finding::TasksLeaked {
                count: leaked,
                settle: self.settle,
            });
        }
        (findings, test_panic)
    }
}

/// Waits until no task is left beyond `baseline`, or until `window` has passed in real time;
/// gives the number still left. Returns at once when nothing is left.
async fn settle(run: &RunState, baseline: usize, window: Duration) -> usize {
    let metrics = Handle::current().metrics();
    let deadline = Instant::now() + window;
    let last_resort = deadline + PANIC_HOOK_ALLOWANCE;
    let mut yields = 0;
    let mut pause = SETTLE_FIRST_PAUSE;
    loop {
        let left = metrics.num_alive_tasks().saturating_sub(baseline);
        let now = Instant::now();
        let waiting_for_a_panic_hook = run.task_panicking() && now < last_resort;
        if left == 0 || (now >= deadline && !waiting_for_a_panic_hook) {
            return left;
        }
        if yields < SETTLE_YIELDS {
            yields += 1;
            tokio::task::yield_now().await;
        } else {
            let wake = if waiting_for_a_panic_hook {
                now + pause
            } else {
                (now + pause).min(deadline)
            };
            wallclock::sleep_until(wake).await;
            pause = (pause * 2).min(SETTLE_MAX_PAUSE);
        }
    }
}

/// The runtime of one test: a [`Runtime`] or, for [`Flavor::Local`], a [`LocalRuntime`].
enum TestRuntime {
    Shared(Runtime),
    Local(LocalRuntime),
}

impl TestRuntime {
    fn handle(&self) -> &Handle {
        match self {
            TestRuntime::Shared(runtime) => runtime.handle(),
            TestRuntime::Local(runtime) => runtime.handle(),
        }
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        match self {
            TestRuntime::Shared(runtime) => runtime.block_on(future),
            TestRuntime::Local(runtime) => runtime.block_on(future),
        }
    }

    /// Shuts down, waiting for blocking work at most `grace`: a runtime dropped the usual way
    /// waits for it for ever, and a test binary must never hang on a spinning thread.
    fn shutdown(self, grace: Duration) {
        match self {
            TestRuntime::Shared(runtime) => runtime.shutdown_timeout(grace),
            TestRuntime::Local(runtime) => runtime.shutdown_timeout(grace),
        }
    }
}

impl std::fmt::Display for Flavor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Flavor::CurrentThread => "current_thread",
            Flavor::MultiThread => "multi_thread",
            Flavor::Local => "local",
        })
    }
}
