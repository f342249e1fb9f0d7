//! The outcome of a run: its findings and what else it measured, as data.
//!
//! Whether it passes is decided in `verdict.rs`; its text is written in `crate::tell`; turning
//! it into a test's failure is `crate::api`'s.

use std::fmt::{self, Formatter};
use std::time::Duration;

use crate::findings::allow::AllowedByRule;
use crate::findings::finding::{BlockedPoll, Finding, TeardownRecord};
use crate::findings::modes::{Mode, ResourceMode};
use crate::util::panic_payload::{self, PanicPayload};
use crate::util::shared_str::SharedStr;

/// The outcome of a leak-checked run: everything it found, in the order it happened.
///
/// A report with no findings is a pass. [`Report::assert_passed`] is what `#[leak_checked_test]`
/// calls: it prints a failing report and fails the test.
pub struct Report {
    pub(crate) test: SharedStr,
    pub(crate) findings: Vec<Finding>,
    pub(crate) test_panic: Option<PanicPayload>,
    pub(crate) settle_time: Duration,
    pub(crate) warnings: Vec<String>,
    pub(crate) mode: Mode,
    pub(crate) teardowns: Vec<TeardownRecord>,
    pub(crate) duration: Duration,
    pub(crate) long_polls: Vec<BlockedPoll>,
    /// What each `allow_leaks` rule let go.
    pub(crate) allowed: Vec<AllowedByRule>,
    pub(crate) resource_mode: ResourceMode,
    /// For a `#[should_panic]` test, what its panic message must hold (empty: anything).
    pub(crate) should_panic: Option<String>,
}

impl Report {
    pub(crate) fn new(
        test: SharedStr,
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
            allowed: Vec::new(),
            resource_mode: ResourceMode::default(),
            should_panic: None,
        }
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

    /// Things worth a look that do not fail the test, such as an `allow_leaks` rule that
    /// matched nothing.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The name of the test the report is about.
    pub fn test(&self) -> &str {
        &self.test
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
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report")
            .field("test", &self.test)
            .field("findings", &self.findings)
            .field("settle_time", &self.settle_time)
            .field(
                "test_panic",
                &self.test_panic.as_deref().map(panic_payload::message),
            )
            .finish()
    }
}
