//! Whether a report passes: what each [`Mode`] tolerates.

use crate::findings::finding::Finding;
use crate::findings::modes::{Mode, ResourceMode};
use crate::findings::report::Report;
use crate::util::panic_payload;

/// How a run ended, as its report's title and its JSON line say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing was found.
    Passed,
    /// Only resources left behind were found, and `resources` is not `fail`.
    PassedWithResourcesReported,
    /// Leaks were found and reported under `LEAKCHECK=warn`.
    PassedWithLeaksReported,
    /// The test fails.
    Failed,
}

impl Report {
    /// Whether the test passes: nothing was found, or only what is reported without failing:
    /// leaks and detached panics under [`Mode::Warn`], resources left behind unless the test
    /// asked for [`ResourceMode::Fail`].
    pub fn passed(&self) -> bool {
        self.findings.iter().all(|finding| self.tolerates(finding))
    }

    /// Whether the test runner passes the test, which the JSON line says. The same as
    /// [`Report::passed`], but for a `#[should_panic]` test: the runner passes it when
    /// [`Report::assert_passed`] panics (with the body's panic, or else the report) with a
    /// message that holds what the attribute expects.
    pub(crate) fn passes_its_runner(&self) -> bool {
        let Some(expected) = &self.should_panic else {
            return self.passed();
        };
        if self.passed() {
            return false;
        }
        let message = match &self.test_panic {
            Some(payload) => panic_payload::message(&**payload),
            None => self.to_string(),
        };
        message.contains(expected.as_str())
    }

    fn tolerates(&self, finding: &Finding) -> bool {
        let resources = match finding {
            Finding::ResourcesLeft { .. } => true,
            Finding::Grew(growth) => growth.counted.is_resource(),
            _ => false,
        };
        (self.mode == Mode::Warn && finding.is_leak())
            || (resources && self.resource_mode != ResourceMode::Fail)
    }

    pub(crate) fn verdict(&self) -> Verdict {
        let only_resources = self.findings.iter().all(|finding| match finding {
            Finding::ResourcesLeft { .. } => true,
            Finding::Grew(growth) => growth.counted.is_resource(),
            _ => false,
        });
        match (self.passed(), self.findings.is_empty()) {
            (true, true) => Verdict::Passed,
            (true, false) if only_resources && self.mode != Mode::Warn => {
                Verdict::PassedWithResourcesReported
            }
            (true, false) => Verdict::PassedWithLeaksReported,
            (false, _) => Verdict::Failed,
        }
    }
}

impl Finding {
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
                | Finding::Grew(_)
        )
    }
}
