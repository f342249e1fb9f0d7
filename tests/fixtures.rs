//! The provided fixtures: really connected, always torn down, faults reported in plain words.

mod common;

use std::future::pending;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use leakcheck::fixtures::{Duplex, Loopback, TaskScope};
use leakcheck::{AsyncFixture, BoxError, Check, Flavor, leak_checked_test};
use rstest::rstest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[leak_checked_test(flavor = "multi_thread")]
async fn a_task_scope_stops_its_tasks(scope: &TaskScope) {
    for _ in 0..4 {
        let stop = scope.token();
        scope.spawn(async move {
            while stop
                .run_until_cancelled(tokio::time::sleep(Duration::from_millis(1)))
                .await
                .is_some()
            {}
        });
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
}

#[leak_checked_test]
async fn a_duplex_carries_bytes_both_ways(pipe: &mut Duplex) {
    pipe.client
        .write_all(b"PING")
        .await
        .expect("the client writes");
    let mut request = [0; 4];
    pipe.server
        .read_exact(&mut request)
        .await
        .expect("the server reads");
    pipe.server
        .write_all(b"PONG")
        .await
        .expect("the server writes");
    let mut reply = [0; 4];
    pipe.client
        .read_exact(&mut reply)
        .await
        .expect("the client reads");
    assert_eq!((&request, &reply), (b"PING", b"PONG"));
}

#[leak_checked_test(flavor = "multi_thread")]
async fn loopback_echoes_to_every_client(server: &mut Loopback) {
    server.client.write_all(b"first").await.expect("writes");
    let mut second = server.connect().await.expect("a second client connects");
    second.write_all(b"second").await.expect("writes");
    let mut echoed = [0; 6];
    second.read_exact(&mut echoed).await.expect("reads");
    assert_eq!(&echoed, b"second");
    let mut echoed = [0; 5];
    server.client.read_exact(&mut echoed).await.expect("reads");
    assert_eq!(&echoed, b"first");
    second.shutdown().await.expect("the second client closes");
}

#[rstest]
fn loopback_leaves_no_port_bound(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let address: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
    let seen = Arc::clone(&address);
    let report =
        Check::new("port_released")
            .flavor(flavor)
            .run_with(async |(server,): &mut (Loopback,)| {
                *seen.lock().expect("not poisoned") = Some(server.address());
            });
    assert_passes(&report);
    let address = address
        .lock()
        .expect("not poisoned")
        .expect("the test saw the address");
    std::net::TcpListener::bind(address).expect("the port is free again after teardown");
}

#[leak_checked_test]
async fn a_server_dropping_the_connection_is_an_end_of_stream_for_the_client(server: &mut HangsUp) {
    let mut byte = [0; 1];
    let read = server
        .0
        .client
        .read(&mut byte)
        .await
        .expect("the read ends cleanly");
    assert_eq!(read, 0, "the server hung up");
}

/// A server that closes every connection at once, wrapped in a fixture of its own.
struct HangsUp(Loopback);

impl AsyncFixture for HangsUp {
    async fn setup() -> Result<Self, BoxError> {
        Ok(HangsUp(
            Loopback::builder()
                .handler(|connection| async move { drop(connection) })
                .start()
                .await?,
        ))
    }

    async fn teardown(self) -> Result<(), BoxError> {
        self.0.close().await
    }
}

// Faults, each reported as failing with words that say what happened.

#[rstest]
fn a_task_that_ignores_the_scope_token_fails_naming_the_scope(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let report = leaky_check("stubborn_task", flavor)
        .teardown_timeout(Duration::from_millis(300))
        .run_with(async |(scope,): &mut (TaskScope,)| {
            scope.spawn(pending::<()>());
        });
    assert_fails_saying(
        &report,
        &[
            "teardown of fixture `TaskScope` failed: TaskScope: 1 task did not stop within ",
            "of cancellation; have each task watch TaskScope::token()",
        ],
    );
}

/// A server whose handler never returns.
/// A server whose handler never returns, and word that it has started: until the server has
/// accepted the client's connection there is no handler to wait for.
struct Stuck(Loopback, Arc<tokio::sync::Notify>);

impl AsyncFixture for Stuck {
    async fn setup() -> Result<Self, BoxError> {
        let started = Arc::new(tokio::sync::Notify::new());
        let handler_started = Arc::clone(&started);
        let server = Loopback::builder()
            .handler(move |_connection| {
                handler_started.notify_one();
                pending::<()>()
            })
            .start()
            .await?;
        Ok(Stuck(server, started))
    }

    async fn teardown(self) -> Result<(), BoxError> {
        self.0.close().await
    }
}

#[rstest]
fn a_handler_that_never_returns_is_bounded_and_reported(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let report = leaky_check("stuck_handler", flavor)
        .teardown_timeout(Duration::from_millis(300))
        .run_with(async |(stuck,): &mut (Stuck,)| stuck.1.notified().await);
    assert_fails_saying(
        &report,
        &[
            "teardown of fixture `Stuck` failed: Loopback: 1 connection handler for 127.0.0.1:",
            "did not return within",
        ],
    );
}

/// A server whose handler panics on the first connection.
struct Explodes(Loopback);

impl AsyncFixture for Explodes {
    async fn setup() -> Result<Self, BoxError> {
        let server = Loopback::builder()
            .handler(|_connection| async move { panic!("handler exploded") })
            .start()
            .await?;
        Ok(Explodes(server))
    }

    async fn teardown(self) -> Result<(), BoxError> {
        self.0.close().await
    }
}

#[rstest]
fn a_panicking_handler_fails_the_test_with_its_message(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let report = leaky_check("exploding_handler", flavor).run_with(async |_: &mut (Explodes,)| {
        tokio::time::sleep(Duration::from_millis(20)).await;
    });
    assert_fails_saying(
        &report,
        &[
            "a spawned task panicked at tests/fixtures.rs:",
            ": handler exploded",
        ],
    );
}

/// A client of a server that is already gone.
struct Refused;

impl AsyncFixture for Refused {
    async fn setup() -> Result<Self, BoxError> {
        let server = Loopback::builder().start().await?;
        let address = server.address();
        server.close().await?;
        let _client = tokio::net::TcpStream::connect(address)
            .await
            .map_err(|error| format!("could not connect to {address}: {error}"))?;
        Ok(Refused)
    }

    async fn teardown(self) -> Result<(), BoxError> {
        Ok(())
    }
}

#[test]
fn a_refused_connection_fails_setup_with_the_address() {
    let report =
        leaky_check("refused", Flavor::CurrentThread).run_with(async |_: &mut (First, Refused)| {});
    assert_fails_saying(
        &report,
        &[
            "fixture `Refused` setup failed: could not connect to 127.0.0.1:",
            "refused",
        ],
    );
    assert_eq!(take_events(), ["setup First", "teardown First"]);
}

/// The reconnecting-client pattern, composed from provided fixtures: the client's reconnect
/// loop runs in a `TaskScope` the fixture owns, so teardown stops it, then the server.
struct FeedClient {
    server: Loopback,
    reconnects: TaskScope,
    ticks: Arc<std::sync::atomic::AtomicUsize>,
}

impl AsyncFixture for FeedClient {
    async fn setup() -> Result<Self, BoxError> {
        // A server that sends one tick per connection and hangs up: the client must reconnect.
        let server = Loopback::builder()
            .handler(|mut connection| async move {
                let _ = connection.write_all(b"tick").await;
            })
            .start()
            .await?;
        let reconnects = TaskScope::new();
        let ticks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (address, stop, counted) = (server.address(), reconnects.token(), Arc::clone(&ticks));
        reconnects.spawn(async move {
            while !stop.is_cancelled() {
                let connected = stop.run_until_cancelled(tokio::net::TcpStream::connect(address));
                if let Some(Ok(mut connection)) = connected.await {
                    let mut tick = [0; 4];
                    if let Some(Ok(_)) = stop
                        .run_until_cancelled(connection.read_exact(&mut tick))
                        .await
                    {
                        counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                }
                stop.run_until_cancelled(tokio::time::sleep(Duration::from_millis(5)))
                    .await;
            }
        });
        Ok(FeedClient {
            server,
            reconnects,
            ticks,
        })
    }

    async fn teardown(self) -> Result<(), BoxError> {
        self.reconnects.shutdown().await?;
        self.server.close().await
    }
}

#[leak_checked_test(flavor = "multi_thread")]
async fn a_reconnecting_client_owned_by_its_fixture_stops_in_teardown(feed: &FeedClient) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while feed.ticks.load(std::sync::atomic::Ordering::SeqCst) < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the client did not reconnect"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
