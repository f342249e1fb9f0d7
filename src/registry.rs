//! The runs in progress, found from inside their runtimes.
//!
//! `on_teardown`, `teardown_deadline` and the task-panic hook are called from arbitrary tasks
//! and threads. Each knows its tokio runtime, and each leak-checked run owns exactly one
//! runtime, so the runtime's id leads to the run.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use tokio::runtime::Id as RuntimeId;
use tokio::task::{AbortHandle, Id as TaskId};

use crate::check::LONG_POLL;
use crate::expected_panics::{self, ExpectedPanic};
use crate::phase::Phase;
use crate::polls::{self, LongPoll, PollSlot};
use crate::report::Finding;
use crate::spawns::SpawnLog;

/// A cleanup future registered with [`crate::on_teardown`], and where it was registered.
pub(crate) struct Hook {
    pub(crate) location: String,
    pub(crate) cleanup: Pin<Box<dyn Future<Output = Option<String>> + Send>>,
}

/// What the tasks and threads of one run share with the harness.
pub(crate) struct RunState {
    findings: Mutex<Vec<Finding>>,
    hooks: Mutex<Option<Vec<Hook>>>,
    panics_in_flight: AtomicUsize,
    last_panic_hook_done: Mutex<Option<Instant>>,
    allowed: Mutex<Vec<AbortHandle>>,
    expected_panics: Mutex<Vec<ExpectedPanic>>,
    spawns: SpawnLog,
    /// The one thread that polls the run's async tasks, on a runtime that has one.
    task_thread: Option<ThreadId>,
    /// Tells the run's polls from other runs' in the threads' poll slots.
    serial: u64,
    /// A poll longer than this fails the test; polls past the long-poll warning are kept too.
    max_poll: Option<Duration>,
    long_polls: Mutex<Vec<LongPoll>>,
    /// The step of the harness under way, read by the watchdog to tell a stuck test.
    step: Mutex<Option<ActiveStep>>,
    /// The test's name, for a report written from the watchdog's thread.
    test: Arc<str>,
    /// Keep waiting when the test is stuck, rather than end the process.
    wait_when_stuck: bool,
    /// The poll slot of the thread the run's steps run on.
    thread: Arc<PollSlot>,
}

/// A step of the harness under way: a fixture's setup, the body, a teardown step.
struct ActiveStep {
    phase: Phase,
    limit: Duration,
    deadline: Instant,
    /// Whether the watchdog has reported it stuck.
    reported: bool,
}

/// What a run is set up with.
pub(crate) struct RunConfig {
    pub(crate) test: Arc<str>,
    pub(crate) task_thread: Option<ThreadId>,
    pub(crate) serial: u64,
    pub(crate) max_poll: Option<Duration>,
    pub(crate) wait_when_stuck: bool,
}

/// Marks a task panic whose hook is still running; dropping it marks the hook done.
pub(crate) struct PanicInFlight<'run>(&'run RunState);

impl Drop for PanicInFlight<'_> {
    fn drop(&mut self) {
        *lock(&self.0.last_panic_hook_done) = Some(Instant::now());
        self.0.panics_in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // None of these locks is held while user code runs, so poisoning cannot leave them torn.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RunState {
    /// The state of a run. Its async tasks all run on `task_thread`, when they do (a
    /// `current_thread` or local runtime): work on any other thread is blocking work.
    pub(crate) fn new(config: RunConfig) -> Self {
        let RunConfig {
            test,
            task_thread,
            serial,
            max_poll,
            wait_when_stuck,
        } = config;
        RunState {
            findings: Mutex::new(Vec::new()),
            hooks: Mutex::new(Some(Vec::new())),
            panics_in_flight: AtomicUsize::new(0),
            last_panic_hook_done: Mutex::new(None),
            allowed: Mutex::new(Vec::new()),
            expected_panics: Mutex::new(Vec::new()),
            spawns: SpawnLog::new(),
            task_thread,
            serial,
            max_poll,
            long_polls: Mutex::new(Vec::new()),
            step: Mutex::new(None),
            test,
            wait_when_stuck,
            thread: polls::this_thread(),
        }
    }

    pub(crate) fn test(&self) -> &str {
        &self.test
    }

    pub(crate) fn wait_when_stuck(&self) -> bool {
        self.wait_when_stuck
    }

    /// The poll slot of the thread the run's steps run on.
    pub(crate) fn thread(&self) -> &PollSlot {
        &self.thread
    }

    /// A step of the harness begins; it must be over by `deadline`.
    pub(crate) fn enter_step(&self, phase: Phase, limit: Duration, deadline: Instant) {
        *lock(&self.step) = Some(ActiveStep {
            phase,
            limit,
            deadline,
            reported: false,
        });
    }

    pub(crate) fn leave_step(&self) {
        *lock(&self.step) = None;
    }

    /// The step under way, if any.
    pub(crate) fn step(&self) -> Option<Phase> {
        lock(&self.step).as_ref().map(|step| step.phase.clone())
    }

    /// The step under way and its limit, once, if it is still running `grace` past its
    /// deadline at `now`.
    pub(crate) fn stuck(&self, now: Instant, grace: Duration) -> Option<(Phase, Duration)> {
        let mut step = lock(&self.step);
        let step = step.as_mut()?;
        if step.reported || now < step.deadline + grace {
            return None;
        }
        step.reported = true;
        Some((step.phase.clone(), step.limit))
    }

    pub(crate) fn serial(&self) -> u64 {
        self.serial
    }

    /// The shortest poll the run wants to hear of: its `max_poll`, or the long-poll warning's
    /// threshold when that is shorter or there is none.
    pub(crate) fn poll_threshold(&self) -> Duration {
        self.max_poll
            .map_or(LONG_POLL, |limit| limit.min(LONG_POLL))
    }

    pub(crate) fn record_long_poll(&self, poll: LongPoll) {
        lock(&self.long_polls).push(poll);
    }

    pub(crate) fn take_long_polls(&self) -> Vec<LongPoll> {
        std::mem::take(&mut lock(&self.long_polls))
    }

    /// Files a panic of the task with this id, raised on the calling thread.
    pub(crate) fn record_task_panic(
        &self,
        task: TaskId,
        message: String,
        location: Option<String>,
    ) {
        let mut task = self.spawns.panicked_task(task);
        if task.blocking.is_none() {
            task.blocking = self
                .task_thread
                .map(|polls_tasks| polls_tasks != std::thread::current().id());
        }
        lock(&self.findings).push(Finding::TaskPanicked {
            message,
            location,
            task,
        });
    }

    pub(crate) fn expect_panic(&self, expected: ExpectedPanic) {
        lock(&self.expected_panics).push(expected);
    }

    pub(crate) fn panic_in_flight(&self) -> PanicInFlight<'_> {
        self.panics_in_flight.fetch_add(1, Ordering::SeqCst);
        PanicInFlight(self)
    }

    /// Whether a task of the run is between its panic and the end of the panic hooks, or
    /// left them less than `unwinding` ago and may still be unwinding.
    pub(crate) fn task_panicking(&self, unwinding: Duration) -> bool {
        self.panics_in_flight.load(Ordering::SeqCst) > 0
            || lock(&self.last_panic_hook_done).is_some_and(|done| done.elapsed() < unwinding)
    }

    /// What the run knows of its tasks' spawn sites and names.
    pub(crate) fn spawns(&self) -> &SpawnLog {
        &self.spawns
    }

    pub(crate) fn allow_leak(&self, task: AbortHandle) {
        lock(&self.allowed).push(task);
    }

    /// The tasks let go with [`crate::allow_leak`] that are still running.
    pub(crate) fn allowed_alive(&self) -> Vec<TaskId> {
        lock(&self.allowed)
            .iter()
            .filter(|task| !task.is_finished())
            .map(AbortHandle::id)
            .collect()
    }

    pub(crate) fn add_hook(&self, hook: Hook) {
        match lock(&self.hooks).as_mut() {
            Some(hooks) => hooks.push(hook),
            None => lock(&self.findings).push(Finding::HookTooLate {
                location: hook.location,
            }),
        }
    }

    /// The hook registered last, if any is left.
    pub(crate) fn pop_hook(&self) -> Option<Hook> {
        lock(&self.hooks).as_mut().and_then(Vec::pop)
    }

    /// From now on a registered hook can no longer run; registering one is reported instead.
    pub(crate) fn close_hooks(&self) {
        *lock(&self.hooks) = None;
    }

    /// The deadline of the teardown step under way, if one is.
    pub(crate) fn teardown_deadline(&self) -> Option<Instant> {
        lock(&self.step)
            .as_ref()
            .filter(|step| matches!(step.phase, Phase::Teardown(_)))
            .map(|step| step.deadline)
    }

    /// What the run's tasks and threads found, less the task panics the test declared.
    pub(crate) fn take_findings(&self) -> Vec<Finding> {
        expected_panics::settle(
            std::mem::take(&mut lock(&self.findings)),
            std::mem::take(&mut lock(&self.expected_panics)),
        )
    }
}

static RUNS: Mutex<Vec<(RuntimeId, Arc<RunState>)>> = Mutex::new(Vec::new());

/// Keeps a run findable while it is alive.
pub(crate) struct Registration {
    runtime: RuntimeId,
}

pub(crate) fn register(runtime: RuntimeId, run: Arc<RunState>) -> Registration {
    lock(&RUNS).push((runtime, run));
    Registration { runtime }
}

impl Drop for Registration {
    fn drop(&mut self) {
        lock(&RUNS).retain(|(runtime, _)| *runtime != self.runtime);
    }
}

pub(crate) fn find(runtime: RuntimeId) -> Option<Arc<RunState>> {
    lock(&RUNS)
        .iter()
        .find(|(id, _)| *id == runtime)
        .map(|(_, run)| Arc::clone(run))
}

/// The run with this serial number, if it is still going.
pub(crate) fn find_serial(serial: u64) -> Option<Arc<RunState>> {
    lock(&RUNS)
        .iter()
        .find(|(_, run)| run.serial == serial)
        .map(|(_, run)| Arc::clone(run))
}

/// Every run going.
pub(crate) fn all() -> Vec<Arc<RunState>> {
    lock(&RUNS).iter().map(|(_, run)| Arc::clone(run)).collect()
}

/// The run whose runtime the calling thread is inside, if any.
pub(crate) fn current() -> Option<Arc<RunState>> {
    let handle = tokio::runtime::Handle::try_current().ok()?;
    find(handle.id())
}
