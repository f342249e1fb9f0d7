//! A `spawn_blocking` log tailer with no way to stop.
//!
//! Shared by `examples/blocking_task.rs` and the tour; each version runs through the `Check` it is
//! given.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use leakcheck::{Check, Report};

fn tail_log(stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        // Read the next line of a log file...
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Stops the leaky version's tailer once it has been shown, or it would run until the
/// process exits.
pub static LEAKED_TAILER_STOP: LazyLock<Arc<AtomicBool>> =
    LazyLock::new(|| Arc::new(AtomicBool::new(false)));

/// The leaky version, as a test body.
pub async fn leaky_test() {
    // Nothing ever sets the flag during the test.
    tokio::task::spawn_blocking(|| tail_log(Arc::clone(&LEAKED_TAILER_STOP)));
}

pub fn leaky(check: Check) -> Report {
    check.run(leaky_test)
}

/// The fixed version, as a test body.
pub async fn fixed_test() -> Result<(), tokio::task::JoinError> {
    let stop = Arc::new(AtomicBool::new(false));
    let tailer = tokio::task::spawn_blocking({
        let stop = Arc::clone(&stop);
        move || tail_log(stop)
    });
    stop.store(true, Ordering::Relaxed);
    tailer.await
}

pub fn fixed(check: Check) -> Report {
    check.run(fixed_test)
}

/// This leak as the tour and `cargo run --example blocking_task` show it.
pub const SCENARIO: crate::show::Scenario = crate::show::Scenario {
    title: "Blocking task: a log tailer with no way to stop",
    file: "examples/classic/blocking_task.rs",
    source: include_str!("blocking_task.rs"),
    leaky,
    expected_words: "1 blocking task leaked",
    fixed,
    fix: "pass the tailer a stop flag, set it, and await the handle",
};
