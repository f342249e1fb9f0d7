//! One thing that went wrong in a run, and its parts: plain data, told in `crate::tell`.

use std::time::Duration;

use crate::findings::growth::Growth;
use crate::findings::resources::{LeftResource, ResourceKind};
use crate::findings::tasks::{LeakedBlockingTask, LeakedTask, PanickedTask};

/// One thing that went wrong in a leak-checked run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finding {
    /// Tasks of the test's runtime were still alive after the test, its teardown and the
    /// settle window.
    TasksLeaked {
        /// How many tasks were left.
        count: usize,
        /// How long they were given to finish.
        settle: Duration,
        /// Each of them with its spawn site, ordered by site; empty unless the build has
        /// `--cfg tokio_unstable`.
        tasks: Vec<LeakedTask>,
    },
    /// `spawn_blocking` work (or a task blocking its worker thread) was still running when
    /// the runtime shut down.
    BlockingTasksLeaked {
        /// How many runtime threads were still busy.
        count: usize,
        /// How long shutdown waited for them.
        grace: Duration,
        /// The `spawn_blocking` work still running, with its spawn site; empty unless the
        /// build has `--cfg tokio_unstable`.
        tasks: Vec<LeakedBlockingTask>,
    },
    /// A spawned task panicked, whether or not anybody awaited its `JoinHandle`, and the test
    /// did not declare it with [`crate::expect_task_panic`].
    TaskPanicked {
        /// The panic's message.
        message: String,
        /// Where it panicked, as `file:line:col`.
        location: Option<String>,
        /// The task that panicked, as far as the build can tell.
        task: PanickedTask,
    },
    /// The test declared a task panic with [`crate::expect_task_panic`], and no task panicked
    /// with those words.
    ExpectedPanicMissing {
        /// The words the panic's message was to contain.
        text: String,
        /// Where the test declared it, as `file:line:col`.
        declared_at: String,
    },
    /// The test body returned `Err`.
    TestFailed {
        /// The error, formatted with `Debug` as `cargo test` does.
        error: String,
    },
    /// The test body panicked.
    TestPanicked {
        /// The panic's message.
        message: String,
    },
    /// The test body was still running when its `timeout` passed.
    TestTimedOut {
        /// The `timeout` in force.
        after: Duration,
    },
    /// A fixture's `setup` did not produce the fixture.
    Setup {
        /// The fixture's type, without its module path.
        fixture: String,
        /// What went wrong.
        problem: Problem,
    },
    /// A teardown step did not finish cleanly.
    Teardown {
        /// Which step.
        step: TeardownStep,
        /// What went wrong.
        problem: Problem,
    },
    /// [`crate::on_teardown`] was called after teardown had finished, so its cleanup never ran.
    HookTooLate {
        /// Where it was called, as `file:line:col`.
        location: String,
    },
    /// One poll blocked its thread for longer than the test's `max_poll`.
    BlockingPoll {
        /// What was polled, and for how long.
        poll: BlockedPoll,
        /// The `max_poll` in force.
        limit: Duration,
    },
    /// Sockets, files, child processes, threads or other descriptors of one kind, still held
    /// after the test and its runtime's shutdown (Linux, a test alone in its process).
    ResourcesLeft {
        /// What kind they are.
        kind: ResourceKind,
        /// Each of them, named.
        resources: Vec<LeftResource>,
    },
    /// leakcheck itself could not run the test (the runtime could not be built, say).
    Harness {
        /// What went wrong.
        message: String,
    },
    /// Something the test counts grew with every repetition of a repeated test
    /// (`repeat = N`): tasks kept until teardown, a subscriber list, descriptors held.
    Grew(Growth),
    /// The test ran, but its line could not be added to the `LEAKCHECK_REPORT` file.
    ReportNotWritten {
        /// The file.
        path: std::path::PathBuf,
        /// Why it could not be written.
        error: String,
    },
}

/// How a setup or teardown step went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// It returned an error.
    Failed(String),
    /// It panicked, with this message.
    Panicked(String),
    /// It was still running when its time limit passed.
    TimedOut(Duration),
}

/// A poll that blocked its thread: a synchronous wait or loop inside async code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockedPoll {
    /// What was polled: `task spawned at src/feed.rs:40:9 (id 12)` (in a
    /// `--cfg tokio_unstable` build), `the test body`, `the teardown of fixture `Feed``.
    pub what: String,
    /// How long it blocked, at least: polls are measured to within 25 ms.
    pub at_least: Duration,
}

/// How one teardown step went: for the machine-readable report's slowest teardowns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeardownRecord {
    /// Which step.
    pub step: TeardownStep,
    /// How long it ran.
    pub took: Duration,
    /// What went wrong, if anything.
    pub problem: Option<Problem>,
}

/// A step of teardown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TeardownStep {
    /// [`crate::AsyncFixture::teardown`] of a fixture, named by its type.
    Fixture(String),
    /// A cleanup registered with [`crate::on_teardown`] at this `file:line:col`.
    Hook(String),
}

impl Finding {
    /// One finding per kind of resource left behind, in the order of the kinds.
    pub(crate) fn resources_left(mut left: Vec<LeftResource>) -> Vec<Finding> {
        if left.is_empty() {
            return Vec::new();
        }
        left.sort();
        let mut findings: Vec<Finding> = Vec::new();
        for resource in left {
            match findings.last_mut() {
                Some(Finding::ResourcesLeft { kind, resources }) if *kind == resource.kind => {
                    resources.push(resource);
                }
                _ => findings.push(Finding::ResourcesLeft {
                    kind: resource.kind,
                    resources: vec![resource],
                }),
            }
        }
        findings
    }
}

impl Finding {
    /// Where a finding stands in its report: what the test's own steps did, then the tasks
    /// and polls it left or blocked, then what its tasks did, then what the process still
    /// holds. Findings of one place keep the order they happened in.
    pub(crate) fn report_order(&self) -> u8 {
        match self {
            Finding::Setup { .. }
            | Finding::TestFailed { .. }
            | Finding::TestPanicked { .. }
            | Finding::TestTimedOut { .. }
            | Finding::Teardown { .. }
            | Finding::Harness { .. }
            | Finding::ReportNotWritten { .. } => 0,
            Finding::TasksLeaked { .. } => 1,
            Finding::BlockingPoll { .. } => 2,
            Finding::BlockingTasksLeaked { .. } => 3,
            Finding::TaskPanicked { .. } | Finding::HookTooLate { .. } => 4,
            Finding::ExpectedPanicMissing { .. } => 5,
            Finding::ResourcesLeft { .. } => 6,
            Finding::Grew(_) => 7,
        }
    }
}
