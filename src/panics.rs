//! Panics: their messages, and the process-wide hook that notices panics in spawned tasks.
//!
//! tokio catches a task's panic and keeps it in the task's `JoinHandle`; when nobody awaits the
//! handle, the panic is printed and forgotten. The hook below sees every panic first, and files
//! the ones raised inside a task of a leak-checked runtime with that run.

use std::any::Any;
use std::panic::{self, Location, PanicHookInfo};
use std::sync::{Arc, Once};

use crate::expected_panics::ExpectedPanic;
use crate::registry::{self, RunState};

/// What a panic carries: usually a `&str` or a `String`.
pub(crate) type PanicPayload = Box<dyn Any + Send>;

/// The text of a panic, as `panic!` formatted it.
pub(crate) fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "<a panic payload that is not a string>".to_owned()
    }
}

static INSTALL: Once = Once::new();

/// Installs the task-panic hook once per process, in front of whatever hook was there.
///
/// The previous hook still runs for every panic, so messages and backtraces print as usual.
pub(crate) fn install_task_panic_hook() {
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let run = file_task_panic(info);
            // The previous hook may take long (symbolising a backtrace under RUST_BACKTRACE=1);
            // meanwhile the task still counts as alive and must not be taken for a leak.
            let _in_flight = run.as_deref().map(RunState::panic_in_flight);
            previous(info);
        }));
    });
}

/// Files a panic of a spawned task with its run, and gives the run.
fn file_task_panic(info: &PanicHookInfo<'_>) -> Option<Arc<RunState>> {
    // The test body and teardown run in `block_on`, outside any task: their panics are caught
    // by the run itself. Only panics inside spawned tasks go missing.
    let task = tokio::task::try_id()?;
    let handle = tokio::runtime::Handle::try_current().ok()?;
    let run = registry::find(handle.id())?;
    run.record_task_panic(
        task,
        message(info.payload()),
        info.location().map(ToString::to_string),
    );
    Some(run)
}

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
    let Some(run) = registry::current() else {
        panic!(
            "leakcheck::expect_task_panic called at {location} outside a leak-checked test: \
             call it from a #[leak_checked_test] body or a task of its runtime"
        );
    };
    run.expect_panic(ExpectedPanic::new(text.into(), location.to_string()));
}
