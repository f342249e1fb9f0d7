//! The classic leaks of async services, each caught by leakcheck, next to its fix.
//!
//! Run it with `cargo run --example tour`. Every scenario runs twice through
//! [`leakcheck::Check`], the API `#[leak_checked_test]` expands to: the leaky version must fail
//! with the report shown, the fixed one must pass. The exit status is 0 only when every
//! verdict is the expected one. Each scenario is also an example of its own
//! (`cargo run --example fire_and_forget`), and a test in `tests/classic_leaks.rs`.

#[path = "classic/blocking_call.rs"]
mod blocking_call;
#[path = "classic/blocking_task.rs"]
mod blocking_task;
#[path = "classic/bound_port.rs"]
mod bound_port;
#[path = "classic/detached_panic.rs"]
mod detached_panic;
#[path = "classic/fire_and_forget.rs"]
mod fire_and_forget;
#[path = "classic/hung_teardown.rs"]
mod hung_teardown;
#[path = "classic/reconnect_loop.rs"]
mod reconnect_loop;
#[path = "classic/show.rs"]
mod show;
#[path = "classic/unclosed_connection.rs"]
mod unclosed_connection;

use std::process::ExitCode;
use std::sync::atomic::Ordering;

const SCENARIOS: &[(&str, show::Scenario)] = &[
    (
        "fire_and_forget",
        show::Scenario {
            title: "Fire and forget: a publisher spawned and its handle dropped",
            leaky: fire_and_forget::leaky,
            expected_words: "1 task leaked",
            fixed: fire_and_forget::fixed,
            fix: "cancel the publisher and await its handle",
        },
    ),
    (
        "reconnect_loop",
        show::Scenario {
            title: "Reconnect loop: retrying a dead address for ever",
            leaky: reconnect_loop::leaky,
            expected_words: "1 task leaked",
            fixed: reconnect_loop::fixed,
            fix: "give the loop a CancellationToken and stop it with on_teardown",
        },
    ),
    (
        "unclosed_connection",
        show::Scenario {
            title: "Unclosed connection: a client that outlives the test",
            leaky: unclosed_connection::leaky,
            expected_words: "teardown of fixture `EchoServer` timed out",
            fixed: unclosed_connection::fixed,
            fix: "shut the client down before the test ends",
        },
    ),
    (
        "detached_panic",
        show::Scenario {
            title: "Panic in a detached task: a parser dies on a bad message",
            leaky: detached_panic::leaky,
            expected_words: "a spawned task panicked at examples/classic/detached_panic.rs",
            fixed: detached_panic::fixed,
            fix: "await the task and handle the parse error",
        },
    ),
    (
        "hung_teardown",
        show::Scenario {
            title: "Hung teardown: waiting for a task that was never told to stop",
            leaky: hung_teardown::leaky,
            expected_words: "teardown of fixture `Feed<false>` timed out after 500ms",
            fixed: hung_teardown::fixed,
            fix: "cancel the task, then await it",
        },
    ),
    (
        "blocking_task",
        show::Scenario {
            title: "Blocking task: a log tailer with no way to stop",
            leaky: blocking_task::leaky,
            expected_words: "1 blocking task leaked",
            fixed: blocking_task::fixed,
            fix: "pass the tailer a stop flag, set it, and await the handle",
        },
    ),
    (
        "blocking_call",
        show::Scenario {
            title: "Blocking call in async code: a synchronous client stalls the runtime's thread",
            leaky: blocking_call::leaky,
            expected_words: "the test body blocked its thread for at least",
            fixed: blocking_call::fixed,
            fix: "run the client with tokio::task::spawn_blocking",
        },
    ),
    (
        "bound_port",
        show::Scenario {
            title: "Bound port: a mock server's thread and listener outlive the test",
            leaky: bound_port::leaky,
            expected_words: "1 socket left open: TCP 127.0.0.1:",
            fixed: bound_port::fixed,
            fix: "stop the server and join its thread",
        },
    ),
];

fn main() -> ExitCode {
    // The reports carry each panic's message; the default hook's copy would only add noise.
    std::panic::set_hook(Box::new(|_| {}));
    let mut surprises = Vec::new();
    for (number, (name, scenario)) in SCENARIOS.iter().enumerate() {
        print!("{}. ", number + 1);
        surprises.extend(show::show(name, scenario));
    }
    blocking_task::LEAKED_TAILER_STOP.store(true, Ordering::Relaxed);
    show::verdict(&surprises)
}
