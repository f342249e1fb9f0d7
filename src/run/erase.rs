//! The test as the run sees it: one object-safe shape for every test.
//!
//! The run is compiled once. A test reaches it through [`ErasedTest`], a thin view of its
//! fixtures and body; were the run generic over them, every test in a suite would compile its
//! own copy, and a suite of hundreds of tests would pay for it in build time, binary size and
//! memory.

use std::future::{Future, ready};
use std::marker::PhantomData;
use std::pin::{Pin, pin};

use crate::run::fixture::FixtureSet;
use crate::run::outcome::TestOutcome;
use crate::run::steps::Steps;
use crate::util::backtraces::{self, ShortBacktrace};

type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A test as the run sees it: set its fixtures up, run its body once, tear the fixtures down.
pub(crate) trait ErasedTest {
    /// Sets up the fixtures; gives whether all of them were. `None` for a test without
    /// fixtures, set up already.
    fn setup<'a>(&'a mut self, steps: &'a mut Steps<'_>) -> Option<LocalBoxFuture<'a, bool>>;
    /// Runs the body on the fixtures; gives its failure, if it returned one.
    fn body(&mut self) -> LocalBoxFuture<'_, Option<String>>;
    /// Whether the body can run again (`repeat`): a body given as an `FnOnce` runs once.
    fn repeatable(&self) -> bool;
    /// Tears down the fixtures that were set up. `None` for a test without fixtures.
    fn teardown<'a>(&'a mut self, steps: &'a mut Steps<'_>) -> Option<LocalBoxFuture<'a, ()>>;
}

/// A body and its fixtures, with the types the user wrote.
pub(crate) struct TypedTest<S, B, R> {
    fixtures: Option<S>,
    body: B,
    outcome: PhantomData<fn() -> R>,
}

impl<S, B, R> TypedTest<S, B, R> {
    pub(crate) fn new(body: B) -> Self {
        TypedTest {
            fixtures: None,
            body,
            outcome: PhantomData,
        }
    }
}

/// A body that runs once: an `AsyncFnOnce`.
pub(crate) struct RunsOnce<F>(pub(crate) Option<F>);

/// A body that can run again, for `repeat`: an `AsyncFnMut`.
pub(crate) struct RunsAgain<F>(pub(crate) F);

/// How the run starts a body, once or again.
pub(crate) trait Body<S, R> {
    const REPEATABLE: bool;
    /// The body's next run on `fixtures`, giving its failure; `None` once a body that runs
    /// once has run.
    fn start<'a>(&'a mut self, fixtures: &'a mut S) -> Option<LocalBoxFuture<'a, Option<String>>>
    where
        R: 'a;
}

impl<S, R: TestOutcome, F: AsyncFnOnce(&mut S) -> R> Body<S, R> for RunsOnce<F> {
    const REPEATABLE: bool = false;

    fn start<'a>(&'a mut self, fixtures: &'a mut S) -> Option<LocalBoxFuture<'a, Option<String>>>
    where
        R: 'a,
    {
        let body = self.0.take()?;
        Some(Box::pin(async move {
            let body = pin!(body(fixtures));
            ShortBacktrace(body).await.failure().map(backtraces::trim)
        }))
    }
}

impl<S, R: TestOutcome, F: AsyncFnMut(&mut S) -> R> Body<S, R> for RunsAgain<F> {
    const REPEATABLE: bool = true;

    fn start<'a>(&'a mut self, fixtures: &'a mut S) -> Option<LocalBoxFuture<'a, Option<String>>>
    where
        R: 'a,
    {
        let body = &mut self.0;
        Some(Box::pin(async move {
            let body = pin!(body(fixtures));
            ShortBacktrace(body).await.failure().map(backtraces::trim)
        }))
    }
}

impl<S, B, R> ErasedTest for TypedTest<S, B, R>
where
    S: FixtureSet,
    B: Body<S, R>,
    R: TestOutcome,
{
    fn setup<'a>(&'a mut self, steps: &'a mut Steps<'_>) -> Option<LocalBoxFuture<'a, bool>> {
        // Most tests have no fixtures: a boxed future for them would be pure cost.
        if let Some(empty) = S::without_fixtures() {
            self.fixtures = Some(empty);
            return None;
        }
        Some(Box::pin(async move {
            self.fixtures = S::setup_all(steps).await;
            self.fixtures.is_some()
        }))
    }

    fn body(&mut self) -> LocalBoxFuture<'_, Option<String>> {
        self.fixtures
            .as_mut()
            .and_then(|fixtures| self.body.start(fixtures))
            .unwrap_or_else(|| Box::pin(ready(None)))
    }

    fn repeatable(&self) -> bool {
        B::REPEATABLE
    }

    fn teardown<'a>(&'a mut self, steps: &'a mut Steps<'_>) -> Option<LocalBoxFuture<'a, ()>> {
        let fixtures = self.fixtures.take()?;
        if S::without_fixtures().is_some() {
            return None;
        }
        Some(Box::pin(fixtures.teardown_all(steps)))
    }
}
