//! Settings from the environment and the machine-readable report. The environment is read
//! once per process, so each case runs this binary again as a child with the variables set,
//! filtered to one of the ignored tests below, and reads what it printed or wrote.

mod common;

use std::future::pending;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::{ChildRun, run_self};
use leakcheck::leak_checked_test;

#[leak_checked_test]
#[ignore = "run as a child by suite_settings.rs"]
async fn child_leaks_one_task() {
    tokio::spawn(pending::<()>());
}

#[leak_checked_test]
#[ignore = "run as a child by suite_settings.rs"]
async fn child_hangs() {
    pending::<()>().await;
}

#[leak_checked_test(timeout = "300ms")]
#[ignore = "run as a child by suite_settings.rs"]
async fn child_hangs_with_its_own_timeout() {
    pending::<()>().await;
}

#[leak_checked_test]
#[ignore = "run as a child by suite_settings.rs"]
async fn child_is_clean() {
    tokio::spawn(async {}).await.expect("the task completes");
}

#[leak_checked_test]
#[ignore = "run as a child by suite_settings.rs"]
async fn child_blocks_its_thread() {
    std::thread::sleep(std::time::Duration::from_millis(400));
}

#[leak_checked_test]
#[ignore = "run as a child by suite_settings.rs"]
async fn child_panics() {
    panic!("the order book is empty");
}

#[leak_checked_test]
#[should_panic(expected = "the order book is empty")]
#[ignore = "run as a child by suite_settings.rs"]
async fn child_panics_as_expected() {
    panic!("the order book is empty");
}

#[leak_checked_test]
#[should_panic(expected = "a full order book")]
#[ignore = "run as a child by suite_settings.rs"]
async fn child_panics_otherwise_than_expected() {
    panic!("the order book is empty");
}

#[leak_checked_test]
#[should_panic]
#[ignore = "run as a child by suite_settings.rs"]
async fn child_does_not_panic_as_expected() {}

/// Subscribers kept across repetitions, as a handler bound on every reconnect and never
/// unbound.
static KEPT_SUBSCRIBERS: std::sync::Mutex<Vec<tokio::sync::broadcast::Receiver<u32>>> =
    std::sync::Mutex::new(Vec::new());

fn keep_a_subscriber() {
    static QUOTES: std::sync::LazyLock<tokio::sync::broadcast::Sender<u32>> =
        std::sync::LazyLock::new(|| tokio::sync::broadcast::channel(4).0);
    leakcheck::gauge("subscribers", || QUOTES.receiver_count());
    let subscriber = QUOTES.subscribe();
    KEPT_SUBSCRIBERS.lock().expect("the list").push(subscriber);
}

#[leak_checked_test]
#[ignore = "run as a child by suite_settings.rs"]
async fn child_keeps_a_subscriber_each_time() {
    keep_a_subscriber();
}

#[leak_checked_test(repeat = 1)]
#[ignore = "run as a child by suite_settings.rs"]
async fn child_keeps_a_subscriber_but_runs_once() {
    keep_a_subscriber();
}

fn child(test: &str, environment: &[(&str, &str)]) -> ChildRun {
    run_self(&["--ignored", "--exact", test, "--nocapture"], environment)
}

fn assert_said(run: &ChildRun, words: &[&str]) {
    for word in words {
        assert!(
            run.output.contains(word),
            "missing {word:?} in:\n{}",
            run.output
        );
    }
}

#[test]
fn warn_reports_leaks_and_passes() {
    let run = child(
        "child_leaks_one_task",
        &[("LEAKCHECK", "warn"), ("LEAKCHECK_SETTLE", "20ms")],
    );
    assert!(run.success, "{}", run.output);
    assert_said(
        &run,
        &[
            "leakcheck: `suite_settings::child_leaks_one_task` passed with leaks reported (LEAKCHECK=warn)",
            "1 task leaked (still alive 20ms after the test and its teardown)",
        ],
    );
}

#[test]
fn warn_still_fails_a_test_that_fails_by_itself() {
    let run = child("child_panics", &[("LEAKCHECK", "warn")]);
    assert!(!run.success, "{}", run.output);
    assert_said(&run, &["the order book is empty"]);
}

#[test]
fn off_skips_leak_detection_and_keeps_the_test() {
    let run = child("child_leaks_one_task", &[("LEAKCHECK", "off")]);
    assert!(run.success, "{}", run.output);
    assert!(!run.output.contains("task leaked"), "{}", run.output);
    let run = child("child_panics", &[("LEAKCHECK", "off")]);
    assert!(!run.success, "{}", run.output);
}

#[test]
fn durations_come_from_the_environment_unless_the_test_sets_its_own() {
    let run = child("child_hangs", &[("LEAKCHECK_TIMEOUT", "200ms")]);
    assert!(!run.success, "{}", run.output);
    assert_said(&run, &["the test timed out after 200ms"]);

    let run = child(
        "child_hangs_with_its_own_timeout",
        &[("LEAKCHECK_TIMEOUT", "1h")],
    );
    assert!(!run.success, "{}", run.output);
    assert_said(&run, &["the test timed out after 300ms"]);

    let run = child("child_leaks_one_task", &[("LEAKCHECK_SETTLE", "30ms")]);
    assert!(!run.success, "{}", run.output);
    assert_said(&run, &["1 task leaked (still alive 30ms after"]);
}

#[test]
fn a_bad_value_fails_the_test_naming_the_variable() {
    let run = child(
        "child_is_clean",
        &[("LEAKCHECK", "loud"), ("LEAKCHECK_SETTLE", "fast")],
    );
    assert!(!run.success, "{}", run.output);
    assert_said(
        &run,
        &[
            "LEAKCHECK=\"loud\" is not a mode: write fail, warn or off",
            "LEAKCHECK_SETTLE=\"fast\" is not a duration: write a whole number and a unit",
        ],
    );
}

#[test]
fn a_value_that_cannot_mean_anything_fails_the_test_naming_the_variable() {
    let run = child(
        "child_is_clean",
        &[
            ("LEAKCHECK_TIMEOUT", "0s"),
            ("LEAKCHECK_MAX_POLL", "0ms"),
            ("LEAKCHECK_ALLOW_LEAKS", "bb8, thread:, bogus:thing"),
        ],
    );
    assert!(!run.success, "{}", run.output);
    assert_said(
        &run,
        &[
            "LEAKCHECK_TIMEOUT=\"0s\" cannot mean anything: no test ends in no time; write a duration above zero, like 30s",
            "LEAKCHECK_MAX_POLL=\"0ms\" cannot mean anything: every poll takes longer than no time (unset it for no limit)",
            "LEAKCHECK_ALLOW_LEAKS: `thread:` names no thread: write `thread:` and what to let go, like `thread:tailer`",
            "LEAKCHECK_ALLOW_LEAKS: `bogus:thing` is not a rule that can match: write a crate (`bb8`), a source path",
        ],
    );
}

#[test]
fn a_report_file_that_cannot_be_written_is_said_as_what_it_is() {
    // A directory where the file should be: it cannot be opened to append.
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("report-is-a-directory-{}", std::process::id()));
    std::fs::create_dir_all(&path).expect("a directory");
    let report = path.to_str().expect("a UTF-8 path");
    let run = child("child_is_clean", &[("LEAKCHECK_REPORT", report)]);
    assert!(!run.success, "{}", run.output);
    assert_said(
        &run,
        &[&format!(
            "the test's report line could not be written to LEAKCHECK_REPORT={report}: "
        )],
    );
    assert!(
        !run.output.contains("could not run the test"),
        "{}",
        run.output
    );
}

#[test]
fn empty_values_count_as_unset() {
    let run = child(
        "child_is_clean",
        &[("LEAKCHECK", ""), ("LEAKCHECK_TIMEOUT", "")],
    );
    assert!(run.success, "{}", run.output);
}

fn report_file(name: &str) -> PathBuf {
    let directory = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let path = directory.join(format!("{name}-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

fn lines(path: &PathBuf) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).expect("the report file exists");
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}")))
        .collect()
}

#[test]
fn the_report_file_gets_one_line_per_test() {
    let path = report_file("one-line-per-test");
    let report = path.to_str().expect("a UTF-8 path");
    let environment = [("LEAKCHECK_REPORT", report), ("LEAKCHECK_SETTLE", "20ms")];
    assert!(!child("child_leaks_one_task", &environment).success);
    assert!(child("child_is_clean", &environment).success);
    let lines = lines(&path);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let leaky = &lines[0];
    assert_eq!(leaky["test"], "suite_settings::child_leaks_one_task");
    assert_eq!(leaky["outcome"], "failed");
    assert_eq!(leaky["leaked_tasks"], 1);
    assert_eq!(
        leaky["settle_ms"].as_f64().map(|ms| ms >= 20.0),
        Some(true),
        "{leaky}"
    );
    let clean = &lines[1];
    assert_eq!(clean["outcome"], "passed");
    assert_eq!(clean["leaked_tasks"], 0);
    assert_eq!(clean["settle_ms"], 0.0);
    assert!(clean["duration_ms"].as_f64().is_some(), "{clean}");
}

#[test]
fn a_should_panic_test_is_in_the_report_file_as_its_runner_judges_it() {
    let path = report_file("should-panic");
    let report = path.to_str().expect("a UTF-8 path");
    let environment = [("LEAKCHECK_REPORT", report)];
    for (test, passes) in [
        ("child_panics_as_expected", true),
        ("child_panics_otherwise_than_expected", false),
        ("child_does_not_panic_as_expected", false),
    ] {
        let run = child(test, &environment);
        assert_eq!(run.success, passes, "{test}: {}", run.output);
    }
    let outcomes: Vec<String> = lines(&path)
        .iter()
        .map(|line| format!("{} {}", line["test"], line["outcome"]))
        .collect();
    assert_eq!(
        outcomes,
        [
            "\"suite_settings::child_panics_as_expected\" \"passed\"",
            "\"suite_settings::child_panics_otherwise_than_expected\" \"failed\"",
            "\"suite_settings::child_does_not_panic_as_expected\" \"failed\"",
        ]
    );
}

#[test]
fn leakcheck_repeat_repeats_every_test_but_one_that_says_repeat_1() {
    let path = report_file("repeat");
    let report = path.to_str().expect("a UTF-8 path");
    let environment = [("LEAKCHECK_REPORT", report), ("LEAKCHECK_REPEAT", "6")];
    let run = child("child_keeps_a_subscriber_each_time", &environment);
    assert!(!run.success, "{}", run.output);
    assert_said(
        &run,
        &[
            "gauge `subscribers` grew by 1 every repetition (6 repetitions, 1 warm-up)",
            "warning: the heap is not counted: `leakcheck::count_allocations!();` at the root of the test target counts it",
        ],
    );
    let run = child("child_keeps_a_subscriber_but_runs_once", &environment);
    assert!(run.success, "{}", run.output);
    let lines = lines(&path);
    assert_eq!(
        lines[0]["growth"],
        serde_json::json!([{"what": "gauge `subscribers`", "per_repetition": 1, "most": 1, "repetitions": 6, "warm_up": 1, "sites": []}])
    );
    assert_eq!(lines[1]["growth"], serde_json::json!([]));
    let run = child("child_is_clean", &[("LEAKCHECK_REPEAT", "0")]);
    assert_said(
        &run,
        &[
            "LEAKCHECK_REPEAT=\"0\" is not a number of repetitions: write a whole number, at least 1, like 20",
        ],
    );
}

#[test]
fn max_poll_comes_from_the_environment_and_long_polls_go_into_the_report_file() {
    let path = report_file("long-polls");
    let report = path.to_str().expect("a UTF-8 path");
    let run = child(
        "child_blocks_its_thread",
        &[
            ("LEAKCHECK_REPORT", report),
            ("LEAKCHECK_MAX_POLL", "200ms"),
        ],
    );
    assert!(!run.success, "{}", run.output);
    assert_said(
        &run,
        &[
            "the test body blocked its thread for at least ",
            "(max_poll is 200ms)",
        ],
    );
    let lines = lines(&path);
    let polls = lines[0]["long_polls"]
        .as_array()
        .expect("a list of long polls");
    assert_eq!(polls.len(), 1, "{lines:?}");
    assert_eq!(polls[0]["what"], "the test body");
    assert_eq!(polls[0]["failed"], true);
    assert!(
        polls[0]["ms"].as_f64().is_some_and(|ms| ms > 200.0),
        "{lines:?}"
    );
}

/// 200 tests in four groups, ten of each fifty leaky, for the shared-file test below.
macro_rules! ten_stamped {
    ($leaks:expr) => {
        ten_stamped!(@each $leaks; t0 t1 t2 t3 t4 t5 t6 t7 t8 t9);
    };
    (@each $leaks:expr; $($name:ident)*) => {
        $(
            #[leak_checked_test]
            #[ignore = "run as a child by many_processes_share_one_report_file"]
            async fn $name() {
                if $leaks {
                    tokio::spawn(std::future::pending::<()>());
                }
            }
        )*
    };
}

macro_rules! fifty_stamped {
    ($($group:ident)*) => {
        $(mod $group {
            use leakcheck::leak_checked_test;
            mod clean_a { use super::*; ten_stamped!(false); }
            mod clean_b { use super::*; ten_stamped!(false); }
            mod clean_c { use super::*; ten_stamped!(false); }
            mod clean_d { use super::*; ten_stamped!(false); }
            mod leaky { use super::*; ten_stamped!(true); }
        })*
    };
}

fifty_stamped!(group_0 group_1 group_2 group_3);

#[test]
fn many_processes_share_one_report_file() {
    let path = report_file("shared");
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let children: Vec<_> = (0..4)
        .map(|group| {
            Command::new(&exe)
                .args(["--ignored", &format!("group_{group}::"), "--test-threads=4"])
                .env("LEAKCHECK_REPORT", &path)
                .env("LEAKCHECK_SETTLE", "10ms")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("a child starts")
        })
        .collect();
    for mut child in children {
        // The leaky tests fail their process; only the file matters here.
        let _ = child.wait().expect("a child ends");
    }
    let lines = lines(&path);
    assert_eq!(lines.len(), 200, "one line per test");
    let mut tests: Vec<&str> = lines
        .iter()
        .map(|line| line["test"].as_str().expect("every line names its test"))
        .collect();
    tests.sort_unstable();
    tests.dedup();
    assert_eq!(tests.len(), 200, "no test written twice");
    let leaky = lines
        .iter()
        .filter(|line| line["leaked_tasks"] == 1)
        .count();
    assert_eq!(leaky, 40);
    assert!(
        lines
            .iter()
            .all(|line| (line["outcome"] == "failed") == (line["leaked_tasks"] == 1)),
        "outcomes follow the leaks"
    );
}
