//! A blocking call in async code: a synchronous client called from a test body.
//!
//! Shared by `examples/blocking_call.rs` and the tour; each version runs through the `Check` it
//! is given, with a `max_poll` of 300 ms.

use std::time::Duration;

use leakcheck::{Check, Report};

/// The longest one poll may block its thread in this scenario.
pub const MAX_POLL: Duration = Duration::from_millis(300);

/// Fetches the day's prices the way a synchronous HTTP client does: blocking its thread until
/// the answer comes.
fn fetch_prices_blocking() -> Vec<u32> {
    std::thread::sleep(Duration::from_millis(600));
    vec![101, 102]
}

/// The leaky version, as a test body: every task on the thread waits while it blocks.
pub async fn leaky_test() {
    let prices = fetch_prices_blocking();
    assert_eq!(prices.len(), 2);
}

pub fn leaky(check: Check) -> Report {
    check.max_poll(MAX_POLL).run(leaky_test)
}

/// The fixed version, as a test body: the blocking pool waits, the runtime's thread does not.
pub async fn fixed_test() -> Result<(), tokio::task::JoinError> {
    let prices = tokio::task::spawn_blocking(fetch_prices_blocking).await?;
    assert_eq!(prices.len(), 2);
    Ok(())
}

pub fn fixed(check: Check) -> Report {
    check.max_poll(MAX_POLL).run(fixed_test)
}

/// This leak as the tour and `cargo run --example blocking_call` show it.
pub const SCENARIO: crate::show::Scenario = crate::show::Scenario {
    title: "Blocking call in async code: a synchronous client stalls the runtime's thread",
    file: "examples/classic/blocking_call.rs",
    source: include_str!("blocking_call.rs"),
    leaky,
    expected_words: "the test body blocked its thread for at least",
    fixed,
    fix: "run the client with tokio::task::spawn_blocking",
};
