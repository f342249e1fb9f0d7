//! Fixtures: resources a test borrows, set up before its body and torn down after it.

use std::error::Error;
use std::future::Future;

use crate::run::steps::Steps;

/// The error type of fixture setup and teardown: any error, boxed.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// A resource with asynchronous setup and teardown, borrowed by a leak-checked test.
///
/// A test takes fixtures as arguments, `feed: &Feed` or `feed: &mut Feed`. The harness sets
/// them up in argument order before the body and tears them down in reverse order after it,
/// whether the body passed, failed, panicked or timed out. Unlike `Drop`, teardown can await:
/// close a connection, cancel a task and wait for it to stop.
///
/// * A `setup` that fails, panics or outlives the test's `timeout` fails the test; the
///   fixtures set up before it are torn down.
/// * Each `teardown` runs under `teardown_timeout`; one that fails, panics or times out is
///   reported and the remaining teardowns still run.
/// * A teardown can read its deadline with [`teardown_deadline`](crate::teardown_deadline) and
///   report what is still running before it passes.
///
/// # Examples
///
/// ```
/// use leakcheck::{AsyncFixture, BoxError, leak_checked_test};
/// use tokio::task::JoinHandle;
/// use tokio_util::sync::CancellationToken;
///
/// struct Ticker {
///     stop: CancellationToken,
///     task: JoinHandle<()>,
/// }
///
/// impl AsyncFixture for Ticker {
///     async fn setup() -> Result<Self, BoxError> {
///         let stop = CancellationToken::new();
///         let task = tokio::spawn({
///             let stop = stop.clone();
///             async move {
///                 let mut tick = tokio::time::interval(std::time::Duration::from_millis(10));
///                 loop {
///                     tokio::select! {
///                         _ = stop.cancelled() => break,
///                         _ = tick.tick() => {}
///                     }
///                 }
///             }
///         });
///         Ok(Ticker { stop, task })
///     }
///
///     async fn teardown(self) -> Result<(), BoxError> {
///         self.stop.cancel();
///         self.task.await?;
///         Ok(())
///     }
/// }
///
/// #[leak_checked_test(start_paused = true)]
/// async fn ticks(ticker: &Ticker) {
///     tokio::time::sleep(std::time::Duration::from_secs(1)).await;
///     assert!(!ticker.task.is_finished());
/// }
/// # fn main() {}
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a fixture",
    label = "a test argument must be a fixture",
    note = "implement `leakcheck::AsyncFixture` for `{Self}`, with async `setup` and `teardown`"
)]
pub trait AsyncFixture: Sized {
    /// Creates the fixture before the test body runs.
    fn setup() -> impl Future<Output = Result<Self, BoxError>>;

    /// Releases the fixture after the test body, awaiting whatever must stop.
    fn teardown(self) -> impl Future<Output = Result<(), BoxError>>;
}

/// The fixtures of one test, as a tuple: `()`, `(A,)`, `(A, B)`, ... up to 12.
///
/// [`Check::run_with`](crate::Check::run_with) sets them up in tuple order and tears them down
/// in reverse. The trait is sealed; it exists for those tuples.
pub trait FixtureSet: Sized + sealed::Chain {}

impl<S: sealed::Chain> FixtureSet for S {}

pub(crate) mod sealed {
    use super::*;

    pub trait Chain: Sized {
        /// The set, if it holds no fixture: nothing to set up or tear down, so the run need
        /// not make a step of it.
        fn without_fixtures() -> Option<Self> {
            None
        }
        /// Sets up every fixture in order, or tears down those already set up and gives none.
        fn setup_all(steps: &mut Steps<'_>) -> impl Future<Output = Option<Self>>;
        /// Tears down every fixture, last first.
        fn teardown_all(self, steps: &mut Steps<'_>) -> impl Future<Output = ()>;
    }

    impl Chain for () {
        fn without_fixtures() -> Option<Self> {
            Some(())
        }

        async fn setup_all(_: &mut Steps<'_>) -> Option<Self> {
            Some(())
        }

        async fn teardown_all(self, _: &mut Steps<'_>) {}
    }

    macro_rules! chain_tuples {
        () => {};
        ($head:ident $(, $tail:ident)*) => {
            #[allow(non_snake_case)]
            impl<$head: AsyncFixture, $($tail: AsyncFixture),*> Chain for ($head, $($tail,)*) {
                async fn setup_all(steps: &mut Steps<'_>) -> Option<Self> {
                    let $head = steps.setup::<$head>().await?;
                    match <($($tail,)*) as Chain>::setup_all(steps).await {
                        Some(($($tail,)*)) => Some(($head, $($tail,)*)),
                        None => {
                            steps.teardown($head).await;
                            None
                        }
                    }
                }

                async fn teardown_all(self, steps: &mut Steps<'_>) {
                    let ($head, $($tail,)*) = self;
                    ($($tail,)*).teardown_all(steps).await;
                    steps.teardown($head).await;
                }
            }
            chain_tuples!($($tail),*);
        };
    }

    chain_tuples!(A, B, C, D, E, F, G, H, I, J, K, L);
}

/// A type's name without module paths: `Pool<Conn>` for `my_app::db::Pool<my_app::db::Conn>`.
pub(crate) fn short_type_name<T: ?Sized>() -> String {
    let full = std::any::type_name::<T>();
    let mut short = String::with_capacity(full.len());
    let mut segment_start = 0;
    for (index, character) in full.char_indices() {
        let in_path = character.is_alphanumeric() || character == '_' || character == ':';
        if !in_path {
            short.push_str(last_segment(&full[segment_start..index]));
            short.push(character);
            segment_start = index + character.len_utf8();
        }
    }
    short.push_str(last_segment(&full[segment_start..]));
    short
}

fn last_segment(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::short_type_name;

    mod db {
        pub struct Pool<T>(#[allow(dead_code)] T);
        pub struct Conn;
    }

    #[test]
    fn fixture_names_drop_module_paths_also_inside_generics() {
        assert_eq!(short_type_name::<db::Pool<db::Conn>>(), "Pool<Conn>");
        assert_eq!(short_type_name::<(db::Conn, u8)>(), "(Conn, u8)");
        assert_eq!(short_type_name::<db::Conn>(), "Conn");
    }
}
