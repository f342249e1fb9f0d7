//! [`gauge`]: a count only the test's code knows, watched by a repeated test.

use std::panic::Location;
use std::sync::Arc;

use crate::run::state;

/// Watches a count a repeated test (`repeat = N`) should not see grow: read after every
/// repetition, it fails the test when it grows with each one after the warm-up, as live tasks
/// do. For what only the code knows: a `broadcast::Sender`'s `receiver_count`, a handler map's
/// length, a pool's size. Registering a name again replaces the earlier gauge. Call it from the
/// body or a fixture's setup.
///
/// # Panics
///
/// Panics when called outside a leak-checked test.
///
/// # Examples
///
/// ```
/// use leakcheck::{gauge, leak_checked_test};
/// use tokio::sync::broadcast;
///
/// #[leak_checked_test(repeat = 10)]
/// async fn each_subscriber_is_dropped() {
///     let (quotes, _) = broadcast::channel::<u32>(16);
///     let counted = quotes.clone();
///     gauge("subscribers", move || counted.receiver_count());
///     let subscriber = quotes.subscribe();
///     drop(subscriber);
/// }
/// # fn main() {}
/// ```
#[track_caller]
pub fn gauge(name: impl Into<String>, read: impl Fn() -> usize + Send + Sync + 'static) {
    let location = Location::caller();
    let Some(run) = state::current() else {
        panic!(
            "leakcheck::gauge called at {location} outside a leak-checked test: \
             call it from a #[leak_checked_test] body or a fixture's setup"
        );
    };
    run.gauges.set(name.into(), Arc::new(read));
}
