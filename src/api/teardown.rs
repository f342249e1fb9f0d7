//! Cleanup registered from inside a test: `on_teardown` and the teardown deadline.

use std::future::Future;
use std::panic::Location;
use std::time::Instant;

use crate::findings::Finding;
use crate::run::hooks::Hook;
use crate::run::outcome::TestOutcome;
use crate::run::state;

/// Registers async cleanup to run when the current leak-checked test tears down.
///
/// Hooks run after the test body, the one registered last first, before the fixtures are torn
/// down. Each runs under the test's `teardown_timeout`; one that returns `Err`, panics or
/// times out is reported and the next still runs. They run whether the body passed, failed,
/// panicked or timed out. Call it from the test body or from any task of the test's runtime.
///
/// # Panics
///
/// Panics when called outside a leak-checked test, since there is no teardown to run it.
///
/// # Examples
///
/// ```
/// use leakcheck::{leak_checked_test, on_teardown};
/// use tokio_util::sync::CancellationToken;
///
/// #[leak_checked_test]
/// async fn streams_logs() {
///     let stop = CancellationToken::new();
///     let streamer = tokio::spawn({
///         let stop = stop.clone();
///         async move { stop.cancelled().await }
///     });
///     on_teardown(async move {
///         stop.cancel();
///         streamer.await
///     });
///     // ... the test, which may fail or panic: the streamer stops all the same.
/// }
/// # fn main() {}
/// ```
#[track_caller]
pub fn on_teardown<F>(cleanup: F)
where
    F: Future + Send + 'static,
    F::Output: TestOutcome,
{
    let location = Location::caller().to_string();
    let Some(run) = state::current() else {
        panic!(
            "leakcheck::on_teardown called at {location} outside a leak-checked test: \
             call it from a #[leak_checked_test] body or a task of its runtime"
        );
    };
    let hook = Hook {
        location,
        cleanup: Box::pin(async move { cleanup.await.failure() }),
    };
    if let Err(late) = run.hooks.add(hook) {
        run.findings.push(Finding::HookTooLate {
            location: late.location,
        });
    }
}

/// The wall-clock instant by which the teardown step now running must finish.
///
/// `Some` inside a fixture's [`teardown`](crate::AsyncFixture::teardown) or an
/// [`on_teardown`] hook of a leak-checked test; `None` anywhere else. A teardown that waits for
/// something to stop can give up just before this and say what is still running, which reads
/// better than the bare "timed out" the harness reports otherwise.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use leakcheck::{AsyncFixture, BoxError};
///
/// struct Worker(tokio::task::JoinHandle<()>);
///
/// impl AsyncFixture for Worker {
///     async fn setup() -> Result<Self, BoxError> {
///         Ok(Worker(tokio::spawn(async {})))
///     }
///
///     async fn teardown(self) -> Result<(), BoxError> {
///         let deadline = leakcheck::teardown_deadline().unwrap_or_else(|| Instant::now() + Duration::from_secs(5));
///         // Keep a little time to report in.
///         let wait = deadline.saturating_duration_since(Instant::now()).mul_f32(0.9);
///         match tokio::time::timeout(wait, self.0).await {
///             Ok(joined) => Ok(joined?),
///             Err(_) => Err("the worker did not stop".into()),
///         }
///     }
/// }
/// ```
pub fn teardown_deadline() -> Option<Instant> {
    state::current()?.watch.teardown_deadline()
}
