//! The report of a test stuck in synchronous code, printed from the watchdog's thread.

use std::time::Duration;

use crate::findings::Phase;
use crate::settings::HANG_VARIABLE;
use crate::util::words::Spelled;

/// The exit code of a test process that leakcheck ends: the one a failing Rust test
/// process has.
pub(crate) const EXIT_CODE: i32 = 101;

/// What is known of a stuck test.
pub(crate) struct Stuck<'a> {
    pub(crate) test: &'a str,
    pub(crate) phase: &'a Phase,
    pub(crate) grace: Duration,
    pub(crate) limit: Duration,
    pub(crate) polling: Polling,
    pub(crate) wait: bool,
}

/// What the stuck thread's poll slot shows.
pub(crate) enum Polling {
    /// A poll of the run, named.
    Named(String),
    /// A poll of the run the build cannot name.
    Unnamed,
    /// No poll of the run: a task only a `tokio_unstable` build marks.
    NotMarked,
}

impl Stuck<'_> {
    pub(crate) fn report(&self) -> String {
        let polling = match &self.polling {
            Polling::Named(polling) => polling.clone(),
            Polling::Unnamed => "a task of the test's runtime".into(),
            Polling::NotMarked => "a task of the test's runtime (a build with RUSTFLAGS=\"--cfg tokio_unstable\" names it)".into(),
        };
        let ending = if self.wait {
            format!("{HANG_VARIABLE}=wait: leakcheck keeps waiting")
        } else {
            format!(
                "leakcheck ends the test process now (exit code {EXIT_CODE}) rather than hang; \
                 the other tests of this process do not run or report"
            )
        };
        format!(
            "leakcheck: `{test}` is stuck: {phase} is still running {grace} past its limit ({limit})\n  \
             its thread is blocked in synchronous code (std::thread::sleep, a blocking lock or \
             call, a busy loop) that no .await lets tokio interrupt\n  \
             the blocked poll: {polling}\n  \
             {ending}\n  \
             hint: run blocking work with tokio::task::spawn_blocking, or use its async \
             equivalent; {HANG_VARIABLE}=wait keeps waiting instead, to attach a debugger\n",
            test = self.test,
            phase = self.phase,
            grace = Spelled(self.grace),
            limit = Spelled(self.limit),
        )
    }
}
