//! The stable build's [`SpawnLog`]: tokio offers no spawn hooks, so it knows no task.

use tokio::runtime::{Builder, Id as RuntimeId};

use crate::findings::{LeakedBlockingTask, LeakedTask, PanickedTask};

pub(crate) struct SpawnLog;

/// Stands in for the entry that lets the names layer find a run's log.
pub(crate) struct Watched;

impl SpawnLog {
    pub(crate) fn new() -> Self {
        SpawnLog
    }

    pub(crate) fn install(&self, _: &mut Builder, _run: u64) {}

    pub(crate) fn watch(&self, _: RuntimeId) -> Watched {
        Watched
    }

    /// A task in words; unknown here.
    pub(crate) fn describe_task(&self, _: u64) -> Option<String> {
        None
    }

    /// The tasks still alive; unknown here, so none.
    pub(crate) fn alive(&self) -> Vec<LeakedTask> {
        Vec::new()
    }

    /// What the task with this id is; unknown here.
    pub(crate) fn panicked_task(&self, _: tokio::task::Id) -> PanickedTask {
        PanickedTask::default()
    }

    /// The blocking work still running; unknown here, so none.
    pub(crate) fn blocking_alive(&self) -> Vec<LeakedBlockingTask> {
        Vec::new()
    }
}

/// Stands in for the subscriber a `tokio_unstable` build lends the runtime's threads.
pub(crate) struct LentSubscriber;

impl LentSubscriber {
    pub(crate) fn lend() -> Self {
        LentSubscriber
    }
}
