//! `#[leak_checked_test]` as users write it: options, fixtures, return types, and the
//! attributes it must live with (should_panic, ignore, rstest, serial_test).

mod common;

use std::future::pending;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::*;
use leakcheck::{AsyncFixture, BoxError, leak_checked_test, on_teardown};
use rstest::{fixture, rstest};
use serial_test::serial;

#[leak_checked_test]
async fn awaits_what_it_spawns() {
    let task = tokio::spawn(async { 40 + 2 });
    assert_eq!(task.await.expect("the task completes"), 42);
}

#[leak_checked_test]
async fn returns_ok() -> Result<(), BoxError> {
    let value: u32 = "17".parse()?;
    assert_eq!(value, 17);
    Ok(())
}

#[leak_checked_test]
#[should_panic(expected = "the test returned an error: ")]
async fn returning_err_fails() -> Result<(), BoxError> {
    Err("order rejected".into())
}

#[leak_checked_test(settle = "50ms")]
#[should_panic(expected = "1 task leaked (still alive 50ms after the test and its teardown)")]
async fn a_leak_fails_with_the_report_as_its_message() {
    tokio::spawn(pending::<()>());
}

#[leak_checked_test(flavor = "multi_thread", settle = "50ms")]
#[should_panic(expected = "2 tasks leaked")]
async fn leaks_are_counted_on_multi_thread() {
    tokio::spawn(pending::<()>());
    tokio::spawn(pending::<()>());
}

#[leak_checked_test(flavor = "multi_thread")]
#[should_panic(expected = "a spawned task panicked at tests/attribute.rs:")]
async fn a_detached_panic_fails_the_test() {
    drop(tokio::spawn(async { panic!("lost") }));
    tokio::time::sleep(Duration::from_millis(20)).await;
}

#[leak_checked_test]
#[should_panic(expected = "fills do not match")]
async fn a_body_panic_reaches_should_panic_with_its_own_message() {
    panic!("fills do not match");
}

#[leak_checked_test(timeout = "100ms")]
#[should_panic(expected = "the test timed out after 100ms")]
async fn a_hung_body_times_out() {
    pending::<()>().await;
}

#[leak_checked_test(teardown_timeout = "100ms")]
#[should_panic(expected = "teardown of fixture `HangingTeardown` timed out after 100ms")]
async fn a_hung_teardown_times_out(_stuck: &HangingTeardown) {}

#[leak_checked_test]
#[should_panic(expected = "fixture `RefusedConnection` setup failed: connection refused")]
async fn a_failed_setup_fails_the_test(_connection: &RefusedConnection) {
    unreachable!("the body does not run without its fixtures");
}

#[leak_checked_test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_on_the_workers_it_asked_for() {
    assert_eq!(tokio::runtime::Handle::current().metrics().num_workers(), 2);
}

#[leak_checked_test(flavor = "local")]
async fn spawn_local_works_on_the_local_flavor() {
    let shared = std::rc::Rc::new(std::cell::Cell::new(0));
    let setter = std::rc::Rc::clone(&shared);
    tokio::task::spawn_local(async move { setter.set(3) })
        .await
        .expect("the local task completes");
    assert_eq!(shared.get(), 3);
}

#[leak_checked_test(start_paused = true)]
async fn a_paused_clock_skips_an_hour() {
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[leak_checked_test(crate = "leakcheck")]
async fn the_crate_path_can_be_named() {}

/// Fails its teardown unless the fixture torn down just before it is `expected_before`.
macro_rules! ordered_fixture {
    ($name:ident, $expected_before:expr) => {
        struct $name;

        impl AsyncFixture for $name {
            async fn setup() -> Result<Self, BoxError> {
                event(stringify!($name));
                Ok($name)
            }

            async fn teardown(self) -> Result<(), BoxError> {
                let events = take_events();
                let last = events.last().map(String::as_str);
                event(stringify!($name));
                if last == Some($expected_before) {
                    Ok(())
                } else {
                    Err(format!("{} torn down after {last:?}", stringify!($name)).into())
                }
            }
        }
    };
}

ordered_fixture!(Database, "Feed");
ordered_fixture!(Feed, "hook");

#[leak_checked_test]
async fn fixtures_set_up_in_order_and_tear_down_in_reverse(database: &Database, feed: &mut Feed) {
    let (_, _): (&Database, &mut Feed) = (database, feed);
    assert_eq!(take_events(), ["Database", "Feed"]);
    on_teardown(async { event("hook") });
}

#[leak_checked_test(flavor = "multi_thread")]
async fn a_fixture_with_a_background_task(heartbeat: &Heartbeat) {
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(!heartbeat.task.is_finished());
}

#[leak_checked_test]
#[ignore = "run by child_process.rs, which checks the attribute survives"]
async fn ignored_and_leaky() {
    tokio::spawn(pending::<()>());
}

#[rstest]
#[case(1)]
#[case(8)]
#[leakcheck::test]
async fn rstest_cases_are_each_leak_checked(#[case] tasks: usize) {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks {
        set.spawn(async {});
    }
    assert_eq!(set.join_all().await.len(), tasks);
}

#[rstest]
#[case(tokio::runtime::RuntimeFlavor::MultiThread)]
#[test_attr(leak_checked_test(flavor = "multi_thread"))]
async fn rstest_test_attr_form(#[case] flavor: tokio::runtime::RuntimeFlavor) {
    assert_eq!(tokio::runtime::Handle::current().runtime_flavor(), flavor);
}

#[rstest]
#[case::leaky(1)]
#[should_panic(expected = "1 task leaked")]
#[leakcheck::test(settle = "50ms")]
async fn a_leaky_rstest_case_fails(#[case] tasks: usize) {
    for _ in 0..tasks {
        tokio::spawn(pending::<()>());
    }
}

#[fixture]
fn symbols() -> Vec<&'static str> {
    vec!["BTC-USD", "ETH-USD"]
}

#[rstest]
#[leakcheck::test]
async fn rstest_fixtures_and_leakcheck_fixtures_together(
    symbols: Vec<&'static str>,
    #[ignore] heartbeat: &Heartbeat,
) {
    assert_eq!(symbols.len(), 2);
    assert!(!heartbeat.task.is_finished());
}

static SERIAL_RUNNING: AtomicBool = AtomicBool::new(false);

async fn alone_for_a_while() {
    assert!(
        !SERIAL_RUNNING.swap(true, Ordering::SeqCst),
        "a #[serial] test ran alongside another"
    );
    tokio::time::sleep(Duration::from_millis(30)).await;
    SERIAL_RUNNING.store(false, Ordering::SeqCst);
}

#[leak_checked_test]
#[serial]
async fn serial_after_the_attribute() {
    alone_for_a_while().await;
}

#[serial]
#[leak_checked_test]
async fn serial_before_the_attribute() {
    alone_for_a_while().await;
}

// serial_test rewrites an async fn without its arguments, so with fixtures it goes below.
#[leak_checked_test(flavor = "multi_thread")]
#[serial]
async fn serial_with_a_fixture(heartbeat: &Heartbeat) {
    alone_for_a_while().await;
    assert!(!heartbeat.task.is_finished());
}
