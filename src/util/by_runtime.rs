//! Things found from inside a tokio runtime: each leak-checked run owns exactly one runtime,
//! so code called from the run's tasks and threads (a panic hook, a tracing layer,
//! `on_teardown`) finds what it needs by the id of the runtime it is inside.

use std::sync::{Arc, Mutex};

use tokio::runtime::{Handle, Id as RuntimeId};

use crate::util::sync::lock;

/// A table of `T`s by the runtime they belong to; a `static` in the module that owns `T`.
///
/// A handful of runs are alive at once (one per test thread), so a vector is the fastest
/// table to search.
pub(crate) struct Table<T> {
    entries: Mutex<Vec<(RuntimeId, Arc<T>)>>,
}

/// Keeps an entry in its table while alive.
pub(crate) struct Entry<T: 'static> {
    table: &'static Table<T>,
    runtime: RuntimeId,
}

impl<T> Table<T> {
    pub(crate) const fn new() -> Self {
        Table {
            entries: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn insert(&'static self, runtime: RuntimeId, value: Arc<T>) -> Entry<T> {
        lock(&self.entries).push((runtime, value));
        Entry {
            table: self,
            runtime,
        }
    }

    pub(crate) fn find(&self, runtime: RuntimeId) -> Option<Arc<T>> {
        lock(&self.entries)
            .iter()
            .find(|(id, _)| *id == runtime)
            .map(|(_, value)| Arc::clone(value))
    }

    /// The entry whose runtime the calling thread is inside, if any.
    pub(crate) fn current(&self) -> Option<Arc<T>> {
        self.find(Handle::try_current().ok()?.id())
    }

    /// The first entry `wanted` picks.
    pub(crate) fn find_by(&self, wanted: impl Fn(&T) -> bool) -> Option<Arc<T>> {
        lock(&self.entries)
            .iter()
            .find(|(_, value)| wanted(value))
            .map(|(_, value)| Arc::clone(value))
    }

    /// Every entry, into `all` (emptied first): a caller that keeps `all` between calls
    /// allocates nothing once it is large enough.
    pub(crate) fn all_into(&self, all: &mut Vec<Arc<T>>) {
        all.clear();
        all.extend(
            lock(&self.entries)
                .iter()
                .map(|(_, value)| Arc::clone(value)),
        );
    }

    /// Calls `visit` with every value, the table locked meanwhile.
    pub(crate) fn for_each(&self, mut visit: impl FnMut(&Arc<T>)) {
        lock(&self.entries)
            .iter()
            .for_each(|(_, value)| visit(value));
    }

    pub(crate) fn is_empty(&self) -> bool {
        lock(&self.entries).is_empty()
    }
}

impl<T: 'static> Drop for Entry<T> {
    fn drop(&mut self) {
        lock(&self.table.entries).retain(|(runtime, _)| *runtime != self.runtime);
    }
}
