//! Tasks as a report names them: leaked, blocking, panicked.

use std::panic::Location;

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
