//! The run of one leak-checked test, from building its runtime to the report.
//!
//! Everything here is compiled once. A test reaches it through [`ErasedTest`], a thin
//! object-safe view of its fixtures and body; were the run generic over them, every test in a
//! suite would compile its own copy, and a suite of hundreds of tests would pay for it in build
//! time, binary size and memory.

use std::collections::HashSet;
use std::future::{Future, ready};
use std::io;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Handle, LocalOptions, LocalRuntime, Runtime};
use tokio::task::Id as TaskId;

use crate::allow::AllowRule;
use crate::backtraces::{self, ShortBacktrace};
use crate::check::{Check, Flavor, LONG_POLL, Resolved};
use crate::console;
use crate::fixture::FixtureSet;
use crate::hang;
use crate::jsonl;
use crate::outcome::TestOutcome;
use crate::packages;
use crate::panics::{self, PanicPayload};
use crate::phase::Phase;
use crate::polls;
use crate::registry::{self, RunConfig, RunState};
use crate::report::{BlockedPoll, Finding, Report, Spelled, TeardownRecord, plural};
use crate::resources::ResourceCheck;
use crate::settings::{Mode, OnHang};
use crate::sites;
use crate::spawns::{self, KNOWS_SPAWN_SITES, LeakedTask, LentSubscriber, SpawnLog};
use crate::steps::Steps;
use crate::wallclock::{self, Bounded};

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
/// After its panic hooks, a task still unwinds and ends; until this long after them it is
/// given the benefit of the doubt.
const PANIC_UNWIND_GRACE: Duration = Duration::from_millis(250);

type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A test as the run sees it: set its fixtures up, run its body once, tear the fixtures down.
pub(crate) trait ErasedTest {
    /// Sets up the fixtures; gives whether all of them were.
    fn setup<'a>(&'a mut self, steps: &'a mut Steps<'_>) -> LocalBoxFuture<'a, bool>;
    /// Runs the body on the fixtures; gives its failure, if it returned one.
    fn body(&mut self) -> LocalBoxFuture<'_, Option<String>>;
    /// Tears down the fixtures that were set up.
    fn teardown<'a>(&'a mut self, steps: &'a mut Steps<'_>) -> LocalBoxFuture<'a, ()>;
}

/// A body and its fixtures, with the types the user wrote.
pub(crate) struct TypedTest<S, F, R> {
    fixtures: Option<S>,
    body: Option<F>,
    outcome: PhantomData<fn() -> R>,
}

impl<S, F, R> TypedTest<S, F, R> {
    pub(crate) fn new(body: F) -> Self {
        TypedTest {
            fixtures: None,
            body: Some(body),
            outcome: PhantomData,
        }
    }
}

impl<S, F, R> ErasedTest for TypedTest<S, F, R>
where
    S: FixtureSet,
    F: AsyncFnOnce(&mut S) -> R,
    R: TestOutcome,
{
    fn setup<'a>(&'a mut self, steps: &'a mut Steps<'_>) -> LocalBoxFuture<'a, bool> {
        Box::pin(async move {
            self.fixtures = S::setup_all(steps).await;
            self.fixtures.is_some()
        })
    }

    fn body(&mut self) -> LocalBoxFuture<'_, Option<String>> {
        match (self.fixtures.as_mut(), self.body.take()) {
            (Some(fixtures), Some(body)) => Box::pin(async move {
                let body = pin!(body(fixtures));
                let failure = ShortBacktrace(body).await.failure();
                failure.map(backtraces::trim)
            }),
            _ => Box::pin(ready(None)),
        }
    }

    fn teardown<'a>(&'a mut self, steps: &'a mut Steps<'_>) -> LocalBoxFuture<'a, ()> {
        Box::pin(async move {
            if let Some(fixtures) = self.fixtures.take() {
                fixtures.teardown_all(steps).await;
            }
        })
    }
}

/// Runs `test` as `check` says: the whole of a leak-checked run.
pub(crate) fn execute(check: Check, test: &mut dyn ErasedTest) -> Report {
    let started = Instant::now();
    let settings = match check.resolve() {
        Ok(settings) => settings,
        Err(problem) => return harness_failure(&check, problem),
    };
    let report = run_resolved(&check, &settings, test).with_duration(started.elapsed());
    match &settings.report {
        Some(path) => jsonl::append(path, report),
        None => report,
    }
}

fn run_resolved(check: &Check, settings: &Resolved, test: &mut dyn ErasedTest) -> Report {
    let started = Instant::now();
    if let Some(problem) = check.misconfiguration() {
        return harness_failure(check, problem);
    }
    panics::install_task_panic_hook();
    console::serve_if_asked();
    if let Err(error) = wallclock::start() {
        return harness_failure(check, error.to_string());
    }
    // Lent before the runtime is built: building it already spawns (its workers).
    let _lent = LentSubscriber::lend();
    let busy_threads = Arc::new(AtomicUsize::new(0));
    let run = Arc::new(RunState::new(RunConfig {
        test: check.test.clone(),
        task_thread: (check.flavor != Flavor::MultiThread).then(|| std::thread::current().id()),
        serial: polls::next_run_serial(),
        max_poll: settings.max_poll,
        wait_when_stuck: settings.on_hang == OnHang::Wait,
    }));
    let detecting = settings.mode != Mode::Off;
    let mut resource_check = detecting
        .then(|| ResourceCheck::start(settings.resources, !registry::all().is_empty()))
        .flatten();
    let runtime = match build_runtime(check, &busy_threads, &run, resource_check.as_ref()) {
        Ok(runtime) => runtime,
        Err(error) => {
            return harness_failure(check, format!("could not build the tokio runtime: {error}"));
        }
    };
    if let Some(resource_check) = &mut resource_check {
        resource_check.begin();
    }
    let registration = registry::register(runtime.handle().id(), Arc::clone(&run));
    hang::watch();
    // Everything the user wrote runs under its own catch_unwind inside `drive`; this one
    // catches what escapes it (a panicking `Drop` of a timed-out body, say) so that the
    // runtime still shuts down with a bound instead of waiting in its own `Drop`.
    let driven = catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(drive(settings, test, &run))
    }));
    let Driven {
        mut findings,
        test_panic,
        settle_time,
        mut warnings,
        teardowns,
    } = match driven {
        Ok(driven) => driven,
        Err(payload) => Driven {
            findings: vec![Finding::TestPanicked {
                message: panics::message(&*payload),
            }],
            test_panic: Some(payload),
            settle_time: Duration::ZERO,
            warnings: Vec::new(),
            teardowns: Vec::new(),
        },
    };

    let grace = settings.settle.max(MIN_BLOCKING_GRACE);
    runtime.shutdown(grace);
    // Polls that ended since the watchdog last looked are filed before the verdict, looked at
    // once the runtime's threads have stopped: a worker that has finished a poll shows it
    // until it polls, parks or stops. A run shorter than the shortest poll it reports cannot
    // have one.
    if started.elapsed() > run.poll_threshold() {
        hang::look_now();
    }
    let mut long_polls = Vec::new();
    for poll in run.take_long_polls() {
        let poll = BlockedPoll {
            what: poll
                .what
                .unwrap_or_else(|| "a task of the test's runtime".to_owned()),
            at_least: poll.at_least,
        };
        match settings.max_poll {
            Some(limit) if poll.at_least > limit => {
                findings.push(Finding::BlockingPoll { poll, limit });
            }
            _ if poll.at_least > LONG_POLL => long_polls.push(poll),
            _ => {}
        }
    }
    warnings.extend(long_polls.iter().map(|poll| {
        format!(
            "{poll}; polls over {} are reported, and max_poll = \"<limit>\" fails a test on them",
            Spelled(LONG_POLL)
        )
    }));

    let still_busy = busy_threads.load(Ordering::SeqCst);
    if still_busy > 0 && detecting {
        findings.push(Finding::BlockingTasksLeaked {
            count: still_busy,
            grace,
            tasks: run.spawns().blocking_alive(),
        });
    }
    drop(registration);
    findings.extend(
        run.take_findings()
            .into_iter()
            .filter(|finding| detecting || !finding.is_leak()),
    );
    if let Some(resource_check) = resource_check {
        let left = resource_check.finish(settings.settle, |resource| {
            settings
                .allow_rules
                .iter()
                .any(|rule| rule.matches_resource(resource))
        });
        findings.extend(Finding::resources_left(left));
    }
    Report::new(check.test.clone(), findings, test_panic)
        .with_long_polls(long_polls)
        .with_settle_time(settle_time)
        .with_warnings(warnings)
        .with_mode(settings.mode)
        .with_resource_mode(settings.resources)
        .with_teardowns(teardowns)
}

fn harness_failure(check: &Check, message: String) -> Report {
    // A harness failure fails in every mode: nothing was checked.
    Report::new(check.test.clone(), vec![Finding::Harness { message }], None)
}

fn build_runtime(
    check: &Check,
    busy_threads: &Arc<AtomicUsize>,
    run: &RunState,
    resource_check: Option<&ResourceCheck>,
) -> io::Result<TestRuntime> {
    let mut builder = match check.flavor {
        Flavor::MultiThread => Builder::new_multi_thread(),
        Flavor::CurrentThread | Flavor::Local => Builder::new_current_thread(),
    };
    builder.enable_all().start_paused(check.start_paused);
    if let Some(count) = check.worker_threads {
        builder.worker_threads(count);
    }
    // After shutdown, a runtime thread still alive is one whose blocking work would not
    // stop: tokio keeps no other count of them on stable.
    let started = Arc::clone(busy_threads);
    let stopped = Arc::clone(busy_threads);
    let record_thread = resource_check.map(ResourceCheck::runtime_thread_recorder);
    builder
        .on_thread_start(move || {
            started.fetch_add(1, Ordering::SeqCst);
            spawns::runtime_thread_started();
            if let Some(record) = &record_thread {
                record();
            }
        })
        .on_thread_stop(move || {
            spawns::runtime_thread_stopping();
            polls::thread_parked();
            stopped.fetch_sub(1, Ordering::SeqCst);
        });
    run.spawns().install(&mut builder, run.serial());
    let runtime = match check.flavor {
        Flavor::Local => TestRuntime::Local(builder.build_local(LocalOptions::default())?),
        Flavor::CurrentThread | Flavor::MultiThread => TestRuntime::Shared(builder.build()?),
    };
    Ok(runtime)
}

/// Steps 2 to 5 of a run: setup, body, teardown, settle.
async fn drive(settings: &Resolved, test: &mut dyn ErasedTest, run: &RunState) -> Driven {
    let spawns = run.spawns();
    let task_rules: Vec<AllowRule> = settings
        .allow_rules
        .iter()
        .filter(|rule| rule.is_for_tasks())
        .cloned()
        .collect();
    let leftovers = Leftovers {
        baseline: Handle::current().metrics().num_alive_tasks(),
        run,
        spawns,
        rules: &task_rules,
    };
    let mut steps = Steps::new(run, settings.timeout, settings.teardown_timeout);
    let mut test_panic = None;
    if test.setup(&mut steps).await {
        match steps
            .bounded(Phase::Body, settings.timeout, test.body())
            .await
        {
            Bounded::Completed(None) => {}
            Bounded::Completed(Some(error)) => {
                steps.findings.push(Finding::TestFailed { error });
            }
            Bounded::Panicked(payload) => {
                steps.findings.push(Finding::TestPanicked {
                    message: panics::message(&*payload),
                });
                test_panic = Some(payload);
            }
            Bounded::TimedOut => {
                steps.findings.push(Finding::TestTimedOut {
                    after: settings.timeout,
                });
            }
        }
        steps.run_hooks().await;
        test.teardown(&mut steps).await;
    }
    // Hooks registered by fixture teardowns, or by tasks during a failed setup.
    steps.run_hooks().await;
    run.close_hooks();

    if settings.mode == Mode::Off {
        return Driven {
            findings: steps.findings,
            test_panic,
            settle_time: Duration::ZERO,
            warnings: Vec::new(),
            teardowns: steps.teardowns,
        };
    }
    let (leaked, settle_time) = settle(&leftovers, settings.settle).await;
    let mut findings = steps.findings;
    let mut tasks = Vec::new();
    if leaked > 0 {
        let allowed = leftovers.allowed();
        tasks = spawns
            .alive()
            .into_iter()
            .filter(|task| !allowed.contains(&task.id))
            .collect();
        let ids: Vec<TaskId> = tasks.iter().map(|task| task.id).collect();
        let mut waiting = spawns::waiting_points(&ids).await;
        for task in &mut tasks {
            task.waiting_on = waiting.remove(&task.id);
        }
    }
    let warnings = leftovers.rule_warnings(leaked, &tasks);
    if leaked > 0 {
        findings.push(Finding::TasksLeaked {
            count: leaked,
            settle: settings.settle,
            tasks,
        });
    }
    Driven {
        findings,
        test_panic,
        settle_time,
        warnings,
        teardowns: steps.teardowns,
    }
}

/// The tasks a run left behind, less those it may keep.
struct Leftovers<'a> {
    baseline: usize,
    run: &'a RunState,
    spawns: &'a SpawnLog,
    rules: &'a [AllowRule],
}

impl Leftovers<'_> {
    /// Tasks still alive that [`crate::allow_leak`] or an `allow_leaks` rule lets go.
    fn allowed(&self) -> HashSet<TaskId> {
        let mut allowed: HashSet<TaskId> = self.run.allowed_alive().into_iter().collect();
        if !self.rules.is_empty() {
            let matching = self
                .spawns
                .alive()
                .into_iter()
                .filter(|task| self.rules.iter().any(|rule| rule.matches(task)));
            allowed.extend(matching.map(|task| task.id));
        }
        allowed
    }

    /// How many tasks beyond the baseline are alive and not allowed to be.
    fn count(&self) -> usize {
        let alive = Handle::current().metrics().num_alive_tasks();
        if alive <= self.baseline {
            return 0;
        }
        (alive - self.baseline).saturating_sub(self.allowed().len())
    }

    /// Rules that matched no leftover task (stale), or could not be applied in this build.
    fn rule_warnings(&self, count: usize, leaked: &[LeakedTask]) -> Vec<String> {
        if self.rules.is_empty() {
            return Vec::new();
        }
        if !KNOWS_SPAWN_SITES {
            if count == 0 {
                return Vec::new();
            }
            let rules: Vec<&str> = self.rules.iter().map(AllowRule::text).collect();
            return vec![format!(
                "allow_leaks ({}) was not applied: it matches spawn sites, which only a build with \
                 RUSTFLAGS=\"--cfg tokio_unstable\" knows",
                rules.join(", ")
            )];
        }
        let alive = self.spawns.alive();
        self.rules
            .iter()
            .filter(|rule| !alive.iter().any(|task| rule.matches(task)))
            .map(|rule| match leaked {
                [] => format!(
                    "allow_leaks rule {:?} matched no task; remove it if that leak is gone",
                    rule.text()
                ),
                _ => format!(
                    "allow_leaks rule {:?} matched no leaked task; {} spawned in {}",
                    rule.text(),
                    plural(leaked.len(), "leaked task was", "leaked tasks were"),
                    where_spawned(leaked)
                ),
            })
            .collect()
    }
}

/// Where leaked tasks come from, as a rule that would match them: `crate "pool" (pool/src/)`.
fn where_spawned(tasks: &[LeakedTask]) -> String {
    let mut places: Vec<String> = Vec::new();
    for task in tasks {
        let file = task.spawned_at.file();
        let directory = match file.rfind(['/', '\\']) {
            Some(end) => sites::short(&file[..=end]),
            None => "./",
        };
        let place = match packages::owning(file) {
            Some(package) => format!("crate {:?} ({directory})", package.name),
            None => directory.to_owned(),
        };
        if !places.contains(&place) {
            places.push(place);
        }
    }
    places.join(", ")
}

/// What `drive` found.
struct Driven {
    findings: Vec<Finding>,
    test_panic: Option<PanicPayload>,
    settle_time: Duration,
    warnings: Vec<String>,
    teardowns: Vec<TeardownRecord>,
}

/// Waits until no task is left beyond the baseline (but those allowed), or until `window` has
/// passed in real time; gives the number still left and how long it waited. Returns at once
/// when nothing is left.
async fn settle(leftovers: &Leftovers<'_>, window: Duration) -> (usize, Duration) {
    if leftovers.count() == 0 {
        return (0, Duration::ZERO);
    }
    let started = Instant::now();
    let deadline = started + window;
    let last_resort = deadline + PANIC_HOOK_ALLOWANCE;
    let _step = hang::step(
        leftovers.run,
        Phase::Settle,
        last_resort - started,
        last_resort,
    );
    let mut yields = 0;
    let mut pause = SETTLE_FIRST_PAUSE;
    loop {
        let left = leftovers.count();
        let now = Instant::now();
        let waiting_for_a_panic_hook =
            leftovers.run.task_panicking(PANIC_UNWIND_GRACE) && now < last_resort;
        if left == 0 || (now >= deadline && !waiting_for_a_panic_hook) {
            return (left, now - started);
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
