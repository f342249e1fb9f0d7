//! The test's own tokio runtime: built for its flavor with every driver on, shut down with a
//! bound.

use std::future::Future;
use std::io;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::runtime::{Builder, Handle, LocalOptions, LocalRuntime, Runtime};

use crate::observe::{polls, spawns, watchdog};
use crate::run::state::RunState;
use crate::settings::{Flavor, TestOptions};

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

/// The runtime of one test: a [`Runtime`] or, for [`Flavor::Local`], a [`LocalRuntime`].
pub(crate) enum TestRuntime {
    Shared(Runtime),
    Local(LocalRuntime),
}

impl TestRuntime {
    /// Builds the runtime `options` ask for, its threads counted in `run`'s
    /// [`RuntimeThreads`](crate::run::runtime_threads::RuntimeThreads), with their ids where
    /// `record_thread_ids`. The hooks share the run rather than a counter of their own: an
    /// allocation on a test's fresh thread costs more than anything else a hook does.
    pub(crate) fn build(
        options: &TestOptions,
        run: &Arc<RunState>,
        record_thread_ids: bool,
    ) -> io::Result<TestRuntime> {
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
            .on_thread_start(move || {
                started.runtime_threads.started(record_thread_ids);
                spawns::runtime_thread_started();
            })
            .on_thread_stop(move || {
                spawns::runtime_thread_stopping();
                polls::thread_parked();
                stopped.runtime_threads.stopped();
            });
        run.spawns.install(&mut builder, run.serial);
        let runtime = match options.flavor {
            Flavor::Local => TestRuntime::Local(builder.build_local(LocalOptions::default())?),
            Flavor::CurrentThread | Flavor::MultiThread => TestRuntime::Shared(builder.build()?),
        };
        Ok(runtime)
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
