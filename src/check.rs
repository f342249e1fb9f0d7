//! The run of one leak-checked test, from building its runtime to the verdict.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::allow::AllowRule;
use crate::fixture::FixtureSet;
use crate::outcome::TestOutcome;
use crate::report::Report;
use crate::resources::ResourceMode;
use crate::run::{self, TypedTest};
use crate::settings::{self, Mode, OnHang};

/// The limit for a test body, and for each fixture's setup, unless the test sets `timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The limit for each teardown step unless the test sets `teardown_timeout`.
pub const DEFAULT_TEARDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// How long leftover tasks get to finish before they count as leaked, unless the test sets
/// `settle`. A run with nothing left over does not wait at all.
pub const DEFAULT_SETTLE: Duration = Duration::from_millis(250);
/// A poll longer than this is reported as a warning when the test sets no `max_poll`.
pub const LONG_POLL: Duration = Duration::from_secs(1);

/// Which tokio runtime a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// One thread, the test's own: `#[tokio::test]`'s default.
    #[default]
    CurrentThread,
    /// A pool of worker threads besides the test's thread.
    MultiThread,
    /// A [`LocalRuntime`](tokio::runtime::LocalRuntime): one thread, and
    /// `tokio::task::spawn_local` works anywhere in the test.
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
    // Shared with the run and its report without copying.
    pub(crate) test: Arc<str>,
    pub(crate) flavor: Flavor,
    pub(crate) worker_threads: Option<usize>,
    pub(crate) start_paused: bool,
    // Set by the test itself; `None` falls back to the environment, then to the default.
    timeout: Option<Duration>,
    teardown_timeout: Option<Duration>,
    settle: Option<Duration>,
    allow_rules: Option<Vec<AllowRule>>,
    mode: Option<Mode>,
    max_poll: Option<Duration>,
    resources: Option<ResourceMode>,
}

/// A [`Check`]'s settings once the environment has filled in what the test left open.
pub(crate) struct Resolved {
    pub(crate) timeout: Duration,
    pub(crate) teardown_timeout: Duration,
    pub(crate) settle: Duration,
    pub(crate) allow_rules: Vec<AllowRule>,
    pub(crate) mode: Mode,
    pub(crate) report: Option<PathBuf>,
    pub(crate) max_poll: Option<Duration>,
    pub(crate) on_hang: OnHang,
    pub(crate) resources: ResourceMode,
}

impl Check {
    /// A check of the test called `test`, with the defaults of `#[leak_checked_test]`.
    pub fn new(test: impl Into<String>) -> Self {
        Check {
            test: Arc::from(test.into()),
            flavor: Flavor::default(),
            worker_threads: None,
            start_paused: false,
            timeout: None,
            teardown_timeout: None,
            settle: None,
            allow_rules: None,
            mode: None,
            max_poll: None,
            resources: None,
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
        self.timeout = Some(limit);
        self
    }

    /// Real-time limit for each teardown step. Default: 5 s.
    pub fn teardown_timeout(mut self, limit: Duration) -> Self {
        self.teardown_timeout = Some(limit);
        self
    }

    /// How long leftover tasks get to finish after teardown before they count as leaked.
    /// Default: 250 ms. A run with nothing left over does not wait.
    pub fn settle(mut self, window: Duration) -> Self {
        self.settle = Some(window);
        self
    }

    /// Leaks this test may keep, for tasks it cannot stop: each entry names a dependency crate
    /// (`"bb8"`: tasks spawned from its sources, whatever its version) or a source path prefix
    /// (`"src/metrics.rs"`, `"tests/support/"`). Replaces the default from
    /// `LEAKCHECK_ALLOW_LEAKS`.
    ///
    /// Spawn sites are known only in a build with `RUSTFLAGS="--cfg tokio_unstable"`; in other
    /// builds the rules cannot be applied and the report says so. In that build, a rule that
    /// matched no leftover task is reported as a warning, so stale rules surface. To let one
    /// task go in any build, use [`allow_leak`](crate::allow_leak).
    pub fn allow_leaks<I>(mut self, rules: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.allow_rules = Some(
            rules
                .into_iter()
                .map(|rule| AllowRule::parse(rule.as_ref()))
                .collect(),
        );
        self
    }

    /// What to do with what the run finds: fail the test (the default), report it and pass, or
    /// skip leak detection. Replaces the default from `LEAKCHECK`.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// The longest a single poll may block its thread: a longer one fails the test, naming
    /// what was polled. Replaces the default from `LEAKCHECK_MAX_POLL`. Default: off, and
    /// polls over [`LONG_POLL`] are reported as warnings.
    ///
    /// A poll that blocks (a `std::thread::sleep`, a blocking lock or call, a busy loop)
    /// stalls every task on its thread. Time spent in `spawn_blocking` work or awaiting a
    /// sleep is not blocking. In every build leakcheck watches the polls of the test's own
    /// steps (the body, each fixture's setup and teardown, each teardown hook); with
    /// `--cfg tokio_unstable` it watches every task's and names the task by its spawn site.
    /// Polls are measured to within 25 ms.
    pub fn max_poll(mut self, limit: Duration) -> Self {
        self.max_poll = Some(limit);
        self
    }

    /// What to do with sockets, files, child processes and threads the test leaves behind
    /// (Linux): fail the test, report them (the default), or not look. Replaces the default
    /// from `LEAKCHECK_RESOURCES`.
    ///
    /// The check runs only where the test is alone in its process (`cargo nextest run`, or
    /// `--test-threads=1`); in a parallel run it cannot tell whose a socket is, and is skipped.
    /// `allow_leaks` takes rules for resources a test may keep (`thread:<name>`,
    /// `socket:<address>`, `file:<path>`, `child:<command>`), and
    /// [`keep_resources`](crate::keep_resources) declares what a process-wide pool keeps.
    pub fn resources(mut self, mode: ResourceMode) -> Self {
        self.resources = Some(mode);
        self
    }

    /// Fills in what the test left open from the environment, then the defaults.
    pub(crate) fn resolve(&self) -> Result<Resolved, String> {
        let environment = settings::environment().as_ref().map_err(Clone::clone)?;
        Ok(Resolved {
            timeout: self
                .timeout
                .or(environment.timeout)
                .unwrap_or(DEFAULT_TIMEOUT),
            teardown_timeout: self
                .teardown_timeout
                .or(environment.teardown_timeout)
                .unwrap_or(DEFAULT_TEARDOWN_TIMEOUT),
            settle: self.settle.or(environment.settle).unwrap_or(DEFAULT_SETTLE),
            allow_rules: self
                .allow_rules
                .clone()
                .or_else(|| environment.allow_leaks.clone())
                .unwrap_or_default(),
            mode: self.mode.or(environment.mode).unwrap_or_default(),
            report: environment.report.clone(),
            max_poll: self.max_poll.or(environment.max_poll),
            on_hang: environment.on_hang,
            resources: self.resources.or(environment.resources).unwrap_or_default(),
        })
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
        // Only this thin layer is generic; the run itself is compiled once, not once per test.
        run::execute(self, &mut TypedTest::new(body))
    }

    pub(crate) fn misconfiguration(&self) -> Option<String> {
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
