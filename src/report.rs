//! What a run found, and the text a user reads when a test fails.

use std::fmt::{self, Display, Formatter};
use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use crate::panics::{self, PanicPayload};
use crate::resources::{LeftResource, ResourceKind, ResourceMode};
use crate::settings::Mode;
use crate::sites;
use crate::spawns::{self, LeakedBlockingTask, LeakedTask, PanickedTask};

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

impl Display for BlockedPoll {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} blocked its thread for at least {} in one poll",
            self.what,
            Spelled(self.at_least)
        )
    }
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

/// The outcome of a leak-checked run: everything it found, in the order it happened.
///
/// A report with no findings is a pass. [`Report::assert_passed`] is what `#[leak_checked_test]`
/// calls: it prints a failing report and fails the test.
pub struct Report {
    test: Arc<str>,
    findings: Vec<Finding>,
    test_panic: Option<PanicPayload>,
    settle_time: Duration,
    warnings: Vec<String>,
    mode: Mode,
    teardowns: Vec<TeardownRecord>,
    duration: Duration,
    long_polls: Vec<BlockedPoll>,
    resource_mode: ResourceMode,
}

impl Report {
    pub(crate) fn new(
        test: Arc<str>,
        findings: Vec<Finding>,
        test_panic: Option<PanicPayload>,
    ) -> Self {
        Report {
            test,
            findings,
            test_panic,
            settle_time: Duration::ZERO,
            warnings: Vec::new(),
            mode: Mode::Fail,
            teardowns: Vec::new(),
            duration: Duration::ZERO,
            long_polls: Vec::new(),
            resource_mode: ResourceMode::default(),
        }
    }

    pub(crate) fn with_resource_mode(mut self, resource_mode: ResourceMode) -> Self {
        self.resource_mode = resource_mode;
        self
    }

    pub(crate) fn with_long_polls(mut self, long_polls: Vec<BlockedPoll>) -> Self {
        self.long_polls = long_polls;
        self
    }

    /// Polls that blocked their thread longer than [`LONG_POLL`](crate::LONG_POLL) without
    /// breaking a `max_poll`: reported as warnings. Those that broke it are findings.
    pub fn long_polls(&self) -> &[BlockedPoll] {
        &self.long_polls
    }

    pub(crate) fn with_finding(mut self, finding: Finding) -> Self {
        self.findings.push(finding);
        self
    }

    pub(crate) fn with_mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    pub(crate) fn with_teardowns(mut self, teardowns: Vec<TeardownRecord>) -> Self {
        self.teardowns = teardowns;
        self
    }

    pub(crate) fn with_duration(mut self, duration: Duration) -> Self {
        self.duration = duration;
        self
    }

    /// Each teardown step that ran, in order, with how long it took.
    pub fn teardowns(&self) -> &[TeardownRecord] {
        &self.teardowns
    }

    /// How long the whole run took, from building the runtime to shutting it down.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// The mode the run was in: [`Mode::Warn`] reports leaks without failing.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub(crate) fn with_warnings(mut self, warnings: Vec<String>) -> Self {
        self.warnings = warnings;
        self
    }

    /// Things worth a look that do not fail the test, such as an `allow_leaks` rule that
    /// matched nothing.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub(crate) fn with_settle_time(mut self, settle_time: Duration) -> Self {
        self.settle_time = settle_time;
        self
    }

    /// The name of the test the report is about.
    pub fn test(&self) -> &str {
        &self.test
    }

    /// Whether the test passes: nothing was found, or only what is reported without failing:
    /// leaks and detached panics under [`Mode::Warn`], resources left behind unless the test
    /// asked for [`ResourceMode::Fail`].
    pub fn passed(&self) -> bool {
        self.findings.iter().all(|finding| self.tolerates(finding))
    }

    fn tolerates(&self, finding: &Finding) -> bool {
        let resources = matches!(finding, Finding::ResourcesLeft { .. });
        (self.mode == Mode::Warn && finding.is_leak())
            || (resources && self.resource_mode != ResourceMode::Fail)
    }

    /// Everything the run found, in the order it happened.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// How many tasks were left alive after the test and its teardown.
    pub fn leaked_tasks(&self) -> usize {
        self.findings
            .iter()
            .map(|finding| match finding {
                Finding::TasksLeaked { count, .. } => *count,
                _ => 0,
            })
            .sum()
    }

    /// How long the run waited after teardown for leftover tasks to finish: zero when none was
    /// left, the full `settle` when some leaked.
    pub fn settle_time(&self) -> Duration {
        self.settle_time
    }

    /// Fails the calling test when the report is not a pass.
    ///
    /// Prints the report to stderr, then raises the test body's own panic if it had one (so
    /// `#[should_panic(expected = "...")]` sees the body's message), or else a panic whose
    /// message is the report. The panic is raised with [`std::panic::resume_unwind`], so no
    /// panic hook runs and no backtrace of leakcheck buries the report.
    ///
    /// A passing report with something to say (leaks under `LEAKCHECK=warn`, a stale allow
    /// rule) is written straight to the process's stderr, past the test runner's capture, so
    /// a plain `cargo test` shows it; libtest shows captured output of failing tests only.
    pub fn assert_passed(self) {
        if self.passed() {
            if !self.warnings.is_empty() || !self.findings.is_empty() {
                // One write, so that parallel tests' reports do not interleave.
                let _ = std::io::stderr().write_all(format!("{self}\n").as_bytes());
            }
            return;
        }
        eprintln!("{self}");
        match self.test_panic {
            Some(payload) => std::panic::resume_unwind(payload),
            None => std::panic::resume_unwind(Box::new(self.to_string())),
        }
    }
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report")
            .field("test", &self.test)
            .field("findings", &self.findings)
            .field("settle_time", &self.settle_time)
            .field(
                "test_panic",
                &self.test_panic.as_deref().map(panics::message),
            )
            .finish()
    }
}

/// Durations as the attribute spells them: `250ms`, `5s`, `2m`.
pub(crate) struct Spelled(pub(crate) Duration);

impl Display for Spelled {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let millis = self.0.as_millis();
        if millis == 0 && !self.0.is_zero() {
            write!(f, "{}us", self.0.as_micros())
        } else if millis != 0 && millis.is_multiple_of(60_000) {
            write!(f, "{}m", millis / 60_000)
        } else if millis != 0 && millis.is_multiple_of(1000) {
            write!(f, "{}s", millis / 1000)
        } else {
            write!(f, "{millis}ms")
        }
    }
}

/// `1 task leaked`, `3 tasks leaked`.
pub(crate) fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

impl Display for Problem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Failed(error) => write!(f, "failed: {error}"),
            Problem::Panicked(message) => write!(f, "panicked: {message}"),
            Problem::TimedOut(after) => write!(f, "timed out after {}", Spelled(*after)),
        }
    }
}

impl Display for TeardownStep {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            TeardownStep::Fixture(name) => write!(f, "teardown of fixture `{name}`"),
            TeardownStep::Hook(location) => write!(f, "teardown hook registered at {location}"),
        }
    }
}

impl Display for Finding {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Finding::TasksLeaked {
                count,
                settle,
                tasks,
            } => {
                write!(
                    f,
                    "{} (still alive {} after the test and its teardown)",
                    plural(*count, "task leaked", "tasks leaked"),
                    Spelled(*settle)
                )?;
                for site in group_by_site(tasks) {
                    write!(f, "\n{site}")?;
                }
                Ok(())
            }
            Finding::BlockingTasksLeaked {
                count,
                grace,
                tasks,
            } => {
                write!(
                    f,
                    "{} (a runtime thread was still busy {} after shutdown began)",
                    plural(*count, "blocking task leaked", "blocking tasks leaked"),
                    Spelled(*grace)
                )?;
                for task in tasks {
                    let name = task
                        .name
                        .as_ref()
                        .map(|name| format!(" {name:?}"))
                        .unwrap_or_default();
                    write!(
                        f,
                        "\nspawn_blocking{name} at {}",
                        sites::short(&task.spawned_at)
                    )?;
                }
                Ok(())
            }
            Finding::TaskPanicked {
                message,
                location,
                task,
            } => {
                let blocking = task.blocking == Some(true);
                let kind = if blocking { "blocking" } else { "spawned" };
                write!(f, "a {kind} task panicked")?;
                if let Some(location) = location {
                    write!(f, " at {}", sites::short(location))?;
                }
                write!(f, ": {message}")?;
                if let Some(site) = &task.spawned_at {
                    let name = task
                        .name
                        .as_ref()
                        .map(|name| format!(" {name:?}"))
                        .unwrap_or_default();
                    let what = if blocking { "spawn_blocking" } else { "task" };
                    let verb = if blocking { "" } else { " spawned" };
                    write!(f, "\n{what}{name}{verb} at {}", sites::short(site))?;
                }
                Ok(())
            }
            Finding::ExpectedPanicMissing { text, declared_at } => write!(
                f,
                "expected a task to panic with {text:?}; none did (declared at {declared_at})"
            ),
            Finding::TestFailed { error } => write!(f, "the test returned an error: {error}"),
            Finding::TestPanicked { message } => write!(f, "the test panicked: {message}"),
            Finding::TestTimedOut { after } => write!(
                f,
                "the test timed out after {} (its teardown still ran)",
                Spelled(*after)
            ),
            Finding::Setup { fixture, problem } => write!(f, "fixture `{fixture}` setup {problem}"),
            Finding::Teardown { step, problem } => write!(f, "{step} {problem}"),
            Finding::HookTooLate { location } => write!(
                f,
                "on_teardown called at {location} after teardown had finished; its cleanup never ran"
            ),
            Finding::BlockingPoll { poll, limit } => {
                write!(f, "{poll} (max_poll is {})", Spelled(*limit))
            }
            Finding::ResourcesLeft { kind, resources } => {
                write!(f, "{}", kind.counted(resources.len()))?;
                match resources.as_slice() {
                    [one] => write!(f, ": {one}"),
                    many => many
                        .iter()
                        .try_for_each(|resource| write!(f, "\n{resource}")),
                }
            }
            Finding::Harness { message } => {
                write!(f, "leakcheck could not run the test: {message}")
            }
        }
    }
}

impl Finding {
    /// One finding per kind of resource left behind, in the order of the kinds.
    pub(crate) fn resources_left(mut left: Vec<LeftResource>) -> Vec<Finding> {
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

    /// Leaks, detached panics and blocking polls: what `LEAKCHECK=warn` reports without
    /// failing and `LEAKCHECK=off` does not look for. The test's own failures, and its fixtures' setup and
    /// teardown, fail it in every mode.
    pub fn is_leak(&self) -> bool {
        matches!(
            self,
            Finding::TasksLeaked { .. }
                | Finding::BlockingTasksLeaked { .. }
                | Finding::TaskPanicked { .. }
                | Finding::HookTooLate { .. }
                | Finding::BlockingPoll { .. }
                | Finding::ResourcesLeft { .. }
        )
    }

    /// What to do about it, when there is more to say than the finding itself.
    fn hint(&self) -> Option<&'static str> {
        match self {
            Finding::TasksLeaked { .. } => Some(
                "await the JoinHandle, keep it in a JoinSet or TaskTracker, or stop it in teardown",
            ),
            Finding::BlockingTasksLeaked { .. } => Some(
                "await the spawn_blocking handle, and give blocking work a way to stop (a flag or channel it checks)",
            ),
            Finding::TaskPanicked { .. } => Some(
                "a task's panic is lost unless its JoinHandle is awaited: await it and handle the JoinError; \
                 if the test expects the panic and handles it, declare it with leakcheck::expect_task_panic(\"<words of the panic>\")",
            ),
            Finding::ExpectedPanicMissing { .. } => Some(
                "the panic's message must contain the declared words; check that the task ran and panicked before the test ended",
            ),
            Finding::TestTimedOut { .. } => Some(
                "find what the test waits on, or raise the limit: #[leak_checked_test(timeout = \"2m\")]",
            ),
            Finding::Teardown {
                problem: Problem::TimedOut(_),
                ..
            } => Some(
                "a teardown step must finish within teardown_timeout; leakcheck::teardown_deadline() says when to stop waiting",
            ),
            Finding::HookTooLate { .. } => {
                Some("register cleanup with on_teardown while the test body or its teardown runs")
            }
            Finding::ResourcesLeft { .. } => Some(
                "close sockets and files, join threads, and wait for or kill child processes (tokio::process::Command::kill_on_drop) before the test ends; a process-wide pool declares what it keeps with leakcheck::keep_resources",
            ),
            Finding::BlockingPoll { .. } => Some(
                "a blocking call in async code stalls every task on its thread: run it with tokio::task::spawn_blocking, or use its async equivalent (tokio::time::sleep, tokio::sync::Mutex)",
            ),
            _ => None,
        }
    }
}

/// One line a spawn site: `2 tasks spawned at src/feed.rs:77:13 (ids 12, 14)`, or, for a lone
/// task, with the task that spawned it.
fn group_by_site(tasks: &[LeakedTask]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest = tasks;
    while let Some(first) = rest.first() {
        let same_site = rest
            .iter()
            .take_while(|task| task.spawned_at == first.spawned_at && task.name == first.name)
            .count();
        let (group, after) = rest.split_at(same_site);
        let name = first
            .name
            .as_ref()
            .map(|name| format!(" {name:?}"))
            .unwrap_or_default();
        let waiting = match &first.waiting_on {
            Some(point)
                if group
                    .iter()
                    .all(|task| task.waiting_on.as_ref() == Some(point)) =>
            {
                format!(", awaiting {point}")
            }
            _ => String::new(),
        };
        let line = match group {
            [task] => {
                let parent = match (task.spawned_by, task.spawned_by_at) {
                    (Some(parent), Some(at)) => {
                        format!(", by task {parent} (spawned at {})", sites::location(at))
                    }
                    (Some(parent), None) => format!(", by task {parent}"),
                    _ => String::new(),
                };
                format!(
                    "task{name} spawned at {} (id {}){parent}{waiting}",
                    sites::location(task.spawned_at),
                    task.id
                )
            }
            _ => {
                let ids: Vec<String> = group.iter().map(|task| task.id.to_string()).collect();
                format!(
                    "{} tasks{name} spawned at {} (ids {}){waiting}",
                    group.len(),
                    sites::location(first.spawned_at),
                    ids.join(", ")
                )
            }
        };
        lines.push(line);
        rest = after;
    }
    lines
}

impl Display for Report {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let only_resources = self
            .findings
            .iter()
            .all(|finding| matches!(finding, Finding::ResourcesLeft { .. }));
        let verdict = match (self.passed(), self.findings.is_empty()) {
            (true, true) => "passed",
            (true, false) if only_resources && self.mode != Mode::Warn => {
                "passed with resources left behind reported (resources = \"warn\")"
            }
            (true, false) => "passed with leaks reported (LEAKCHECK=warn)",
            (false, _) => "failed",
        };
        write!(f, "leakcheck: `{}` {verdict}", self.test)?;
        for finding in &self.findings {
            write!(f, "\n  ")?;
            write_indented(f, &finding.to_string(), "\n    ")?;
        }
        for warning in &self.warnings {
            write!(f, "\n  warning: ")?;
            write_indented(f, warning, "\n    ")?;
        }
        let mut hints: Vec<&str> = Vec::new();
        for hint in self.findings.iter().filter_map(Finding::hint) {
            if !hints.contains(&hint) {
                hints.push(hint);
            }
        }
        let leaked_blocking = self
            .findings
            .iter()
            .any(|finding| matches!(finding, Finding::BlockingTasksLeaked { .. }));
        if self.leaked_tasks() > 0 || leaked_blocking {
            hints.extend(spawns::details_hint());
        }
        for hint in hints {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Keeps a multi-line message (a panic with a long text) inside its finding's block.
fn write_indented(f: &mut Formatter<'_>, text: &str, newline: &str) -> fmt::Result {
    let mut lines = text.lines();
    if let Some(first) = lines.next() {
        f.write_str(first)?;
    }
    for line in lines {
        write!(f, "{newline}{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_written_in_the_attribute() {
        let spelled = |millis| Spelled(Duration::from_millis(millis)).to_string();
        assert_eq!(spelled(250), "250ms");
        assert_eq!(spelled(5000), "5s");
        assert_eq!(spelled(120_000), "2m");
        assert_eq!(spelled(1500), "1500ms");
        assert_eq!(spelled(0), "0ms");
    }

    #[test]
    fn counts_agree_in_number() {
        let leak = |count| {
            Finding::TasksLeaked {
                count,
                settle: Duration::from_millis(250),
                tasks: Vec::new(),
            }
            .to_string()
        };
        assert!(leak(1).starts_with("1 task leaked ("), "{}", leak(1));
        assert!(leak(3).starts_with("3 tasks leaked ("), "{}", leak(3));
    }

    #[test]
    fn a_report_lists_findings_then_deduplicated_hints() {
        let report = Report::new(
            "ws::publishes_prices".into(),
            vec![
                Finding::TasksLeaked {
                    count: 2,
                    settle: Duration::from_millis(250),
                    tasks: Vec::new(),
                },
                Finding::Teardown {
                    step: TeardownStep::Fixture("Feed".into()),
                    problem: Problem::TimedOut(Duration::from_secs(5)),
                },
                Finding::TaskPanicked {
                    message: "first line\nsecond line".into(),
                    location: Some("tests/ws.rs:3:5".into()),
                    task: PanickedTask::default(),
                },
            ],
            None,
        );
        let text = report.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "leakcheck: `ws::publishes_prices` failed");
        assert_eq!(
            lines[1],
            "  2 tasks leaked (still alive 250ms after the test and its teardown)"
        );
        assert_eq!(lines[2], "  teardown of fixture `Feed` timed out after 5s");
        assert_eq!(
            lines[3],
            "  a spawned task panicked at tests/ws.rs:3:5: first line"
        );
        assert_eq!(lines[4], "    second line");
        assert!(
            lines[5].starts_with("  hint: await the JoinHandle"),
            "{text}"
        );
        assert_eq!(
            text.matches("hint:").count(),
            3 + usize::from(spawns::details_hint().is_some())
        );
    }
}
