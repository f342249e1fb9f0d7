//! Panics: their messages, and the process-wide hook that notices panics in spawned tasks.
//!
//! tokio catches a task's panic and keeps it in the task's `JoinHandle`; when nobody awaits the
//! handle, the panic is printed and forgotten. The hook below sees every panic first, and files
//! the ones raised inside a task of a leak-checked runtime with that run.

use std::any::Any;
use std::panic::{self, PanicHookInfo};
use std::sync::{Arc, Once};

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
    tokio::task::try_id()?;
    let handle = tokio::runtime::Handle::try_current().ok()?;
    let run = registry::find(handle.id())?;
    run.record_task_panic(
        message(info.payload()),
        info.location().map(ToString::to_string),
    );
    Some(run)
}
