//! Like a connection pool that tests itself: a workspace member (not a `name-version`
//! directory), whose reaper outlives the pool and whose callbacks run with `spawn_blocking`.

use std::time::Duration;

/// A pool whose reaper ends on its own, some time after the pool is dropped.
pub struct Pool;

impl Pool {
    /// Starts the pool and its reaper. Deliberately not `#[track_caller]`, so the reaper's
    /// spawn site is in this crate.
    pub fn new() -> Self {
        tokio::spawn(tokio::time::sleep(Duration::from_secs(30)));
        Pool
    }

    /// Runs `callback` on the blocking pool and turns its panic into an error, as a pool that
    /// runs user code must.
    pub async fn run<T, F>(&self, callback: F) -> Result<T, String>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        tokio::task::spawn_blocking(callback)
            .await
            .map_err(|error| format!("the callback failed: {error}"))
    }
}

impl Default for Pool {
    fn default() -> Self {
        Pool::new()
    }
}
