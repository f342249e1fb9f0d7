//! Like a connection pool's reaper: a background task the caller cannot stop.

/// Starts a task that runs until its runtime shuts down. Deliberately not `#[track_caller]`,
/// so the task's spawn site is in this crate, as it is for a real dependency.
pub fn start_reaper() {
    tokio::spawn(std::future::pending::<()>());
}
