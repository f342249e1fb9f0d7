//! Sockets, files, child processes and threads a test leaves behind (Linux).
//!
//! The check runs only where a test is alone in its process. The leaky tests are ignored and
//! expect their report as their panic: run alone (a child of this binary with
//! `--test-threads=1`, or `cargo nextest run --run-ignored only`) each fails as expected. The
//! clean ones run everywhere: alone, under nextest, and in a parallel run next to the leaky
//! ones, where nothing is checked and nothing is blamed.
#![cfg(target_os = "linux")]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{assert_said, run_self};
use leakcheck::leak_checked_test;

fn scratch_file(name: &str) -> std::path::PathBuf {
    let directory = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    directory.join(format!("{name}-{}", std::process::id()))
}

/// A thread named "tailer" that runs until the process ends.
fn spawn_endless_tailer() {
    std::thread::Builder::new()
        .name("tailer".into())
        .spawn(|| {
            loop {
                std::thread::sleep(Duration::from_millis(20));
            }
        })
        .expect("the thread starts");
}

// --- Left behind: each fails with resources = "fail" ------------------------------------------

#[leak_checked_test(resources = "fail")]
#[ignore = "leaves a listener open; run alone by leaky_tests_fail_when_alone"]
#[should_panic(expected = "1 socket left open: TCP 127.0.0.1:")]
async fn leaves_a_listener_open() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    // Kept in a struct nobody drops, as a leaked server keeps it.
    Box::leak(Box::new(listener));
}

#[leak_checked_test(resources = "fail", flavor = "multi_thread")]
#[ignore = "leaves a child process running; run alone by leaky_tests_fail_when_alone"]
#[should_panic(expected = "1 child process still running: pid ")]
async fn leaves_a_child_process_running() {
    // Neither waited for nor killed on drop: it runs on after the test.
    let child = tokio::process::Command::new("sleep")
        .arg("3")
        .spawn()
        .expect("sleep starts");
    drop(child);
}

#[leak_checked_test(resources = "fail")]
#[ignore = "leaves a thread running; run alone by leaky_tests_fail_when_alone"]
#[should_panic(expected = "1 thread still running: \"tailer\"")]
async fn leaves_a_thread_running() {
    spawn_endless_tailer();
}

#[leak_checked_test(resources = "fail")]
#[ignore = "leaves a file open; run alone by leaky_tests_fail_when_alone"]
#[should_panic(expected = "1 file left open: ")]
async fn leaves_a_file_open() {
    let file = std::fs::File::create(scratch_file("feed.log")).expect("a scratch file");
    Box::leak(Box::new(file));
}

#[leak_checked_test(resources = "warn")]
#[ignore = "leaves a thread running; run alone by warn_reports_and_passes"]
async fn leaves_a_thread_under_warn() {
    spawn_endless_tailer();
}

#[leak_checked_test(resources = "fail", allow_leaks = ["thread:tailer"])]
#[ignore = "leaves a thread it may keep; run alone by leaky_tests_fail_when_alone"]
async fn keeps_an_allowed_thread() {
    spawn_endless_tailer();
}

#[leak_checked_test(resources = "fail")]
#[ignore = "keeps a server in a pool; run alone by leaky_tests_fail_when_alone"]
async fn keeps_what_a_pool_keeps() {
    static POOL: std::sync::Mutex<Vec<std::net::TcpListener>> = std::sync::Mutex::new(Vec::new());
    let server =
        leakcheck::keep_resources(|| std::net::TcpListener::bind("127.0.0.1:0").expect("a port"));
    POOL.lock().expect("the pool").push(server);
}

/// A pool like wiremock's: each server is a thread of its own that builds its runtime and
/// binds its listener after `start` has returned, and is kept for the next test.
async fn start_pooled_server() -> std::net::SocketAddr {
    static POOL: std::sync::Mutex<Vec<std::net::SocketAddr>> = std::sync::Mutex::new(Vec::new());
    let (address_sender, address) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        // Set up after the caller has its answer: the declaration must still cover it.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a port");
            let _ = address_sender.send(listener.local_addr().expect("an address"));
            while let Ok((connection, _)) = listener.accept().await {
                drop(connection);
            }
        });
    });
    let address = address.await.expect("the server starts");
    POOL.lock().expect("the pool").push(address);
    address
}

#[leak_checked_test(resources = "fail")]
#[ignore = "keeps a server in a pool; run alone by leaky_tests_fail_when_alone"]
async fn keeps_what_an_async_pool_keeps() {
    let address = leakcheck::keep_resources_async(start_pooled_server()).await;
    tokio::net::TcpStream::connect(address)
        .await
        .expect("the pooled server accepts");
}

#[leak_checked_test(resources = "fail")]
#[ignore = "keeps a server in a pool without saying so; run alone by leaky_tests_fail_when_alone"]
#[should_panic(expected = "2 sockets left open\n    TCP 127.0.0.1:")]
async fn leaves_a_pool_undeclared() {
    start_pooled_server().await;
}

/// Log files a fixture opens, one more each repetition, closed only in teardown.
struct Logs(Vec<std::fs::File>);

impl leakcheck::AsyncFixture for Logs {
    async fn setup() -> Result<Self, leakcheck::BoxError> {
        Ok(Logs(Vec::new()))
    }

    async fn teardown(self) -> Result<(), leakcheck::BoxError> {
        drop(self.0);
        Ok(())
    }
}

#[leak_checked_test(resources = "fail", repeat = 8)]
#[ignore = "keeps a file open per repetition; run alone by growing_files_fail_when_alone"]
#[should_panic(expected = "open files grew by 1 every repetition (8 repetitions, 2 warm-up)")]
async fn grows_open_files(logs: &mut Logs) {
    let file = std::fs::File::create(scratch_file(&format!("grows-{}.log", logs.0.len())))
        .expect("a scratch file");
    logs.0.push(file);
}

#[leak_checked_test(resources = "fail", repeat = 8, flavor = "multi_thread")]
#[ignore = "keeps a file open per repetition; run alone by growing_files_fail_when_alone"]
#[should_panic(expected = "open files grew by 1 every repetition (8 repetitions, 2 warm-up)")]
async fn grows_open_files_multi_thread(logs: &mut Logs) {
    let name = format!("grows-mt-{}.log", logs.0.len());
    let file = tokio::task::spawn_blocking(move || std::fs::File::create(scratch_file(&name)))
        .await
        .expect("the task ran")
        .expect("a scratch file");
    logs.0.push(file);
}

#[leak_checked_test(resources = "fail", repeat = 8)]
#[ignore = "opens and closes a file per repetition; run alone by growing_files_fail_when_alone"]
async fn opens_and_closes_files() {
    let file = std::fs::File::create(scratch_file("churn.log")).expect("a scratch file");
    drop(file);
}

// --- Released: each passes ---------------------------------------------------------------------

#[leak_checked_test(resources = "fail")]
async fn releases_a_listener_current_thread() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    drop(listener);
}

#[leak_checked_test(resources = "fail", flavor = "multi_thread")]
async fn releases_a_listener_multi_thread() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = listener.local_addr().expect("an address");
    let client = tokio::net::TcpStream::connect(address)
        .await
        .expect("connected");
    let (server, _) = listener.accept().await.expect("accepted");
    drop((client, server, listener));
}

#[leak_checked_test(resources = "fail")]
async fn waits_for_its_child_current_thread() {
    let status = tokio::process::Command::new("true")
        .status()
        .await
        .expect("true runs");
    assert!(status.success());
}

#[leak_checked_test(resources = "fail", flavor = "multi_thread")]
async fn kills_its_child_on_drop_multi_thread() {
    let child = tokio::process::Command::new("sleep")
        .arg("30")
        .kill_on_drop(true)
        .spawn()
        .expect("sleep starts");
    drop(child);
}

#[leak_checked_test(resources = "fail")]
async fn joins_its_thread_current_thread() {
    let stop = Arc::new(AtomicBool::new(false));
    let tailer = std::thread::Builder::new()
        .name("tailer".into())
        .spawn({
            let stop = Arc::clone(&stop);
            move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        })
        .expect("the thread starts");
    stop.store(true, Ordering::Relaxed);
    tailer.join().expect("the thread ends");
}

#[leak_checked_test(resources = "fail", flavor = "multi_thread")]
async fn closes_its_file_multi_thread() {
    let path = scratch_file("closed.log");
    let file = tokio::fs::File::create(&path)
        .await
        .expect("a scratch file");
    drop(file);
    tokio::fs::remove_file(&path).await.expect("removed");
}

// --- The runs ----------------------------------------------------------------------------------

const CLEAN: [&str; 6] = [
    "releases_a_listener_current_thread",
    "releases_a_listener_multi_thread",
    "waits_for_its_child_current_thread",
    "kills_its_child_on_drop_multi_thread",
    "joins_its_thread_current_thread",
    "closes_its_file_multi_thread",
];

fn assert_ran(output: &str, tests: &[&str]) {
    for test in tests {
        let passed = format!("test {test} ... ok");
        let expected_failure = format!("test {test} - should panic ... ok");
        assert!(
            output.contains(&passed) || output.contains(&expected_failure),
            "{test} did not pass:\n{output}"
        );
    }
}

/// How many files `leaves_some_files_open` leaves open: `LEAVE_FILES_OPEN`, 1 unset.
fn files_to_leave_open() -> usize {
    std::env::var("LEAVE_FILES_OPEN")
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(1)
}

#[leak_checked_test(resources = "fail")]
#[ignore = "leaves files open; run alone by as_many_files_as_the_runtime_holds_are_still_seen"]
#[should_panic(expected = " left open")]
async fn leaves_some_files_open() {
    for number in 0..files_to_leave_open() {
        let file = std::fs::File::create(scratch_file(&format!("left-{number}.log")))
            .expect("a scratch file");
        Box::leak(Box::new(file));
    }
}

/// In a process of one test the first look comes once the runtime is built and sees its own
/// descriptors, gone by the last look: a test that leaves as many open as the runtime held
/// must not pass for one that left nothing, whatever that number is.
#[test]
fn as_many_files_as_the_runtime_holds_are_still_seen() {
    for count in 1..=8 {
        let run = run_self(
            &[
                "--ignored",
                "--exact",
                "leaves_some_files_open",
                "--nocapture",
            ],
            &[
                ("NEXTEST_EXECUTION_MODE", "process-per-test"),
                ("LEAVE_FILES_OPEN", &count.to_string()),
            ],
        );
        // The test expects its report as its panic.
        assert!(run.success, "{}", run.output);
        let expected = match count {
            1 => "1 file left open".to_owned(),
            _ => format!("{count} files left open"),
        };
        assert_said(&run, &[&expected]);
    }
}

#[test]
fn leaky_tests_fail_when_alone() {
    let run = run_self(
        &["--ignored", "--test-threads=1", "leaves_a_", "keeps_"],
        &[],
    );
    assert!(run.success, "{}", run.output);
    assert_ran(
        &run.output,
        &[
            "leaves_a_listener_open",
            "leaves_a_child_process_running",
            "leaves_a_thread_running",
            "leaves_a_file_open",
            "keeps_an_allowed_thread",
            "keeps_what_a_pool_keeps",
            "keeps_what_an_async_pool_keeps",
            "leaves_a_pool_undeclared",
        ],
    );
    assert!(
        !run.output.contains("resources left open are"),
        "{}",
        run.output
    );
}

#[test]
fn growing_files_fail_when_alone() {
    let run = run_self(
        &[
            "--ignored",
            "--test-threads=1",
            "--exact",
            "grows_open_files",
            "grows_open_files_multi_thread",
            "opens_and_closes_files",
        ],
        &[],
    );
    assert!(run.success, "{}", run.output);
    assert_ran(
        &run.output,
        &[
            "grows_open_files",
            "grows_open_files_multi_thread",
            "opens_and_closes_files",
        ],
    );
}

#[test]
fn warn_reports_and_passes() {
    let run = run_self(
        &[
            "--ignored",
            "--exact",
            "leaves_a_thread_under_warn",
            "--test-threads=1",
        ],
        &[],
    );
    assert!(run.success, "{}", run.output);
    assert_said(
        &run,
        &[
            "leakcheck: `resources::leaves_a_thread_under_warn` passed with resources left behind reported (resources = \"warn\")",
            "  1 thread still running: \"tailer\"",
            "hint: close sockets and files, join threads, and wait for or kill child processes",
        ],
    );
}

#[test]
fn clean_tests_pass_when_alone() {
    let mut arguments = vec!["--test-threads=1", "--exact"];
    arguments.extend(CLEAN);
    let run = run_self(&arguments, &[]);
    assert!(run.success, "{}", run.output);
    assert_ran(&run.output, &CLEAN);
    assert!(
        !run.output.contains("resources left open are"),
        "{}",
        run.output
    );
}

#[test]
fn in_a_parallel_run_nothing_is_checked_or_blamed() {
    let mut arguments = vec!["--include-ignored", "--test-threads=4", "leaves_a_"];
    arguments.extend(CLEAN);
    let run = run_self(&arguments, &[]);
    assert_ran(&run.output, &CLEAN);
    let notice =
        "leakcheck: resources left open are checked only with --test-threads=1 or nextest\n";
    assert_eq!(run.output.matches(notice).count(), 1, "{}", run.output);
    // Unchecked, the leaky tests do not fail as they expect to.
    assert!(
        run.output
            .contains("test leaves_a_thread_running - should panic ... FAILED"),
        "{}",
        run.output
    );
}
