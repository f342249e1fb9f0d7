//! Bound port left behind: a mock server's thread and listener outlive the test; the leaky
//! version, caught, and the fixed one, passing. Linux (the check reads `/proc`).
//!
//! `cargo run --example bound_port`; the tour runs it with the other classic leaks.

#[path = "classic/bound_port.rs"]
mod scenario;
#[path = "classic/show.rs"]
mod show;

fn main() -> std::process::ExitCode {
    let surprises = show::show(
        "bound_port",
        &show::Scenario {
            title: "Bound port: a mock server's thread and listener outlive the test",
            leaky: scenario::leaky,
            expected_words: "1 socket left open: TCP 127.0.0.1:",
            fixed: scenario::fixed,
            fix: "stop the server and join its thread",
        },
    );
    show::verdict(&surprises)
}
