//! A client retrying a dead address for ever, and the fix: a reconnecting client whose loop the
//! test owns and stops in teardown.
//!
//! Shared by `examples/reconnect_loop.rs` and the tour; each version runs through the `Check` it is
//! given.

use std::time::Duration;

use leakcheck::{Check, Report, on_teardown};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

async fn connect_with_retries(address: &str) {
    loop {
        if TcpStream::connect(address).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The leaky version, as a test body.
pub async fn leaky_test() {
    // Nothing listens on port 9 of loopback: the loop retries for ever.
    tokio::spawn(connect_with_retries("127.0.0.1:9"));
}

pub fn leaky(check: Check) -> Report {
    check.run(leaky_test)
}

/// The fixed version, as a test body.
pub async fn fixed_test() {
    let stop = CancellationToken::new();
    let reconnecting = tokio::spawn({
        let stop = stop.clone();
        async move {
            tokio::select! {
                () = stop.cancelled() => {}
                () = connect_with_retries("127.0.0.1:9") => {}
            }
        }
    });
    // Teardown stops the loop however the test ends.
    on_teardown(async move {
        stop.cancel();
        reconnecting.await
    });
}

pub fn fixed(check: Check) -> Report {
    check.run(fixed_test)
}

/// This leak as the tour and `cargo run --example reconnect_loop` show it.
pub const SCENARIO: crate::show::Scenario = crate::show::Scenario {
    title: "Reconnect loop: retrying a dead address for ever",
    file: "examples/classic/reconnect_loop.rs",
    source: include_str!("reconnect_loop.rs"),
    leaky,
    expected_words: "1 task leaked",
    fixed,
    fix: "give the loop a CancellationToken and stop it with on_teardown",
};
