//! Settings: every `LEAKCHECK_*` variable under one strict policy, and how a test's own
//! options resolve against them.

mod environment;
mod options;

#[cfg(tokio_unstable)]
pub use environment::TASK_NAMES_VARIABLE;
pub use environment::{
    ALLOW_LEAKS_VARIABLE, CONSOLE_VARIABLE, HANG_VARIABLE, MAX_POLL_VARIABLE, MODE_VARIABLE,
    REPEAT_VARIABLE, REPORT_VARIABLE, RESOURCES_VARIABLE, SETTLE_VARIABLE,
    TEARDOWN_TIMEOUT_VARIABLE, TIMEOUT_VARIABLE,
};
pub(crate) use environment::{OnHang, environment};
pub use options::{DEFAULT_SETTLE, DEFAULT_TEARDOWN_TIMEOUT, DEFAULT_TIMEOUT, Flavor, LONG_POLL};
pub(crate) use options::{Resolved, TestOptions};
