//! Threads stuck in synchronous code: polls that block, and tests that would hang CI.
//!
//! An `.await` is where tokio can stop a test: a body blocked in synchronous code
//! (`std::thread::sleep`, a blocking lock or call, a busy loop) never reaches one, so its
//! `timeout` cannot fire and `cargo test` would wait for ever. Each step of a run writes down
//! its deadline; the watchdog's thread, which looks at the runs every few milliseconds, finds
//! a step still running [`HANG_GRACE`] past it, prints the report and ends the test process,
//! failing, unless `LEAKCHECK_HANG=wait`. Writing a deadline down costs a test far less than
//! arming a timer for it, and the same looks keep the limit itself: at the first look past a
//! step's deadline they wake the step, which ends as timed out (see [`step_expiry`]).
//!
//! Shorter blocking is found by the watchdog's looks at each thread's poll slot
//! ([`crate::observe::polls`]), filed with the run as it happens.

use std::future::Future;
use std::io::Write as _;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Once};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::findings::Phase;
use crate::observe::polls::{self, HoldsSlot, LongPoll, PollSlot, Polled, Runs, StepSlot};
use crate::observe::watchdog;
use crate::run::state::{self, RunState};
use crate::settings::LONG_POLL;
use crate::tell;
use crate::tell::stuck::{EXIT_CODE, Polling, Stuck};
use crate::util::sync::lock;

/// How long past its limit a step may take to return before its thread counts as stuck.
///
/// A step that is merely late, not blocked, returns within milliseconds of its limit: the
/// watchdog wakes it at the limit and tokio polls it at the next chance, even on a loaded
/// 2-core CI machine. Two seconds is far beyond that, and short next to any CI job's limit.
pub(crate) const HANG_GRACE: Duration = Duration::from_secs(2);

/// A run's part the watchdog reads: the step under way, and the polls it wants to hear of.
pub(crate) struct StepWatch {
    /// The step of the harness under way, read by the watchdog to tell a stuck test.
    step: Mutex<Option<ActiveStep>>,
    /// Keep waiting when the test is stuck, rather than end the process.
    wait_when_stuck: bool,
    /// The poll slot the run's steps mark.
    pub(crate) slot: StepSlot,
    /// A poll longer than this fails the test; polls past the long-poll warning are kept too.
    max_poll: Option<Duration>,
    long_polls: Mutex<Vec<LongPoll>>,
}

/// A step of the harness under way: a fixture's setup, the body, a teardown step.
struct ActiveStep {
    phase: Phase,
    limit: Duration,
    deadline: Instant,
    /// Whether the watchdog has reported it stuck.
    reported: bool,
    /// Set by the watchdog's tick once `deadline` has passed; the step then ends as timed
    /// out at its next poll.
    expired: bool,
    /// Wakes the step's task when it expires.
    waker: Option<Waker>,
}

impl StepWatch {
    /// The watch of a run whose steps run on the calling thread.
    pub(crate) fn new(max_poll: Option<Duration>, wait_when_stuck: bool) -> Self {
        StepWatch {
            step: Mutex::new(None),
            wait_when_stuck,
            slot: StepSlot::new(),
            max_poll,
            long_polls: Mutex::new(Vec::new()),
        }
    }

    /// The step under way, if any.
    fn step(&self) -> Option<Phase> {
        lock(&self.step).as_ref().map(|step| step.phase.clone())
    }

    /// The step under way and its limit, once, if it is still running `grace` past its
    /// deadline at `now`.
    fn stuck(&self, now: Instant, grace: Duration) -> Option<(Phase, Duration)> {
        let mut step = lock(&self.step);
        let step = step.as_mut()?;
        if step.reported || now < step.deadline + grace {
            return None;
        }
        step.reported = true;
        Some((step.phase.clone(), step.limit))
    }

    /// Whether the step under way has expired; if not, `waker` is kept to wake it when it
    /// does.
    fn expired_or_wake(&self, waker: &Waker) -> bool {
        let mut step = lock(&self.step);
        let Some(step) = step.as_mut() else {
            return false;
        };
        if !step.expired {
            match &mut step.waker {
                Some(kept) => kept.clone_from(waker),
                None => step.waker = Some(waker.clone()),
            }
        }
        step.expired
    }

    /// Marks the step under way expired once its deadline has passed at `now`, and wakes it.
    fn expire_if_due(&self, now: Instant) {
        let waker = {
            let mut step = lock(&self.step);
            match step.as_mut() {
                Some(step) if !step.expired && now >= step.deadline => {
                    step.expired = true;
                    step.waker.take()
                }
                _ => None,
            }
        };
        waker.into_iter().for_each(Waker::wake);
    }

    /// The deadline of the teardown step under way, if one is.
    pub(crate) fn teardown_deadline(&self) -> Option<Instant> {
        lock(&self.step)
            .as_ref()
            .filter(|step| matches!(step.phase, Phase::Teardown(_)))
            .map(|step| step.deadline)
    }

    /// The shortest poll the run wants to hear of: its `max_poll`, or the long-poll warning's
    /// threshold when that is shorter or there is none.
    pub(crate) fn poll_threshold(&self) -> Duration {
        self.max_poll
            .map_or(LONG_POLL, |limit| limit.min(LONG_POLL))
    }

    pub(crate) fn take_long_polls(&self) -> Vec<LongPoll> {
        std::mem::take(&mut lock(&self.long_polls))
    }
}

/// Marks a step of the harness under way while alive.
pub(crate) struct StepGuard<'run>(&'run StepWatch);

impl Drop for StepGuard<'_> {
    fn drop(&mut self) {
        *lock(&self.0.step) = None;
    }
}

/// A step of `run` begins, which must be over by `deadline`, `limit` after it began.
pub(crate) fn step(
    run: &RunState,
    phase: Phase,
    limit: Duration,
    deadline: Instant,
) -> StepGuard<'_> {
    *lock(&run.watch.step) = Some(ActiveStep {
        phase,
        limit,
        deadline,
        reported: false,
        expired: false,
        waker: None,
    });
    StepGuard(&run.watch)
}

/// Completes once the step under way of `run` has passed its deadline, as the watchdog's next
/// tick after it finds (within [`polls::LOOK_EVERY`]): a step's limit costs it no timer of
/// its own.
pub(crate) fn step_expiry(run: &RunState) -> StepExpiry<'_> {
    StepExpiry(&run.watch)
}

pub(crate) struct StepExpiry<'run>(&'run StepWatch);

impl Future for StepExpiry<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.expired_or_wake(cx.waker()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// Runs on the watchdog's thread when a step is still running past its limit and the grace:
/// prints the report, then ends the process unless told to wait.
fn report_stuck(run: &RunState, phase: &Phase, limit: Duration) {
    let polling = match run.watch.slot.slot().polling() {
        Some((serial, polled)) if serial == run.serial => {
            describe(run, polled).map_or(Polling::Unnamed, Polling::Named)
        }
        _ => Polling::NotMarked,
    };
    let report = Stuck {
        test: &run.test,
        phase,
        grace: HANG_GRACE,
        limit,
        polling,
        wait: run.watch.wait_when_stuck,
    }
    .report();
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(report.as_bytes());
    let _ = stderr.flush();
    if !run.watch.wait_when_stuck {
        std::process::exit(EXIT_CODE);
    }
}

/// What a run is polling, in words: a task by its spawn site where the build knows it, or the
/// harness step the run is in.
fn describe(run: &RunState, polled: Polled) -> Option<String> {
    match polled {
        Polled::Step => run.watch.step().map(|phase| tell::polled(&phase)),
        Polled::Task(number) => run.spawns.describe_task(number),
    }
}

/// The runs in progress, as the watchdog's looks at the poll slots see them.
struct Registered;

impl Runs for Registered {
    fn threshold(&self, run: u64) -> Option<Duration> {
        Some(state::find_serial(run)?.watch.poll_threshold())
    }

    fn describe(&self, run: u64, polled: Polled) -> Option<String> {
        describe(&*state::find_serial(run)?, polled)
    }

    fn long_poll(&self, poll: LongPoll) {
        if let Some(run) = state::find_serial(poll.run) {
            lock(&run.watch.long_polls).push(poll);
        }
    }

    fn held_slots(&self, slots: &mut Vec<Arc<dyn HoldsSlot>>) {
        state::for_each(|run| {
            if run.watch.slot.held_by_run() {
                slots.push(Arc::clone(run) as Arc<dyn HoldsSlot>);
            }
        });
    }
}

impl HoldsSlot for RunState {
    fn slot(&self) -> &PollSlot {
        self.watch.slot.slot()
    }
}

/// The runs the watchdog's last tick looked at, kept between ticks (empty) so that a tick
/// allocates nothing: a repeated test counts the process's heap, and the watchdog's
/// allocations must not show in its count.
static TICKED: Mutex<Vec<Arc<RunState>>> = Mutex::new(Vec::new());
/// The watchdog's buffers are made before the first run's test starts, from the test's thread:
/// grown later, on the watchdog's thread, they would be allocated and freed while a repeated
/// test counts the heap.
static BUFFERS_MADE: Once = Once::new();
/// Room in them for this many runs and poll slots at once: a test alone in its process (the
/// only kind whose heap is counted) has one run, its step slot and a slot for each worker.
const BUFFERED: usize = 32;

/// Has the watchdog look at the poll slots and the runs' steps while any run is going.
pub(crate) fn watch() {
    BUFFERS_MADE.call_once(|| {
        polls::looks().reserve(BUFFERED);
        lock(&TICKED).reserve(BUFFERED);
    });
    watchdog::tick(polls::LOOK_EVERY, |now| {
        polls::looks().look(now, &Registered);
        let mut runs = lock(&TICKED);
        state::all_into(&mut runs);
        for run in runs.iter() {
            run.watch.expire_if_due(now);
            if let Some((phase, limit)) = run.watch.stuck(now, HANG_GRACE) {
                report_stuck(run, &phase, limit);
            }
        }
        let any = !runs.is_empty();
        // A run's state goes when its run ends, not at the next tick.
        runs.clear();
        any
    });
}

/// Looks at the poll slots from the calling thread, so a run's polls that ended since the
/// watchdog's last look are filed before its verdict.
pub(crate) fn look_now() {
    polls::looks().look(Instant::now(), &Registered);
}
