//! Threads stuck in synchronous code: polls that block, and tests that would hang CI.
//!
//! An `.await` is where tokio can stop a test: a body blocked in synchronous code
//! (`std::thread::sleep`, a blocking lock or call, a busy loop) never reaches one, so its
//! `timeout` cannot fire and `cargo test` would wait for ever. Each step of a run arms an alarm
//! on the watchdog's thread for its limit plus [`HANG_GRACE`]; a step that returns in time
//! calls it off. When it goes off, the test's thread is stuck: the alarm prints the report and
//! ends the test process, failing, unless `LEAKCHECK_HANG=wait`.
//!
//! Shorter blocking is found by the watchdog's looks at each thread's poll slot
//! ([`crate::polls`]), filed with the run as it happens.

use std::fmt::{self, Display, Formatter};
use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::check::LONG_POLL;
use crate::polls::{self, LongPoll, PollSlot, Polled, Runs};
use crate::registry::{self, RunState};
use crate::report::{Spelled, TeardownStep};
use crate::settings::{HANG_VARIABLE, OnHang};
use crate::wallclock::{self, Alarm};

/// How long past its limit a step may take to return before its thread counts as stuck.
///
/// A step that is merely late, not blocked, returns within milliseconds of its limit: the
/// watchdog wakes it at the limit and tokio polls it at the next chance, even on a loaded
/// 2-core CI machine. Two seconds is far beyond that, and short next to any CI job's limit.
pub(crate) const HANG_GRACE: Duration = Duration::from_secs(2);

/// The exit code of a test process that leakcheck ends: the one a failing Rust test
/// process has.
const EXIT_CODE: i32 = 101;

/// A step of a run, as a stuck-test report names it.
#[derive(Debug, Clone)]
pub(crate) enum Phase {
    Setup(String),
    Body,
    Teardown(TeardownStep),
    Settle,
}

impl Phase {
    /// The phase as the subject of a poll: "the test body", "the setup of fixture `Db`".
    fn polled(&self) -> String {
        match self {
            Phase::Body => "the test body".to_owned(),
            other => other.to_string(),
        }
    }
}

impl Display for Phase {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Phase::Setup(fixture) => write!(f, "the setup of fixture `{fixture}`"),
            Phase::Body => f.write_str("its body"),
            Phase::Teardown(step) => step.fmt(f),
            Phase::Settle => f.write_str("the wait for leftover tasks"),
        }
    }
}

/// What a stuck-test report needs to know of a run.
pub(crate) struct Watch {
    pub(crate) test: String,
    pub(crate) run: Arc<RunState>,
    pub(crate) on_hang: OnHang,
    /// The poll slot of the thread the run's steps run on.
    pub(crate) thread: Arc<PollSlot>,
}

/// Arms the alarm for one step; dropping it calls the alarm off.
pub(crate) struct StepAlarm(#[allow(dead_code)] Alarm);

impl Watch {
    /// Arms the alarm for a step that must return within `limit`.
    pub(crate) fn step(self: &Arc<Self>, phase: Phase, limit: Duration) -> StepAlarm {
        self.run.set_phase(phase.polled());
        let watch = Arc::clone(self);
        let deadline = Instant::now() + limit + HANG_GRACE;
        StepAlarm(wallclock::alarm(
            deadline,
            Box::new(move || watch.stuck(&phase, limit)),
        ))
    }

    /// Runs on the watchdog's thread when a step is still running past its limit and the
    /// grace: prints the report, then ends the process unless told to wait.
    fn stuck(&self, phase: &Phase, limit: Duration) {
        let polling = match self.thread.polling() {
            Some((run, polled)) if run == self.run.serial() => {
                describe(&self.run, polled).unwrap_or_else(|| "a task of the test's runtime".into())
            }
            _ => "a task of the test's runtime (a build with RUSTFLAGS=\"--cfg tokio_unstable\" names it)".into(),
        };
        let ending = match self.on_hang {
            OnHang::Exit => format!(
                "leakcheck ends the test process now (exit code {EXIT_CODE}) rather than hang; \
                 the other tests of this process do not run or report"
            ),
            OnHang::Wait => format!("{HANG_VARIABLE}=wait: leakcheck keeps waiting"),
        };
        let report = format!(
            "leakcheck: `{test}` is stuck: {phase} is still running {grace} past its limit ({limit})\n  \
             its thread is blocked in synchronous code (std::thread::sleep, a blocking lock or \
             call, a busy loop) that no .await lets tokio interrupt\n  \
             the blocked poll: {polling}\n  \
             {ending}\n  \
             hint: run blocking work with tokio::task::spawn_blocking, or use its async \
             equivalent; {HANG_VARIABLE}=wait keeps waiting instead, to attach a debugger\n",
            test = self.test,
            grace = Spelled(HANG_GRACE),
            limit = Spelled(limit),
        );
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(report.as_bytes());
        let _ = stderr.flush();
        if self.on_hang == OnHang::Exit {
            std::process::exit(EXIT_CODE);
        }
    }
}

/// What a run is polling, in words: a task by its spawn site where the build knows it, or the
/// harness step the run is in.
fn describe(run: &RunState, polled: Polled) -> Option<String> {
    match polled {
        Polled::Step => Some(run.phase()),
        Polled::Task(number) => run.spawns().describe_task(number),
    }
}

/// The runs in progress, as the watchdog's looks at the poll slots see them.
struct Registered;

impl Runs for Registered {
    fn threshold(&self, run: u64) -> Option<Duration> {
        let run = registry::find_serial(run)?;
        Some(
            run.max_poll()
                .map_or(LONG_POLL, |limit| limit.min(LONG_POLL)),
        )
    }

    fn describe(&self, run: u64, polled: Polled) -> Option<String> {
        describe(&*registry::find_serial(run)?, polled)
    }

    fn long_poll(&self, poll: LongPoll) {
        if let Some(run) = registry::find_serial(poll.run) {
            run.record_long_poll(poll);
        }
    }
}

/// Has the watchdog look at the poll slots while any run is going.
pub(crate) fn watch_polls() {
    wallclock::tick(polls::LOOK_EVERY, |now| {
        polls::looks().look(now, &Registered);
        registry::any()
    });
}

/// Looks at the poll slots from the calling thread, so a run's polls that ended since the
/// watchdog's last look are filed before its verdict.
pub(crate) fn look_now() {
    polls::looks().look(Instant::now(), &Registered);
}
