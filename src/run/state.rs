//! The state a run shares with its tasks and threads, in parts owned by the modules that use
//! them, and the table that finds a run from inside its runtime.
//!
//! `on_teardown`, `allow_leak`, the task-panic hook and the watchdog are called from arbitrary
//! tasks and threads. Each knows its tokio runtime, and each leak-checked run owns exactly one
//! runtime, so the runtime's id leads to the run.

use std::sync::{Arc, Mutex};

use tokio::runtime::Id as RuntimeId;
use tokio::task::{AbortHandle, Id as TaskId};

use crate::findings::Finding;
use crate::observe::spawns::SpawnLog;
use crate::run::gauges::Gauges;
use crate::run::hang::StepWatch;
use crate::run::hooks::Hooks;
use crate::run::runtime_threads::RuntimeThreads;
use crate::run::task_panics::TaskPanics;
use crate::util::by_runtime::{Entry, Table};
use crate::util::shared_str::SharedStr;
use crate::util::sync::lock;

/// The runs going in this process, by runtime: a test's tasks and threads reach its run from
/// code that has nothing but the runtime it runs in (a panic hook, `on_teardown`).
static RUNS: Table<RunState> = Table::new();

/// The state of the last run that ended with nothing else holding it, for the next run to
/// fill in: each test runs on a fresh thread, where an allocation costs several times what it
/// does on a warm one, and most runs end with their state free.
static SPARE: Mutex<Option<Arc<RunState>>> = Mutex::new(None);

/// What the tasks and threads of one run share with the harness.
pub(crate) struct RunState {
    /// The test's name, for a report written from the watchdog's thread.
    pub(crate) test: SharedStr,
    /// Tells the run's polls from other runs' in the threads' poll slots.
    pub(crate) serial: u64,
    /// Everything the run finds, wherever it is found: the one sink.
    pub(crate) findings: Findings,
    pub(crate) hooks: Hooks,
    pub(crate) panics: TaskPanics,
    /// Tasks let go with [`crate::allow_leak`].
    pub(crate) allowed: Mutex<Vec<AbortHandle>>,
    pub(crate) spawns: SpawnLog,
    pub(crate) watch: StepWatch,
    pub(crate) gauges: Gauges,
    pub(crate) runtime_threads: RuntimeThreads,
}

/// The findings of a run, in the order they were found.
#[derive(Default)]
pub(crate) struct Findings(Mutex<Vec<Finding>>);

impl Findings {
    pub(crate) fn push(&self, finding: Finding) {
        lock(&self.0).push(finding);
    }

    pub(crate) fn take(&self) -> Vec<Finding> {
        std::mem::take(&mut lock(&self.0))
    }
}

impl RunState {
    /// The tasks let go with [`crate::allow_leak`] that are still running.
    pub(crate) fn allowed_alive(&self) -> Vec<TaskId> {
        lock(&self.allowed)
            .iter()
            .filter(|task| !task.is_finished())
            .map(AbortHandle::id)
            .collect()
    }
}

/// `state`, shared: in the spare of an earlier run where there is one.
pub(crate) fn begin_run(state: RunState) -> Arc<RunState> {
    let spare = lock(&SPARE).take();
    // Nothing else can hold the spare: it was kept only when nothing did.
    if let Some(mut spare) = spare
        && let Some(free) = Arc::get_mut(&mut spare)
    {
        *free = state;
        return spare;
    }
    Arc::new(state)
}

/// Keeps `run`'s state for the next run, unless something still holds it (a thread the
/// runtime left running, say).
pub(crate) fn end_run(mut run: Arc<RunState>) {
    if let Some(spent) = Arc::get_mut(&mut run) {
        // What the test's code handed the run goes now, on its thread, as it would have
        // without the spare: not while another test's run begins.
        spent.gauges = Gauges::default();
        spent.allowed = Mutex::default();
        *lock(&SPARE) = Some(run);
    }
}

/// Keeps a run findable while it is alive.
pub(crate) type Registration = Entry<RunState>;

pub(crate) fn register(runtime: RuntimeId, run: Arc<RunState>) -> Registration {
    RUNS.insert(runtime, run)
}

pub(crate) fn find(runtime: RuntimeId) -> Option<Arc<RunState>> {
    RUNS.find(runtime)
}

/// The run with this serial number, if it is still going.
pub(crate) fn find_serial(serial: u64) -> Option<Arc<RunState>> {
    RUNS.find_by(|run| run.serial == serial)
}

/// Every run going, into `runs` (emptied first), reusing its memory.
pub(crate) fn all_into(runs: &mut Vec<Arc<RunState>>) {
    RUNS.all_into(runs);
}

/// Calls `visit` with every run going, the table locked meanwhile.
pub(crate) fn for_each(visit: impl FnMut(&Arc<RunState>)) {
    RUNS.for_each(visit);
}

/// Whether any run is going.
pub(crate) fn any() -> bool {
    !RUNS.is_empty()
}

/// The run whose runtime the calling thread is inside, if any.
pub(crate) fn current() -> Option<Arc<RunState>> {
    RUNS.current()
}
