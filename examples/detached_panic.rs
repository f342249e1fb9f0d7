//! Panic in a detached task: a parser dies on a bad message: the leaky version, caught, and the fixed one, passing.
//!
//! `cargo run --example detached_panic`; the tour runs it with the other classic leaks.

#[path = "classic/detached_panic.rs"]
mod scenario;
#[path = "classic/show.rs"]
mod show;

fn main() -> std::process::ExitCode {
    let surprises = show::show("detached_panic", &scenario::SCENARIO);
    show::verdict(&surprises)
}
