//! Resources a test leaves behind besides tasks: sockets, files, child processes and threads.
//!
//! The process's holdings are read from `/proc` before the test's runtime is built and again
//! after it has shut down, when the runtime's own descriptors and threads are gone; what is
//! new, and still there after `settle`, was left behind. Only Linux has `/proc`: elsewhere the
//! check is off.
//!
//! A look at the process cannot say which test opened a socket, so the check runs only where
//! the test is alone in its process: under `cargo nextest run` (a process per test), or with
//! `--test-threads=1`. In a parallel `cargo test` run it is skipped, and the process says so
//! once.
//!
//! Some things are kept on purpose for the whole process: a pool of mock servers handed out
//! again to later tests, a log writer's worker. Threads of known keepers are recognised by name
//! ([`KNOWN_KEEPERS`]); what else a test's code keeps on purpose it declares with
//! [`keep_resources`] or [`keep_resources_async`]; `allow_leaks` takes rules for the rest.

#[cfg(target_os = "linux")]
mod proc;
#[cfg(not(target_os = "linux"))]
#[path = "no_proc.rs"]
mod proc;

use std::collections::HashSet;
use std::fmt::{self, Display, Formatter};
use std::future::Future;
use std::io::Write as _;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, Once, PoisonError};
use std::time::{Duration, Instant};

use proc::Snapshot;

/// What the resource check does with what a test leaves behind; attribute `resources`,
/// `LEAKCHECK_RESOURCES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResourceMode {
    /// Resources left behind fail the test.
    Fail,
    /// They are reported, and the test passes: the default, for adopting the check.
    #[default]
    Warn,
    /// The check does not run.
    Off,
}

/// `LEAKCHECK_RESOURCES=fail|warn|off`: [`ResourceMode`].
pub const RESOURCES_VARIABLE: &str = "LEAKCHECK_RESOURCES";

/// What kind of thing was left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ResourceKind {
    /// A network or Unix socket.
    Socket,
    /// An open file.
    File,
    /// A child process still running.
    ChildProcess,
    /// An OS thread still running.
    Thread,
    /// Another descriptor: a pipe, an epoll or eventfd (a runtime left running).
    Descriptor,
}

impl ResourceKind {
    /// `1 socket left open`, `2 threads still running`.
    pub(crate) fn counted(self, count: usize) -> String {
        let (one, many, state) = match self {
            ResourceKind::Socket => ("socket", "sockets", "left open"),
            ResourceKind::File => ("file", "files", "left open"),
            ResourceKind::ChildProcess => ("child process", "child processes", "still running"),
            ResourceKind::Thread => ("thread", "threads", "still running"),
            ResourceKind::Descriptor => ("descriptor", "descriptors", "left open"),
        };
        let noun = if count == 1 { one } else { many };
        format!("{count} {noun} {state}")
    }

    /// The prefix of an `allow_leaks` rule for this kind: `thread:tailer`.
    fn rule_prefix(self) -> &'static str {
        match self {
            ResourceKind::Socket => "socket:",
            ResourceKind::File => "file:",
            ResourceKind::ChildProcess => "child:",
            ResourceKind::Thread => "thread:",
            ResourceKind::Descriptor => "descriptor:",
        }
    }
}

/// A resource a test left behind, named so the user knows it at a glance:
/// `TCP 127.0.0.1:41873 (listening)`, `pid 4242 "sleep 30"`, `"tailer"`, `logs/feed.log`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub struct LeftResource {
    /// What kind of thing it is.
    pub kind: ResourceKind,
    /// The thing itself, in words.
    pub what: String,
}

impl LeftResource {
    pub(crate) fn new(kind: ResourceKind, what: String) -> Self {
        LeftResource { kind, what }
    }
}

impl Display for LeftResource {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

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

/// What the process keeps on purpose: declared with [`keep_resources`].
fn kept() -> MutexGuard<'static, HashSet<Held>> {
    static KEPT: LazyLock<Mutex<HashSet<Held>>> = LazyLock::new(Mutex::default);
    KEPT.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Declares that what `acquire` opens and keeps is kept on purpose for the whole process: a
/// server from a process-wide pool, a client in a `static`. Gives what `acquire` returns.
///
/// The resource check then counts none of it as left behind, in this test or any later one
/// of the process. Where nothing is checked (a parallel run, another platform), it only calls
/// `acquire`.
///
/// # Examples
///
/// ```
/// # struct Pool; impl Pool { fn take() -> std::net::TcpListener { std::net::TcpListener::bind("127.0.0.1:0").unwrap() } }
/// // A pool that hands out servers and keeps each one for the next test.
/// let server = leakcheck::keep_resources(Pool::take);
/// # drop(server);
/// ```
pub fn keep_resources<T>(acquire: impl FnOnce() -> T) -> T {
    let before = Snapshot::take().ok();
    let acquired = acquire();
    keep_new(before.as_ref());
    acquired
}

/// [`keep_resources`] for an async acquisition, such as `wiremock::MockServer::start()`.
///
/// What anything else in the process opens while `acquire` runs is kept too: await it before
/// starting other work.
///
/// # Examples
///
/// ```
/// # async fn start_pooled_server() {}
/// # async fn test() {
/// let server = leakcheck::keep_resources_async(start_pooled_server()).await;
/// # }
/// ```
pub async fn keep_resources_async<F: Future>(acquire: F) -> F::Output {
    let before = Snapshot::take().ok();
    let acquired = acquire.await;
    keep_new(before.as_ref());
    acquired
}

fn keep_new(before: Option<&Snapshot>) {
    let (Some(before), Ok(after)) = (before, Snapshot::take()) else {
        return;
    };
    kept().extend(after.since(before));
}

/// Whether this test is alone in its process, so that what the process holds is the test's:
/// nextest runs a process per test; libtest with one test thread runs one test at a time; a
/// program that runs its checks on its main thread (the tour, a harness of its own) runs no
/// libtest tests beside them.
fn alone_in_process() -> bool {
    if std::thread::current().name() == Some("main") {
        return true;
    }
    static ALONE: LazyLock<bool> = LazyLock::new(|| {
        let nextest =
            std::env::var("NEXTEST_EXECUTION_MODE").is_ok_and(|mode| mode == "process-per-test");
        let one_thread_variable =
            std::env::var("RUST_TEST_THREADS").is_ok_and(|threads| threads.trim() == "1");
        let arguments: Vec<String> = std::env::args().collect();
        let one_thread_argument = arguments.iter().enumerate().any(|(index, argument)| {
            argument == "--test-threads=1"
                || (argument == "--test-threads"
                    && arguments.get(index + 1).is_some_and(|count| count == "1"))
        });
        nextest || one_thread_variable || one_thread_argument
    });
    *ALONE
}

/// Says once per process why the resource check is not running.
fn say_once_why_off(why: &str) {
    static SAID: Once = Once::new();
    SAID.call_once(|| {
        let _ = std::io::stderr().write_all(
            format!(
                "leakcheck: sockets, files, child processes and threads left behind are not checked in this process: {why}\n"
            )
            .as_bytes(),
        );
    });
}

/// A run's resource check, from the snapshot after its runtime is built to the verdict.
pub(crate) struct ResourceCheck {
    /// What the process held once the runtime was built: tokio keeps a few things for the
    /// whole process from the first runtime on (the signal driver's socket pair), which must
    /// not count as the first test's.
    before: Option<Snapshot>,
    /// The ids of the run's runtime threads, which its shutdown may leave running a moment
    /// (or, busy with blocking work, for good: that is reported as a blocking task).
    runtime_threads: Arc<Mutex<Vec<u32>>>,
}

impl ResourceCheck {
    /// A check for a run, where the check can run; `others_running` says whether another
    /// leak-checked test of the process is under way. [`ResourceCheck::begin`] takes the
    /// first snapshot.
    pub(crate) fn start(mode: ResourceMode, others_running: bool) -> Option<ResourceCheck> {
        if mode == ResourceMode::Off {
            return None;
        }
        if !cfg!(target_os = "linux") {
            return None;
        }
        if !alone_in_process() || others_running {
            say_once_why_off(
                "tests run in parallel in one process, so what is left open cannot be told apart; \
                 run them with `cargo nextest run` or `cargo test -- --test-threads=1` to check it",
            );
            return None;
        }
        Some(ResourceCheck {
            before: None,
            runtime_threads: Arc::default(),
        })
    }

    /// Takes the first snapshot, once the run's runtime is built.
    pub(crate) fn begin(&mut self) {
        let runtime_threads = self
            .runtime_threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match Snapshot::take_skipping_children_of(&runtime_threads) {
            Ok(before) => self.before = Some(before),
            Err(error) => say_once_why_off(&format!("/proc/self cannot be read: {error}")),
        }
    }

    /// Called on each of the run's runtime threads as it starts.
    pub(crate) fn runtime_thread_recorder(&self) -> impl Fn() + Send + Sync + 'static {
        let threads = Arc::clone(&self.runtime_threads);
        move || {
            if let Some(tid) = proc::current_thread_id() {
                threads
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(tid);
            }
        }
    }

    /// What is still held that was not before, other than what is kept on purpose, the
    /// runtime's own threads and what `allowed` lets go; waits up to `settle` for it to go
    /// away.
    pub(crate) fn finish(
        &self,
        settle: Duration,
        allowed: impl Fn(&LeftResource) -> bool,
    ) -> Vec<LeftResource> {
        let Some(before) = &self.before else {
            return Vec::new();
        };
        let runtime_threads = self
            .runtime_threads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let deadline = Instant::now() + settle;
        let mut pause = Duration::from_micros(50);
        loop {
            let Ok(after) = Snapshot::take() else {
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
                let mut described = describe(&left);
                described.retain(|resource| !allowed(resource));
                return described;
            }
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(5));
        }
    }
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

/// An `allow_leaks` rule for a resource: `thread:tailer`, `socket:127.0.0.1:8080`,
/// `file:logs/`, `child:sleep`, `descriptor:eventpoll`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourceRule {
    kind: ResourceKind,
    text: String,
}

impl ResourceRule {
    /// The rule `text` names, if it names a resource.
    pub(crate) fn parse(text: &str) -> Option<ResourceRule> {
        [
            ResourceKind::Socket,
            ResourceKind::File,
            ResourceKind::ChildProcess,
            ResourceKind::Thread,
            ResourceKind::Descriptor,
        ]
        .into_iter()
        .find_map(|kind| {
            let rest = text.strip_prefix(kind.rule_prefix())?;
            Some(ResourceRule {
                kind,
                text: rest.trim().to_owned(),
            })
        })
    }

    /// Threads and files by the start of their name; sockets, child processes and other
    /// descriptors by any part of their description.
    pub(crate) fn matches(&self, resource: &LeftResource) -> bool {
        if resource.kind != self.kind {
            return false;
        }
        match self.kind {
            ResourceKind::Thread => resource.what.trim_matches('"').starts_with(&self.text),
            ResourceKind::File => resource.what.starts_with(&self.text),
            _ => resource.what.contains(&self.text),
        }
    }
}
