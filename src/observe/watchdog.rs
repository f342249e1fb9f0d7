//! The watchdog: waits measured on the wall clock, which tokio's paused clock cannot skip.
//!
//! Every deadline of a run (the body's `timeout`, each teardown step, the settle window) must
//! hold in real time even under `start_paused`, where tokio's own timers jump forward whenever
//! the runtime is idle. One process-wide thread keeps the deadlines of all running tests, so a
//! test pays a map insertion for a wait, not a thread. The steps of a run (setup, body,
//! teardown) pay not even that: their deadlines are written down for the watchdog's ticks
//! anyway (`crate::run::hang`), which wake a step that passed its own.

use std::collections::BTreeMap;
use std::future::{Future, poll_fn};
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::observe::resources;
use crate::util::panic_payload::PanicPayload;
use crate::util::sync::lock;

/// The one watchdog thread of the process: a thread per test would cost each test a thread
/// start, and the deadlines of every test running at once fit in one map. `None` before the
/// first run, and again once [`retire`] has ended it; a later run starts another.
///
/// Whoever works with the watchdog's timers holds this lock meanwhile, so that `retire` never
/// ends a watchdog that someone is handing a timer.
static WATCHDOG: Mutex<Option<Arc<Watchdog>>> = Mutex::new(None);

/// The kernel's id of the watchdog's thread once it runs, 0 before and once it has retired: a
/// thread that ends only with the process (or after its last run), which a look at the
/// process's threads may count on.
static THREAD_ID: AtomicU32 = AtomicU32::new(0);

type TimerKey = (Instant, u64);

#[derive(Default)]
struct Timers {
    pending: BTreeMap<TimerKey, Waker>,
    next_id: u64,
    /// When the watchdog wakes next on its own; `None` while it waits for a first timer.
    wakes_at: Option<Instant>,
    /// Called every `tick_every` while it returns `true`.
    ticker: Option<fn(Instant) -> bool>,
    tick_every: Duration,
    /// When the ticker runs next.
    next_tick: Option<Instant>,
    /// Counts calls of [`tick`], so a ticker that said `false` is not stopped when a new
    /// call asked for it meanwhile.
    tick_requests: u64,
    /// Whether the watchdog's thread has started: what starting a thread allocates and frees
    /// is behind it.
    running: bool,
    /// Set by [`retire`]: the thread ends at its next wake.
    retired: bool,
}

struct Watchdog {
    timers: Mutex<Timers>,
    earliest_changed: Condvar,
    started: Condvar,
}

/// Starts the watchdog thread if it is not running yet; one that starts here first runs
/// `prepare`, before it counts as running ([`wait_until_running`]).
///
/// `prepare` is one-off work for the whole process that had better not run on a test's
/// thread: what it keeps lives on, and the tests' threads, each started afresh, take over
/// the allocator's memory that the last one left.
pub(crate) fn start(prepare: fn()) -> io::Result<()> {
    running_or_started(&mut lock(&WATCHDOG), prepare).map(drop)
}

/// The watchdog, started here if none runs; `watchdog` is [`WATCHDOG`], locked.
fn running_or_started(
    watchdog: &mut Option<Arc<Watchdog>>,
    prepare: fn(),
) -> io::Result<&Arc<Watchdog>> {
    match watchdog {
        Some(running) => Ok(running),
        None => Ok(watchdog.insert(spawn(prepare).map_err(io::Error::other)?)),
    }
}

/// Calls `with` with the watchdog's timers, starting the watchdog if none runs; `None` where
/// it cannot start (`start` reported that before any run began).
fn with_timers<T>(with: impl FnOnce(&Watchdog, &mut Timers) -> T) -> Option<T> {
    let mut current = lock(&WATCHDOG);
    let watchdog = running_or_started(&mut current, || {}).ok()?;
    let mut timers = watchdog.lock();
    Some(with(watchdog, &mut timers))
}

/// Ends the watchdog's thread, where no run is going and no timer is pending: in a process
/// that runs one test (nextest's), once it is over. A process exits later by as much as it
/// takes the kernel to stop a thread that is still there, on a machine whose cores are busy
/// with other tests: measured as a tenth of such a process's time.
pub(crate) fn retire() {
    let mut current = lock(&WATCHDOG);
    let Some(watchdog) = current.as_ref() else {
        return;
    };
    let mut timers = watchdog.lock();
    if !timers.pending.is_empty() {
        return;
    }
    timers.retired = true;
    drop(timers);
    watchdog.earliest_changed.notify_one();
    *current = None;
}

fn spawn(prepare: fn()) -> Result<Arc<Watchdog>, String> {
    let watchdog = Arc::new(Watchdog {
        timers: Mutex::new(Timers::default()),
        earliest_changed: Condvar::new(),
        started: Condvar::new(),
    });
    let runner = Arc::clone(&watchdog);
    std::thread::Builder::new()
        .name("leakcheck-watchdog".into())
        .spawn(move || {
            let id = resources::current_thread_id().unwrap_or_default();
            THREAD_ID.store(id, Ordering::Release);
            prepare();
            runner.fire_forever();
            // Retired: unless a watchdog started since has written its own.
            let _ = THREAD_ID.compare_exchange(id, 0, Ordering::AcqRel, Ordering::Acquire);
        })
        .map(|_| watchdog)
        .map_err(|error| format!("leakcheck could not start its watchdog thread: {error}"))
}

impl Watchdog {
    fn lock(&self) -> MutexGuard<'_, Timers> {
        lock(&self.timers)
    }

    fn fire_forever(&self) {
        let mut timers = self.lock();
        timers.running = true;
        self.started.notify_all();
        loop {
            if timers.retired {
                return;
            }
            let now = Instant::now();
            let mut due = Vec::new();
            while let Some(entry) = timers.pending.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                due.push(entry.remove());
            }
            if !due.is_empty() {
                drop(timers);
                due.into_iter().for_each(Waker::wake);
                timers = self.lock();
                continue;
            }
            if let Some(ticker) = timers.ticker
                && timers.next_tick.is_none_or(|next| next <= now)
            {
                let requests = timers.tick_requests;
                drop(timers);
                let again = ticker(now);
                timers = self.lock();
                if again || timers.tick_requests != requests {
                    timers.next_tick = Some(now + timers.tick_every);
                } else {
                    timers.ticker = None;
                    timers.next_tick = None;
                }
            }
            timers.wakes_at = timers
                .pending
                .first_key_value()
                .map(|((deadline, _), _)| *deadline)
                .into_iter()
                .chain(timers.next_tick)
                .min();
            timers = match timers.wakes_at {
                Some(deadline) => {
                    let wait = deadline.saturating_duration_since(now);
                    self.earliest_changed
                        .wait_timeout(timers, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self
                    .earliest_changed
                    .wait(timers)
                    .unwrap_or_else(PoisonError::into_inner),
            };
        }
    }
}

/// The kernel's id of the watchdog's thread, once it runs.
pub(crate) fn thread_id() -> Option<u32> {
    match THREAD_ID.load(Ordering::Acquire) {
        0 => None,
        id => Some(id),
    }
}

/// Waits, at most `limit`, until the watchdog's thread has started; gives whether it has.
///
/// A thread frees what its start was handed (the closure it runs) once it runs, whenever that
/// is: a test counting the heap waits for it first, so that the free does not show in its
/// count as memory the test let go.
pub(crate) fn wait_until_running(limit: Duration) -> bool {
    let Ok(watchdog) = running_or_started(&mut lock(&WATCHDOG), || {}).cloned() else {
        return false;
    };
    let timers = watchdog.lock();
    let (timers, _) = watchdog
        .started
        .wait_timeout_while(timers, limit, |timers| !timers.running)
        .unwrap_or_else(PoisonError::into_inner);
    timers.running
}

/// A future that completes at a wall-clock instant.
pub(crate) struct WallSleep {
    deadline: Instant,
    registered: Option<TimerKey>,
}

/// Completes once `deadline` has passed in real time.
pub(crate) fn sleep_until(deadline: Instant) -> WallSleep {
    WallSleep {
        deadline,
        registered: None,
    }
}

impl Future for WallSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if Instant::now() >= this.deadline {
            this.deregister();
            return Poll::Ready(());
        }
        let registered = this.registered;
        let deadline = this.deadline;
        let waiting = with_timers(|watchdog, timers| match registered {
            Some(key) => match timers.pending.get_mut(&key) {
                Some(waker) => {
                    waker.clone_from(cx.waker());
                    Some(key)
                }
                // The watchdog removes a timer only once its deadline has passed, and is not
                // retired while one is pending.
                None => None,
            },
            None => Some(watchdog.insert(timers, deadline, cx.waker().clone())),
        });
        // No watchdog: `start` reported that before any run began, and ending the wait is
        // the only answer that cannot hang.
        this.registered = waiting.flatten();
        match this.registered {
            Some(_) => Poll::Pending,
            None => Poll::Ready(()),
        }
    }
}

impl Watchdog {
    fn insert(&self, timers: &mut Timers, deadline: Instant, waker: Waker) -> TimerKey {
        let key = (deadline, timers.next_id);
        timers.next_id += 1;
        timers.pending.insert(key, waker);
        // Waking the watchdog costs a context switch; it is needed only when it would
        // otherwise sleep past this deadline. Timers of finished tests are removed, so it may
        // wake early and find nothing due: that is cheap and rare.
        if timers.wakes_at.is_none_or(|wakes_at| deadline < wakes_at) {
            timers.wakes_at = Some(deadline);
            self.earliest_changed.notify_one();
        }
        key
    }
}

/// Has the watchdog call `ticker` every `every` until it returns `false`; a later call starts
/// it again.
pub(crate) fn tick(every: Duration, ticker: fn(Instant) -> bool) {
    with_timers(|watchdog, timers| {
        timers.tick_requests += 1;
        if timers.ticker.is_none() {
            timers.ticker = Some(ticker);
            timers.tick_every = every;
            let first = Instant::now() + every;
            timers.next_tick = Some(first);
            if timers.wakes_at.is_none_or(|wakes_at| first < wakes_at) {
                timers.wakes_at = Some(first);
                watchdog.earliest_changed.notify_one();
            }
        }
    });
}

impl WallSleep {
    fn deregister(&mut self) {
        let Some(key) = self.registered.take() else {
            return;
        };
        // A pending timer keeps its watchdog from retiring: the one running holds it.
        if let Some(watchdog) = lock(&WATCHDOG).as_ref() {
            watchdog.lock().pending.remove(&key);
        }
    }
}

impl Drop for WallSleep {
    fn drop(&mut self) {
        self.deregister();
    }
}

/// How a future fared against a wall-clock limit.
pub(crate) enum Bounded<T> {
    Completed(T),
    Panicked(PanicPayload),
    TimedOut,
}

/// Runs `future` until it completes, panics, or `deadline` passes in real time.
///
/// The future is polled first, so one that is already done never counts as timed out.
pub(crate) async fn within_deadline<F: Future>(deadline: Instant, future: F) -> Bounded<F::Output> {
    until_expired(sleep_until(deadline), future).await
}

/// Runs `future` until it completes, panics, or `expiry` completes; `future` is polled first.
pub(crate) async fn until_expired<F: Future>(
    expiry: impl Future<Output = ()>,
    future: F,
) -> Bounded<F::Output> {
    let mut future = pin!(future);
    let mut expiry = pin!(expiry);
    poll_fn(|cx| {
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(output)) => return Poll::Ready(Bounded::Completed(output)),
            Err(payload) => return Poll::Ready(Bounded::Panicked(payload)),
            Ok(Poll::Pending) => {}
        }
        expiry.as_mut().poll(cx).map(|()| Bounded::TimedOut)
    })
    .await
}
