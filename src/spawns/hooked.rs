//! The `tokio_unstable` build's [`SpawnLog`]: kept up to date by tokio's task hooks.

use std::collections::HashMap;
use std::panic::Location;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::runtime::{Builder, TaskMeta};
use tokio::task::Id;

use super::LeakedTask;

struct Spawned {
    at: &'static Location<'static>,
    by: Option<Parent>,
}

/// The task that spawned another, remembered at the spawn: it may be gone by the report.
#[derive(Clone, Copy)]
struct Parent {
    id: Id,
    at: Option<&'static Location<'static>>,
}

#[derive(Clone)]
pub(crate) struct SpawnLog {
    alive: Arc<Mutex<HashMap<Id, Spawned>>>,
}

impl SpawnLog {
    pub(crate) fn new() -> Self {
        SpawnLog {
            alive: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Id, Spawned>> {
        // Held only to insert or remove one entry; poisoning cannot tear the map.
        self.alive.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn install(&self, builder: &mut Builder) {
        let spawned = self.clone();
        let terminated = self.clone();
        builder
            .on_task_spawn(move |meta: &TaskMeta<'_>| {
                // The hook runs in the spawner's context: a task id here is the parent's.
                let parent = tokio::task::try_id();
                let mut alive = spawned.lock();
                let by = parent.map(|id| Parent {
                    id,
                    at: alive.get(&id).map(|parent| parent.at),
                });
                alive.insert(
                    meta.id(),
                    Spawned {
                        at: meta.spawned_at(),
                        by,
                    },
                );
            })
            .on_task_terminate(move |meta: &TaskMeta<'_>| {
                terminated.lock().remove(&meta.id());
            });
    }

    /// The tasks still alive, in the order of their spawn sites.
    pub(crate) fn alive(&self) -> Vec<LeakedTask> {
        let mut tasks: Vec<LeakedTask> = self
            .lock()
            .iter()
            .map(|(id, spawned)| LeakedTask {
                id: *id,
                spawned_at: spawned.at,
                name: None,
                spawned_by: spawned.by.map(|parent| parent.id),
                spawned_by_at: spawned.by.and_then(|parent| parent.at),
            })
            .collect();
        tasks.sort_by_key(|task| {
            let at = task.spawned_at;
            (at.file(), at.line(), at.column(), task.id)
        });
        tasks
    }
}
