//! Reconnect loop: retrying a dead address for ever: the leaky version, caught, and the fixed one, passing.
//!
//! `cargo run --example reconnect_loop`; the tour runs it with the other classic leaks.

#[path = "classic/reconnect_loop.rs"]
mod scenario;
#[path = "classic/show.rs"]
mod show;

fn main() -> std::process::ExitCode {
    let surprises = show::show("reconnect_loop", &scenario::SCENARIO);
    show::verdict(&surprises)
}
