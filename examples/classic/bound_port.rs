//! A bound port left behind: a mock price server on a thread of its own, never stopped.
//!
//! Shared by `examples/bound_port.rs` and the tour; each version runs through the `Check` it
//! is given, with `resources = "fail"`. The check reads `/proc`, so it runs on Linux only.

use std::io::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use leakcheck::{Check, Report, ResourceMode};

/// A blocking HTTP-ish server that answers every connection with a price, until told to stop.
struct PriceServer {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl PriceServer {
    fn start() -> std::io::Result<PriceServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("price-server".into())
            .spawn(move || {
                for connection in listener.incoming() {
                    if stopping.load(Ordering::Relaxed) {
                        return;
                    }
                    if let Ok(mut connection) = connection {
                        let _ = connection.write_all(b"101\n");
                    }
                }
            })?;
        Ok(PriceServer {
            address,
            stop,
            thread,
        })
    }

    /// Stops the server: raises the flag, wakes the blocked `accept` with a connection of our
    /// own, and joins the thread, which closes the listener.
    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = std::net::TcpStream::connect(self.address);
        let _ = self.thread.join();
    }
}

async fn read_price(address: SocketAddr) -> String {
    use tokio::io::AsyncReadExt;
    let mut connection = tokio::net::TcpStream::connect(address)
        .await
        .expect("the server accepts");
    let mut price = String::new();
    connection
        .read_to_string(&mut price)
        .await
        .expect("the server answers");
    price
}

/// The leaky version, as a test body: the server is never stopped, its port stays bound.
pub async fn leaky_test() {
    let server = PriceServer::start().expect("the server starts");
    assert_eq!(read_price(server.address).await, "101\n");
    // Dropping the handle neither stops the thread nor closes the listener.
    drop(server);
}

pub fn leaky(check: Check) -> Report {
    check.resources(ResourceMode::Fail).run(leaky_test)
}

/// The fixed version, as a test body.
pub async fn fixed_test() {
    let server = PriceServer::start().expect("the server starts");
    assert_eq!(read_price(server.address).await, "101\n");
    server.stop();
}

pub fn fixed(check: Check) -> Report {
    check.resources(ResourceMode::Fail).run(fixed_test)
}

/// This leak as the tour and `cargo run --example bound_port` show it.
pub const SCENARIO: crate::show::Scenario = crate::show::Scenario {
    title: "Bound port: a mock server's thread and listener outlive the test",
    file: "examples/classic/bound_port.rs",
    source: include_str!("bound_port.rs"),
    leaky,
    expected_words: "1 socket left open: TCP 127.0.0.1:",
    fixed,
    fix: "stop the server and join its thread",
};
