//! A reconnect that binds its quote handler again each time and never unbinds the old one:
//! nothing is left when the test ends (teardown drops the feed), but every reconnect adds a
//! subscriber. One look at the end passes it; `repeat` catches it.
//!
//! Shared by `examples/handler_per_reconnect.rs` and the tour; each version runs through the
//! `Check` it is given.

use leakcheck::{AsyncFixture, BoxError, Check, Report, gauge};
use tokio::sync::broadcast;

/// How many reconnects the repeated test makes.
const RECONNECTS: usize = 12;

/// A quote feed and the handlers bound to it.
pub struct Feed {
    quotes: broadcast::Sender<u32>,
    handlers: Vec<broadcast::Receiver<u32>>,
}

impl AsyncFixture for Feed {
    async fn setup() -> Result<Self, BoxError> {
        let (quotes, _) = broadcast::channel(64);
        let bound = quotes.clone();
        gauge("quote handlers", move || bound.receiver_count());
        Ok(Feed {
            quotes,
            handlers: Vec::new(),
        })
    }

    async fn teardown(self) -> Result<(), BoxError> {
        Ok(())
    }
}

/// The leaky version, as a test body: one reconnect.
pub async fn leaky_test(feed: &mut Feed) {
    // Bound again on every reconnect; the old handler is never unbound.
    let handler = feed.quotes.subscribe();
    feed.handlers.push(handler);
}

pub fn leaky(check: Check) -> Report {
    check
        .repeat(RECONNECTS)
        .run_repeatable_with(async |(feed,): &mut (Feed,)| leaky_test(feed).await)
}

/// The fixed version, as a test body: the handler of the connection before is unbound.
pub async fn fixed_test(feed: &mut Feed) {
    feed.handlers.clear();
    let handler = feed.quotes.subscribe();
    feed.handlers.push(handler);
}

pub fn fixed(check: Check) -> Report {
    check
        .repeat(RECONNECTS)
        .run_repeatable_with(async |(feed,): &mut (Feed,)| fixed_test(feed).await)
}

/// This leak as the tour and `cargo run --example handler_per_reconnect` show it.
pub const SCENARIO: crate::show::Scenario = crate::show::Scenario {
    title: "Handler per reconnect: a subscriber bound on every reconnect and never unbound, caught with repeat",
    file: "examples/classic/handler_per_reconnect.rs",
    source: include_str!("handler_per_reconnect.rs"),
    leaky,
    expected_words: "gauge `quote handlers` grew by 1 every repetition (12 repetitions, 3 warm-up)",
    fixed,
    fix: "unbind the old handler before binding the new one",
};
