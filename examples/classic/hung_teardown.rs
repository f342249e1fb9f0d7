//! A fixture whose teardown waits for its task without telling it to stop.
//!
//! Shared by `examples/hung_teardown.rs` and the tour; each version runs through the `Check` it is
//! given.

use std::time::Duration;

use leakcheck::{AsyncFixture, BoxError, Check, Report};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Streams quotes until `stop` is cancelled.
async fn stream_quotes(stop: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    while stop.run_until_cancelled(tick.tick()).await.is_some() {}
}

/// A feed whose teardown waits for its task, but (in the leaky version) never tells it to
/// stop first.
pub struct Feed<const CANCELS: bool> {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl<const CANCELS: bool> AsyncFixture for Feed<CANCELS> {
    async fn setup() -> Result<Self, BoxError> {
        let stop = CancellationToken::new();
        let task = tokio::spawn(stream_quotes(stop.clone()));
        Ok(Feed { stop, task })
    }

    // tour: shown
    async fn teardown(self) -> Result<(), BoxError> {
        if CANCELS {
            self.stop.cancel();
        }
        self.task.await?;
        Ok(())
    }
    // tour: end
}

/// The leaky version, as a test body: the fault is in the fixture's teardown.
pub async fn leaky_test(_feed: &Feed<false>) {}

pub fn leaky(check: Check) -> Report {
    check.run_with(async |(feed,): &mut (Feed<false>,)| leaky_test(feed).await)
}

/// The fixed version, as a test body.
pub async fn fixed_test(_feed: &Feed<true>) {}

pub fn fixed(check: Check) -> Report {
    check.run_with(async |(feed,): &mut (Feed<true>,)| fixed_test(feed).await)
}

/// This leak as the tour and `cargo run --example hung_teardown` show it.
pub const SCENARIO: crate::show::Scenario = crate::show::Scenario {
    title: "Hung teardown: waiting for a task that was never told to stop",
    file: "examples/classic/hung_teardown.rs",
    source: include_str!("hung_teardown.rs"),
    leaky,
    expected_words: "teardown of fixture `Feed<false>` timed out after 500ms",
    fixed,
    fix: "cancel the task, then await it",
};
