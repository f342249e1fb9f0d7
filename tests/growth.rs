//! Leaks that grow: a repeated test (`repeat = N`) fails on what every repetition adds and
//! nothing lets go before teardown, and passes warm-up, churn and bounded caches.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use leakcheck::{AsyncFixture, BoxError, Check, Flavor, gauge, leak_checked_test};
use rstest::rstest;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

const REPETITIONS: usize = 10;

fn repeated(test: &str, flavor: Flavor) -> Check {
    leaky_check(test, flavor).repeat(REPETITIONS)
}

/// Watchers that only teardown stops, as a server stops its connection tasks on shutdown.
struct Watchers {
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl AsyncFixture for Watchers {
    async fn setup() -> Result<Self, BoxError> {
        Ok(Watchers {
            stop: CancellationToken::new(),
            tasks: TaskTracker::new(),
        })
    }

    async fn teardown(self) -> Result<(), BoxError> {
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
        Ok(())
    }
}

#[rstest]
fn tasks_kept_until_teardown_grow_with_every_repetition(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let spawn_line = line!() + 6;
    let report = repeated("watcher_per_request", flavor).run_repeatable_with(
        async |(watchers,): &mut (Watchers,)| {
            // A watcher added per request, stopped only at shutdown.
            watchers
                .tasks
                .spawn(watchers.stop.clone().cancelled_owned());
        },
    );
    assert_fails_saying(
        &report,
        &[
            "live tasks grew by 1 every repetition (10 repetitions, 2 warm-up)",
            "hint: what each repetition starts or keeps is never let go",
        ],
    );
    // Where the growing tasks come from, in the build that knows spawn sites.
    let site = format!("\n    tasks spawned at tests/growth.rs:{spawn_line}:");
    assert_eq!(
        report.to_string().contains(&site),
        cfg!(tokio_unstable),
        "{site:?} in\n{report}"
    );
    assert!(
        !report.to_string().contains("leaked"),
        "teardown stopped them all: nothing is left at the end\n{report}"
    );
}

/// A feed whose subscribers the test keeps, as a reconnect handler that never unbinds.
struct Feed {
    quotes: broadcast::Sender<u32>,
    subscribers: Vec<broadcast::Receiver<u32>>,
}

impl AsyncFixture for Feed {
    async fn setup() -> Result<Self, BoxError> {
        let (quotes, _) = broadcast::channel(16);
        let counted = quotes.clone();
        gauge("subscribers", move || counted.receiver_count());
        Ok(Feed {
            quotes,
            subscribers: Vec::new(),
        })
    }

    async fn teardown(self) -> Result<(), BoxError> {
        Ok(())
    }
}

#[rstest]
fn an_unbound_subscriber_grows_its_gauge(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let report = repeated("subscribes_on_reconnect", flavor).run_repeatable_with(
        async |(feed,): &mut (Feed,)| {
            let subscriber = feed.quotes.subscribe();
            feed.subscribers.push(subscriber);
        },
    );
    assert_fails_saying(
        &report,
        &["gauge `subscribers` grew by 1 every repetition (10 repetitions, 2 warm-up)"],
    );
}

#[rstest]
fn a_cache_with_no_eviction_grows_its_gauge(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let cache: Arc<Mutex<Vec<u64>>> = Arc::default();
    let mut request = 0;
    let report = repeated("caches_every_answer", flavor).run_repeatable(|| {
        request += 1;
        let cache = Arc::clone(&cache);
        async move {
            let entries = Arc::clone(&cache);
            gauge("cache entries", move || {
                entries.lock().map_or(0, |entries| entries.len())
            });
            cache
                .lock()
                .expect("the cache")
                .extend([request, request + 1]);
        }
    });
    assert_fails_saying(
        &report,
        &["gauge `cache entries` grew by 2 every repetition (10 repetitions, 2 warm-up)"],
    );
}

#[rstest]
fn in_warn_mode_growth_is_reported_and_passes(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let report = repeated("watcher_per_request_warned", flavor)
        .mode(leakcheck::Mode::Warn)
        .run_repeatable_with(async |(watchers,): &mut (Watchers,)| {
            watchers
                .tasks
                .spawn(watchers.stop.clone().cancelled_owned());
        });
    assert_passes(&report);
    assert!(
        report
            .to_string()
            .contains("live tasks grew by 1 every repetition"),
        "{report}"
    );
}

// --- What does not grow ------------------------------------------------------------------------

#[rstest]
fn warm_up_then_flat_churn_a_bounded_cache_and_subscribe_and_drop_pass(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    // A pool that starts its three workers on first use, then reuses them.
    let report = repeated("pool_fills_then_reuses", flavor).run_repeatable_with(
        async |(watchers,): &mut (Watchers,)| {
            while watchers.tasks.len() < 3 {
                watchers
                    .tasks
                    .spawn(watchers.stop.clone().cancelled_owned());
            }
        },
    );
    assert_passes(&report);

    // Churn: work started and awaited within the repetition.
    let report = repeated("spawns_and_awaits", flavor).run_repeatable(|| async {
        tokio::spawn(async {}).await.expect("the task completes");
    });
    assert_passes(&report);

    // A cache that keeps at most four entries.
    let cache: Arc<Mutex<Vec<u64>>> = Arc::default();
    let entries = Arc::clone(&cache);
    let mut request = 0;
    let report = repeated("bounded_cache", flavor).run_repeatable(|| {
        request += 1;
        let (cache, entries) = (Arc::clone(&cache), Arc::clone(&entries));
        async move {
            gauge("cache entries", move || {
                entries.lock().map_or(0, |entries| entries.len())
            });
            let mut cache = cache.lock().expect("the cache");
            cache.push(request);
            if cache.len() > 4 {
                cache.remove(0);
            }
        }
    });
    assert_passes(&report);

    // A subscriber taken and dropped in each repetition.
    let report =
        repeated("subscribe_and_drop", flavor).run_repeatable_with(async |(feed,): &mut (Feed,)| {
            let subscriber = feed.quotes.subscribe();
            drop(subscriber);
        });
    assert_passes(&report);
}

#[test]
fn a_body_that_runs_once_is_not_repeated() {
    let mut runs = 0;
    let report = repeated("runs_once", Flavor::CurrentThread).run(|| {
        runs += 1;
        async {}
    });
    assert_passes(&report);
    assert_eq!(runs, 1);
}

#[leak_checked_test(repeat = 5)]
async fn the_attribute_repeats_a_clean_body() {
    tokio::spawn(async {}).await.expect("the task completes");
}
