//! The test's own tokio runtime: built for its flavor with every driver on, shut down with a
//! bound.

use std::future::Future;
use std::io;
use std::sync::{Arc, Once};
use std::time::Duration;

use tokio::runtime::{Builder, Handle, LocalOptions, LocalRuntime, Runtime};

use crate::observe::{polls, spawns};
use crate::run::state::RunState;
use crate::settings::{Flavor, TestOptions};

/// Whether the process has built its first runtime: tokio keeps a few things for the whole
/// process from then on (the signal driver's socket pair), which are nobody's test's.
static FIRST_RUNTIME: Once = Once::new();

/// Builds and drops a runtime once per process, so that what tokio keeps from the first one on
/// is there before a resource check's first look.
pub(crate) fn keep_what_tokio_keeps() -> io::Result<()> {
    let mut result = Ok(());
    FIRST_RUNTIME.call_once(|| {
        result = Builder::new_current_thread().enable_all().build().map(drop);
    });
    result
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
