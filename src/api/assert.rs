//! [`Report::assert_passed`]: a report turned into a test's verdict.

use std::io::Write as _;

use crate::findings::Report;

impl Report {
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
