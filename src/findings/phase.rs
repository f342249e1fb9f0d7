//! The steps of a run, as a stuck-test report and a blocked poll name them.

use crate::findings::finding::TeardownStep;

/// A step of a run.
#[derive(Debug, Clone)]
pub(crate) enum Phase {
    Setup(String),
    Body,
    Teardown(TeardownStep),
    Settle,
}
