//! [`Check`]: a leak-checked run, configured with builder methods.

use std::future::Future;
use std::time::Duration;

use crate::findings::{AllowRule, Mode, Report, ResourceMode};
use crate::run::fixture::FixtureSet;
use crate::run::outcome::TestOutcome;
use crate::run::{self, RunsAgain, RunsOnce, TypedTest};
use crate::settings::{Flavor, TestOptions};
use crate::util::shared_str::SharedStr;

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
    test: SharedStr,
    options: TestOptions,
}

impl Check {
    /// A check of the test called `test`, with the defaults of `#[leak_checked_test]`.
    pub fn new(test: impl AsRef<str>) -> Self {
        Check {
            test: SharedStr::copied(test.as_ref()),
            options: TestOptions::default(),
        }
    }

    /// A check of the test with this literal name: what the attribute writes, since a
    /// literal is shared with the run and the report without an allocation.
    pub(crate) fn named(test: &'static str) -> Self {
        Check {
            test: test.into(),
            options: TestOptions::default(),
        }
    }

    /// The runtime to run on. Default: [`Flavor::CurrentThread`].
    pub fn flavor(mut self, flavor: Flavor) -> Self {
        self.options.flavor = flavor;
        self
    }

    /// Worker threads of a [`Flavor::MultiThread`] runtime. Default: tokio's, one per core.
    pub fn worker_threads(mut self, count: usize) -> Self {
        self.options.worker_threads = Some(count);
        self
    }

    /// Starts tokio's clock paused, as `#[tokio::test(start_paused = true)]`. The harness's
    /// own limits still count real time.
    pub fn start_paused(mut self, paused: bool) -> Self {
        self.options.start_paused = paused;
        self
    }

    /// Real-time limit for the test body, and for each fixture's setup. Default: 60 s. A step
    /// past its limit is stopped within 25 ms of it.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.options.timeout = Some(limit);
        self
    }

    /// Real-time limit for each teardown step. Default: 5 s. A step past its limit is stopped
    /// within 25 ms of it.
    pub fn teardown_timeout(mut self, limit: Duration) -> Self {
        self.options.teardown_timeout = Some(limit);
        self
    }

    /// How long leftover tasks get to finish after teardown before they count as leaked.
    /// Default: 250 ms. A run with nothing left over does not wait.
    pub fn settle(mut self, window: Duration) -> Self {
        self.options.settle = Some(window);
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
        let mut allowed = Vec::new();
        for rule in rules {
            match AllowRule::parse(rule.as_ref()) {
                Ok(rule) => allowed.push(rule),
                Err(why) => self.options.unmatchable_rules.push(why),
            }
        }
        self.options.allow_rules = Some(allowed);
        self
    }

    /// The test is `#[should_panic]` (the attribute passes it on, with its `expected`; `""`
    /// expects any panic). Nothing changes in how it runs or fails; its `LEAKCHECK_REPORT`
    /// line says what the test runner will make of it: `passed` when
    /// [`Report::assert_passed`] panics with a message holding `expected`.
    pub fn should_panic(mut self, expected: impl Into<String>) -> Self {
        self.options.should_panic = Some(expected.into());
        self
    }

    /// What to do with what the run finds: fail the test (the default), report it and pass, or
    /// skip leak detection. Replaces the default from `LEAKCHECK`.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.options.mode = Some(mode);
        self
    }

    /// The longest a single poll may block its thread: a longer one fails the test, naming
    /// what was polled. Replaces the default from `LEAKCHECK_MAX_POLL`. Default: off, and
    /// polls over [`LONG_POLL`](crate::LONG_POLL) are reported as warnings.
    ///
    /// A poll that blocks (a `std::thread::sleep`, a blocking lock or call, a busy loop)
    /// stalls every task on its thread. Time spent in `spawn_blocking` work or awaiting a
    /// sleep is not blocking. In every build leakcheck watches the polls of the test's own
    /// steps (the body, each fixture's setup and teardown, each teardown hook); with
    /// `--cfg tokio_unstable` it watches every task's and names the task by its spawn site.
    /// Polls are measured to within 25 ms.
    pub fn max_poll(mut self, limit: Duration) -> Self {
        self.options.max_poll = Some(limit);
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
        self.options.resources = Some(mode);
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
        // Only this thin layer is generic; the run itself is compiled once, not once per test.
        run::execute(
            self.test,
            &self.options,
            &mut TypedTest::new(RunsOnce(Some(body))),
        )
    }

    /// [`Check::run`] for a body that can run again, as [`Check::repeat`] needs: an `FnMut`.
    pub fn run_repeatable<F, Fut>(self, mut body: F) -> Report
    where
        F: FnMut() -> Fut,
        Fut: Future,
        Fut::Output: TestOutcome,
    {
        self.run_repeatable_with(async move |_: &mut ()| body().await)
    }

    /// [`Check::run_with`] for a body that can run again, as [`Check::repeat`] needs: the
    /// fixtures are set up once, the body runs `repeat` times on them, then they are torn
    /// down.
    pub fn run_repeatable_with<S, F, R>(self, body: F) -> Report
    where
        S: FixtureSet,
        F: AsyncFnMut(&mut S) -> R,
        R: TestOutcome,
    {
        run::execute(
            self.test,
            &self.options,
            &mut TypedTest::new(RunsAgain(body)),
        )
    }

    /// Runs the body `count` times on the same runtime and fixtures, and fails the test on
    /// what grows with every repetition after a warm-up: live tasks, descriptors and threads
    /// (where the resource check runs), and the test's [gauges](crate::gauge). Needs a body
    /// that can run again: [`Check::run_repeatable`] or [`Check::run_repeatable_with`] (the
    /// attribute uses them); [`Check::run`] runs its `FnOnce` once. Default: 1, or
    /// `LEAKCHECK_REPEAT`.
    pub fn repeat(mut self, count: usize) -> Self {
        self.options.repeat = Some(count);
        self
    }
}
