//! Blocking call in async code: a synchronous client called from a test body; the leaky
//! version, caught, and the fixed one, passing.
//!
//! `cargo run --example blocking_call`; the tour runs it with the other classic leaks.

#[path = "classic/blocking_call.rs"]
mod scenario;
#[path = "classic/show.rs"]
mod show;

fn main() -> std::process::ExitCode {
    let surprises = show::show("blocking_call", &scenario::SCENARIO);
    show::verdict(&surprises)
}
