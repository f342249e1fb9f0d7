//! The text of a report: a title line, one block per finding, the warnings, then hints saying
//! what to do next.

use std::fmt::{self, Display, Formatter};

use crate::findings::{
    AllowedByRule, BlockedPoll, Counted, Finding, Growth, LeakedTask, Phase, Problem, Report,
    ResourceKind, TeardownStep, Verdict,
};
use crate::observe::KNOWS_SPAWN_SITES;
use crate::settings::REPORT_VARIABLE;
use crate::util::sites;
use crate::util::words::{Spelled, plural};

impl Display for Report {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let verdict = match self.verdict() {
            Verdict::Passed => "passed",
            Verdict::PassedWithResourcesReported => {
                "passed with resources left behind reported (resources = \"warn\")"
            }
            Verdict::PassedWithLeaksReported => "passed with leaks reported (LEAKCHECK=warn)",
            Verdict::Failed => "failed",
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
        for allowed in &self.allowed {
            write!(f, "\n  {allowed}")?;
        }
        let mut hints: Vec<&str> = Vec::new();
        for hint in self.findings.iter().filter_map(hint) {
            if !hints.contains(&hint) {
                hints.push(hint);
            }
        }
        let leaked_blocking = self
            .findings
            .iter()
            .any(|finding| matches!(finding, Finding::BlockingTasksLeaked { .. }));
        if self.leaked_tasks() > 0 || leaked_blocking {
            hints.extend(details_hint());
        }
        for hint in hints {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl Display for AllowedByRule {
    /// `allowed: 26 tasks by rule `bb8``.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut what = Vec::new();
        if self.tasks > 0 {
            what.push(plural(self.tasks, "task", "tasks"));
        }
        if self.resources > 0 {
            what.push(plural(self.resources, "resource", "resources"));
        }
        if what.is_empty() {
            what.push("nothing".to_owned());
        }
        write!(f, "allowed: {} by rule `{}`", what.join(" and "), self.rule)
    }
}

impl Display for Counted {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Counted::LiveTasks => write!(f, "live tasks"),
            Counted::Sockets => write!(f, "open sockets"),
            Counted::Files => write!(f, "open files"),
            Counted::OtherDescriptors => write!(f, "other open descriptors"),
            Counted::Threads => write!(f, "threads"),
            Counted::Gauge(name) => write!(f, "gauge `{name}`"),
            Counted::Heap => write!(f, "heap"),
        }
    }
}

impl Display for Growth {
    /// `live tasks grew by 1 every repetition (20 repetitions, 5 warm-up)`.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let amount = |count: usize| match self.counted {
            Counted::Heap => bytes(count),
            _ => count.to_string(),
        };
        let by = if self.least == self.most {
            amount(self.least)
        } else {
            format!("{} to {}", amount(self.least), amount(self.most))
        };
        write!(
            f,
            "{} grew by {by} every repetition ({}, {} warm-up)",
            self.counted,
            plural(self.repetitions, "repetition", "repetitions"),
            self.warm_up
        )?;
        for site in &self.sites {
            write!(f, "\ntasks spawned at {site}")?;
        }
        Ok(())
    }
}

/// `512 B`, `16.0 KiB`, `3.2 MiB`.
fn bytes(count: usize) -> String {
    const KIB: f64 = 1024.0;
    let count_f = count as f64;
    if count_f < KIB {
        format!("{count} B")
    } else if count_f < KIB * KIB {
        format!("{:.1} KiB", count_f / KIB)
    } else {
        format!("{:.1} MiB", count_f / (KIB * KIB))
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
                    write!(
                        f,
                        "\nspawn_blocking{} at {}",
                        quoted_name(task.name.as_deref()),
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
                    let what = if blocking { "spawn_blocking" } else { "task" };
                    let verb = if blocking { "" } else { " spawned" };
                    write!(
                        f,
                        "\n{what}{}{verb} at {}",
                        quoted_name(task.name.as_deref()),
                        sites::short(site)
                    )?;
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
                write!(f, "{}", counted(*kind, resources.len()))?;
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
            Finding::Grew(growth) => write!(f, "{growth}"),
            Finding::ReportNotWritten { path, error } => write!(
                f,
                "the test's report line could not be written to {REPORT_VARIABLE}={}: {error}",
                path.display()
            ),
        }
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

impl Display for Phase {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Phase::Setup(fixture) => write!(f, "the setup of fixture `{fixture}`"),
            Phase::Body => f.write_str("its body"),
            Phase::Teardown(step) => step.fmt(f),
            Phase::Settle => f.write_str("the wait for leftover tasks"),
        }
    }
}

/// The phase as the subject of a poll: "the test body", "the setup of fixture `Db`".
pub(crate) fn polled(phase: &Phase) -> String {
    match phase {
        Phase::Body => "the test body".to_owned(),
        other => other.to_string(),
    }
}

/// `1 socket left open`, `2 threads still running`.
pub(crate) fn counted(kind: ResourceKind, count: usize) -> String {
    let (one, many, state) = match kind {
        ResourceKind::Socket => ("socket", "sockets", "left open"),
        ResourceKind::File => ("file", "files", "left open"),
        ResourceKind::ChildProcess => ("child process", "child processes", "still running"),
        ResourceKind::Thread => ("thread", "threads", "still running"),
        ResourceKind::Descriptor => ("descriptor", "descriptors", "left open"),
    };
    format!("{} {state}", plural(count, one, many))
}

/// How to learn more about leaked tasks than this run knows, if there is more to learn.
pub(crate) fn details_hint() -> Option<&'static str> {
    (!KNOWS_SPAWN_SITES).then_some(
        "run `cargo leakcheck test` (or build with RUSTFLAGS=\"--cfg tokio_unstable\") to see where each leaked task was spawned",
    )
}

/// What to do about a finding, when there is more to say than the finding itself.
fn hint(finding: &Finding) -> Option<&'static str> {
    match finding {
        Finding::TasksLeaked { .. } => Some(
            "await the JoinHandle, keep it in a JoinSet or TaskTracker, or stop it in teardown",
        ),
        Finding::BlockingTasksLeaked { .. } => Some(
            "await the spawn_blocking handle, and give blocking work a way to stop (a flag or channel it checks)",
        ),
        Finding::TaskPanicked { .. } => Some(
            "leakcheck fails a test on every panic of its tasks, awaited and handled or not: \
             if the test expects this one, declare it with leakcheck::expect_task_panic(\"<words of the panic>\"); \
             if not, a panic whose JoinHandle nobody awaits is lost, so await it and handle the JoinError",
        ),
        Finding::Grew(_) => Some(
            "what each repetition starts or keeps is never let go: end it (stop the task, drop the subscriber, close the file) before the repetition ends, or bound what is kept; growth in the first repetitions only is warm-up and does not fail",
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

/// ` "name"` for a task with a name, nothing for one without.
fn quoted_name(name: Option<&str>) -> String {
    name.map(|name| format!(" {name:?}")).unwrap_or_default()
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
        let name = quoted_name(first.name.as_deref());
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
    use std::time::Duration;

    use super::*;
    use crate::findings::PanickedTask;

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
        assert_eq!(counted(ResourceKind::Socket, 1), "1 socket left open");
        assert_eq!(
            counted(ResourceKind::ChildProcess, 2),
            "2 child processes still running"
        );
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
            3 + usize::from(details_hint().is_some())
        );
    }
}
