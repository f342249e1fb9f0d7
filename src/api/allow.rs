//! [`allow_leak`]: a task the test lets go on purpose.

use std::panic::Location;

use tokio::task::JoinHandle;

use crate::run::state;
use crate::util::sync::lock;

/// Lets the task behind `handle` outlive the current leak-checked test without failing it.
///
/// For a task that is meant to run on, like a process-wide background service the test starts
/// on purpose. Works in every build: the harness watches the handle's task, not its spawn site.
///
/// # Panics
///
/// Panics when called outside a leak-checked test.
///
/// # Examples
///
/// ```
/// use std::future::pending;
/// use leakcheck::{allow_leak, leak_checked_test};
///
/// #[leak_checked_test]
/// async fn starts_the_metrics_exporter() {
///     let exporter = tokio::spawn(pending::<()>());
///     allow_leak(&exporter);
/// }
/// # fn main() {}
/// ```
#[track_caller]
pub fn allow_leak<T>(handle: &JoinHandle<T>) {
    let location = Location::caller();
    let Some(run) = state::current() else {
        panic!(
            "leakcheck::allow_leak called at {location} outside a leak-checked test: \
             call it from a #[leak_checked_test] body or a task of its runtime"
        );
    };
    lock(&run.allowed).push(handle.abort_handle());
}
