//! The WebSocket fixture (feature `websocket`): a real handshake, a real close handshake, and
//! faults reported in plain words.

mod common;

use std::future::pending;
use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use leakcheck::fixtures::WebSocket;
use leakcheck::{AsyncFixture, BoxError, Flavor, leak_checked_test};
use rstest::rstest;
use tokio_tungstenite::tungstenite::Message;

#[leak_checked_test(flavor = "multi_thread")]
async fn echoes_and_closes_cleanly(socket: &mut WebSocket) {
    socket
        .client
        .send(Message::text("BTC 97000"))
        .await
        .expect("sends");
    let echoed = socket
        .client
        .next()
        .await
        .expect("a reply")
        .expect("a message");
    assert_eq!(echoed, Message::text("BTC 97000"));
    let mut second = socket.connect().await.expect("a second client connects");
    second
        .send(Message::binary(vec![1, 2, 3]))
        .await
        .expect("sends");
    let echoed = second.next().await.expect("a reply").expect("a message");
    assert_eq!(echoed, Message::binary(vec![1, 2, 3]));
    second.close(None).await.expect("the second client closes");
    while second.next().await.is_some() {}
}

/// A server that pushes prices and then hangs up mid-test.
struct HangsUp(WebSocket);

impl AsyncFixture for HangsUp {
    async fn setup() -> Result<Self, BoxError> {
        let server = WebSocket::builder()
            .handler(|mut socket| async move {
                let _ = socket.send(Message::text("last price")).await;
                drop(socket);
            })
            .start()
            .await?;
        Ok(HangsUp(server))
    }

    async fn teardown(self) -> Result<(), BoxError> {
        self.0.close().await
    }
}

#[leak_checked_test]
async fn a_server_hanging_up_ends_the_clients_stream(server: &mut HangsUp) {
    let first = server
        .0
        .client
        .next()
        .await
        .expect("one message")
        .expect("readable");
    assert_eq!(first, Message::text("last price"));
    match server.0.client.next().await {
        None | Some(Err(_)) => {}
        Some(Ok(message)) => panic!("expected the end of the stream, got {message:?}"),
    }
}

/// A server that never answers a Close frame, nor reads anything.
struct Deaf(WebSocket);

impl AsyncFixture for Deaf {
    async fn setup() -> Result<Self, BoxError> {
        let server = WebSocket::builder()
            .handler(|socket| async move {
                let _keep = socket;
                pending::<()>().await
            })
            .start()
            .await?;
        Ok(Deaf(server))
    }

    async fn teardown(self) -> Result<(), BoxError> {
        self.0.close().await
    }
}

#[rstest]
fn a_server_that_never_closes_fails_teardown_in_time(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let report = leaky_check("deaf_server", flavor)
        .teardown_timeout(Duration::from_millis(300))
        .run_with(async |_: &mut (Deaf,)| {});
    assert_fails_saying(
        &report,
        &[
            "teardown of fixture `Deaf` failed: WebSocket: the server at 127.0.0.1:",
            "did not complete the close handshake within",
        ],
    );
}

/// A server whose handler panics on the first message.
struct Explodes(WebSocket);

impl AsyncFixture for Explodes {
    async fn setup() -> Result<Self, BoxError> {
        let server = WebSocket::builder()
            .handler(|mut socket| async move {
                let _ = socket.next().await;
                panic!("malformed order");
            })
            .start()
            .await?;
        Ok(Explodes(server))
    }

    async fn teardown(self) -> Result<(), BoxError> {
        self.0.close().await
    }
}

#[test]
fn a_panicking_handler_fails_the_test_with_its_message() {
    let report = leaky_check("exploding_ws_handler", Flavor::MultiThread).run_with(
        async |(server,): &mut (Explodes,)| {
            server
                .0
                .client
                .send(Message::text("{"))
                .await
                .expect("sends");
            tokio::time::sleep(Duration::from_millis(20)).await;
        },
    );
    assert_fails_saying(
        &report,
        &[
            "a spawned task panicked at tests/websocket.rs:",
            ": malformed order",
        ],
    );
}
