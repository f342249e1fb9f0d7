//! The classic leaks of the tour, as `#[leak_checked_test]` tests: each fixed version passes,
//! each leaky one fails with the words of its report (`should_panic(expected = ...)` reads the
//! report, which is the failing test's panic message).

#[path = "../examples/classic/blocking_call.rs"]
#[allow(dead_code)] // the examples use the rest
mod blocking_call;
#[path = "../examples/classic/blocking_task.rs"]
#[allow(dead_code)] // the examples use the rest
mod blocking_task;
#[path = "../examples/classic/detached_panic.rs"]
#[allow(dead_code)] // the examples use the rest
mod detached_panic;
#[path = "../examples/classic/fire_and_forget.rs"]
#[allow(dead_code)] // the examples use the rest
mod fire_and_forget;
#[path = "../examples/classic/handler_per_reconnect.rs"]
#[allow(dead_code)] // the examples use the rest
mod handler_per_reconnect;
#[path = "../examples/classic/hung_teardown.rs"]
#[allow(dead_code)] // the examples use the rest
mod hung_teardown;
#[path = "../examples/classic/reconnect_loop.rs"]
#[allow(dead_code)] // the examples use the rest
mod reconnect_loop;
#[path = "../examples/classic/show.rs"]
#[allow(dead_code)] // the classic leaks name their scenario in it
mod show;
#[path = "../examples/classic/unclosed_connection.rs"]
#[allow(dead_code)] // the examples use the rest
mod unclosed_connection;

use hung_teardown::Feed;
use leakcheck::{BoxError, leak_checked_test};
use unclosed_connection::EchoServer;

#[leak_checked_test(flavor = "multi_thread", settle = "50ms")]
#[should_panic(expected = "1 task leaked")]
async fn fire_and_forget_leaks() {
    fire_and_forget::leaky_test().await;
}

#[leak_checked_test(flavor = "multi_thread")]
async fn fire_and_forget_fixed() -> Result<(), tokio::task::JoinError> {
    fire_and_forget::fixed_test().await
}

#[leak_checked_test(settle = "50ms")]
#[should_panic(expected = "1 task leaked")]
async fn reconnect_loop_leaks() {
    reconnect_loop::leaky_test().await;
}

#[leak_checked_test]
async fn reconnect_loop_fixed() {
    reconnect_loop::fixed_test().await;
}

#[leak_checked_test(flavor = "multi_thread", settle = "50ms", teardown_timeout = "300ms")]
#[should_panic(expected = "teardown of fixture `EchoServer` timed out after 300ms")]
async fn unclosed_connection_leaks(server: &mut EchoServer) -> Result<(), BoxError> {
    unclosed_connection::leaky_test(server).await
}

#[leak_checked_test(flavor = "multi_thread")]
async fn unclosed_connection_fixed(server: &mut EchoServer) -> Result<(), BoxError> {
    unclosed_connection::fixed_test(server).await
}

#[leak_checked_test(flavor = "multi_thread")]
#[should_panic(expected = "prices are numbers")]
async fn detached_panic_fails() {
    detached_panic::leaky_test().await;
}

#[leak_checked_test]
async fn detached_panic_fixed() -> Result<(), String> {
    detached_panic::fixed_test().await
}

#[leak_checked_test(settle = "50ms", teardown_timeout = "300ms")]
#[should_panic(expected = "teardown of fixture `Feed<false>` timed out after 300ms")]
async fn hung_teardown_fails(feed: &Feed<false>) {
    hung_teardown::leaky_test(feed).await;
}

#[leak_checked_test]
async fn hung_teardown_fixed(feed: &Feed<true>) {
    hung_teardown::fixed_test(feed).await;
}

#[leak_checked_test(settle = "50ms")]
#[should_panic(expected = "1 blocking task leaked")]
async fn blocking_task_leaks() {
    blocking_task::leaky_test().await;
}

#[leak_checked_test]
async fn blocking_task_fixed() -> Result<(), tokio::task::JoinError> {
    blocking_task::fixed_test().await
}

#[leak_checked_test(max_poll = "300ms")]
#[should_panic(expected = "the test body blocked its thread for at least")]
async fn blocking_call_blocks() {
    blocking_call::leaky_test().await;
}

#[leak_checked_test(max_poll = "300ms")]
async fn blocking_call_fixed() -> Result<(), tokio::task::JoinError> {
    blocking_call::fixed_test().await
}

#[leak_checked_test(flavor = "multi_thread", repeat = 12)]
#[should_panic(
    expected = "gauge `quote handlers` grew by 1 every repetition (12 repetitions, 3 warm-up)"
)]
async fn handler_per_reconnect_grows(feed: &mut handler_per_reconnect::Feed) {
    handler_per_reconnect::leaky_test(feed).await;
}

#[leak_checked_test(flavor = "multi_thread", repeat = 12)]
async fn handler_per_reconnect_fixed(feed: &mut handler_per_reconnect::Feed) {
    handler_per_reconnect::fixed_test(feed).await;
}

#[test]
fn the_tour_shows_the_code_that_leaks_beside_its_report() {
    let shown = show::leaky_code(fire_and_forget::SCENARIO.source);
    assert!(
        shown.starts_with("      pub async fn leaky_test() {\n")
            && shown.contains("tokio::spawn(publish_prices(CancellationToken::new()));\n")
            && shown.ends_with("      }\n"),
        "{shown}"
    );
    // A fixture's leak is in its teardown, which the file marks for the tour.
    let shown = show::leaky_code(hung_teardown::SCENARIO.source);
    assert!(
        shown.contains("self.task.await?;")
            && shown.contains("      ...\n      pub async fn leaky_test(_feed: &Feed<false>) {}\n"),
        "{shown}"
    );
}
