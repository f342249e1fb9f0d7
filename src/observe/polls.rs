//! Which poll each thread of a test's runtime is in, seen from outside the thread.
//!
//! A poll that blocks its thread (a `std::thread::sleep`, a blocking lock or call, a busy loop)
//! stalls every task on that thread, and no `.await` lets tokio interrupt it. The thread cannot
//! report on itself, so each thread keeps a slot that says what it is polling (and, in a build
//! without poll hooks, each run one for its steps), and the watchdog thread looks at every
//! slot a few times a second: a slot that shows the same poll at two looks far enough apart
//! has a poll that blocked its thread at least that long.
//!
//! Marking a poll costs a few plain stores, no clock read: time is the watchdog's business.
//! The harness marks its own steps (a fixture's setup, the body, a teardown step) in every
//! build; in a `--cfg tokio_unstable` build tokio's poll hook marks the start of every task's
//! poll, with its task number, so the report can name the task and its spawn site, and its
//! park hook marks the thread idle.

use std::cell::Cell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::util::sync::lock;

/// Every thread's slot alive: each thread's that ever polled (the watchdog looks at threads of
/// every run, and a thread, a blocking-pool thread or a libtest thread, may serve several runs
/// in turn). A run's own [`StepSlot::Run`] is found with the run ([`Runs::held_slots`]).
static SLOTS: Mutex<Vec<Weak<dyn HoldsSlot>>> = Mutex::new(Vec::new());
/// Tells slots apart: a slot freed with its thread can leave its address to a new one.
static NEXT_SLOT_ID: AtomicU64 = AtomicU64::new(1);
/// Tells runs apart in the slots, which outlive any one run.
static NEXT_RUN_SERIAL: AtomicU64 = AtomicU64::new(1);
/// What the watchdog saw at its last look, for every thread of every run.
static LOOKS: OnceLock<Mutex<Looks>> = OnceLock::new();

thread_local! {
    /// The calling thread's slot: a poll is marked by the thread that makes it, with no lock.
    static SLOT: Arc<PollSlot> = {
        let slot = Arc::new(PollSlot::new());
        let held: Weak<PollSlot> = Arc::downgrade(&slot);
        watch(held);
        HAS_SLOT.set(true);
        slot
    };
    /// Whether the calling thread has made its slot. A slot costs its thread an allocation
    /// and a destructor; a runtime thread that never polled a marked step or task (each
    /// worker of a stable build) must not make one only to say it is idle.
    static HAS_SLOT: Cell<bool> = const { Cell::new(false) };
}

/// How often the watchdog looks at the slots while a test runs. A blocking poll is measured
/// to within this.
pub(crate) const LOOK_EVERY: Duration = Duration::from_millis(25);

/// What a thread is polling, as its slot stores it.
const IDLE: u64 = 0;
/// One of the harness's own steps: a fixture's setup or teardown, a teardown hook, the body.
const STEP: u64 = 1;
/// Task numbers are stored offset by this, past the two values above.
const TASK_OFFSET: u64 = 2;

/// What a blocking poll was polling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Polled {
    /// A step of the harness: the body, a fixture's setup or teardown, a teardown hook.
    Step,
    /// The task with this number (tokio's task id, as a number).
    Task(u64),
}

/// One thread's slot.
#[derive(Default)]
pub(crate) struct PollSlot {
    /// Tells this slot from any other ever made: a slot freed with its thread may leave its
    /// address to the next thread's, which must not pass for the same slot.
    id: u64,
    /// Changes whenever a poll starts or ends: equal at two looks means the same poll.
    changes: AtomicU64,
    /// [`IDLE`], [`STEP`], or a task number plus [`TASK_OFFSET`].
    polling: AtomicU64,
    /// The serial number of the run whose poll it is.
    run: AtomicU64,
    /// The run whose harness step the thread is in, or 0: a task polled inside a step (a
    /// `LocalSet` in the body) hands the slot back to the step when its poll ends. Written by
    /// the slot's own thread only, like the fields above; atomic for the watchdog's reads.
    step_run: AtomicU64,
}

impl PollSlot {
    fn new() -> Self {
        PollSlot {
            id: NEXT_SLOT_ID.fetch_add(1, Ordering::Relaxed),
            ..PollSlot::default()
        }
    }

    fn mark(&self, run: u64, polling: u64) {
        self.run.store(run, Ordering::Relaxed);
        self.polling.store(polling, Ordering::Relaxed);
        // Only this thread writes: a load and a store, not a read-modify-write, which costs
        // several times more on every poll of every task.
        let changes = self.changes.load(Ordering::Relaxed);
        self.changes
            .store(changes.wrapping_add(1), Ordering::Release);
    }

    /// What the thread is polling now, and for which run.
    pub(crate) fn polling(&self) -> Option<(u64, Polled)> {
        let run = self.run.load(Ordering::Relaxed);
        match self.polling.load(Ordering::Relaxed) {
            IDLE => None,
            STEP => Some((run, Polled::Step)),
            task => Some((run, Polled::Task(task - TASK_OFFSET))),
        }
    }
}

/// What a slot lives in: a thread's `Arc`, or the run whose steps mark it. The watchdog holds
/// it weakly; a slot goes with its holder.
pub(crate) trait HoldsSlot: Send + Sync {
    fn slot(&self) -> &PollSlot;
}

impl HoldsSlot for PollSlot {
    fn slot(&self) -> &PollSlot {
        self
    }
}

/// Every slot alive, for the watchdog.
fn slots() -> MutexGuard<'static, Vec<Weak<dyn HoldsSlot>>> {
    lock(&SLOTS)
}

/// Has the watchdog look at the slot of `holder` for as long as it is alive.
fn watch(holder: Weak<dyn HoldsSlot>) {
    let mut all = slots();
    all.retain(|slot| slot.strong_count() > 0);
    all.push(holder);
}

/// The slot a run's steps mark.
///
/// With `tokio_unstable`, the thread's own, which tokio's poll hooks mark for every task polled
/// there: a task polled inside a step (a `LocalSet` in the body) takes the slot over as it
/// takes the thread, and a stuck step's report names the task that holds the thread. Without,
/// nothing else marks the thread, and a slot of the run's own costs a test no thread-local and
/// no destructor on its fresh thread; the watchdog finds it with the run.
pub(crate) enum StepSlot {
    Run(PollSlot),
    Thread(Arc<PollSlot>),
}

impl StepSlot {
    /// The step slot of a run whose steps run on the calling thread.
    pub(crate) fn new() -> Self {
        if cfg!(tokio_unstable) {
            StepSlot::Thread(SLOT.with(Arc::clone))
        } else {
            StepSlot::Run(PollSlot::new())
        }
    }

    /// Whether the run holds the slot, and its runs are asked for it ([`Runs::held_slots`]).
    pub(crate) fn held_by_run(&self) -> bool {
        matches!(self, StepSlot::Run(_))
    }

    pub(crate) fn slot(&self) -> &PollSlot {
        match self {
            StepSlot::Run(slot) => slot,
            StepSlot::Thread(slot) => slot,
        }
    }
}

/// Marks one poll of a harness step on its slot while alive.
struct StepPoll<'slot> {
    slot: &'slot PollSlot,
    /// The step this one is nested in, or 0.
    outer: u64,
}

impl<'slot> StepPoll<'slot> {
    fn start(slot: &'slot PollSlot, run: u64) -> Self {
        slot.mark(run, STEP);
        let outer = slot.step_run.swap(run, Ordering::Relaxed);
        StepPoll { slot, outer }
    }
}

impl Drop for StepPoll<'_> {
    fn drop(&mut self) {
        self.slot.step_run.store(self.outer, Ordering::Relaxed);
        let after = if self.outer == 0 { IDLE } else { STEP };
        self.slot.mark(self.outer, after);
    }
}

/// A future of the harness's steps, each of whose polls is marked on the run's step slot.
pub(crate) struct Step<'slot, F> {
    slot: &'slot PollSlot,
    run: u64,
    future: F,
}

impl<'slot, F> Step<'slot, F> {
    pub(crate) fn new(slot: &'slot StepSlot, run: u64, future: F) -> Self {
        Step {
            slot: slot.slot(),
            run,
            future,
        }
    }
}

impl<F: Future + Unpin> Future for Step<'_, F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _marked = StepPoll::start(self.slot, self.run);
        Pin::new(&mut self.future).poll(cx)
    }
}

/// tokio is about to poll task `number` of run `run` on the calling thread.
#[cfg_attr(not(tokio_unstable), allow(dead_code))] // called by tokio_unstable's poll hooks
pub(crate) fn task_poll_started(run: u64, number: u64) {
    SLOT.with(|slot| slot.mark(run, number.saturating_add(TASK_OFFSET)));
}

/// The calling thread, a thread of a test's runtime, has nothing to poll: it parks or stops.
pub(crate) fn thread_parked() {
    if !HAS_SLOT.get() {
        return;
    }
    SLOT.with(|slot| match slot.step_run.load(Ordering::Relaxed) {
        0 => slot.mark(0, IDLE),
        run => slot.mark(run, STEP),
    });
}

/// A poll the watchdog saw last longer than a run wants to hear of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LongPoll {
    pub(crate) run: u64,
    /// What was polled, in words, as the run described it while the poll went on.
    pub(crate) what: Option<String>,
    /// How long the watchdog saw it last, at least; it may have lasted up to two looks longer.
    pub(crate) at_least: Duration,
}

/// What the watchdog asks the runs as it looks at the slots.
pub(crate) trait Runs {
    /// How long a poll of `run` may last before the run wants to hear of it.
    fn threshold(&self, run: u64) -> Option<Duration>;
    /// What `polled` of `run` is, in words, while it is being polled.
    fn describe(&self, run: u64, polled: Polled) -> Option<String>;
    /// A poll of the run lasted longer than its threshold.
    fn long_poll(&self, poll: LongPoll);
    /// Adds to `slots` the slots the runs hold themselves ([`StepSlot::Run`]): a run's slot is
    /// looked at while the run is going, found with it, and costs the run nothing to register.
    fn held_slots(&self, slots: &mut Vec<Arc<dyn HoldsSlot>>);
}

/// What the watchdog remembers of a slot between looks.
struct Seen {
    changes: u64,
    /// The first and the last look that saw this poll.
    first: Instant,
    last: Instant,
    polling: Option<(u64, Polled)>,
    what: Option<String>,
}

impl Seen {
    /// The poll seen ended: tells `runs` if it lasted longer than its run's threshold.
    fn ended(&mut self, runs: &impl Runs) {
        let Some((run, _)) = self.polling else {
            return;
        };
        let at_least = self.last.saturating_duration_since(self.first);
        if runs.threshold(run).is_some_and(|limit| at_least > limit) {
            runs.long_poll(LongPoll {
                run,
                what: self.what.take(),
                at_least,
            });
        }
    }
}

/// The watchdog's looks at the slots.
#[derive(Default)]
pub(crate) struct Looks {
    seen: HashMap<u64, Seen>,
    /// The slots of a look, and the ids of those still here, kept (empty) between looks so
    /// that a look allocates nothing: a repeated test counts the process's heap, and the
    /// watchdog's allocations must not show in its count.
    live: Vec<Arc<dyn HoldsSlot>>,
    still_here: Vec<u64>,
}

impl Looks {
    /// Makes room for `slots` slots, so that looks at as many allocate nothing, not even
    /// while the first of them grow the buffers.
    pub(crate) fn reserve(&mut self, slots: usize) {
        self.seen.reserve(slots);
        self.live.reserve(slots);
        self.still_here.reserve(slots);
    }

    /// Looks at every slot, and tells `runs` of each poll that ended since the last look
    /// having lasted longer than its run's threshold: longer, that is, between the first and
    /// the last look that saw it, so a poll is never said to have lasted longer than it did.
    pub(crate) fn look(&mut self, now: Instant, runs: &impl Runs) {
        let mut live = std::mem::take(&mut self.live);
        let mut still_here = std::mem::take(&mut self.still_here);
        live.extend(slots().iter().filter_map(Weak::upgrade));
        runs.held_slots(&mut live);
        for holder in live.drain(..) {
            let slot = holder.slot();
            let key = slot.id;
            still_here.push(key);
            let changes = slot.changes.load(Ordering::Acquire);
            let polling = slot.polling();
            match self.seen.get_mut(&key) {
                Some(seen) if seen.changes == changes => {
                    seen.last = now;
                    // Described while it still runs, since a task may be gone once its poll
                    // ends, but only once it has lasted long enough to be reported: words
                    // made for every poll that spans two looks would come and go on the heap
                    // while a repeated test counts it.
                    if seen.what.is_none()
                        && let Some((run, polled)) = seen.polling
                        && runs
                            .threshold(run)
                            .is_some_and(|limit| now.saturating_duration_since(seen.first) > limit)
                    {
                        seen.what = runs.describe(run, polled);
                    }
                    continue;
                }
                // The poll seen last time ended, somewhere between then and now.
                Some(seen) => seen.ended(runs),
                None => {}
            }
            self.seen.insert(
                key,
                Seen {
                    changes,
                    first: now,
                    last: now,
                    polling,
                    what: None,
                },
            );
        }
        // A thread that ended has ended its last poll too.
        for (_, seen) in self
            .seen
            .iter_mut()
            .filter(|(key, _)| !still_here.contains(key))
        {
            seen.ended(runs);
        }
        self.seen.retain(|key, _| still_here.contains(key));
        still_here.clear();
        self.live = live;
        self.still_here = still_here;
    }
}

/// The serial numbers of runs, so a slot can say whose poll it shows without a reference.
pub(crate) fn next_run_serial() -> u64 {
    NEXT_RUN_SERIAL.fetch_add(1, Ordering::Relaxed)
}

/// The watchdog's looks, kept across its wake-ups.
pub(crate) fn looks() -> MutexGuard<'static, Looks> {
    lock(LOOKS.get_or_init(Mutex::default))
}
