//! The steps of a run, as reports name them.

use std::fmt::{self, Display, Formatter};

use crate::report::TeardownStep;

/// A step of a run, as a stuck-test report names it.
#[derive(Debug, Clone)]
pub(crate) enum Phase {
    Setup(String),
    Body,
    Teardown(TeardownStep),
    Settle,
}

impl Phase {
    /// The phase as the subject of a poll: "the test body", "the setup of fixture `Db`".
    pub(crate) fn polled(&self) -> String {
        match self {
            Phase::Body => "the test body".to_owned(),
            other => other.to_string(),
        }
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
