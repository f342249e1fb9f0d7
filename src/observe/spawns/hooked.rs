//! The `tokio_unstable` build's [`SpawnLog`]: kept up to date by tokio's task hooks.
//!
//! The hooks run twice for every task, so the log is a window of slots indexed by task id
//! rather than a map: tokio numbers tasks from one process-wide counter, so the tasks of a run
//! land close together, a spawn is a push at the back and an end is a flag cleared in place.
//! Slots of ended tasks are dropped from the front, which keeps the window as wide as the
//! span from the oldest task still alive to the newest.

use std::collections::HashMap;
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::panic::Location;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::runtime::{Builder, Id as RuntimeId, TaskMeta};
use tokio::task::Id;

use super::names::SpawnSpan;
use crate::findings::{LeakedBlockingTask, LeakedTask, PanickedTask};
use crate::observe::polls;
use crate::util::by_runtime::{Entry, Table};
use crate::util::sites;
use crate::util::sync::lock;

/// The logs of the runs going, by runtime: tokio's spawn spans reach the names layer from any
/// thread of any run, with nothing but the runtime they are opened in to tell whose they are.
static LOGS: Table<SpawnLog> = Table::new();

/// Keeps a run's log findable by the names layer while alive.
pub(crate) type Watched = Entry<SpawnLog>;

/// What the log knows of one task id.
#[derive(Clone, Copy, Default)]
struct Slot {
    /// `None` for ids of other runtimes' tasks, or of ours not yet hooked.
    spawned: Option<Spawned>,
    alive: bool,
}

#[derive(Clone, Copy)]
struct Spawned {
    id: Id,
    at: &'static Location<'static>,
    by: Option<Id>,
    /// Looked up at the spawn: by the report, the parent may be gone from the window.
    by_at: Option<&'static Location<'static>>,
}

#[derive(Default)]
struct Window {
    /// The task number of `slots[0]`.
    first: u64,
    slots: VecDeque<Slot>,
}

impl Window {
    fn slot(&mut self, number: u64) -> &mut Slot {
        if self.slots.is_empty() {
            self.first = number;
        }
        while number < self.first {
            self.slots.push_front(Slot::default());
            self.first -= 1;
        }
        let index = usize::try_from(number - self.first).unwrap_or(usize::MAX);
        if index >= self.slots.len() {
            self.slots.resize(index + 1, Slot::default());
        }
        &mut self.slots[index]
    }

    /// Files a task as it is spawned.
    #[inline]
    fn spawned_now(&mut self, number: u64, slot: Slot) {
        // Task numbers mostly come one after the other: then the slot goes at the back.
        let next = self.first + self.slots.len() as u64;
        if number == next && !self.slots.is_empty() {
            self.slots.push_back(slot);
        } else {
            *self.slot(number) = slot;
        }
    }

    fn site_of(&self, id: Id) -> Option<&'static Location<'static>> {
        Some(self.spawned(id)?.at)
    }

    fn spawned(&self, id: Id) -> Option<Spawned> {
        let index = usize::try_from(number(id).checked_sub(self.first)?).ok()?;
        self.slots.get(index)?.spawned
    }

    /// Marks a task ended, and drops the slots of ended tasks from the front.
    #[inline]
    fn ended(&mut self, number: u64) {
        let index = number
            .checked_sub(self.first)
            .and_then(|index| usize::try_from(index).ok());
        if let Some(slot) = index.and_then(|index| self.slots.get_mut(index)) {
            slot.alive = false;
        }
        self.drop_ended_front();
    }

    fn drop_ended_front(&mut self) {
        while self.slots.front().is_some_and(|slot| !slot.alive) {
            self.slots.pop_front();
            self.first += 1;
        }
    }
}

/// tokio's task ids are numbers it does not expose; their `Hash` writes exactly that number.
fn number(id: Id) -> u64 {
    #[derive(Default)]
    struct Capture(u64);

    impl Hasher for Capture {
        fn finish(&self) -> u64 {
            self.0
        }

        fn write(&mut self, bytes: &[u8]) {
            for byte in bytes {
                self.0 = (self.0 << 8) | u64::from(*byte);
            }
        }

        fn write_u64(&mut self, value: u64) {
            self.0 = value;
        }
    }

    let mut capture = Capture::default();
    id.hash(&mut capture);
    capture.finish()
}

/// What tokio's spawn spans add: names, and blocking work, which the task hooks never see.
#[derive(Default)]
struct Spans {
    names: HashMap<u64, String>,
    blocking: HashMap<u64, LeakedBlockingTask>,
}

#[derive(Clone)]
pub(crate) struct SpawnLog {
    window: Arc<Mutex<Window>>,
    spans: Arc<Mutex<Spans>>,
}

impl SpawnLog {
    pub(crate) fn new() -> Self {
        SpawnLog {
            window: Arc::new(Mutex::new(Window::default())),
            spans: Arc::new(Mutex::new(Spans::default())),
        }
    }

    fn spans(&self) -> MutexGuard<'_, Spans> {
        lock(&self.spans)
    }

    /// Lets the names layer find this log from inside `runtime`, while the entry is alive.
    pub(crate) fn watch(&self, runtime: RuntimeId) -> Watched {
        LOGS.insert(runtime, Arc::new(self.clone()))
    }

    /// The log of the runtime the calling thread is inside, if a run watches it.
    pub(crate) fn current() -> Option<Arc<SpawnLog>> {
        LOGS.current()
    }

    pub(crate) fn span_opened(&self, span: SpawnSpan) {
        let Some(task) = span.task else {
            return;
        };
        let mut spans = self.spans();
        if span.blocking {
            let spawned_at = span.site().unwrap_or_else(|| "an unknown place".to_owned());
            spans.blocking.insert(
                task,
                LeakedBlockingTask {
                    spawned_at,
                    name: span.name,
                },
            );
        } else if let Some(name) = span.name {
            spans.names.insert(task, name);
        }
    }

    pub(crate) fn span_closed(&self, task: u64, blocking: bool) {
        let mut spans = self.spans();
        if blocking {
            spans.blocking.remove(&task);
        } else {
            spans.names.remove(&task);
        }
    }

    /// `spawn_blocking` work whose task has not ended, in the order of its spawn sites.
    pub(crate) fn blocking_alive(&self) -> Vec<LeakedBlockingTask> {
        let mut running: Vec<LeakedBlockingTask> =
            self.spans().blocking.values().cloned().collect();
        running.sort_by(|a, b| (&a.spawned_at, &a.name).cmp(&(&b.spawned_at, &b.name)));
        running
    }

    fn lock(&self) -> MutexGuard<'_, Window> {
        lock(&self.window)
    }

    /// Installs the task hooks: spawns and ends of tasks for the log, polls for the poll slots
    /// of `run`.
    pub(crate) fn install(&self, builder: &mut Builder, run: u64) {
        let spawned = self.clone();
        let terminated = self.clone();
        builder
            .on_before_task_poll(move |meta: &TaskMeta<'_>| {
                polls::task_poll_started(run, number(meta.id()));
            })
            // No hook after each poll: that would double the cost on every poll of every task.
            // What a thread does after a poll is another poll, a step of the harness or a park,
            // each of which marks its slot; the scheduler's bookkeeping between is brief.
            .on_thread_park(polls::thread_parked);
        builder
            .on_task_spawn(move |meta: &TaskMeta<'_>| {
                // The hook runs in the spawner's context: a task id here is the parent's.
                let by = tokio::task::try_id();
                let mut window = spawned.lock();
                let by_at = by.and_then(|parent| window.site_of(parent));
                let entry = Spawned {
                    id: meta.id(),
                    at: meta.spawned_at(),
                    by,
                    by_at,
                };
                window.spawned_now(
                    number(entry.id),
                    Slot {
                        spawned: Some(entry),
                        alive: true,
                    },
                );
            })
            .on_task_terminate(move |meta: &TaskMeta<'_>| {
                terminated.lock().ended(number(meta.id()));
            });
    }

    /// What the task with this id is: the task hooks see every async task of the runtime as
    /// it is spawned, and never `spawn_blocking` work, so an id they did not see while its
    /// task still runs (it is panicking) is blocking work.
    pub(crate) fn panicked_task(&self, id: Id) -> PanickedTask {
        let spawned = self.lock().spawned(id);
        let spans = self.spans();
        let task = number(id);
        match spawned {
            Some(spawned) => PanickedTask {
                blocking: Some(false),
                spawned_at: Some(spawned.at.to_string()),
                name: spans.names.get(&task).cloned(),
            },
            None => {
                let blocking = spans.blocking.get(&task);
                PanickedTask {
                    blocking: Some(true),
                    spawned_at: blocking.map(|work| work.spawned_at.clone()),
                    name: blocking.and_then(|work| work.name.clone()),
                }
            }
        }
    }

    /// A task that is alive, in words: `task "name" spawned at src/feed.rs:40:9 (id 12)`.
    pub(crate) fn describe_task(&self, task: u64) -> Option<String> {
        let window = self.lock();
        let index = usize::try_from(task.checked_sub(window.first)?).ok()?;
        let spawned = window.slots.get(index)?.spawned?;
        drop(window);
        let name = self
            .spans()
            .names
            .get(&task)
            .map(|name| format!(" {name:?}"))
            .unwrap_or_default();
        Some(format!(
            "task{name} spawned at {} (id {})",
            sites::location(spawned.at),
            spawned.id
        ))
    }

    /// The tasks still alive, in the order of their spawn sites.
    pub(crate) fn alive(&self) -> Vec<LeakedTask> {
        let window = self.lock();
        let spans = self.spans();
        let mut tasks: Vec<LeakedTask> = window
            .slots
            .iter()
            .filter(|slot| slot.alive)
            .filter_map(|slot| slot.spawned)
            .map(|task| LeakedTask {
                id: task.id,
                spawned_at: task.at,
                name: spans.names.get(&number(task.id)).cloned(),
                spawned_by: task.by,
                spawned_by_at: task.by_at,
                waiting_on: None,
            })
            .collect();
        drop(spans);
        drop(window);
        tasks.sort_by_key(|task| {
            let at = task.spawned_at;
            (at.file(), at.line(), at.column(), task.id)
        });
        tasks
    }
}
