//! The test's own tokio runtime: built for its flavor with every driver on, shut down with a
//! bound.

use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::runtime::{Builder, Handle, LocalOptions, LocalRuntime, Runtime};

use crate::observe::{polls, spawns, watchdog};
use crate::run::state::{self, RunState};
use crate::settings::{Flavor, TestOptions};
use crate::util::sync::lock;

/// How building the process's first runtime went: tokio keeps a few things for the whole
/// process from then on (the signal driver's socket pair), which are nobody's test's.
static FIRST_RUNTIME: OnceLock<Result<(), String>> = OnceLock::new();

/// How long a test waits for the watchdog to have built the first runtime before it builds
/// one itself: far past what a build takes on a loaded machine.
const FIRST_RUNTIME_LIMIT: Duration = Duration::from_secs(1);

/// Builds and drops the process's first runtime. Meant for the watchdog's thread
/// ([`watchdog::start`]) in a suite: the memory tokio keeps and the allocator's leftovers of
/// the build stay there, out of what the tests' threads reuse.
pub(crate) fn build_first_runtime() {
    FIRST_RUNTIME.get_or_init(|| {
        Builder::new_current_thread()
            .enable_all()
            .build()
            .map(drop)
            .map_err(|error| error.to_string())
    });
}

/// Makes sure the first runtime has been built, so that what tokio keeps from it on is there
/// before a resource check's first look: waits for the watchdog, which builds it as it starts,
/// to have built it; builds it here if the watchdog has not.
pub(crate) fn keep_what_tokio_keeps() -> io::Result<()> {
    if FIRST_RUNTIME.get().is_none() {
        watchdog::wait_until_running(FIRST_RUNTIME_LIMIT);
        build_first_runtime();
    }
    match FIRST_RUNTIME.get() {
        Some(Err(error)) => Err(io::Error::other(error.clone())),
        _ => Ok(()),
    }
}

/// The builders of single-threaded runtimes, kept for the process, one for each `start_paused`:
/// making a tokio builder reads an environment variable, seeds a hasher and allocates, and its
/// thread hooks are an allocation each, made and freed again on a test's fresh thread, where
/// an allocation costs most. Together some 2,000 instructions, two fifths of what a serial
/// test cost beyond `#[tokio::test]` (callgrind). Their hooks find
/// the run from the runtime they run in: a single-threaded runtime starts its threads (for
/// blocking work) only once its run is registered, where a multi-threaded one starts its
/// workers as it is built. Where the task hooks belong to one run (`tokio_unstable`), each
/// test makes its own builder.
static SINGLE_THREADED: Mutex<[Option<Builder>; 2]> = Mutex::new([None, None]);

/// A builder of single-threaded runtimes, its hooks finding their run from the runtime.
fn single_threaded(start_paused: bool) -> Builder {
    let mut builder = Builder::new_current_thread();
    builder
        .enable_all()
        .start_paused(start_paused)
        .on_thread_start(|| {
            if let Some(run) = state::current() {
                thread_started(&run);
            }
        })
        .on_thread_stop(|| {
            if let Some(run) = state::current() {
                thread_stopping(&run);
            }
        });
    builder
}

fn thread_started(run: &RunState) {
    run.runtime_threads.started();
    spawns::runtime_thread_started();
}

fn thread_stopping(run: &RunState) {
    spawns::runtime_thread_stopping();
    polls::thread_parked();
    run.runtime_threads.stopped();
}

/// The runtime of one test: a [`Runtime`] or, for [`Flavor::Local`], a [`LocalRuntime`].
pub(crate) enum TestRuntime {
    Shared(Runtime),
    Local(LocalRuntime),
}

impl TestRuntime {
    /// Builds the runtime `options` ask for, its threads counted in `run`'s
    /// [`RuntimeThreads`](crate::run::runtime_threads::RuntimeThreads), with their ids where
    /// `record_thread_ids`. A multi-threaded runtime's hooks share the run rather than a
    /// counter of their own: an allocation on a test's fresh thread costs more than anything
    /// else a hook does.
    pub(crate) fn build(
        options: &TestOptions,
        run: &Arc<RunState>,
        record_thread_ids: bool,
    ) -> io::Result<TestRuntime> {
        run.runtime_threads.record_ids(record_thread_ids);
        if options.flavor != Flavor::MultiThread && !spawns::KNOWS_SPAWN_SITES {
            let mut kept = lock(&SINGLE_THREADED);
            let builder = kept[usize::from(options.start_paused)]
                .get_or_insert_with(|| single_threaded(options.start_paused));
            return Self::build_with(builder, options.flavor);
        }
        let mut builder = match options.flavor {
            Flavor::MultiThread => Builder::new_multi_thread(),
            Flavor::CurrentThread | Flavor::Local => Builder::new_current_thread(),
        };
        builder.enable_all().start_paused(options.start_paused);
        if let Some(count) = options.worker_threads {
            builder.worker_threads(count);
        }
        let started = Arc::clone(run);
        let stopped = Arc::clone(run);
        builder
            .on_thread_start(move || thread_started(&started))
            .on_thread_stop(move || thread_stopping(&stopped));
        run.spawns.install(&mut builder, run.serial);
        Self::build_with(&mut builder, options.flavor)
    }

    fn build_with(builder: &mut Builder, flavor: Flavor) -> io::Result<TestRuntime> {
        Ok(match flavor {
            Flavor::Local => TestRuntime::Local(builder.build_local(LocalOptions::default())?),
            Flavor::CurrentThread | Flavor::MultiThread => TestRuntime::Shared(builder.build()?),
        })
    }

    pub(crate) fn handle(&self) -> &Handle {
        match self {
            TestRuntime::Shared(runtime) => runtime.handle(),
            TestRuntime::Local(runtime) => runtime.handle(),
        }
    }

    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        match self {
            TestRuntime::Shared(runtime) => runtime.block_on(future),
            TestRuntime::Local(runtime) => runtime.block_on(future),
        }
    }

    /// Shuts down, waiting for blocking work at most `grace`: a runtime dropped the usual way
    /// waits for it for ever, and a test binary must never hang on a spinning thread.
    pub(crate) fn shutdown(self, grace: Duration) {
        match self {
            TestRuntime::Shared(runtime) => runtime.shutdown_timeout(grace),
            TestRuntime::Local(runtime) => runtime.shutdown_timeout(grace),
        }
    }
}
