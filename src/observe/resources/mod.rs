//! Resources a test leaves behind besides tasks: sockets, files, child processes and threads.
//!
//! The process's holdings are read from `/proc` before the test's runtime is built (in a
//! process of one test, once it is built) and again after it has shut down, when the runtime's
//! own descriptors and threads are gone; what is new, and still there after `settle`, was left
//! behind. Only Linux has `/proc`: elsewhere the check is off.
//!
//! Most tests leave nothing, so a look counts first: two `stat` calls tell how many
//! descriptors and threads the process has, and only a count that moved (or a child process)
//! costs a full look. In a suite run one test at a time, the last test's final look is the
//! next one's first when the counts match. In a process of one test, the last look lists the
//! descriptors (the first saw the runtime's own, so counts cannot compare) and counts the
//! threads.
//!
//! A look at the process cannot say which test opened a socket, so the check runs only where
//! the test is alone in its process: under `cargo nextest run` (a process per test), or with
//! `--test-threads=1`. In a parallel `cargo test` run it is skipped, and the process says so
//! once.
//!
//! Some things are kept on purpose for the whole process: a pool of mock servers handed out
//! again to later tests, a log writer's worker. Threads of known keepers are recognised by name
//! ([`KNOWN_KEEPERS`]); what else a test's code keeps on purpose it declares with
//! [`crate::keep_resources`] or [`crate::keep_resources_async`]; `allow_leaks` takes rules for the rest.

#[cfg(target_os = "linux")]
mod proc;
#[cfg(not(target_os = "linux"))]
#[path = "no_proc.rs"]
mod proc;

use std::collections::HashSet;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use proc::{Counts, Looker};
pub(crate) use proc::{Snapshot, current_thread_id, process_id};

use crate::findings::{LeftResource, ResourceKind, ResourceMode};
use crate::util::backoff::Backoff;
use crate::util::sync::lock;

/// What the process keeps on purpose, declared with `keep_resources`: it is kept for the whole
/// process, past the test that declared it, and later tests must not count it either.
static KEPT: LazyLock<Mutex<HashSet<Held>>> = LazyLock::new(Mutex::default);
/// What the process held when its last resource check ended: the next test, run after it in
/// the same process, starts from it if the counts say nothing moved in between.
static LAST_HOLDINGS: Mutex<Option<Arc<Snapshot>>> = Mutex::new(None);
/// Whether the process was started for one test (nextest): its environment does not change.
static PROCESS_PER_TEST: LazyLock<bool> = LazyLock::new(|| {
    std::env::var("NEXTEST_EXECUTION_MODE").is_ok_and(|mode| mode == "process-per-test")
});
/// Whether the process runs one test at a time: its arguments and environment do not change.
static ALONE: LazyLock<bool> = LazyLock::new(|| {
    let one_thread_variable =
        std::env::var("RUST_TEST_THREADS").is_ok_and(|threads| threads.trim() == "1");
    let arguments: Vec<String> = std::env::args().collect();
    let one_thread_argument = arguments.iter().enumerate().any(|(index, argument)| {
        argument == "--test-threads=1"
            || (argument == "--test-threads"
                && arguments.get(index + 1).is_some_and(|count| count == "1"))
    });
    *PROCESS_PER_TEST || one_thread_variable || one_thread_argument
});

/// Something the process holds, as a snapshot tells it apart from everything else.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Held {
    Descriptor { fd: u32, target: String },
    Thread { tid: u32, name: String },
    Child { pid: u32, command: String },
}

/// Threads that libraries keep for the whole process on purpose, by the start of their name
/// (the kernel keeps 15 characters of it), each with why it is not a leak.
pub const KNOWN_KEEPERS: &[(&str, &str)] = &[
    // leakcheck's own: the watchdog, started once per process.
    ("leakcheck-", "leakcheck's watchdog"),
    // tracing-appender's non-blocking writer: its worker lives as long as the WorkerGuard,
    // which an application or a test suite keeps for the whole process.
    ("tracing-appender", "tracing-appender's writer"),
    // console-subscriber serves tokio-console for the whole process (LEAKCHECK_CONSOLE=1).
    ("console_subscriber", "console-subscriber's server"),
    ("console/subscriber", "console-subscriber's recorder"),
    // async-std's global executor and async-io's reactor (async-std, smol) start on first use
    // and serve the whole process.
    ("async-std/runtime", "async-std's global executor"),
    ("async-io", "async-io's reactor"),
];

fn known_keeper(name: &str) -> bool {
    KNOWN_KEEPERS.iter().any(|(prefix, _)| {
        // The kernel cuts thread names to 15 bytes.
        let kept = &prefix[..prefix.len().min(15)];
        name.starts_with(kept)
    })
}

fn kept() -> MutexGuard<'static, HashSet<Held>> {
    lock(&KEPT)
}

/// How many descriptors and threads the process has now, where the kernel counts them: two
/// `stat` calls, for a repeated test's count after each repetition.
pub(crate) fn process_counts() -> Option<(usize, usize)> {
    Counts::now().ok()?.descriptors_and_threads()
}

/// The process's open descriptors by kind: (sockets, files, others).
pub(crate) fn descriptors_by_kind() -> Option<(usize, usize, usize)> {
    proc::descriptors_by_kind()
}

/// What the process holds now, to be compared with [`keep_new`] after something was
/// acquired; `None` where nothing is checked.
pub(crate) fn holdings() -> Option<Snapshot> {
    Snapshot::take().ok()
}

/// Keeps for the whole process what is held now that was not `before`.
pub(crate) fn keep_new(before: Option<&Snapshot>) {
    let (Some(before), Ok(after)) = (before, Snapshot::take()) else {
        return;
    };
    kept().extend(after.since(before));
}

/// Whether this test is alone in its process, so that what the process holds is the test's:
/// nextest runs a process per test; libtest with one test thread runs one test at a time; a
/// program that runs its checks on its main thread (the tour, a harness of its own) runs no
/// libtest tests beside them.
pub(crate) fn alone_in_process() -> bool {
    if std::thread::current().name() == Some("main") {
        return true;
    }
    *ALONE
}

/// Whether the process was started for one test, as nextest runs each: no later test in it
/// shares what this one leaves to the allocator.
pub(crate) fn process_per_test() -> bool {
    *PROCESS_PER_TEST
}

/// Why the resource check does not run in this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unchecked {
    /// Tests run in parallel in one process.
    Parallel,
    /// `/proc/self` cannot be read.
    Unreadable(String),
}

/// Threads that end only with the process, where their ids are known: its first, which runs
/// `main`, and leakcheck's watchdog.
pub(crate) type Lasting = [Option<u32>; 2];

/// When a run's first look is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FirstLook {
    /// Before the run's runtime is built, so that one test's last look can be the next one's
    /// first: in a suite run one test at a time. The run builds one runtime for the process
    /// before it: tokio keeps a few things for the whole process from the first runtime on
    /// (the signal driver's socket pair), which must be in the look.
    BeforeTheRuntime,
    /// Once the runtime is built, in a process of one test: what tokio keeps for the process
    /// came with it, and no runtime is built for that alone. The look sees the runtime's own
    /// descriptors and threads, which are gone by the last one, so the last look lists what
    /// the process holds instead of counting it.
    WithTheRuntime,
}

/// A run's resource check, from the first look to the verdict.
pub(crate) struct ResourceCheck {
    /// What the process held at the first look.
    before: Option<Arc<Snapshot>>,
    /// The thread that runs the test (and takes the looks), where it is known.
    looker: Option<Looker>,
    first_look: FirstLook,
}

impl ResourceCheck {
    /// A check for a run, where the check can run; `alone` says whether the test is alone in
    /// its process ([`alone_in_process`], and no other leak-checked test under way).
    /// [`ResourceCheck::begin`] takes the first snapshot.
    pub(crate) fn start(
        mode: ResourceMode,
        alone: bool,
    ) -> Result<Option<ResourceCheck>, Unchecked> {
        if mode == ResourceMode::Off || !cfg!(target_os = "linux") {
            return Ok(None);
        }
        if !alone {
            return Err(Unchecked::Parallel);
        }
        Ok(Some(ResourceCheck {
            before: None,
            looker: None,
            first_look: FirstLook::BeforeTheRuntime,
        }))
    }

    /// Takes the first look, at the time `first_look` says: the last check's final look where
    /// the counts have not moved since, a full one otherwise, told of the threads that end
    /// only with the process (`lasting`).
    pub(crate) fn begin(
        &mut self,
        lasting: Lasting,
        first_look: FirstLook,
    ) -> Result<(), Unchecked> {
        self.first_look = first_look;
        let unreadable = |error: std::io::Error| Unchecked::Unreadable(error.to_string());
        // The first check in a process has no last look to start from (nextest's process of
        // one test never has): counting would only add two calls to the full look.
        let still_held = match lock(&LAST_HOLDINGS).clone() {
            Some(last) => {
                let counts = Counts::now().map_err(unreadable)?;
                (counts.comparable() && last.counts() == counts).then_some(last)
            }
            None => None,
        };
        let before = match still_held {
            Some(last) => last,
            None => {
                let look = Arc::new(Snapshot::take_knowing(&lasting).map_err(unreadable)?);
                // A settled look is the one remembered (`unchanged` remembers only the others),
                // so that the next check starts from it.
                if look.is_settled() {
                    remember(Arc::clone(&look));
                }
                look
            }
        };
        self.looker = Looker::current();
        self.before = Some(before);
        Ok(())
    }

    /// What is still held that was not before, other than what is kept on purpose, the
    /// run's runtime threads (`runtime_threads` gives their ids; its shutdown may leave them
    /// running a moment, or, busy with blocking work, for good: that is reported as a blocking
    /// task) and what `allowed` lets go; waits up to `settle` for it to go away. `lasting` is
    /// as for [`ResourceCheck::begin`], known now.
    pub(crate) fn finish(
        &self,
        settle: Duration,
        lasting: Lasting,
        runtime_threads: impl FnOnce() -> Vec<u32>,
        mut allowed: impl FnMut(&LeftResource) -> bool,
    ) -> Vec<LeftResource> {
        let Some(before) = &self.before else {
            return Vec::new();
        };
        // Most tests leave nothing: their one cheap look needs no clock and no thread list.
        if self.unchanged(before) {
            return Vec::new();
        }
        let runtime_threads = runtime_threads();
        let deadline = Instant::now() + settle;
        let mut backoff = Backoff::new();
        loop {
            let Ok(after) = Snapshot::take_knowing(&lasting) else {
                return Vec::new();
            };
            let kept = kept();
            let new = after.since(before);
            let kept_thread = |tid: u32| {
                kept.iter()
                    .any(|held| matches!(held, Held::Thread { tid: kept, .. } if *kept == tid))
            };
            let keepers: Vec<u32> = after
                .threads()
                .filter(|tid| kept_thread(*tid))
                .chain(new.iter().filter_map(|held| match held {
                    Held::Thread { tid, name } if known_keeper(name) => Some(*tid),
                    _ => None,
                }))
                .collect();
            // What a keeper's event loop waits on is kept with it: a pooled server's listener,
            // and the runtime it builds once it is running, after it was declared.
            let kept_descriptors = proc::waited_on(&keepers, &after);
            let left: Vec<Held> = new
                .into_iter()
                .filter(|held| !kept.contains(held))
                .filter(|held| match held {
                    Held::Thread { tid, .. } => {
                        !keepers.contains(tid) && !runtime_threads.contains(tid)
                    }
                    Held::Descriptor { fd, .. } => !kept_descriptors.contains(fd),
                    Held::Child { .. } => true,
                })
                .collect();
            drop(kept);
            let now = Instant::now();
            if left.is_empty() || now >= deadline {
                remember(Arc::new(after));
                let mut described = describe(&left);
                described.retain(|resource| !allowed(resource));
                return described;
            }
            std::thread::sleep(backoff.pause().min(deadline - now));
            if self.unchanged(before) {
                return Vec::new();
            }
        }
    }

    /// Whether a cheap look finds what the process held before; it is then the next check's
    /// starting point. Never for a first look that saw the runtime: the last look's counts
    /// are short of its by the runtime's own, and a test that left as many would match them.
    fn unchanged(&self, before: &Arc<Snapshot>) -> bool {
        if self.first_look == FirstLook::WithTheRuntime {
            return false;
        }
        let unchanged =
            Counts::now().is_ok_and(|counts| before.unchanged(counts, self.looker.as_ref()));
        // A settled look is the one remembered already: `begin` took it from there, and no
        // other check runs meanwhile (a check runs only where its test is alone).
        if unchanged && !before.is_settled() {
            remember(Snapshot::settled(before));
        }
        unchanged
    }
}

/// Keeps what the process holds as the next check's starting point.
fn remember(holdings: Arc<Snapshot>) {
    *lock(&LAST_HOLDINGS) = Some(holdings);
}

/// Held things in words, ordered by kind.
fn describe(left: &[Held]) -> Vec<LeftResource> {
    let sockets = if left.iter().any(
        |held| matches!(held, Held::Descriptor { target, .. } if target.starts_with("socket:")),
    ) {
        proc::sockets()
    } else {
        Default::default()
    };
    let mut described: Vec<LeftResource> = left
        .iter()
        .map(|held| match held {
            Held::Descriptor { target, .. } => proc::describe(target, &sockets),
            Held::Thread { name, .. } => {
                LeftResource::new(ResourceKind::Thread, format!("{name:?}"))
            }
            Held::Child { pid, command } => {
                LeftResource::new(ResourceKind::ChildProcess, format!("pid {pid} {command:?}"))
            }
        })
        .collect();
    described.sort();
    described
}
