//! Tests that must pass, every time: each clean pattern runs through `Check` on both
//! multi-task flavors with the default settle, so a false alarm here is a real bug.

mod common;

use std::future::pending;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use leakcheck::{Check, Flavor, on_teardown};
use rstest::rstest;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

fn check(test: &str, flavor: Flavor) -> Check {
    Check::new(test).flavor(flavor)
}

#[rstest]
fn no_spawn(#[values(Flavor::CurrentThread, Flavor::MultiThread, Flavor::Local)] flavor: Flavor) {
    assert_passes(&check("no_spawn", flavor).run(|| async {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }));
}

#[rstest]
fn spawned_and_awaited(
    #[values(Flavor::CurrentThread, Flavor::MultiThread, Flavor::Local)] flavor: Flavor,
) {
    assert_passes(&check("spawned_and_awaited", flavor).run(|| async {
        let answer = tokio::spawn(async { 42 })
            .await
            .expect("the task completes");
        assert_eq!(answer, 42);
    }));
}

#[rstest]
fn aborted_without_awaiting(#[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor) {
    assert_passes(&check("aborted", flavor).run(|| async {
        tokio::spawn(pending::<()>()).abort();
    }));
}

#[rstest]
fn a_dropped_join_set(#[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor) {
    assert_passes(&check("dropped_join_set", flavor).run(|| async {
        let mut set = JoinSet::new();
        for _ in 0..10 {
            set.spawn(pending::<()>());
        }
        drop(set);
    }));
}

#[rstest]
fn a_detached_task_that_finishes_within_settle(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    assert_passes(&check("finishes_within_settle", flavor).run(|| async {
        drop(tokio::spawn(tokio::time::sleep(Duration::from_millis(30))));
    }));
}

#[rstest]
fn fan_out(#[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor) {
    let done = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&done);
    assert_passes(&check("fan_out", flavor).run(|| async move {
        let mut set = JoinSet::new();
        for _ in 0..500 {
            let counted = Arc::clone(&counted);
            set.spawn(async move {
                tokio::task::yield_now().await;
                counted.fetch_add(1, Ordering::Relaxed);
            });
        }
        while let Some(joined) = set.join_next().await {
            joined.expect("no task panics");
        }
    }));
    assert_eq!(done.load(Ordering::Relaxed), 500);
}

#[rstest]
fn an_hour_long_sleep_under_a_paused_clock(
    #[values(Flavor::CurrentThread, Flavor::Local)] flavor: Flavor,
) {
    let started = Instant::now();
    assert_passes(
        &check("paused_hour", flavor)
            .start_paused(true)
            .run(|| async {
                let sleeper = tokio::spawn(tokio::time::sleep(Duration::from_secs(3600)));
                tokio::time::sleep(Duration::from_secs(3600)).await;
                sleeper.await.expect("the sleeper completes");
            }),
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[rstest]
fn a_task_tracker_closed_and_waited(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    assert_passes(&check("task_tracker", flavor).run(|| async {
        let tracker = TaskTracker::new();
        for delay in 0..5 {
            tracker.spawn(tokio::time::sleep(Duration::from_millis(delay)));
        }
        tracker.close();
        tracker.wait().await;
    }));
}

#[rstest]
fn a_loop_stopped_by_a_cancellation_token(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    assert_passes(&check("cancelled_loop", flavor).run(|| async {
        let stop = CancellationToken::new();
        tokio::spawn({
            let stop = stop.clone();
            async move {
                loop {
                    tokio::select! {
                        () = stop.cancelled() => break,
                        () = tokio::time::sleep(Duration::from_millis(1)) => {}
                    }
                }
            }
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
        stop.cancel();
    }));
}

#[rstest]
fn spawn_blocking_awaited(
    #[values(Flavor::CurrentThread, Flavor::MultiThread, Flavor::Local)] flavor: Flavor,
) {
    assert_passes(&check("blocking_awaited", flavor).run(|| async {
        let sum = tokio::task::spawn_blocking(|| (1..=100u32).sum::<u32>())
            .await
            .expect("the blocking task completes");
        assert_eq!(sum, 5050);
    }));
}

#[test]
fn a_local_set() {
    assert_passes(&check("local_set", Flavor::CurrentThread).run(|| async {
        let local = tokio::task::LocalSet::new();
        let shared = std::rc::Rc::new(std::cell::Cell::new(0));
        local
            .run_until({
                let shared = std::rc::Rc::clone(&shared);
                async move {
                    tokio::task::spawn_local(async move { shared.set(7) })
                        .await
                        .expect("the local task completes");
                }
            })
            .await;
        assert_eq!(shared.get(), 7);
    }));
}

#[test]
fn spawn_local_on_the_local_flavor() {
    assert_passes(&check("spawn_local", Flavor::Local).run(|| async {
        let shared = std::rc::Rc::new(std::cell::Cell::new(0));
        let setter = std::rc::Rc::clone(&shared);
        tokio::task::spawn_local(async move { setter.set(9) })
            .await
            .expect("the local task completes");
        assert_eq!(shared.get(), 9);
    }));
}

#[rstest]
fn a_fixture_stopping_its_background_task_in_teardown(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    assert_passes(&check("heartbeat_fixture", flavor).run_with(
        async |(heartbeat,): &mut (Heartbeat,)| {
            tokio::time::sleep(Duration::from_millis(5)).await;
            assert!(!heartbeat.task.is_finished());
        },
    ));
}

#[rstest]
fn on_teardown_stopping_a_task(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    assert_passes(&check("hook_stops_task", flavor).run(|| async {
        let stop = CancellationToken::new();
        let streamer = tokio::spawn({
            let stop = stop.clone();
            async move { stop.cancelled().await }
        });
        on_teardown(async move {
            stop.cancel();
            streamer.await
        });
    }));
}

#[rstest]
fn on_teardown_from_a_spawned_task(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    assert_passes(&check("hook_from_task", flavor).run(|| async {
        tokio::spawn(async {
            let stop = CancellationToken::new();
            let child = tokio::spawn({
                let stop = stop.clone();
                async move { stop.cancelled().await }
            });
            on_teardown(async move {
                stop.cancel();
                child.await
            });
        })
        .await
        .expect("the registering task completes");
    }));
}

#[rstest]
fn order_of_a_run(#[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor) {
    take_events();
    assert_passes(
        &check("order", flavor).run_with(async |_: &mut (First, Second, Third)| {
            event("body");
            on_teardown(async { event("hook registered first") });
            on_teardown(async { event("hook registered last") });
        }),
    );
    assert_eq!(
        take_events(),
        [
            "setup First",
            "setup Second",
            "setup Third",
            "body",
            "hook registered last",
            "hook registered first",
            "teardown Third",
            "teardown Second",
            "teardown First",
        ]
    );
}

#[test]
fn teardown_deadline_is_known_only_during_teardown() {
    assert_eq!(leakcheck::teardown_deadline(), None);
    let timeout = Duration::from_secs(3);
    assert_passes(
        &check("deadline", Flavor::CurrentThread)
            .teardown_timeout(timeout)
            .run(|| async move {
                assert_eq!(
                    leakcheck::teardown_deadline(),
                    None,
                    "the body is not a teardown step"
                );
                let registered = Instant::now();
                on_teardown(async move {
                    let deadline =
                        leakcheck::teardown_deadline().expect("a hook knows its deadline");
                    assert!(deadline > registered && deadline <= Instant::now() + timeout);
                });
            }),
    );
}

#[test]
#[should_panic(expected = "on_teardown called at tests/clean_runs.rs")]
fn on_teardown_outside_a_leak_checked_test_panics_saying_so() {
    on_teardown(async {});
}
