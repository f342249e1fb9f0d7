//! Panics in spawned tasks, noticed by a process-wide hook and filed with their run.
//!
//! tokio catches a task's panic and keeps it in the task's `JoinHandle`; when nobody awaits the
//! handle, the panic is printed and forgotten. The hook below sees every panic first, and files
//! the ones raised inside a task of a leak-checked runtime with that run.

use std::panic::{self, PanicHookInfo};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use crate::findings::{ExpectedPanic, Finding};
use crate::run::state::{self, RunState};
use crate::util::panic_payload;
use crate::util::sync::lock;

/// The hook is installed once per process: a panic hook is the process's.
static INSTALL: Once = Once::new();

/// A run's task panics in flight, and the ones its test declared.
pub(crate) struct TaskPanics {
    in_flight: AtomicUsize,
    last_hook_done: Mutex<Option<Instant>>,
    pub(crate) declared: Mutex<Vec<ExpectedPanic>>,
    /// The one thread that polls the run's async tasks, on a runtime that has one: a panic on
    /// any other thread is blocking work's.
    task_thread: Option<ThreadId>,
}

/// Marks a task panic whose hook is still running; dropping it marks the hook done.
pub(crate) struct PanicInFlight<'run>(&'run TaskPanics);

impl Drop for PanicInFlight<'_> {
    fn drop(&mut self) {
        *lock(&self.0.last_hook_done) = Some(Instant::now());
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl TaskPanics {
    pub(crate) fn new(task_thread: Option<ThreadId>) -> Self {
        TaskPanics {
            in_flight: AtomicUsize::new(0),
            last_hook_done: Mutex::new(None),
            declared: Mutex::new(Vec::new()),
            task_thread,
        }
    }

    fn in_flight(&self) -> PanicInFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        PanicInFlight(self)
    }

    /// Whether a task of the run is between its panic and the end of the panic hooks, or
    /// left them less than `unwinding` ago and may still be unwinding.
    pub(crate) fn any_in_flight(&self, unwinding: Duration) -> bool {
        self.in_flight.load(Ordering::SeqCst) > 0
            || lock(&self.last_hook_done).is_some_and(|done| done.elapsed() < unwinding)
    }

    pub(crate) fn declare(&self, expected: ExpectedPanic) {
        lock(&self.declared).push(expected);
    }

    pub(crate) fn take_declared(&self) -> Vec<ExpectedPanic> {
        std::mem::take(&mut lock(&self.declared))
    }
}

/// Installs the task-panic hook once per process, in front of whatever hook was there.
///
/// The previous hook still runs for every panic, so messages and backtraces print as usual.
pub(crate) fn install_task_panic_hook() {
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let run = file_task_panic(info);
            // The previous hook may take long (symbolising a backtrace under RUST_BACKTRACE=1);
            // meanwhile the task still counts as alive and must not be taken for a leak.
            let _in_flight = run.as_deref().map(|run| run.panics.in_flight());
            previous(info);
        }));
    });
}

/// Files a panic of a spawned task with its run, and gives the run.
fn file_task_panic(info: &PanicHookInfo<'_>) -> Option<Arc<RunState>> {
    // The test body and teardown run in `block_on`, outside any task: their panics are caught
    // by the run itself. Only panics inside spawned tasks go missing.
    let task = tokio::task::try_id()?;
    let handle = tokio::runtime::Handle::try_current().ok()?;
    let run = state::find(handle.id())?;
    let mut panicked = run.spawns.panicked_task(task);
    if panicked.blocking.is_none() {
        panicked.blocking = run
            .panics
            .task_thread
            .map(|polls_tasks| polls_tasks != std::thread::current().id());
    }
    run.findings.push(Finding::TaskPanicked {
        message: panic_payload::message(info.payload()),
        location: info.location().map(ToString::to_string),
        task: panicked,
    });
    Some(run)
}
