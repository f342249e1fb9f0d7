//! The threads of a run's runtime, counted by its start and stop hooks.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::observe::resources;
use crate::util::sync::lock;

/// The threads of a run's runtime, as its start and stop hooks see them: tokio keeps no count
/// of them on stable, and one still alive after shutdown is busy with blocking work.
#[derive(Default)]
pub(crate) struct RuntimeThreads {
    alive: AtomicUsize,
    /// Their kernel ids, where the resource check runs: its last look must not take a thread
    /// the shutdown is still ending for one the test left.
    ids: Mutex<Vec<u32>>,
}

impl RuntimeThreads {
    /// Called on each thread of the runtime as it starts; its id is kept where `record_id`.
    pub(crate) fn started(&self, record_id: bool) {
        self.alive.fetch_add(1, Ordering::SeqCst);
        if record_id && let Some(id) = resources::current_thread_id() {
            lock(&self.ids).push(id);
        }
    }

    /// Called on each thread of the runtime as it stops.
    pub(crate) fn stopped(&self) {
        self.alive.fetch_sub(1, Ordering::SeqCst);
    }

    /// How many of the threads have not stopped.
    pub(crate) fn alive(&self) -> usize {
        self.alive.load(Ordering::SeqCst)
    }

    /// The kernel ids of every thread the runtime started.
    pub(crate) fn ids(&self) -> Vec<u32> {
        lock(&self.ids).clone()
    }
}
