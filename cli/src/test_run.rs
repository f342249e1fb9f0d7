//! `cargo leakcheck test`: runs the whole suite (every test binary, past a failing one) with its
//! report in `target/leakcheck/report.jsonl`; if tests failed with leaks or task panics in a
//! build without `tokio_unstable`, which only counts them, builds again with
//! `--cfg tokio_unstable` (in `target/leakcheck/unstable`, so the usual build stays as it is;
//! only the targets that hold those tests) and re-runs exactly those tests, their report in
//! `target/leakcheck/unstable.jsonl`, to print where each leaked task was spawned.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus, Stdio};

use clap::Args;

use crate::paths::shown_path;
use crate::report::summary::{Summary, text};
use crate::report_line::{Outcome, ReportLine};
use crate::words::counted;
use crate::workspace::{Package, Workspace};

/// Runs the suite; re-runs the tests that leaked in a tokio_unstable build to show their
/// spawn lines.
#[derive(Debug, Args)]
pub(crate) struct TestArgs {
    /// Run the suite with `cargo nextest run` instead of `cargo test`.
    #[arg(long)]
    nextest: bool,
    /// The workspace's Cargo.toml, when not run inside it.
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
    /// Run each leak-checked test's body N times (LEAKCHECK_REPEAT=N), a soak of the whole
    /// suite that fails on what grows with every repetition; a test that cannot run twice
    /// says `repeat = 1`.
    #[arg(long, value_name = "N")]
    repeat: Option<u32>,
    /// Arguments for `cargo test` (or `cargo nextest run`), after `--`: `-- -p feed -- --nocapture`.
    #[arg(last = true, allow_hyphen_values = true)]
    cargo_arguments: Vec<OsString>,
}

pub(crate) fn run(arguments: &TestArgs) -> Result<ExitCode, String> {
    let workspace = Workspace::load(arguments.manifest_path.as_deref())?;
    let directory = workspace.target_directory.join("leakcheck");
    std::fs::create_dir_all(&directory)
        .map_err(|error| format!("cannot make {}: {error}", directory.display()))?;
    let first_report = directory.join("report.jsonl");
    remove_stale(&first_report)?;

    let (status, ran) = run_counting(
        suite_command(arguments, &first_report, None, &[]),
        arguments.nextest,
    )?;
    let first_exit = ExitCode::from(u8::try_from(status.code().unwrap_or(101)).unwrap_or(101));

    let reports = read_reports(&first_report)?;
    if reports.is_empty() {
        if status.success() {
            eprintln!(
                "\ncargo leakcheck: no leak-checked test ran (no report in {}): `cargo leakcheck migrate` turns #[tokio::test] into #[leakcheck::test]",
                first_report.display()
            );
        } else {
            eprintln!(
                "\ncargo leakcheck: the suite did not run ({status}): see cargo's output above"
            );
        }
        return Ok(first_exit);
    }
    let leaky: Vec<&ReportLine> = reports
        .iter()
        .filter(|report| report.outcome == Outcome::Failed && report.problems() > 0)
        .collect();
    let unstable_already =
        std::env::var("RUSTFLAGS").is_ok_and(|flags| flags.contains("tokio_unstable"));
    if leaky.is_empty() || unstable_already {
        print_summary(&ran, &reports, &[]);
        return Ok(first_exit);
    }

    let second_report = directory.join("unstable.jsonl");
    remove_stale(&second_report)?;
    let names: Vec<&str> = leaky.iter().map(|report| report.harness_name()).collect();
    let targets = targets_holding(&workspace, &leaky);
    let unstable_target = directory.join("unstable");
    let mut rerun = suite_command(arguments, &second_report, Some(&unstable_target), &targets);
    add_name_filters(&mut rerun, arguments.nextest, &names);
    eprintln!(
        "\ncargo leakcheck: building {} with --cfg tokio_unstable in {} and re-running {} to find where the leaked tasks were spawned",
        if targets.is_empty() {
            "the suite".to_owned()
        } else {
            targets.join(" ")
        },
        shown_path(
            &std::env::current_dir().unwrap_or_default(),
            &unstable_target
        ),
        counted(names.len(), "test", "tests"),
    );
    // Cargo's own progress shows on stderr; the re-run's test output, which says again what
    // the first run said, is kept for a failure.
    let rerun_output = run_quietly(rerun)?;
    let rerun_reports = read_reports(&second_report)?;
    if rerun_reports.is_empty() {
        return Err(format!(
            "the tokio_unstable build did not run the tests again:\n{}",
            tail(&rerun_output)
        ));
    }
    print!("\n{}", spawn_lines(&leaky, &rerun_reports));
    print_summary(&ran, &reports, &rerun_reports);
    Ok(first_exit)
}

/// What libtest or nextest said it ran.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Ran {
    tests: u64,
    binaries: u64,
}

impl Ran {
    /// Reads one line of the suite's output: under `cargo test`, libtest's `test result:` line
    /// (one a binary, doctests too); under nextest, its `Starting N tests across M binaries`
    /// (the output it shows of a failed test has libtest's lines too).
    fn read(&mut self, line: &str, nextest: bool) {
        if !nextest && let Some(result) = line.trim_start().strip_prefix("test result: ") {
            let count = |what: &str| -> u64 {
                result
                    .split(';')
                    .filter_map(|part| {
                        let (number, word) = part.trim().rsplit_once(' ')?;
                        let number = number.rsplit(' ').next()?;
                        (word == what).then(|| number.parse::<u64>().ok())?
                    })
                    .sum()
            };
            self.tests += count("passed") + count("failed");
            self.binaries += 1;
        } else if nextest && let Some(rest) = line.trim_start().strip_prefix("Starting ") {
            let words: Vec<&str> = rest.split_whitespace().collect();
            if let [tests, "tests" | "test", "across", binaries, ..] = words.as_slice()
                && let (Ok(tests), Ok(binaries)) = (tests.parse(), binaries.parse())
            {
                *self = Ran { tests, binaries };
            }
        }
    }
}

/// Runs the suite with its output shown as it comes, and counts what it ran.
fn run_counting(mut command: Command, nextest: bool) -> Result<(ExitStatus, Ran), String> {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err("cannot read cargo's output".to_owned());
    };
    let on_stderr = std::thread::spawn(move || relay(stderr, std::io::stderr(), nextest));
    let mut ran = relay(stdout, std::io::stdout(), nextest);
    let on_stderr = on_stderr.join().unwrap_or_default();
    ran.tests += on_stderr.tests;
    ran.binaries += on_stderr.binaries;
    let status = child
        .wait()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    Ok((status, ran))
}

/// Copies `from` to `to` line by line, counting what the lines say was run.
fn relay(from: impl Read, mut to: impl Write, nextest: bool) -> Ran {
    let mut ran = Ran::default();
    let mut reader = BufReader::new(from);
    let mut line = Vec::new();
    while reader
        .read_until(b'\n', &mut line)
        .is_ok_and(|read| read > 0)
    {
        let _ = to.write_all(&line);
        let _ = to.flush();
        ran.read(&String::from_utf8_lossy(&line), nextest);
        line.clear();
    }
    ran
}

/// Runs `command` with its stderr shown and its stdout kept.
fn run_quietly(mut command: Command) -> Result<Vec<u8>, String> {
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    Ok(output.stdout)
}

/// The cargo flags that build only the targets holding `tests`, found by the crate name their
/// paths start with; none (the whole suite) where one of them is not found in a single
/// package.
fn targets_holding(workspace: &Workspace, tests: &[&ReportLine]) -> Vec<String> {
    let mut package: Option<&Package> = None;
    let mut flags: Vec<String> = Vec::new();
    for test in tests {
        let crate_name = test.test.split("::").next().unwrap_or_default();
        // A package's library and one of its test targets may share a name: both are taken.
        let mut found = false;
        for member in &workspace.members {
            for target in &member.test_targets {
                if target.crate_name != crate_name {
                    continue;
                }
                if package.is_some_and(|package| package.name != member.name) {
                    return Vec::new();
                }
                package = Some(member);
                found = true;
                let selection = target.selection.join(" ");
                if !flags.contains(&selection) {
                    flags.push(selection);
                }
            }
        }
        if !found {
            return Vec::new();
        }
    }
    match package {
        Some(package) if workspace.members.len() > 1 => {
            let mut all = vec![format!("-p {}", package.name)];
            all.extend(flags);
            all
        }
        _ => flags,
    }
}

/// `cargo test` or `cargo nextest run` with the user's arguments, writing its report to
/// `report`; built in `unstable_target` with `--cfg tokio_unstable` if given, and only the
/// `targets` if any are named.
fn suite_command(
    arguments: &TestArgs,
    report: &Path,
    unstable_target: Option<&Path>,
    targets: &[String],
) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    if arguments.nextest {
        command.args(["nextest", "run"]);
    } else {
        command.arg("test");
    }
    // Every binary runs, past the first that fails: a summary of part of a suite would read
    // as the whole of it.
    command.arg("--no-fail-fast");
    if let Some(manifest) = &arguments.manifest_path {
        command.arg("--manifest-path").arg(manifest);
    }
    command.args(targets.iter().flat_map(|flags| flags.split(' ')));
    command.args(&arguments.cargo_arguments);
    command.env("LEAKCHECK_REPORT", report);
    if let Some(repeat) = arguments.repeat {
        command.env("LEAKCHECK_REPEAT", repeat.to_string());
    }
    if let Some(target) = unstable_target {
        let flags = std::env::var("RUSTFLAGS").unwrap_or_default();
        command
            .env(
                "RUSTFLAGS",
                format!("{flags} --cfg tokio_unstable").trim_start(),
            )
            .env("CARGO_TARGET_DIR", target);
    }
    command
}

/// Narrows a run to exactly the tests named.
fn add_name_filters(command: &mut Command, nextest: bool, names: &[&str]) {
    if nextest {
        let filter: Vec<String> = names.iter().map(|name| format!("test(={name})")).collect();
        command.arg("-E").arg(filter.join(" | "));
        return;
    }
    // After the user's own `--`, if they gave one, the harness's arguments go on.
    let has_separator = command.get_args().any(|argument| argument == "--");
    if !has_separator {
        command.arg("--");
    }
    command.arg("--exact").args(names);
}

fn remove_stale(report: &Path) -> Result<(), String> {
    match std::fs::remove_file(report) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(format!(
            "cannot remove the old report {}: {error}",
            report.display()
        )),
    }
}

fn read_reports(path: &Path) -> Result<Vec<ReportLine>, String> {
    let contents = match std::fs::read_to_string(path) {
        Ok(contents) => contents,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(format!("cannot read {}: {error}", path.display())),
    };
    contents
        .lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(index, line)| {
            ReportLine::parse(line)
                .map_err(|error| format!("{}:{}: {error}", path.display(), index + 1))
        })
        .collect()
}

/// Each leaky test of the first run with where its tasks were spawned, from the re-run.
fn spawn_lines(leaky: &[&ReportLine], rerun: &[ReportLine]) -> String {
    let mut out = String::from("Where the leaked tasks were spawned (tokio_unstable build):\n");
    for report in leaky {
        let again = rerun
            .iter()
            .find(|other| other.test == report.test && other.problems() > 0);
        let Some(again) = again else {
            let _ = writeln!(
                out,
                "\n{}: did not leak again in the tokio_unstable build: a timing-dependent leak; run it a few times",
                report.test
            );
            continue;
        };
        let _ = writeln!(out, "\n{}:", report.test);
        for task in &again.leaks {
            let mut line = format!("  task leaked, spawned at {}", task.site);
            if let Some(name) = &task.name {
                let _ = write!(line, ", named {name:?}");
            }
            match (&task.spawned_by, &task.spawned_by_at) {
                (Some(parent), Some(at)) => {
                    let _ = write!(line, ", by task {parent} (spawned at {at})");
                }
                (Some(parent), None) => {
                    let _ = write!(line, ", by task {parent}");
                }
                _ => {}
            }
            if let Some(awaiting) = &task.awaiting {
                let _ = write!(line, ", waiting in {awaiting}");
            }
            let _ = writeln!(out, "{line}");
        }
        for task in &again.blocking {
            let _ = writeln!(
                out,
                "  blocking task still running, spawned at {}",
                task.site
            );
        }
        for panic in &again.panics {
            let site = panic.spawned_at.as_deref().unwrap_or("an unknown site");
            let _ = writeln!(out, "  task spawned at {site} panicked: {}", panic.message);
        }
    }
    out
}

/// The suite's summary: the first run, with each re-run test's line (which names its spawn
/// sites) in place of its first.
fn print_summary(ran: &Ran, first: &[ReportLine], rerun: &[ReportLine]) {
    let mut summary = Summary::default();
    for line in first.iter().chain(rerun) {
        summary.add(line.clone());
    }
    summary.files.push("the suite's reports".to_owned());
    print!(
        "\ncargo leakcheck: {} ran in {}, {} of them leak-checked\n{}",
        counted(ran.tests, "test", "tests"),
        counted(ran.binaries, "binary", "binaries"),
        summary.tests.len(),
        text(&summary)
    );
}

/// The end of a command's output, for a failure message.
fn tail(output: &[u8]) -> String {
    let start = output.len().saturating_sub(4000);
    String::from_utf8_lossy(&output[start..]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(line: &str) -> ReportLine {
        ReportLine::parse(line).expect("a report line")
    }

    #[test]
    fn repeat_reaches_the_suite_as_leakcheck_repeat() {
        let arguments = TestArgs {
            nextest: false,
            manifest_path: None,
            repeat: Some(20),
            cargo_arguments: Vec::new(),
        };
        let command = suite_command(&arguments, Path::new("report.jsonl"), None, &[]);
        assert!(
            command
                .get_envs()
                .any(|(name, value)| name == "LEAKCHECK_REPEAT"
                    && value == Some(std::ffi::OsStr::new("20"))),
            "{command:?}"
        );
    }

    #[test]
    fn what_ran_is_read_from_libtest_or_from_nextest() {
        let mut ran = Ran::default();
        for line in [
            "test result: FAILED. 2 passed; 1 failed; 3 ignored; 0 measured; 0 filtered out; finished in 0.25s",
            "test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s",
            "    Starting 9 tests across 9 binaries",
        ] {
            ran.read(line, false);
        }
        assert_eq!(
            ran,
            Ran {
                tests: 3,
                binaries: 2
            }
        );
        let mut ran = Ran::default();
        for line in [
            "    Starting 4 tests across 2 binaries (1 test skipped)",
            "test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 3 filtered out",
        ] {
            ran.read(line, true);
        }
        assert_eq!(
            ran,
            Ran {
                tests: 4,
                binaries: 2
            }
        );
    }

    #[test]
    fn a_test_that_does_not_leak_again_is_called_timing_dependent() {
        let first = [
            report(r#"{"test":"feed::a","outcome":"failed","leaked_tasks":1,"leaks":[]}"#),
            report(r#"{"test":"feed::b","outcome":"failed","leaked_tasks":2,"leaks":[]}"#),
        ];
        let rerun = [
            report(
                r#"{"test":"feed::a","outcome":"failed","leaked_tasks":1,"leaks":[{"site":"src/feed.rs:7:5","name":"pump","id":"3","awaiting":null,"spawned_by":"2","spawned_by_at":"src/feed.rs:3:9"}]}"#,
            ),
            report(r#"{"test":"feed::b","outcome":"passed","leaked_tasks":0,"leaks":[]}"#),
        ];
        let leaky: Vec<&ReportLine> = first.iter().collect();
        let text = spawn_lines(&leaky, &rerun);
        assert!(
            text.contains("feed::a:\n  task leaked, spawned at src/feed.rs:7:5, named \"pump\", by task 2 (spawned at src/feed.rs:3:9)\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "feed::b: did not leak again in the tokio_unstable build: a timing-dependent leak"
            ),
            "{text}"
        );
    }
}
