//! [`expect_task_panic`]: a task panic the test provokes and handles.

use std::panic::Location;

use crate::findings::ExpectedPanic;
use crate::run::state;

/// Declares that a task of the current leak-checked test will panic with a message containing
/// `text`, and that the test handles it.
///
/// A panic in any task of a leak-checked test's runtime fails the test, also one whose
/// `JoinHandle` the test awaited: tokio cannot tell a handled `JoinError` from a lost one. A
/// test that provokes a panic on purpose (a pool that runs a callback with `spawn_blocking`
/// and turns its panic into an error, say) declares it instead:
///
/// * a task panic (async or `spawn_blocking`, on any flavor) whose message contains `text` is
///   then not a finding; other panics still fail the test;
/// * when no task panicked with `text` by the end of the run, the test fails with
///   `expected a task to panic with "<text>"; none did`.
///
/// The declaration holds for the whole run, also for a panic that happened before it.
/// Call it from the test body, a fixture, or any task of the test's runtime.
///
/// # Panics
///
/// Panics when called outside a leak-checked test.
///
/// # Examples
///
/// ```
/// use leakcheck::{expect_task_panic, leak_checked_test};
///
/// #[leak_checked_test]
/// async fn a_panicking_callback_becomes_an_error() {
///     expect_task_panic("callback failed");
///     let joined = tokio::task::spawn_blocking(|| panic!("callback failed")).await;
///     assert!(joined.unwrap_err().is_panic());
/// }
/// # fn main() {}
/// ```
#[track_caller]
pub fn expect_task_panic(text: impl Into<String>) {
    let location = Location::caller();
    let Some(run) = state::current() else {
        panic!(
            "leakcheck::expect_task_panic called at {location} outside a leak-checked test: \
             call it from a #[leak_checked_test] body or a task of its runtime"
        );
    };
    run.panics
        .declare(ExpectedPanic::new(text.into(), location.to_string()));
}
