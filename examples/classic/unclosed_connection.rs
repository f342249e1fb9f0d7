//! A client handed to a task that outlives the test: the connection is never closed, and the
//! server waits for it in teardown.
//!
//! Shared by `examples/unclosed_connection.rs` and the tour; each version runs through the `Check` it is
//! given.

use std::future::pending;

use leakcheck::{AsyncFixture, BoxError, Check, Report};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// An echo server that serves each connection in a task of its own, tracked so teardown can
/// wait for them.
pub struct EchoServer {
    address: String,
    stop: CancellationToken,
    connections: TaskTracker,
    acceptor: JoinHandle<()>,
}

impl EchoServer {
    async fn start() -> Result<Self, BoxError> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let stop = CancellationToken::new();
        let connections = TaskTracker::new();
        let acceptor = tokio::spawn({
            let (stop, connections) = (stop.clone(), connections.clone());
            async move {
                loop {
                    let accepted = tokio::select! {
                        () = stop.cancelled() => return,
                        accepted = listener.accept() => accepted,
                    };
                    if let Ok((mut socket, _)) = accepted {
                        connections.spawn(async move {
                            let mut buffer = [0; 1024];
                            // Echo until the client closes its side.
                            while let Ok(read @ 1..) = socket.read(&mut buffer).await {
                                if socket.write_all(&buffer[..read]).await.is_err() {
                                    return;
                                }
                            }
                        });
                    }
                }
            }
        });
        Ok(EchoServer {
            address,
            stop,
            connections,
            acceptor,
        })
    }
}

impl AsyncFixture for EchoServer {
    async fn setup() -> Result<Self, BoxError> {
        EchoServer::start().await
    }

    async fn teardown(self) -> Result<(), BoxError> {
        self.stop.cancel();
        self.acceptor.await?;
        self.connections.close();
        self.connections.wait().await;
        Ok(())
    }
}

async fn echo_once(client: &mut TcpStream) -> Result<(), BoxError> {
    client.write_all(b"ping").await?;
    let mut reply = [0; 4];
    client.read_exact(&mut reply).await?;
    if &reply != b"ping" {
        return Err(format!("echoed {reply:?}").into());
    }
    Ok(())
}

/// The leaky version, as a test body.
pub async fn leaky_test(server: &mut EchoServer) -> Result<(), BoxError> {
    let mut client = TcpStream::connect(&server.address).await?;
    echo_once(&mut client).await?;
    // The client is handed to a task that outlives the test, so it is never closed and
    // the server's connection task waits for it in teardown.
    tokio::spawn(async move {
        let _client = client;
        pending::<()>().await
    });
    Ok(())
}

pub fn leaky(check: Check) -> Report {
    check.run_with(async |(server,): &mut (EchoServer,)| leaky_test(server).await)
}

/// The fixed version, as a test body.
pub async fn fixed_test(server: &mut EchoServer) -> Result<(), BoxError> {
    let mut client = TcpStream::connect(&server.address).await?;
    echo_once(&mut client).await?;
    client.shutdown().await?;
    Ok(())
}

pub fn fixed(check: Check) -> Report {
    check.run_with(async |(server,): &mut (EchoServer,)| fixed_test(server).await)
}

/// This leak as the tour and `cargo run --example unclosed_connection` show it.
pub const SCENARIO: crate::show::Scenario = crate::show::Scenario {
    title: "Unclosed connection: a client that outlives the test",
    file: "examples/classic/unclosed_connection.rs",
    source: include_str!("unclosed_connection.rs"),
    leaky,
    expected_words: "teardown of fixture `EchoServer` timed out",
    fixed,
    fix: "shut the client down before the test ends",
};
