//! Bound port left behind: a mock server's thread and listener outlive the test; the leaky
//! version, caught, and the fixed one, passing. Linux (the check reads `/proc`).
//!
//! `cargo run --example bound_port`; the tour runs it with the other classic leaks.

#[path = "classic/bound_port.rs"]
mod scenario;
#[path = "classic/show.rs"]
mod show;

fn main() -> std::process::ExitCode {
    let surprises = show::show("bound_port", &scenario::SCENARIO);
    show::verdict(&surprises)
}
