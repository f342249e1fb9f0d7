//! Unclosed connection: a client that outlives the test: the leaky version, caught, and the fixed one, passing.
//!
//! `cargo run --example unclosed_connection`; the tour runs it with the other classic leaks.

#[path = "classic/unclosed_connection.rs"]
mod scenario;
#[path = "classic/show.rs"]
mod show;

fn main() -> std::process::ExitCode {
    let surprises = show::show("unclosed_connection", &scenario::SCENARIO);
    show::verdict(&surprises)
}
