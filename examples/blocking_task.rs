//! Blocking task: a log tailer with no way to stop: the leaky version, caught, and the fixed one, passing.
//!
//! `cargo run --example blocking_task`; the tour runs it with the other classic leaks.

#[path = "classic/blocking_task.rs"]
mod scenario;
#[path = "classic/show.rs"]
mod show;

fn main() -> std::process::ExitCode {
    let surprises = show::show("blocking_task", &scenario::SCENARIO);
    scenario::LEAKED_TAILER_STOP.store(true, std::sync::atomic::Ordering::Relaxed);
    show::verdict(&surprises)
}
