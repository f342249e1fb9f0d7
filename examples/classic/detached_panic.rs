//! A parser task that dies on a bad message while nobody awaits its handle.
//!
//! Shared by `examples/detached_panic.rs` and the tour; each version runs through the `Check` it is
//! given.

use std::time::Duration;

use leakcheck::{Check, Report};

fn parse_price(message: &str) -> Result<u64, std::num::ParseIntError> {
    message.trim_start_matches("price=").parse()
}

/// The leaky version, as a test body.
pub async fn leaky_test() {
    // The handle is dropped, so nobody sees that the task died on a bad message.
    tokio::spawn(async {
        let _price = parse_price("price=n/a").expect("prices are numbers");
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
}

pub fn leaky(check: Check) -> Report {
    check.run(leaky_test)
}

/// The fixed version, as a test body.
pub async fn fixed_test() -> Result<(), String> {
    let parser = tokio::spawn(async { parse_price("price=n/a") });
    // Awaited, and the bad message handled as the error it is.
    let parsed = parser.await.map_err(|joined| joined.to_string())?;
    match parsed {
        Ok(_) => Err("a bad price parsed".to_owned()),
        Err(_) => Ok(()),
    }
}

pub fn fixed(check: Check) -> Report {
    check.run(fixed_test)
}

/// This leak as the tour and `cargo run --example detached_panic` show it.
pub const SCENARIO: crate::show::Scenario = crate::show::Scenario {
    title: "Panic in a detached task: a parser dies on a bad message",
    file: "examples/classic/detached_panic.rs",
    source: include_str!("detached_panic.rs"),
    leaky,
    expected_words: "a spawned task panicked at examples/classic/detached_panic.rs",
    fixed,
    fix: "await the task and handle the parse error",
};
