//! Hung teardown: waiting for a task that was never told to stop: the leaky version, caught, and the fixed one, passing.
//!
//! `cargo run --example hung_teardown`; the tour runs it with the other classic leaks.

#[path = "classic/hung_teardown.rs"]
mod scenario;
#[path = "classic/show.rs"]
mod show;

fn main() -> std::process::ExitCode {
    let surprises = show::show("hung_teardown", &scenario::SCENARIO);
    show::verdict(&surprises)
}
