//! Hung teardown: waiting for a task that was never told to stop: the leaky version, caught, and the fixed one, passing.
//!
//! `cargo run --example hung_teardown`; the tour runs it with the other classic leaks.

#[path = "classic/hung_teardown.rs"]
mod scenario;
#[path = "classic/show.rs"]
mod show;

fn main() -> std::process::ExitCode {
    let surprises = show::show(
        "hung_teardown",
        &show::Scenario {
            title: "Hung teardown: waiting for a task that was never told to stop",
            leaky: scenario::leaky,
            expected_words: "teardown of fixture `Feed<false>` timed out after 500ms",
            fixed: scenario::fixed,
            fix: "cancel the task, then await it",
        },
    );
    show::verdict(&surprises)
}
