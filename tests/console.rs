//! `LEAKCHECK_CONSOLE=1`: tokio-console served from the test process where the build allows
//! it (feature `console`, `--cfg tokio_unstable`), and a clear message, not a panic, where not.

mod common;

use common::run_self;
use leakcheck::leak_checked_test;

/// Away from tokio-console's default port, so a console in use elsewhere does not interfere.
#[cfg_attr(not(all(feature = "console", tokio_unstable)), allow(dead_code))]
const CONSOLE_ADDRESS: &str = "127.0.0.1:46669";

#[leak_checked_test]
#[ignore = "run as a child, with LEAKCHECK_CONSOLE=1, by console_is_served_or_explained"]
async fn with_the_console_asked_for() {
    #[cfg(all(feature = "console", tokio_unstable))]
    {
        use std::time::{Duration, Instant};

        // The console's server starts on a thread of its own; give it a moment to bind.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::net::TcpStream::connect(CONSOLE_ADDRESS).await {
                Ok(connection) => break drop(connection),
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(error) => panic!("tokio-console is not served at {CONSOLE_ADDRESS}: {error}"),
            }
        }
    }
}

#[test]
fn console_is_served_or_explained() {
    let run = run_self(
        &[
            "--ignored",
            "--exact",
            "with_the_console_asked_for",
            "--nocapture",
        ],
        &[
            ("LEAKCHECK_CONSOLE", "1"),
            ("TOKIO_CONSOLE_BIND", "127.0.0.1:46669"),
        ],
    );
    assert!(run.success, "{}", run.output);
    let expected = if cfg!(all(feature = "console", tokio_unstable)) {
        "leakcheck: serving tokio-console"
    } else {
        "leakcheck: LEAKCHECK_CONSOLE=1 needs leakcheck's `console` feature and a build with RUSTFLAGS=\"--cfg tokio_unstable\"; tokio-console stays off"
    };
    assert!(
        run.output.contains(expected),
        "missing {expected:?} in:\n{}",
        run.output
    );
}
