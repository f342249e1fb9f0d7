//! Setup and teardown steps, each bounded in real time and each failure written down.

use std::future::Future;
use std::pin::pin;
use std::time::{Duration, Instant};

use crate::findings::{Finding, Phase, Problem, TeardownRecord, TeardownStep};
use crate::observe::polls::Step;
use crate::observe::watchdog::{Bounded, until_expired};
use crate::run::fixture::{AsyncFixture, BoxError, short_type_name};
use crate::run::hang;
use crate::run::hooks::{Hook, Hooks};
use crate::run::state::RunState;
use crate::util::panic_payload;

/// Runs the steps of one test and keeps what went wrong.
pub struct Steps<'run> {
    run: &'run RunState,
    setup_timeout: Duration,
    teardown_timeout: Duration,
    pub(crate) teardowns: Vec<TeardownRecord>,
}

/// An error with its chain of causes, `outer: inner: root`, as one line.
fn error_chain(error: &BoxError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl<'run> Steps<'run> {
    pub(crate) fn new(
        run: &'run RunState,
        setup_timeout: Duration,
        teardown_timeout: Duration,
    ) -> Self {
        Steps {
            run,
            setup_timeout,
            teardown_timeout,
            teardowns: Vec::new(),
        }
    }

    pub(crate) async fn setup<T: AsyncFixture>(&mut self) -> Option<T> {
        let fixture = short_type_name::<T>();
        let phase = Phase::Setup(fixture.clone());
        let problem = match self.bounded(phase, self.setup_timeout, T::setup()).await {
            Bounded::Completed(Ok(fixture)) => return Some(fixture),
            Bounded::Completed(Err(error)) => Problem::Failed(error_chain(&error)),
            Bounded::Panicked(payload) => Problem::Panicked(panic_payload::message(&*payload)),
            Bounded::TimedOut => Problem::TimedOut(self.setup_timeout),
        };
        self.run.findings.push(Finding::Setup { fixture, problem });
        None
    }

    pub(crate) async fn teardown<T: AsyncFixture>(&mut self, fixture: T) {
        let step = TeardownStep::Fixture(short_type_name::<T>());
        let cleanup = async move {
            fixture
                .teardown()
                .await
                .err()
                .map(|error| error_chain(&error))
        };
        self.bounded_teardown(step, cleanup).await;
    }

    /// Runs one step of the harness within `limit` of real time: marked on its thread's poll
    /// slot so a blocking poll is seen, and written down as under way so a step stuck past
    /// its limit ends the process (and a teardown can read its deadline).
    pub(crate) async fn bounded<F: Future>(
        &self,
        phase: Phase,
        limit: Duration,
        step: F,
    ) -> Bounded<F::Output> {
        let deadline = Instant::now() + limit;
        let _under_way = hang::step(self.run, phase, limit, deadline);
        let step = pin!(step);
        until_expired(
            hang::step_expiry(self.run),
            Step::new(&self.run.watch.slot, self.run.serial, step),
        )
        .await
    }

    /// Runs every [`crate::on_teardown`] hook, the one registered last first, including hooks
    /// that other hooks register meanwhile.
    pub(crate) async fn run_hooks(&mut self) {
        self.run_hooks_from(Hooks::pop).await;
    }

    /// [`Steps::run_hooks`], the last time: once none is left, a hook registered later is
    /// reported instead of run.
    pub(crate) async fn run_last_hooks(&mut self) {
        self.run_hooks_from(Hooks::pop_or_close).await;
    }

    async fn run_hooks_from(&mut self, next: fn(&Hooks) -> Option<Hook>) {
        while let Some(hook) = next(&self.run.hooks) {
            self.bounded_teardown(TeardownStep::Hook(hook.location), hook.cleanup)
                .await;
        }
    }

    async fn bounded_teardown(
        &mut self,
        step: TeardownStep,
        cleanup: impl Future<Output = Option<String>>,
    ) {
        let started = Instant::now();
        let phase = Phase::Teardown(step.clone());
        let problem = match self.bounded(phase, self.teardown_timeout, cleanup).await {
            Bounded::Completed(None) => None,
            Bounded::Completed(Some(error)) => Some(Problem::Failed(error)),
            Bounded::Panicked(payload) => {
                Some(Problem::Panicked(panic_payload::message(&*payload)))
            }
            Bounded::TimedOut => Some(Problem::TimedOut(self.teardown_timeout)),
        };
        self.teardowns.push(TeardownRecord {
            step: step.clone(),
            took: started.elapsed(),
            problem: problem.clone(),
        });
        if let Some(problem) = problem {
            self.run.findings.push(Finding::Teardown { step, problem });
        }
    }
}
