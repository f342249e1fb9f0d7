//! Where each task of a run was spawned, when tokio can say.
//!
//! With `--cfg tokio_unstable`, tokio calls hooks when a task is spawned and when it ends; the
//! log below keeps the tasks alive with their spawn sites, so a leak report can point at the
//! line. On stable tokio there are no such hooks, and a stand-in with the same interface knows
//! nothing. The rest of the crate uses [`SpawnLog`] the same way in both builds.

#[cfg(tokio_unstable)]
mod hooked;
#[cfg(tokio_unstable)]
mod names;
#[cfg(tokio_unstable)]
pub(crate) use hooked::SpawnLog;
#[cfg(tokio_unstable)]
pub(crate) use names::LentSubscriber;
#[cfg(tokio_unstable)]
pub use names::{TASK_NAMES_VARIABLE, TaskNames};

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

use std::cell::RefCell;

thread_local! {
    static LENT_TO_THIS_THREAD: RefCell<Option<LentSubscriber>> = const { RefCell::new(None) };
}

/// Called as a runtime thread starts: lends it the subscriber that reads spawn spans.
pub(crate) fn runtime_thread_started() {
    LENT_TO_THIS_THREAD.with(|lent| *lent.borrow_mut() = Some(LentSubscriber::lend()));
}

/// Called as a runtime thread stops: takes the subscriber back.
pub(crate) fn runtime_thread_stopping() {
    LENT_TO_THIS_THREAD.with(|lent| lent.borrow_mut().take());
}

use std::panic::Location;

/// Whether this build knows where tasks were spawned.
pub(crate) const KNOWS_SPAWN_SITES: bool = cfg!(tokio_unstable);

/// How to learn more about leaked tasks than this run knows, if there is more to learn.
pub(crate) fn details_hint() -> Option<&'static str> {
    #[cfg(tokio_unstable)]
    let hint = None;
    #[cfg(not(tokio_unstable))]
    let hint = Some(
        "run `cargo leakcheck test` (or build with RUSTFLAGS=\"--cfg tokio_unstable\") to see where each leaked task was spawned",
    );
    hint
}

/// A task still alive after its test, as far as tokio can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeakedTask {
    /// tokio's id of the task.
    pub id: tokio::task::Id,
    /// Where it was spawned: the `tokio::spawn` (or `JoinSet::spawn`, ...) call, or the
    /// nearest caller of it marked `#[track_caller]`. Displays as `file:line:col`.
    pub spawned_at: &'static Location<'static>,
    /// The name given with `tokio::task::Builder::name`, where it is known.
    pub name: Option<String>,
    /// The task that spawned it, when another task did.
    pub spawned_by: Option<tokio::task::Id>,
    /// Where that task was spawned, when the run knew it.
    pub spawned_by_at: Option<&'static Location<'static>>,
    /// What it waits on and where in the user's code, like
    /// `tokio::time::sleep::Sleep (tests/ws.rs:48)`; needs the `taskdump` feature (Linux).
    pub waiting_on: Option<String>,
}

/// The task a panic happened in, as far as the build can tell.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PanickedTask {
    /// Whether it was `spawn_blocking` work rather than an async task; `None` where the build
    /// cannot tell (a `multi_thread` runtime without `--cfg tokio_unstable`).
    pub blocking: Option<bool>,
    /// Where it was spawned, as `file:line:col`; needs `--cfg tokio_unstable` (and, for
    /// blocking work, task names, which are on by default).
    pub spawned_at: Option<String>,
    /// The name given with `tokio::task::Builder::name`, where it is known.
    pub name: Option<String>,
}

/// `spawn_blocking` work still running when its test's runtime shut down.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeakedBlockingTask {
    /// Where it was spawned, as `file:line:col`.
    pub spawned_at: String,
    /// The name given with `tokio::task::Builder::name`, if any.
    pub name: Option<String>,
}
