//! One line of a `LEAKCHECK_REPORT` file, typed: the schema the library's `tell/jsonl.rs`
//! writes, read by `report` and by `test`.
//!
//! Fields that older lines lack default to empty, so a report written by an earlier leakcheck
//! still reads.

use serde::Deserialize;

/// A test's report line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ReportLine {
    /// The test's path: its crate, modules and function.
    pub(crate) test: String,
    pub(crate) outcome: Outcome,
    pub(crate) leaked_tasks: u64,
    /// Each leaked task the run could name; fewer than `leaked_tasks` in a build without
    /// `tokio_unstable`.
    #[serde(default)]
    pub(crate) leaks: Vec<LeakedTask>,
    #[serde(default)]
    pub(crate) leaked_blocking: u64,
    #[serde(default)]
    pub(crate) blocking: Vec<BlockingTask>,
    #[serde(default)]
    pub(crate) panics: Vec<TaskPanic>,
    #[serde(default)]
    pub(crate) teardowns: Vec<TeardownRecord>,
    #[serde(default)]
    pub(crate) long_polls: Vec<LongPoll>,
    #[serde(default)]
    pub(crate) resources: Vec<ResourceLeft>,
    /// What each `allow_leaks` rule let go.
    #[serde(default)]
    pub(crate) allowed: Vec<Allowed>,
    /// What grew with every repetition of a repeated test.
    #[serde(default)]
    pub(crate) growth: Vec<Grew>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct Grew {
    /// `live tasks`, ``gauge `subscribers` ``, `open descriptors`.
    pub(crate) what: String,
    /// The least one repetition added.
    pub(crate) per_repetition: u64,
    pub(crate) repetitions: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct Allowed {
    pub(crate) rule: String,
    pub(crate) tasks: u64,
    pub(crate) resources: u64,
}

/// How a test ended, as leakcheck judged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Outcome {
    Passed,
    /// Passed, with leaks or resources reported (`warn` mode).
    Warned,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct LeakedTask {
    /// `file:line:col`.
    pub(crate) site: String,
    pub(crate) name: Option<String>,
    /// Where the task waits, when the build could tell.
    pub(crate) awaiting: Option<String>,
    /// The id of the task that spawned it, when a task did.
    #[serde(default)]
    pub(crate) spawned_by: Option<String>,
    /// Where that task was spawned, when the run knew it.
    #[serde(default)]
    pub(crate) spawned_by_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct BlockingTask {
    pub(crate) site: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct TaskPanic {
    pub(crate) message: String,
    pub(crate) spawned_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct TeardownRecord {
    /// `fixture Name` or `hook at file:line:col`.
    pub(crate) step: String,
    pub(crate) ms: f64,
    /// `ok`, `failed`, `panicked` or `timed out`.
    pub(crate) outcome: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct LongPoll {
    pub(crate) what: String,
    /// How long the poll held its thread, at least.
    pub(crate) ms: f64,
    /// Whether it failed the test (past its `max_poll`) rather than warned.
    pub(crate) failed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct ResourceLeft {
    /// `Socket`, `File`, `ChildProcess` or `Thread`.
    pub(crate) kind: String,
    pub(crate) what: String,
}

impl ReportLine {
    /// Reads one line; the error says whether it is not JSON or not a report line.
    pub(crate) fn parse(line: &str) -> Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|error| format!("not JSON: {error}"))?;
        serde_json::from_value(value)
            .map_err(|error| format!("not a leakcheck report line ({error})"))
    }

    /// Leaked tasks, leaked blocking work and detached panics.
    pub(crate) fn problems(&self) -> u64 {
        self.leaked_tasks + self.leaked_blocking + self.panics.len() as u64
    }

    /// The name libtest and nextest know the test by: its path without the crate.
    pub(crate) fn harness_name(&self) -> &str {
        self.test
            .split_once("::")
            .map_or(self.test.as_str(), |(_, rest)| rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_of_an_earlier_leakcheck_reads_with_what_it_lacks_empty() {
        let line = ReportLine::parse(r#"{"test":"feed::a","outcome":"warned","leaked_tasks":2}"#)
            .expect("a report line");
        assert_eq!(line.outcome, Outcome::Warned);
        assert_eq!(line.problems(), 2);
        assert!(line.leaks.is_empty() && line.long_polls.is_empty());
    }

    #[test]
    fn an_unknown_outcome_is_not_a_report_line() {
        let error = ReportLine::parse(r#"{"test":"a","outcome":"maybe","leaked_tasks":0}"#)
            .expect_err("no such outcome");
        assert!(
            error.starts_with("not a leakcheck report line (unknown variant `maybe`"),
            "{error}"
        );
    }

    #[test]
    fn harness_names_leave_out_the_crate() {
        let line = ReportLine::parse(
            r#"{"test":"feed::tests::starts","outcome":"passed","leaked_tasks":0}"#,
        )
        .expect("a report line");
        assert_eq!(line.harness_name(), "tests::starts");
    }
}
