//! Where each task of a run was spawned, when tokio can say.
//!
//! With `--cfg tokio_unstable`, tokio calls hooks when a task is spawned and when it ends; the
//! log below keeps the tasks alive with their spawn sites, so a leak report can point at the
//! line. On stable tokio there are no such hooks, and a stand-in with the same interface knows
//! nothing. The rest of the crate uses [`SpawnLog`] the same way in both builds.

use std::cell::RefCell;

thread_local! {
    /// The subscriber lent to a runtime thread for its life: a thread's default subscriber
    /// is the thread's own, and the lending must end on the thread it began on.
    static LENT_TO_THIS_THREAD: RefCell<Option<LentSubscriber>> = const { RefCell::new(None) };
}

#[cfg(tokio_unstable)]
mod hooked;
#[cfg(tokio_unstable)]
mod names;
#[cfg(tokio_unstable)]
pub(crate) use hooked::SpawnLog;
#[cfg(tokio_unstable)]
pub(crate) use names::LentSubscriber;
#[cfg(tokio_unstable)]
pub use names::TaskNames;

// The conditions under which tokio itself offers task dumps.
#[cfg(all(
    tokio_unstable,
    feature = "taskdump",
    target_os = "linux",
    any(
        target_arch = "aarch64",
        target_arch = "x86",
        target_arch = "x86_64",
        target_arch = "s390x"
    )
))]
mod dump;
#[cfg(not(all(
    tokio_unstable,
    feature = "taskdump",
    target_os = "linux",
    any(
        target_arch = "aarch64",
        target_arch = "x86",
        target_arch = "x86_64",
        target_arch = "s390x"
    )
)))]
#[path = "no_dump.rs"]
mod dump;
pub(crate) use dump::waiting_points;

#[cfg(not(tokio_unstable))]
mod stand_in;
#[cfg(not(tokio_unstable))]
pub(crate) use stand_in::{LentSubscriber, SpawnLog};

/// Whether this build knows where tasks were spawned.
pub(crate) const KNOWS_SPAWN_SITES: bool = cfg!(tokio_unstable);

/// Called as a runtime thread starts: lends it the subscriber that reads spawn spans.
pub(crate) fn runtime_thread_started() {
    LENT_TO_THIS_THREAD.with(|lent| *lent.borrow_mut() = Some(LentSubscriber::lend()));
}

/// Called as a runtime thread stops: takes the subscriber back.
pub(crate) fn runtime_thread_stopping() {
    LENT_TO_THIS_THREAD.with(|lent| lent.borrow_mut().take());
}
