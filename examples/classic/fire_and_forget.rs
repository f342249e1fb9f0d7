//! A publisher spawned and its handle dropped: nothing stops it when the test ends.
//!
//! Shared by `examples/fire_and_forget.rs` and the tour; each version runs through the `Check` it is
//! given.

use std::time::Duration;

use leakcheck::{Check, Report};
use tokio_util::sync::CancellationToken;

async fn publish_prices(stop: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => { /* publish a price */ }
        }
    }
}

/// The leaky version, as a test body.
pub async fn leaky_test() {
    // The handle is dropped: nothing stops the publisher when the test ends.
    tokio::spawn(publish_prices(CancellationToken::new()));
}

pub fn leaky(check: Check) -> Report {
    check.run(leaky_test)
}

/// The fixed version, as a test body.
pub async fn fixed_test() -> Result<(), tokio::task::JoinError> {
    let stop = CancellationToken::new();
    let publisher = tokio::spawn(publish_prices(stop.clone()));
    stop.cancel();
    publisher.await
}

pub fn fixed(check: Check) -> Report {
    check.run(fixed_test)
}

/// This leak as the tour and `cargo run --example fire_and_forget` show it.
pub const SCENARIO: crate::show::Scenario = crate::show::Scenario {
    title: "Fire and forget: a publisher spawned and its handle dropped",
    file: "examples/classic/fire_and_forget.rs",
    source: include_str!("fire_and_forget.rs"),
    leaky,
    expected_words: "1 task leaked",
    fixed,
    fix: "cancel the publisher and await its handle",
};
