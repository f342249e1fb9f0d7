//! Handler per reconnect: a subscriber bound on every reconnect and never unbound, caught with
//! `repeat`: the leaky version, caught, and the fixed one, passing.
//!
//! `cargo run --example handler_per_reconnect`; the tour runs it with the other classic leaks.

#[path = "classic/handler_per_reconnect.rs"]
mod scenario;
#[path = "classic/show.rs"]
mod show;

fn main() -> std::process::ExitCode {
    let surprises = show::show("handler_per_reconnect", &scenario::SCENARIO);
    show::verdict(&surprises)
}
