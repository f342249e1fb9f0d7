//! Async tests that fail when they leak.
//!
//! `#[leak_checked_test]` runs an `async fn` test on a fresh tokio runtime, like
//! `#[tokio::test]`, and fails it when it
//!
//! * leaves tasks running (a `tokio::spawn` whose handle was dropped, a reconnect loop),
//! * lets a spawned task panic, even one whose `JoinHandle` nobody awaited,
//! * leaves `spawn_blocking` work running,
//! * hangs in its body (`timeout`, real time even under a paused clock) or in a teardown step
//!   (`teardown_timeout`),
//! * blocks its thread in one poll longer than `max_poll` (see [`Check::max_poll`]),
//! * cannot set up one of its fixtures, or their teardown fails,
//! * leaves sockets, files, child processes or threads behind, with `resources = "fail"`
//!   (Linux, where the test is alone in its process; see [`Check::resources`]).
//!
//! A future created in the body and never awaited does not compile.
//!
//! ```
//! use leakcheck::leak_checked_test;
//!
//! #[leak_checked_test]
//! async fn joins_what_it_spawns() {
//!     let task = tokio::spawn(async { 40 + 2 });
//!     assert_eq!(task.await.unwrap(), 42);
//! }
//! # fn main() {}
//! ```
//!
//! Had the test dropped `task` while it still ran, it would fail with:
//!
//! ```text
//! leakcheck: `tests::joins_what_it_spawns` failed
//!   1 task leaked (still alive 250ms after the test and its teardown)
//!   hint: await the JoinHandle, keep it in a JoinSet or TaskTracker, or stop it in teardown
//! ```
//!
//! # A run, in order
//!
//! 1. Build the runtime for the flavor (all drivers on) and count the tasks alive.
//! 2. Set up the fixtures in argument order, each [`AsyncFixture::setup`] under `timeout`. If
//!    one fails, tear down those already set up and fail.
//! 3. Run the body under `timeout`, catching its panic.
//! 4. Tear down: [`on_teardown`] hooks, the one registered last first, then fixtures in
//!    reverse argument order, each under `teardown_timeout`. A step that fails is reported and
//!    the next still runs.
//! 5. Settle: wait up to `settle` for leftover tasks to finish, returning at once when none
//!    is left. Tasks still alive are leaks.
//! 6. Shut the runtime down without waiting for ever; blocking work still running is a leak.
//! 7. Verdict: one report of everything found. A panicking body's panic is raised again after
//!    the report, so `#[should_panic(expected = "...")]` works as before.
//!
//! Without the macro, [`Check`] does the same and returns the [`Report`].
//!
//! # Detached panics
//!
//! A panic in any task of the test's runtime fails the test, even when the task's
//! `JoinHandle` was dropped. leakcheck notices it with a panic hook, installed once per
//! process in front of the hook that was there (which still runs). A panic the test provokes
//! and handles is declared with [`expect_task_panic`].

//! # Settings from the environment
//!
//! Read once per process. An empty variable counts as unset; a value that does not parse fails
//! every leak-checked test with a message naming the variable and what it accepts. A value the
//! test sets itself (attribute or [`Check`]) wins.
//!
//! * `LEAKCHECK=fail|warn|off`: `warn` reports leaks and detached panics without failing the
//!   test; `off` skips looking for them. The test's own failures, and its fixtures' setup and
//!   teardown, fail it in every mode. See [`Mode`].
//! * `LEAKCHECK_SETTLE`, `LEAKCHECK_TIMEOUT`, `LEAKCHECK_TEARDOWN_TIMEOUT`: the defaults of
//!   `settle`, `timeout` and `teardown_timeout`, spelled as in the attribute (`300ms`, `5s`).
//! * `LEAKCHECK_REPORT=path.jsonl`: append one JSON line per test, under a file lock, so many
//!   test processes can share the file; `cargo leakcheck report` summarises it.
//! * `LEAKCHECK_ALLOW_LEAKS`: the default of `allow_leaks`, entries separated by commas; a
//!   test's own `allow_leaks` replaces it. See [`Check::allow_leaks`].
//! * `LEAKCHECK_MAX_POLL`: the default of `max_poll`. See [`Check::max_poll`].
//! * `LEAKCHECK_RESOURCES=fail|warn|off`: the default of `resources`, what to do with sockets,
//!   files, child processes and threads a test leaves behind (Linux; `warn` unless set). See
//!   [`Check::resources`].
//! * `LEAKCHECK_HANG=exit|wait`: what to do about a test still running 2 s past a step's limit
//!   because its thread is blocked in synchronous code: print the report and end the test
//!   process with exit code 101 (the default), or print it and keep waiting, to attach a
//!   debugger or tokio-console.
//! * `LEAKCHECK_TASK_NAMES=0`: in a `--cfg tokio_unstable` build, do not record task names and
//!   the spawn sites of `spawn_blocking` work, which are recorded by default.
//! * `LEAKCHECK_CONSOLE=1`: with the `console` feature and `--cfg tokio_unstable`, serve
//!   tokio-console from the test process (bind address from `TOKIO_CONSOLE_BIND`), so it can
//!   attach to a hung test. Other builds print why it stays off.
//!
//! # Builds
//!
//! The default build, on stable tokio, counts leaked tasks. Built with
//! `RUSTFLAGS="--cfg tokio_unstable"`, leakcheck also uses tokio's task hooks and names each
//! leaked task by its spawn site (`file:line:col`) and the task that spawned it; see
//! `docs/reading-reports.md` in the repository.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

// The layers, bottom first: each imports only from those above it in this list. See
// ARCHITECTURE.md; tests/layers.rs fails on an import against the order.
mod api;
mod findings;
pub mod fixtures;
mod observe;
mod run;
mod settings;
mod tell;
mod util;

pub use api::{
    Check, allow_leak, expect_task_panic, gauge, keep_resources, keep_resources_async, on_teardown,
    teardown_deadline,
};
pub use findings::{
    BlockedPoll, Counted, Finding, Growth, LeakedBlockingTask, LeakedTask, LeftResource, Mode,
    PanickedTask, Problem, Report, ResourceKind, ResourceMode, TeardownRecord, TeardownStep,
    UnknownMode,
};
pub use leakcheck_macros::leak_checked_test;
/// The same attribute as [`leak_checked_test`], under the name rstest looks for: rstest treats
/// an attribute whose last path segment is `test` as the test attribute of each case.
pub use leakcheck_macros::leak_checked_test as test;
pub use observe::resources::KNOWN_KEEPERS;
#[cfg(tokio_unstable)]
#[cfg_attr(docsrs, doc(cfg(tokio_unstable)))]
pub use observe::spawns::TaskNames;
pub use run::fixture::{AsyncFixture, BoxError, FixtureSet};
pub use run::outcome::TestOutcome;
#[cfg(tokio_unstable)]
#[cfg_attr(docsrs, doc(cfg(tokio_unstable)))]
pub use settings::TASK_NAMES_VARIABLE;
pub use settings::{
    ALLOW_LEAKS_VARIABLE, CONSOLE_VARIABLE, DEFAULT_SETTLE, DEFAULT_TEARDOWN_TIMEOUT,
    DEFAULT_TIMEOUT, Flavor, HANG_VARIABLE, LONG_POLL, MAX_POLL_VARIABLE, MODE_VARIABLE,
    REPEAT_VARIABLE, REPORT_VARIABLE, RESOURCES_VARIABLE, SETTLE_VARIABLE,
    TEARDOWN_TIMEOUT_VARIABLE, TIMEOUT_VARIABLE,
};

/// What `#[leak_checked_test]` expands to calls, besides the public API. Not for direct use.
#[doc(hidden)]
pub mod __private {
    /// Fails to compile, at the argument's type, when a test borrows something that is not a
    /// fixture.
    pub fn assert_fixture<T: crate::AsyncFixture>() {}

    /// Fails to compile, at the return type, when a test returns something a test cannot.
    pub fn assert_outcome<T: crate::TestOutcome>() {}

    /// The check of a test named by the literal `test`.
    pub fn check_named(test: &'static str) -> crate::api::Check {
        crate::api::Check::named(test)
    }

    /// The counting allocator [`count_allocations!`](crate::count_allocations) declares.
    pub use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
}

/// Counts the heap for repeated tests (`repeat = N`): declares, at the root of a test target
/// (an integration test file, or the crate root of unit tests), a global allocator that counts
/// the bytes and blocks live. A repeated test then fails when the heap grows by more than
/// 1 KiB in nearly every repetition after the warm-up (all but one): a cache with no
/// eviction, a log kept in memory. Without it the heap is not counted, and the first repeated
/// test of the process says so.
///
/// The count is of the whole process, so it is taken only where the test is alone in it (under
/// nextest, or with `--test-threads=1`); a parallel `cargo test` blames no test for another's
/// allocations. The allocator is the system's with two atomic additions an allocation (the
/// `stats_alloc` crate; leakcheck itself has no `unsafe`).
///
/// ```
/// leakcheck::count_allocations!();
///
/// #[leakcheck::test(repeat = 10)]
/// async fn answers_do_not_pile_up() {
///     let answer = vec![0u8; 16 * 1024];
///     drop(answer);
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! count_allocations {
    () => {
        #[global_allocator]
        static LEAKCHECK_COUNTED_HEAP: &$crate::__private::StatsAlloc<::std::alloc::System> =
            &$crate::__private::INSTRUMENTED_SYSTEM;
    };
}
