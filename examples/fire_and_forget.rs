//! Fire and forget: a publisher spawned and its handle dropped: the leaky version, caught, and the fixed one, passing.
//!
//! `cargo run --example fire_and_forget`; the tour runs it with the other classic leaks.

#[path = "classic/fire_and_forget.rs"]
mod scenario;
#[path = "classic/show.rs"]
mod show;

fn main() -> std::process::ExitCode {
    let surprises = show::show("fire_and_forget", &scenario::SCENARIO);
    show::verdict(&surprises)
}
