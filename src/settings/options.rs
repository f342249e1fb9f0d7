//! A test's own options, and how they resolve against the environment and the defaults.

use std::path::Path;
use std::time::Duration;

use leakcheck_grammar::{Conflict, Runtime};

use crate::findings::{AllowRule, Mode, ResourceMode};
use crate::settings::environment::{self, OnHang};

/// The limit for a test body, and for each fixture's setup, unless the test sets `timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// The limit for each teardown step unless the test sets `teardown_timeout`.
pub const DEFAULT_TEARDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// How long leftover tasks get to finish before they count as leaked, unless the test sets
/// `settle`. A run with nothing left over does not wait at all.
pub const DEFAULT_SETTLE: Duration = Duration::from_millis(250);
/// A poll longer than this is reported as a warning when the test sets no `max_poll`.
pub const LONG_POLL: Duration = Duration::from_secs(1);

/// Which tokio runtime a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// One thread, the test's own: `#[tokio::test]`'s default.
    #[default]
    CurrentThread,
    /// A pool of worker threads besides the test's thread.
    MultiThread,
    /// A [`LocalRuntime`](tokio::runtime::LocalRuntime): one thread, and
    /// `tokio::task::spawn_local` works anywhere in the test.
    Local,
}

impl std::fmt::Display for Flavor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Flavor::CurrentThread => "current_thread",
            Flavor::MultiThread => "multi_thread",
            Flavor::Local => "local",
        })
    }
}

/// What a test sets itself, in its attribute or on its `Check`; `None` falls back to the
/// environment, then to the default.
#[derive(Debug, Clone, Default)]
pub(crate) struct TestOptions {
    pub(crate) flavor: Flavor,
    pub(crate) worker_threads: Option<usize>,
    pub(crate) start_paused: bool,
    pub(crate) timeout: Option<Duration>,
    pub(crate) teardown_timeout: Option<Duration>,
    pub(crate) settle: Option<Duration>,
    pub(crate) allow_rules: Option<Vec<AllowRule>>,
    /// `allow_leaks` entries that cannot match anything, each with what to write instead.
    pub(crate) unmatchable_rules: Vec<String>,
    pub(crate) mode: Option<Mode>,
    pub(crate) max_poll: Option<Duration>,
    pub(crate) resources: Option<ResourceMode>,
    /// For a `#[should_panic]` test, what its panic message must hold (empty: anything).
    pub(crate) should_panic: Option<String>,
    pub(crate) repeat: Option<usize>,
}

/// A test's settings once the environment has filled in what the test left open.
pub(crate) struct Resolved<'a> {
    pub(crate) timeout: Duration,
    pub(crate) teardown_timeout: Duration,
    pub(crate) settle: Duration,
    /// Borrowed from the test or the environment: a run copies nothing it only reads.
    pub(crate) allow_rules: &'a [AllowRule],
    pub(crate) mode: Mode,
    pub(crate) report: Option<&'a Path>,
    pub(crate) max_poll: Option<Duration>,
    pub(crate) on_hang: OnHang,
    pub(crate) resources: ResourceMode,
    /// How many times the body runs; 1 for a test that does not repeat.
    pub(crate) repeat: usize,
}

impl TestOptions {
    /// Fills in what the test left open from the environment, then the defaults.
    pub(crate) fn resolve(&self) -> Result<Resolved<'_>, String> {
        let environment = environment::environment().as_ref().map_err(Clone::clone)?;
        Ok(Resolved {
            timeout: self
                .timeout
                .or(environment.timeout)
                .unwrap_or(DEFAULT_TIMEOUT),
            teardown_timeout: self
                .teardown_timeout
                .or(environment.teardown_timeout)
                .unwrap_or(DEFAULT_TEARDOWN_TIMEOUT),
            settle: self.settle.or(environment.settle).unwrap_or(DEFAULT_SETTLE),
            allow_rules: self
                .allow_rules
                .as_deref()
                .or(environment.allow_leaks.as_deref())
                .unwrap_or_default(),
            mode: self.mode.or(environment.mode).unwrap_or_default(),
            report: environment.report.as_deref(),
            max_poll: self.max_poll.or(environment.max_poll),
            on_hang: environment.on_hang,
            resources: self.resources.or(environment.resources).unwrap_or_default(),
            repeat: self.repeat.or(environment.repeat).unwrap_or(1),
        })
    }

    /// The first combination of runtime options that cannot work, in the builder's words; the
    /// attribute rejects the same combinations at compile time.
    pub(crate) fn misconfiguration(&self) -> Option<String> {
        if !self.unmatchable_rules.is_empty() {
            return Some(format!(
                "allow_leaks: {}",
                self.unmatchable_rules.join("; ")
            ));
        }
        let runtime = Runtime {
            multi_thread: self.flavor == Flavor::MultiThread,
            worker_threads: self.worker_threads,
            start_paused: self.start_paused,
        };
        let conflict = runtime.conflicts().into_iter().next()?;
        Some(match conflict {
            Conflict::WorkerThreadsWithoutMultiThread => {
                "worker_threads needs Flavor::MultiThread".to_owned()
            }
            Conflict::NoWorkerThreads => "worker_threads must be at least 1".to_owned(),
            Conflict::StartPausedOnMultiThread => {
                "start_paused needs Flavor::CurrentThread or Flavor::Local (tokio pauses only a single-threaded clock)"
                    .to_owned()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builder_rejects_what_the_attribute_rejects() {
        // The same table runs through the attribute's checks in leakcheck-macros.
        for (runtime, conflicts) in leakcheck_grammar::RUNTIME_EXAMPLES {
            let options = TestOptions {
                flavor: if runtime.multi_thread {
                    Flavor::MultiThread
                } else {
                    Flavor::CurrentThread
                },
                worker_threads: runtime.worker_threads,
                start_paused: runtime.start_paused,
                ..TestOptions::default()
            };
            assert_eq!(
                options.misconfiguration().is_some(),
                !conflicts.is_empty(),
                "{runtime:?}"
            );
        }
    }
}
