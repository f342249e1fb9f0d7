//! The classic leaks of async services, each caught by leakcheck, next to its fix.
//!
//! Run it with `cargo run --example tour`. Every scenario runs twice through
//! [`leakcheck::Check`], the API `#[leak_checked_test]` expands to: the leaky version must fail
//! with the report shown, the fixed one must pass. The exit status is 0 only when every
//! verdict is the expected one.

use std::future::pending;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use leakcheck::{AsyncFixture, BoxError, Check, Flavor, Report, on_teardown};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Teardown steps in the tour get less than the default 5 s, so it finishes quickly.
const TOUR_TEARDOWN_TIMEOUT: Duration = Duration::from_millis(500);

fn check(test: &str) -> Check {
    Check::new(test)
        .flavor(Flavor::MultiThread)
        .teardown_timeout(TOUR_TEARDOWN_TIMEOUT)
}

// --- 1. Fire and forget -----------------------------------------------------------------

async fn publish_prices(stop: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => { /* publish a price */ }
        }
    }
}

fn fire_and_forget_leaky() -> Report {
    check("fire_and_forget::leaky").run(|| async {
        // The handle is dropped: nothing stops the publisher when the test ends.
        tokio::spawn(publish_prices(CancellationToken::new()));
    })
}

fn fire_and_forget_fixed() -> Report {
    check("fire_and_forget::fixed").run(|| async {
        let stop = CancellationToken::new();
        let publisher = tokio::spawn(publish_prices(stop.clone()));
        stop.cancel();
        publisher.await
    })
}

// --- 2. Reconnect loop ------------------------------------------------------------------

async fn connect_with_retries(address: &str) {
    loop {
        if TcpStream::connect(address).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn reconnect_loop_leaky() -> Report {
    check("reconnect_loop::leaky").run(|| async {
        // Nothing listens on port 9 of loopback: the loop retries for ever.
        tokio::spawn(connect_with_retries("127.0.0.1:9"));
    })
}

fn reconnect_loop_fixed() -> Report {
    check("reconnect_loop::fixed").run(|| async {
        let stop = CancellationToken::new();
        let reconnecting = tokio::spawn({
            let stop = stop.clone();
            async move {
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = connect_with_retries("127.0.0.1:9") => {}
                }
            }
        });
        // Teardown stops the loop however the test ends.
        on_teardown(async move {
            stop.cancel();
            reconnecting.await
        });
    })
}

// --- 3. Unclosed connection -------------------------------------------------------------

/// An echo server that serves each connection in a task of its own, tracked so teardown can
/// wait for them.
struct EchoServer {
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

fn unclosed_connection_leaky() -> Report {
    check("unclosed_connection::leaky").run_with(async |(server,): &mut (EchoServer,)| {
        let mut client = TcpStream::connect(&server.address).await?;
        echo_once(&mut client).await?;
        // The client is handed to a task that outlives the test, so it is never closed and
        // the server's connection task waits for it in teardown.
        tokio::spawn(async move {
            let _client = client;
            pending::<()>().await
        });
        Ok::<(), BoxError>(())
    })
}

fn unclosed_connection_fixed() -> Report {
    check("unclosed_connection::fixed").run_with(async |(server,): &mut (EchoServer,)| {
        let mut client = TcpStream::connect(&server.address).await?;
        echo_once(&mut client).await?;
        client.shutdown().await?;
        Ok::<(), BoxError>(())
    })
}

// --- 4. Panic in a detached task --------------------------------------------------------

fn parse_price(message: &str) -> Result<u64, std::num::ParseIntError> {
    message.trim_start_matches("price=").parse()
}

fn detached_panic_leaky() -> Report {
    check("detached_panic::leaky").run(|| async {
        // The handle is dropped, so nobody sees that the task died on a bad message.
        tokio::spawn(async {
            let _price = parse_price("price=n/a").expect("prices are numbers");
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
    })
}

fn detached_panic_fixed() -> Report {
    check("detached_panic::fixed").run(|| async {
        let parser = tokio::spawn(async { parse_price("price=n/a") });
        // Awaited, and the bad message handled as the error it is.
        let parsed = parser.await.map_err(|joined| joined.to_string())?;
        match parsed {
            Ok(_) => Err("a bad price parsed".to_owned()),
            Err(_) => Ok(()),
        }
    })
}

// --- 5. Hung teardown -------------------------------------------------------------------

/// A feed whose teardown waits for its task, but (in the leaky version) never tells it to
/// stop first.
struct Feed<const CANCELS: bool> {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl<const CANCELS: bool> AsyncFixture for Feed<CANCELS> {
    async fn setup() -> Result<Self, BoxError> {
        let stop = CancellationToken::new();
        let task = tokio::spawn(publish_prices(stop.clone()));
        Ok(Feed { stop, task })
    }

    async fn teardown(self) -> Result<(), BoxError> {
        if CANCELS {
            self.stop.cancel();
        }
        self.task.await?;
        Ok(())
    }
}

fn hung_teardown_leaky() -> Report {
    check("hung_teardown::leaky").run_with(async |_: &mut (Feed<false>,)| {})
}

fn hung_teardown_fixed() -> Report {
    check("hung_teardown::fixed").run_with(async |_: &mut (Feed<true>,)| {})
}

// --- 6. Blocking task -------------------------------------------------------------------

fn tail_log(stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        // Read the next line of a log file...
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The tour's leaky blocking task must end once the tour has shown it, or it would spin on.
static TOUR_OVER: std::sync::LazyLock<Arc<AtomicBool>> =
    std::sync::LazyLock::new(|| Arc::new(AtomicBool::new(false)));

fn blocking_task_leaky() -> Report {
    check("blocking_task::leaky").run(|| async {
        // Nothing ever sets the flag during the test.
        tokio::task::spawn_blocking(|| tail_log(Arc::clone(&TOUR_OVER)));
    })
}

fn blocking_task_fixed() -> Report {
    check("blocking_task::fixed").run(|| async {
        let stop = Arc::new(AtomicBool::new(false));
        let tailer = tokio::task::spawn_blocking({
            let stop = Arc::clone(&stop);
            move || tail_log(stop)
        });
        stop.store(true, Ordering::Relaxed);
        tailer.await
    })
}

// --- The tour ---------------------------------------------------------------------------

struct Scenario {
    title: &'static str,
    leaky: fn() -> Report,
    expected_words: &'static str,
    fixed: fn() -> Report,
    fix: &'static str,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        title: "Fire and forget: a publisher spawned and its handle dropped",
        leaky: fire_and_forget_leaky,
        expected_words: "1 task leaked",
        fixed: fire_and_forget_fixed,
        fix: "cancel the publisher and await its handle",
    },
    Scenario {
        title: "Reconnect loop: retrying a dead address for ever",
        leaky: reconnect_loop_leaky,
        expected_words: "1 task leaked",
        fixed: reconnect_loop_fixed,
        fix: "give the loop a CancellationToken and stop it with on_teardown",
    },
    Scenario {
        title: "Unclosed connection: a client that outlives the test",
        leaky: unclosed_connection_leaky,
        expected_words: "teardown of fixture `EchoServer` timed out",
        fixed: unclosed_connection_fixed,
        fix: "shut the client down before the test ends",
    },
    Scenario {
        title: "Panic in a detached task: a parser dies on a bad message",
        leaky: detached_panic_leaky,
        expected_words: "a spawned task panicked at examples/tour.rs",
        fixed: detached_panic_fixed,
        fix: "await the task and handle the parse error",
    },
    Scenario {
        title: "Hung teardown: waiting for a task that was never told to stop",
        leaky: hung_teardown_leaky,
        expected_words: "teardown of fixture `Feed<false>` timed out after 500ms",
        fixed: hung_teardown_fixed,
        fix: "cancel the task, then await it",
    },
    Scenario {
        title: "Blocking task: a log tailer with no way to stop",
        leaky: blocking_task_leaky,
        expected_words: "1 blocking task leaked",
        fixed: blocking_task_fixed,
        fix: "pass the tailer a stop flag, set it, and await the handle",
    },
];

fn indent(report: &Report) -> String {
    report
        .to_string()
        .lines()
        .map(|line| format!("    {line}\n"))
        .collect()
}

fn main() -> ExitCode {
    // The reports carry each panic's message; the default hook's copy would only add noise.
    std::panic::set_hook(Box::new(|_| {}));
    let mut surprises = Vec::new();
    for (number, scenario) in SCENARIOS.iter().enumerate() {
        println!("{}. {}\n", number + 1, scenario.title);
        let leaky = (scenario.leaky)();
        println!("  leaky version:\n{}", indent(&leaky));
        if leaky.passed() || !leaky.to_string().contains(scenario.expected_words) {
            surprises.push(format!(
                "{}: expected a report saying {:?}",
                leaky.test(),
                scenario.expected_words
            ));
        }
        let fixed = (scenario.fixed)();
        println!("  fixed ({}):\n{}", scenario.fix, indent(&fixed));
        if !fixed.passed() {
            surprises.push(format!("{}: expected a pass", fixed.test()));
        }
    }
    TOUR_OVER.store(true, Ordering::Relaxed);
    if surprises.is_empty() {
        println!("Every leak was caught and every fix passed.");
        ExitCode::SUCCESS
    } else {
        eprintln!("Unexpected verdicts:");
        for surprise in &surprises {
            eprintln!("  {surprise}");
        }
        ExitCode::FAILURE
    }
}
