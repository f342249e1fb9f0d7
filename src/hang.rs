//! Threads stuck in synchronous code: polls that block, and tests that would hang CI.
//!
//! An `.await` is where tokio can stop a test: a body blocked in synchronous code
//! (`std::thread::sleep`, a blocking lock or call, a busy loop) never reaches one, so its
//! `timeout` cannot fire and `cargo test` would wait for ever. Each step of a run writes down
//! its deadline; the watchdog's thread, which looks at the runs every few milliseconds, finds
//! a step still running [`HANG_GRACE`] past it, prints the report and ends the test process,
//! failing, unless `LEAKCHECK_HANG=wait`. Writing a deadline down costs a test far less than
//! arming a timer for it.
//!
//! Shorter blocking is found by the watchdog's looks at each thread's poll slot
//! ([`crate::polls`]), filed with the run as it happens.

use std::io::Write as _;
use std::time::{Duration, Instant};

use crate::phase::Phase;
use crate::polls::{self, LongPoll, Polled, Runs};
use crate::registry::{self, RunState};
use crate::report::Spelled;
use crate::settings::HANG_VARIABLE;
use crate::wallclock;

/// How long past its limit a step may take to return before its thread counts as stuck.
///
/// A step that is merely late, not blocked, returns within milliseconds of its limit: the
/// watchdog wakes it at the limit and tokio polls it at the next chance, even on a loaded
/// 2-core CI machine. Two seconds is far beyond that, and short next to any CI job's limit.
pub(crate) const HANG_GRACE: Duration = Duration::from_secs(2);

/// The exit code of a test process that leakcheck ends: the one a failing Rust test
/// process has.
const EXIT_CODE: i32 = 101;

/// Marks a step of the harness under way while alive.
pub(crate) struct StepGuard<'run>(&'run RunState);

impl Drop for StepGuard<'_> {
    fn drop(&mut self) {
        self.0.leave_step();
    }
}

/// A step of `run` begins, which must be over by `deadline`, `limit` after it began.
pub(crate) fn step(
    run: &RunState,
    phase: Phase,
    limit: Duration,
    deadline: Instant,
) -> StepGuard<'_> {
    run.enter_step(phase, limit, deadline);
    StepGuard(run)
}

/// Runs on the watchdog's thread when a step is still running past its limit and the grace:
/// prints the report, then ends the process unless told to wait.
fn report_stuck(run: &RunState, phase: &Phase, limit: Duration) {
    let polling = match run.thread().polling() {
        Some((serial, polled)) if serial == run.serial() => {
            describe(run, polled).unwrap_or_else(|| "a task of the test's runtime".into())
        }
        _ => "a task of the test's runtime (a build with RUSTFLAGS=\"--cfg tokio_unstable\" names it)".into(),
    };
    let ending = if run.wait_when_stuck() {
        format!("{HANG_VARIABLE}=wait: leakcheck keeps waiting")
    } else {
        format!(
            "leakcheck ends the test process now (exit code {EXIT_CODE}) rather than hang; \
             the other tests of this process do not run or report"
        )
    };
    let report = format!(
        "leakcheck: `{test}` is stuck: {phase} is still running {grace} past its limit ({limit})\n  \
         its thread is blocked in synchronous code (std::thread::sleep, a blocking lock or \
         call, a busy loop) that no .await lets tokio interrupt\n  \
         the blocked poll: {polling}\n  \
         {ending}\n  \
         hint: run blocking work with tokio::task::spawn_blocking, or use its async \
         equivalent; {HANG_VARIABLE}=wait keeps waiting instead, to attach a debugger\n",
        test = run.test(),
        grace = Spelled(HANG_GRACE),
        limit = Spelled(limit),
    );
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(report.as_bytes());
    let _ = stderr.flush();
    if !run.wait_when_stuck() {
        std::process::exit(EXIT_CODE);
    }
}

/// What a run is polling, in words: a task by its spawn site where the build knows it, or the
/// harness step the run is in.
fn describe(run: &RunState, polled: Polled) -> Option<String> {
    match polled {
        Polled::Step => run.step().map(|phase| phase.polled()),
        Polled::Task(number) => run.spawns().describe_task(number),
    }
}

/// The runs in progress, as the watchdog's looks at the poll slots see them.
struct Registered;

impl Runs for Registered {
    fn threshold(&self, run: u64) -> Option<Duration> {
        Some(registry::find_serial(run)?.poll_threshold())
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

/// Has the watchdog look at the poll slots and the runs' steps while any run is going.
pub(crate) fn watch() {
    wallclock::tick(polls::LOOK_EVERY, |now| {
        polls::looks().look(now, &Registered);
        let runs = registry::all();
        for run in &runs {
            if let Some((phase, limit)) = run.stuck(now, HANG_GRACE) {
                report_stuck(run, &phase, limit);
            }
        }
        !runs.is_empty()
    });
}

/// Looks at the poll slots from the calling thread, so a run's polls that ended since the
/// watchdog's last look are filed before its verdict.
pub(crate) fn look_now() {
    polls::looks().look(Instant::now(), &Registered);
}
