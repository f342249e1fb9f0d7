//! Reconnect loop: retrying a dead address for ever: the leaky version, caught, and the fixed one, passing.
//!
//! `cargo run --example reconnect_loop`; the tour runs it with the other classic leaks.

#[path = "classic/reconnect_loop.rs"]
mod scenario;
#[path = "classic/show.rs"]
mod show;

fn main() -> std::process::ExitCode {
    let surprises = show::show(
        "reconnect_loop",
        &show::Scenario {
            title: "Reconnect loop: retrying a dead address for ever",
            leaky: scenario::leaky,
            expected_words: "1 task leaked",
            fixed: scenario::fixed,
            fix: "give the loop a CancellationToken and stop it with on_teardown",
        },
    );
    show::verdict(&surprises)
}
