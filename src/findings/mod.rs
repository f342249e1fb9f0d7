//! What a run finds, as plain data, and the rules that judge it: which findings a mode
//! tolerates, which leaks a rule allows, which task panics a test declared.
//!
//! Nothing here observes, prints or runs anything; the words for all of it are in
//! `crate::tell`.

mod allow;
mod expected_panics;
mod finding;
mod growth;
mod modes;
mod phase;
mod report;
mod resources;
mod tasks;
mod verdict;

pub(crate) use allow::{AllowRule, AllowedByRule, count_allowed};
pub(crate) use expected_panics::{ExpectedPanic, settle_declared_panics};
pub use finding::{BlockedPoll, Finding, Problem, TeardownRecord, TeardownStep};
pub use growth::{Counted, Growth};
pub(crate) use growth::{Series, warm_up};
pub use modes::{Mode, ResourceMode, UnknownMode};
pub(crate) use phase::Phase;
pub use report::Report;
pub use resources::{LeftResource, ResourceKind};
pub use tasks::{LeakedBlockingTask, LeakedTask, PanickedTask};
pub(crate) use verdict::Verdict;
