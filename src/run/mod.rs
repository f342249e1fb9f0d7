//! The run of one leak-checked test, from building its runtime to the report: steps 1 to 7 of
//! the crate docs' "A run, in order". This file is the wiring; each step is its own module.

mod erase;
pub(crate) mod fixture;
pub(crate) mod gauges;
pub(crate) mod hang;
pub(crate) mod hooks;
pub(crate) mod outcome;
mod repeat;
mod runtime;
mod runtime_threads;
mod settle;
pub(crate) mod state;
mod steps;
pub(crate) mod task_panics;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

pub(crate) use erase::{ErasedTest, RunsAgain, RunsOnce, TypedTest};
pub(crate) use steps::Steps;

use crate::findings::{
    AllowedByRule, BlockedPoll, Finding, Mode, Phase, Report, ResourceMode, TeardownRecord,
    count_allowed, settle_declared_panics,
};
use crate::observe::resources::{self, FirstLook, Lasting, ResourceCheck, Unchecked};
use crate::observe::spawns::LentSubscriber;
use crate::observe::{console, polls, watchdog};
use crate::run::hooks::Hooks;
use crate::run::repeat::{Counting, Counts};
use crate::run::runtime::TestRuntime;
use crate::run::runtime_threads::RuntimeThreads;
use crate::run::settle::Leftovers;
use crate::run::state::{Findings, RunState};
use crate::run::task_panics::TaskPanics;
use crate::settings::{Flavor, LONG_POLL, OnHang, Resolved, TestOptions};
use crate::tell::{jsonl, warnings};
use crate::util::panic_payload::{self, PanicPayload};
use crate::util::shared_str::SharedStr;

/// Why the resource check is off is said once per process: each test would say the same.
static SAID_RESOURCES_UNCHECKED: Once = Once::new();

/// Shutdown waits at least this long for blocking work, even with a shorter `settle`: idle
/// blocking threads need a moment to see the shutdown on a loaded machine, and must not be
/// mistaken for busy ones.
const MIN_BLOCKING_GRACE: Duration = Duration::from_millis(100);

/// Runs `test` as `options` say: the whole of a leak-checked run.
pub(crate) fn execute(
    test_name: SharedStr,
    options: &TestOptions,
    test: &mut dyn ErasedTest,
) -> Report {
    let started = Instant::now();
    let settings = match options.resolve() {
        Ok(settings) => settings,
        Err(problem) => return harness_failure(test_name, problem),
    };
    let report = run_resolved(test_name, options, &settings, test, started);
    // A process nextest started for one test runs nothing after it that needs the watchdog;
    // a run that ends inside another run's body (a `Check` in a test) leaves it to the other.
    if resources::process_per_test() && !state::any() {
        watchdog::retire();
    }
    match settings.report {
        Some(path) => jsonl::append(path, report),
        None => report,
    }
}

fn run_resolved(
    test_name: SharedStr,
    options: &TestOptions,
    settings: &Resolved<'_>,
    test: &mut dyn ErasedTest,
    started: Instant,
) -> Report {
    if let Some(problem) = options.misconfiguration() {
        return harness_failure(test_name, problem);
    }
    task_panics::install_task_panic_hook();
    console::serve_if_asked();
    let detecting = settings.mode != Mode::Off;
    // What the process holds and allocates is this test's only where it runs alone.
    let alone = resources::alone_in_process() && !state::any();
    // Only a resource check that looks before the test's runtime is built needs the first
    // runtime built before its look, on the watchdog's thread as it starts; where none runs,
    // the watchdog starts at once: with the build ahead of its loop, a parallel suite of 200
    // small tests took up to 25 ms longer in some runs. A process of one test looks once the
    // test's runtime is built and builds no other.
    let checks_resources = detecting && alone && settings.resources != ResourceMode::Off;
    let first_look = if resources::process_per_test() {
        FirstLook::WithTheRuntime
    } else {
        FirstLook::BeforeTheRuntime
    };
    let watchdog_builds = checks_resources && first_look == FirstLook::BeforeTheRuntime;
    let prepare: fn() = if watchdog_builds {
        runtime::build_first_runtime
    } else {
        || {}
    };
    if let Err(error) = watchdog::start(prepare) {
        return harness_failure(test_name, error.to_string());
    }
    // Lent before the runtime is built: building it already spawns (its workers).
    let _lent = LentSubscriber::lend();
    let run = state::begin_run(RunState {
        test: test_name.clone(),
        serial: polls::next_run_serial(),
        findings: Findings::default(),
        hooks: Hooks::default(),
        panics: TaskPanics::new(
            (options.flavor != Flavor::MultiThread).then(|| std::thread::current().id()),
        ),
        allowed: Mutex::new(Vec::new()),
        spawns: crate::observe::spawns::SpawnLog::new(),
        watch: hang::StepWatch::new(settings.max_poll, settings.on_hang == OnHang::Wait),
        gauges: gauges::Gauges::default(),
        runtime_threads: RuntimeThreads::default(),
    });
    let mut resource_check = if detecting {
        ResourceCheck::start(settings.resources, alone).unwrap_or_else(|why| {
            say_once_resources_unchecked(&why);
            None
        })
    } else {
        None
    };
    if resource_check.is_some() && first_look == FirstLook::BeforeTheRuntime {
        if let Err(error) = runtime::keep_what_tokio_keeps() {
            return harness_failure(
                test_name,
                format!("could not build the tokio runtime: {error}"),
            );
        }
        begin_resource_check(&mut resource_check, first_look);
    }
    let runtime = match TestRuntime::build(options, &run, resource_check.is_some()) {
        Ok(runtime) => runtime,
        Err(error) => {
            return harness_failure(
                test_name,
                format!("could not build the tokio runtime: {error}"),
            );
        }
    };
    if first_look == FirstLook::WithTheRuntime {
        begin_resource_check(&mut resource_check, first_look);
    }
    let registration = state::register(runtime.handle().id(), Arc::clone(&run));
    // Lets the names layer file this run's spawn spans until the run is over.
    let _watched = run.spawns.watch(runtime.handle().id());
    hang::watch();
    // Everything the user wrote runs under its own catch_unwind inside `drive`; this one
    // catches what escapes it (a panicking `Drop` of a timed-out body, say) so that the
    // runtime still shuts down with a bound instead of waiting in its own `Drop`.
    let driven = catch_unwind(AssertUnwindSafe(|| {
        let counting = Counting {
            process: resource_check.is_some(),
            heap: alone,
        };
        // Pinned here, not moved into `block_on`: tokio moves the future it is given several
        // times before polling it, and this one holds every step's state.
        let driving = std::pin::pin!(drive(settings, test, &run, counting));
        runtime.block_on(driving)
    }));
    let Driven {
        test_panic,
        settle_time,
        mut warnings,
        teardowns,
        mut allowed,
    } = match driven {
        Ok(driven) => driven,
        Err(payload) => {
            run.findings.push(Finding::TestPanicked {
                message: panic_payload::message(&*payload),
            });
            Driven {
                test_panic: Some(payload),
                settle_time: Duration::ZERO,
                warnings: Vec::new(),
                teardowns: Vec::new(),
                allowed: Vec::new(),
            }
        }
    };

    let grace = settings.settle.max(MIN_BLOCKING_GRACE);
    runtime.shutdown(grace);
    // Polls that ended since the watchdog last looked are filed before the verdict, looked at
    // once the runtime's threads have stopped: a worker that has finished a poll shows it
    // until it polls, parks or stops. A run shorter than the shortest poll it reports cannot
    // have one.
    if started.elapsed() > run.watch.poll_threshold() {
        hang::look_now();
    }
    let mut long_polls = Vec::new();
    for poll in run.watch.take_long_polls() {
        let poll = BlockedPoll {
            what: poll
                .what
                .unwrap_or_else(|| "a task of the test's runtime".to_owned()),
            at_least: poll.at_least,
        };
        match settings.max_poll {
            Some(limit) if poll.at_least > limit => {
                run.findings.push(Finding::BlockingPoll { poll, limit });
            }
            _ if poll.at_least > LONG_POLL => long_polls.push(poll),
            _ => {}
        }
    }
    warnings.extend(long_polls.iter().map(warnings::long_poll));

    let still_busy = run.runtime_threads.alive();
    if still_busy > 0 && detecting {
        run.findings.push(Finding::BlockingTasksLeaked {
            count: still_busy,
            grace,
            tasks: run.spawns.blocking_alive(),
        });
    }
    drop(registration);
    if let Some(resource_check) = resource_check {
        let runtime_threads = || run.runtime_threads.ids();
        let left = resource_check.finish(
            settings.settle,
            lasting_threads(),
            runtime_threads,
            |resource| {
                let rule = settings
                    .allow_rules
                    .iter()
                    .find(|rule| rule.matches_resource(resource));
                if let Some(rule) = rule {
                    count_allowed(&mut allowed, rule, 0, 1);
                }
                rule.is_some()
            },
        );
        Finding::resources_left(left)
            .into_iter()
            .for_each(|finding| run.findings.push(finding));
    }
    let mut findings = settle_declared_panics(run.findings.take(), run.panics.take_declared());
    state::end_run(run);
    findings.retain(|finding| detecting || !finding.is_leak());
    findings.sort_by_key(Finding::report_order);
    // Built whole, not through the `with_` chain: each link moves the report once more.
    Report {
        test: test_name,
        findings,
        test_panic,
        settle_time,
        warnings,
        mode: settings.mode,
        teardowns,
        duration: started.elapsed(),
        long_polls,
        allowed,
        resource_mode: settings.resources,
        should_panic: options.should_panic.clone(),
    }
}

fn harness_failure(test_name: SharedStr, message: String) -> Report {
    // A harness failure fails in every mode: nothing was checked.
    Report::new(test_name, vec![Finding::Harness { message }], None)
}

/// Takes the resource check's first look; where `/proc` cannot be read, the run goes
/// unchecked, as the process says once.
fn begin_resource_check(resource_check: &mut Option<ResourceCheck>, first_look: FirstLook) {
    if let Some(check) = resource_check
        && let Err(why) = check.begin(lasting_threads(), first_look)
    {
        say_once_resources_unchecked(&why);
        *resource_check = None;
    }
}

/// The threads that end only with the process: its first, which runs `main`, and the
/// watchdog's, once it has run.
fn lasting_threads() -> Lasting {
    [Some(resources::process_id()), watchdog::thread_id()]
}

fn say_once_resources_unchecked(why: &Unchecked) {
    SAID_RESOURCES_UNCHECKED.call_once(|| {
        use std::io::Write as _;
        let _ = std::io::stderr().write_all(warnings::resources_not_checked(why).as_bytes());
    });
}

/// Steps 2 to 5 of a run: setup, body (`repeat` times, counting after each), teardown, settle.
/// `counting` says what of the process a repeated run may count as the test's.
async fn drive(
    settings: &Resolved<'_>,
    test: &mut dyn ErasedTest,
    run: &RunState,
    counting: Counting,
) -> Driven {
    let leftovers = Leftovers::new(run, settings.allow_rules);
    let mut steps = Steps::new(run, settings.timeout, settings.teardown_timeout);
    let mut test_panic = None;
    let mut notes = Vec::new();
    let set_up = match test.setup(&mut steps) {
        Some(setup) => setup.await,
        None => true,
    };
    if set_up {
        let repetitions = if test.repeatable() {
            settings.repeat
        } else {
            1
        };
        let mut counts =
            (repetitions > 1 && settings.mode != Mode::Off).then(|| Counts::new(counting));
        if let Some(counts) = &mut counts {
            counts.take(run).await;
        }
        let mut ran = 0;
        while ran < repetitions {
            ran += 1;
            let failed = match steps
                .bounded(Phase::Body, settings.timeout, test.body())
                .await
            {
                watchdog::Bounded::Completed(None) => false,
                watchdog::Bounded::Completed(Some(error)) => {
                    run.findings.push(Finding::TestFailed { error });
                    true
                }
                watchdog::Bounded::Panicked(payload) => {
                    run.findings.push(Finding::TestPanicked {
                        message: panic_payload::message(&*payload),
                    });
                    test_panic = Some(payload);
                    true
                }
                watchdog::Bounded::TimedOut => {
                    run.findings.push(Finding::TestTimedOut {
                        after: settings.timeout,
                    });
                    true
                }
            };
            if failed {
                break;
            }
            if let Some(counts) = &mut counts {
                counts.take(run).await;
            }
        }
        // A run cut short by a failure is judged on that failure, not on part of a series.
        if let Some(counts) = &counts
            && ran == repetitions
        {
            for growth in counts.growth(repetitions) {
                run.findings.push(Finding::Grew(growth));
            }
        }
        if let Some(counts) = &counts {
            notes.extend(counts.heap_unmeasured());
        }
        steps.run_hooks().await;
        if let Some(teardown) = test.teardown(&mut steps) {
            teardown.await;
        }
    }
    // Hooks registered by fixture teardowns, or by tasks during a failed setup.
    steps.run_last_hooks().await;

    if settings.mode == Mode::Off {
        return Driven {
            test_panic,
            settle_time: Duration::ZERO,
            warnings: Vec::new(),
            teardowns: steps.teardowns,
            allowed: Vec::new(),
        };
    }
    // Most runs leave nothing: they skip the settle loop's future altogether.
    let (leaked, settle_time) = if leftovers.count() == 0 {
        (0, Duration::ZERO)
    } else {
        leftovers.settle(settings.settle).await
    };
    let tasks = if leaked > 0 {
        leftovers.leaked().await
    } else {
        Vec::new()
    };
    let mut warnings = leftovers.rule_warnings(leaked, &tasks);
    warnings.extend(notes);
    let allowed = leftovers.allowed_by_rule();
    if leaked > 0 {
        run.findings.push(Finding::TasksLeaked {
            count: leaked,
            settle: settings.settle,
            tasks,
        });
    }
    Driven {
        test_panic,
        settle_time,
        warnings,
        teardowns: steps.teardowns,
        allowed,
    }
}

/// What `drive` found besides the findings, which go to the run's sink.
struct Driven {
    test_panic: Option<PanicPayload>,
    settle_time: Duration,
    warnings: Vec<String>,
    teardowns: Vec<TeardownRecord>,
    /// What each `allow_leaks` rule let go of the tasks.
    allowed: Vec<AllowedByRule>,
}
