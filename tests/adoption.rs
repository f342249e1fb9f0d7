//! Real suites adopting leakcheck: panics a test provokes and handles, a crate that tests
//! itself allowing its own background task, reports that read well (short dependency paths,
//! short backtraces, warnings a plain `cargo test` shows). `pool` is a member of this
//! workspace, as the crate under test is in a suite that tests itself.

mod common;

use std::future::pending;

use common::*;
use leakcheck::{Check, Flavor, expect_task_panic, leak_checked_test};
use pool::Pool;
use rstest::rstest;

const THIS_FILE: &str = "tests/adoption.rs";

// --- Panics the test expects and handles -------------------------------------------------

#[rstest]
fn a_declared_panic_of_blocking_work_the_test_handles_passes(
    #[values(Flavor::CurrentThread, Flavor::MultiThread, Flavor::Local)] flavor: Flavor,
) {
    let report = Check::new("pool_callback").flavor(flavor).run(|| async {
        expect_task_panic("bad row");
        let pool = Pool;
        let error = pool
            .run(|| panic!("bad row 7"))
            .await
            .expect_err("the panic becomes an error");
        assert!(error.starts_with("the callback failed"), "{error}");
    });
    assert_passes(&report);
}

#[rstest]
fn a_declared_panic_of_a_spawned_task_passes(
    #[values(Flavor::CurrentThread, Flavor::MultiThread, Flavor::Local)] flavor: Flavor,
) {
    let report = Check::new("spawned_panic").flavor(flavor).run(|| async {
        let joined = tokio::spawn(async { panic!("parser gave up") }).await;
        assert!(joined.expect_err("the task panicked").is_panic());
        // Declared after the panic: the declaration holds for the whole run.
        expect_task_panic("gave up");
    });
    assert_passes(&report);
}

#[test]
fn a_declared_panic_does_not_excuse_another() {
    let report = Check::new("two_panics").run(|| async {
        expect_task_panic("bad row");
        let _ = tokio::task::spawn_blocking(|| panic!("bad row 7")).await;
        let _ = tokio::spawn(async { panic!("index out of bounds") }).await;
    });
    assert_fails_saying(
        &report,
        &["a spawned task panicked at ", "index out of bounds"],
    );
    assert!(!report.to_string().contains("bad row"), "{report}");
}

#[rstest]
fn a_declared_panic_that_never_happens_fails_the_test(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let declared_line = line!() + 2;
    let report = Check::new("no_panic").flavor(flavor).run(|| async {
        expect_task_panic("bad row");
        tokio::spawn(async {}).await.expect("the task completes");
    });
    assert_fails_saying(
        &report,
        &[
            &format!(
                "expected a task to panic with \"bad row\"; none did (declared at {THIS_FILE}:{declared_line}:9)"
            ),
            "hint: the panic's message must contain the declared words",
        ],
    );
}

#[test]
fn a_panic_with_other_words_does_not_meet_the_declaration() {
    let report = Check::new("other_words").run(|| async {
        expect_task_panic("bad row");
        let _ = tokio::spawn(async { panic!("timeout") }).await;
    });
    assert_fails_saying(
        &report,
        &[
            "a spawned task panicked at ",
            "timeout",
            "expected a task to panic with \"bad row\"; none did",
        ],
    );
}

#[test]
fn the_panic_hint_names_both_ways_out() {
    let report = Check::new("undeclared").run(|| async {
        let _ = tokio::spawn(async { panic!("boom") }).await;
    });
    assert_fails_saying(
        &report,
        &[
            "hint: leakcheck fails a test on every panic of its tasks, awaited and handled or not: if the test expects this one, declare it with leakcheck::expect_task_panic(\"<words of the panic>\")",
            "if not, a panic whose JoinHandle nobody awaits is lost, so await it and handle the JoinError",
        ],
    );
}

#[rstest]
fn a_panic_of_blocking_work_says_blocking_task(
    #[values(Flavor::CurrentThread, Flavor::Local)] flavor: Flavor,
) {
    let report = Check::new("blocking_panic").flavor(flavor).run(|| async {
        let _ = tokio::task::spawn_blocking(|| panic!("disk full")).await;
    });
    assert_fails_saying(
        &report,
        &[
            &format!("a blocking task panicked at {THIS_FILE}:"),
            "disk full",
        ],
    );
}

/// On a multi-thread runtime, async tasks and blocking work share threads; only the task
/// hooks of a `tokio_unstable` build tell them apart.
#[cfg(tokio_unstable)]
#[test]
fn a_panic_of_blocking_work_on_multi_thread_says_blocking_task() {
    let report = Check::new("blocking_panic")
        .flavor(Flavor::MultiThread)
        .run(|| async {
            let _ = tokio::task::spawn_blocking(|| panic!("disk full")).await;
        });
    assert_fails_saying(&report, &["a blocking task panicked at ", "disk full"]);
}

#[rstest]
fn a_panic_of_an_async_task_says_spawned_task(
    #[values(Flavor::CurrentThread, Flavor::MultiThread, Flavor::Local)] flavor: Flavor,
) {
    let report = Check::new("async_panic").flavor(flavor).run(|| async {
        let _ = tokio::spawn(async { panic!("bad frame") }).await;
    });
    assert_fails_saying(&report, &["a spawned task panicked at ", "bad frame"]);
}

#[cfg(tokio_unstable)]
#[rstest]
fn a_panic_names_its_task_and_spawn_site(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let spawn_line = line!() + 4;
    let report = Check::new("named_panic").flavor(flavor).run(|| async {
        let task = tokio::task::Builder::new()
            .name("parser")
            .spawn(async { panic!("bad frame") })
            .expect("the task spawns");
        let _ = task.await;
    });
    assert_fails_saying(
        &report,
        &[
            "a spawned task panicked at ",
            &format!("\n    task \"parser\" spawned at {THIS_FILE}:{spawn_line}:14"),
        ],
    );
}

#[cfg(tokio_unstable)]
#[rstest]
fn a_blocking_panic_names_its_spawn_site(
    #[values(Flavor::CurrentThread, Flavor::MultiThread)] flavor: Flavor,
) {
    let spawn_line = line!() + 2;
    let report = Check::new("blocking_site").flavor(flavor).run(|| async {
        let _ = tokio::task::spawn_blocking(|| panic!("disk full")).await;
    });
    assert_fails_saying(
        &report,
        &[
            "a blocking task panicked at ",
            &format!("\n    spawn_blocking at {THIS_FILE}:{spawn_line}:17"),
        ],
    );
}

#[test]
#[should_panic(expected = "leakcheck::expect_task_panic called at tests/adoption.rs:")]
fn expect_task_panic_outside_a_leak_checked_test_panics_saying_so() {
    expect_task_panic("anything");
}

#[leak_checked_test]
async fn the_attribute_works_with_a_declared_panic() {
    expect_task_panic("bad row");
    let error = Pool.run(|| panic!("bad row 3")).await;
    assert!(error.is_err());
}

#[leak_checked_test]
#[should_panic(expected = "expected a task to panic with \"bad row\"; none did")]
async fn the_attribute_fails_a_declared_panic_that_never_happens() {
    expect_task_panic("bad row");
    let fine = Pool.run(|| 7).await;
    assert_eq!(fine, Ok(7));
}

// --- Allow rules for a crate that tests itself ---------------------------------------------

#[cfg(tokio_unstable)]
#[test]
fn a_crate_rule_allows_the_leaks_of_a_workspace_member() {
    let report = leaky_check("reaper_of_member", Flavor::CurrentThread)
        .allow_leaks(["pool"])
        .run(|| async {
            let _pool = Pool::new();
        });
    assert_passes(&report);
    assert!(report.warnings().is_empty(), "{report}");
}

#[cfg(tokio_unstable)]
#[test]
fn a_rule_that_matches_none_of_the_leaks_says_where_they_were_spawned() {
    let report = leaky_check("wrong_rule", Flavor::CurrentThread)
        .allow_leaks(["bb8"])
        .run(|| async {
            let _pool = Pool::new();
        });
    assert_fails_saying(
        &report,
        &[
            "1 task leaked",
            "task spawned at tests/support/pool/src/lib.rs:",
            "warning: allow_leaks rule \"bb8\" matched no leaked task; 1 leaked task was spawned in crate \"pool\" (tests/support/pool/src/)",
        ],
    );
    assert!(!report.to_string().contains("remove it"), "{report}");
}

#[cfg(tokio_unstable)]
#[test]
fn the_suggested_path_prefix_matches() {
    let report = leaky_check("suggested_prefix", Flavor::CurrentThread)
        .allow_leaks(["tests/support/pool/src/"])
        .run(|| async {
            let _pool = Pool::new();
        });
    assert_passes(&report);
}

#[cfg(not(tokio_unstable))]
#[test]
fn the_default_build_counts_the_member_leak_and_says_the_rule_was_not_applied() {
    let report = leaky_check("rule_unapplied", Flavor::CurrentThread)
        .allow_leaks(["pool"])
        .run(|| async {
            let _pool = Pool::new();
        });
    assert_fails_saying(
        &report,
        &["1 task leaked", "allow_leaks (pool) was not applied"],
    );
}

// --- Reports that read well ----------------------------------------------------------------

/// tokio's file operations run on the blocking pool, spawned from tokio's own source: the
/// spawn site is a file in cargo's registry cache, printed from the crate's directory.
#[cfg(all(tokio_unstable, target_os = "linux"))]
#[test]
fn a_dependency_spawn_site_prints_from_the_crate_directory() {
    use std::os::unix::fs::OpenOptionsExt;

    let fifo = std::env::temp_dir().join(format!("leakcheck-fifo-{}", std::process::id()));
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let reading = fifo.clone();
    let report = leaky_check("reads_a_fifo", Flavor::CurrentThread).run(|| async move {
        // Opening a FIFO for reading blocks until a writer opens it.
        tokio::spawn(tokio::fs::read(reading));
    });
    // Let the blocked open go; O_NONBLOCK, so this never waits when nobody reads any more.
    const O_NONBLOCK: i32 = 0o4000;
    let _ = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(O_NONBLOCK)
        .open(&fifo);
    let _ = std::fs::remove_file(&fifo);
    let text = report.to_string();
    assert!(text.contains("1 blocking task leaked"), "{text}");
    let site = text
        .lines()
        .find(|line| line.trim_start().starts_with("spawn_blocking at "))
        .unwrap_or_else(|| panic!("no blocking spawn site in:\n{text}"));
    assert!(
        site.trim_start().starts_with("spawn_blocking at tokio-1."),
        "{site}"
    );
    assert!(!text.contains("registry/src"), "{text}");
}

#[leak_checked_test]
#[ignore = "fails on purpose, run as a child by backtraces_end_at_the_test_body"]
async fn checked_body_panics() {
    let values: Vec<u32> = Vec::new();
    assert_eq!(values.len(), 1, "one value");
}

#[tokio::test]
#[ignore = "fails on purpose, run as a child by backtraces_end_at_the_test_body"]
async fn tokio_body_panics() {
    let values: Vec<u32> = Vec::new();
    assert_eq!(values.len(), 1, "one value");
}

/// An error that captured a backtrace where it was made, as anyhow's does.
struct Captured(std::backtrace::Backtrace);

impl std::fmt::Debug for Captured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "connection refused\n\nStack backtrace:\n{}", self.0)
    }
}

#[leak_checked_test]
#[ignore = "fails on purpose, run as a child by backtraces_end_at_the_test_body"]
async fn checked_body_returns_a_captured_backtrace() -> Result<(), Captured> {
    Err(Captured(std::backtrace::Backtrace::force_capture()))
}

#[tokio::test]
#[ignore = "fails on purpose, run as a child by backtraces_end_at_the_test_body"]
async fn tokio_body_returns_a_captured_backtrace() -> Result<(), Captured> {
    Err(Captured(std::backtrace::Backtrace::force_capture()))
}

/// The numbered frames of the backtraces in a child's output.
fn frames(output: &str) -> usize {
    output
        .lines()
        .filter(|line| {
            let line = line.trim_start();
            line.split_once(": ").is_some_and(|(number, _)| {
                !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())
            })
        })
        .count()
}

#[test]
fn backtraces_end_at_the_test_body() {
    let counted = |test: &str| {
        let run = run_self(&["--ignored", "--exact", test], &[("RUST_BACKTRACE", "1")]);
        assert!(!run.success, "{test} must fail:\n{}", run.output);
        (frames(&run.output), run.output)
    };
    let (checked, checked_output) = counted("checked_body_panics");
    let (tokio, tokio_output) = counted("tokio_body_panics");
    assert!(checked_output.contains("one value"), "{checked_output}");
    assert!(
        checked <= tokio,
        "leakcheck's panic backtrace has {checked} frames, #[tokio::test]'s {tokio}:\n{checked_output}\n---\n{tokio_output}"
    );
    assert!(
        !checked_output.contains("leakcheck::run"),
        "{checked_output}"
    );

    let (checked, checked_output) = counted("checked_body_returns_a_captured_backtrace");
    let (tokio, tokio_output) = counted("tokio_body_returns_a_captured_backtrace");
    assert!(
        checked_output.contains("(frames of leakcheck, tokio and the test runner omitted)"),
        "{checked_output}"
    );
    assert!(
        checked <= tokio,
        "leakcheck's report carries {checked} frames, #[tokio::test]'s output {tokio}:\n{checked_output}\n---\n{tokio_output}"
    );
}

#[leak_checked_test(settle = "50ms")]
#[ignore = "leaks on purpose, run as a child by warn_mode_reports_show_in_a_plain_cargo_test"]
async fn leaks_under_warn() {
    tokio::spawn(pending::<()>());
}

#[test]
fn warn_mode_reports_show_in_a_plain_cargo_test() {
    // No --nocapture: the report must get past libtest's capture of a passing test.
    let run = run_self(
        &["--ignored", "--exact", "leaks_under_warn"],
        &[("LEAKCHECK", "warn")],
    );
    assert!(run.success, "warn mode passes:\n{}", run.output);
    assert_said(
        &run,
        &[
            "leakcheck: `adoption::leaks_under_warn` passed with leaks reported (LEAKCHECK=warn)",
            "1 task leaked",
        ],
    );
}
