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
#[path = "classic/handler_per_reconnect.rs"]
mod handler_per_reconnect;
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
    ("fire_and_forget", fire_and_forget::SCENARIO),
    ("reconnect_loop", reconnect_loop::SCENARIO),
    ("handler_per_reconnect", handler_per_reconnect::SCENARIO),
    ("unclosed_connection", unclosed_connection::SCENARIO),
    ("detached_panic", detached_panic::SCENARIO),
    ("hung_teardown", hung_teardown::SCENARIO),
    ("blocking_task", blocking_task::SCENARIO),
    ("blocking_call", blocking_call::SCENARIO),
    ("bound_port", bound_port::SCENARIO),
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
