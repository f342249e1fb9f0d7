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
    /// Tears down the fixtures that were set up. `None` for a test without fixtures.
    fn teardown<'a>(&'a mut self, steps: &'a mut Steps<'_>) -> Option<LocalBoxFuture<'a, ()>>;
}

/// A body and its fixtures, with the types the user wrote.
pub(crate) struct TypedTest<S, F, R> {
    fixtures: Option<S>,
    body: Option<F>,
    outcome: PhantomData<fn() -> R>,
}

impl<S, F, R> TypedTest<S, F, R> {
    pub(crate) fn new(body: F) -> Self {
        TypedTest {
            fixtures: None,
            body: Some(body),
            outcome: PhantomData,
        }
    }
}

impl<S, F, R> ErasedTest for TypedTest<S, F, R>
where
    S: FixtureSet,
    F: AsyncFnOnce(&mut S) -> R,
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
        match (self.fixtures.as_mut(), self.body.take()) {
            (Some(fixtures), Some(body)) => Box::pin(async move {
                let body = pin!(body(fixtures));
                let failure = ShortBacktrace(body).await.failure();
                failure.map(backtraces::trim)
            }),
            _ => Box::pin(ready(None)),
        }
    }

    fn teardown<'a>(&'a mut self, steps: &'a mut Steps<'_>) -> Option<LocalBoxFuture<'a, ()>> {
        let fixtures = self.fixtures.take()?;
        if S::without_fixtures().is_some() {
            return None;
        }
        Some(Box::pin(fixtures.teardown_all(steps)))
    }
}
