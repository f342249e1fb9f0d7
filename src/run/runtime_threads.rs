//! The threads of a run's runtime, counted by its start and stop hooks.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::observe::resources;
use crate::util::sync::lock;

/// The threads of a run's runtime, as its start and stop hooks see them: tokio keeps no count
/// of them on stable, and one still alive after shutdown is busy with blocking work.
#[derive(Default)]
pub(crate) struct RuntimeThreads {
    alive: AtomicUsize,
    /// Whether their ids are kept: where the resource check runs.
    record_ids: AtomicBool,
    /// Their kernel ids, where the resource check runs: its last look must not take a thread
    /// the shutdown is still ending for one the test left.
    ids: Mutex<Vec<u32>>,
}

impl RuntimeThreads {
    /// Keeps the ids of the threads that start from now on where `record`, before the runtime
    /// is built.
    pub(crate) fn record_ids(&self, record: bool) {
        self.record_ids.store(record, Ordering::SeqCst);
    }

    /// Called on each thread of the runtime as it starts.
    pub(crate) fn started(&self) {
        self.alive.fetch_add(1, Ordering::SeqCst);
        if self.record_ids.load(Ordering::SeqCst)
            && let Some(id) = resources::current_thread_id()
        {
            lock(&self.ids).push(id);
        }
    }

    /// Called on each thread of the runtime as it stops.
    pub(crate) fn stopped(&self) {
        // Never below zero: a stop whose start went uncounted must not leave the count
        // showing a thread busy for ever.
        let _ = self
            .alive
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |alive| {
                alive.checked_sub(1)
            });
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
