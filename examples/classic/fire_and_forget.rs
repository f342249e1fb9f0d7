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
