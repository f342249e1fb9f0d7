//! What a test calls: [`Check`](crate::Check) and the functions a body, a fixture or a task of
//! the test's runtime calls while it runs.

mod allow;
mod assert;
mod check;
mod gauge;
mod panics;
mod resources;
mod teardown;

pub use allow::allow_leak;
pub use check::Check;
pub use gauge::gauge;
pub use panics::expect_task_panic;
pub use resources::{keep_resources, keep_resources_async};
pub use teardown::{on_teardown, teardown_deadline};
