//! `cargo leakcheck test`: runs the suite with its report under `target/leakcheck/`; if tests
//! failed with leaks or task panics in a build without `tokio_unstable`, which only counts
//! them, builds again with `--cfg tokio_unstable` (in `target/leakcheck/unstable`, so the
//! usual build stays as it is) and re-runs exactly those tests, to print where each leaked
//! task was spawned.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output};
use std::time::Duration;

use crate::paths::shown_path;
use crate::report::summary::{Summary, text};
use crate::report_line::{Outcome, ReportLine};
use crate::words::counted;
use crate::workspace::Workspace;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

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

    let status = suite_command(arguments, &first_report, None)
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
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
        print_summary(&reports, &[]);
        return Ok(first_exit);
    }

    let second_report = directory.join("unstable.jsonl");
    remove_stale(&second_report)?;
    let names: Vec<&str> = leaky.iter().map(|report| report.harness_name()).collect();
    let mut rerun = suite_command(arguments, &second_report, Some(&directory.join("unstable")));
    add_name_filters(&mut rerun, arguments.nextest, &names);
    let output = with_progress(
        &format!(
            "building with --cfg tokio_unstable in {} and re-running {} to find where the leaked tasks were spawned",
            shown_path(
                &std::env::current_dir().unwrap_or_default(),
                &directory.join("unstable")
            ),
            counted(names.len(), "test", "tests"),
        ),
        || rerun.output(),
    )
    .map_err(|error| format!("cannot run cargo: {error}"))?;
    let rerun_reports = read_reports(&second_report)?;
    if rerun_reports.is_empty() {
        return Err(format!(
            "the tokio_unstable build did not run the tests again:\n{}",
            String::from_utf8_lossy(&output_tail(&output))
        ));
    }
    print!("\n{}", spawn_lines(&leaky, &rerun_reports));
    print_summary(&reports, &rerun_reports);
    Ok(first_exit)
}

/// `cargo test` or `cargo nextest run` with the user's arguments, writing its report to
/// `report`; built in `unstable_target` with `--cfg tokio_unstable` if given.
fn suite_command(arguments: &TestArgs, report: &Path, unstable_target: Option<&Path>) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    if arguments.nextest {
        command.args(["nextest", "run"]);
    } else {
        command.arg("test");
    }
    if let Some(manifest) = &arguments.manifest_path {
        command.arg("--manifest-path").arg(manifest);
    }
    command.args(&arguments.cargo_arguments);
    command.env("LEAKCHECK_REPORT", report);
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
fn print_summary(first: &[ReportLine], rerun: &[ReportLine]) {
    let tests = first
        .iter()
        .map(|report| {
            let line = rerun
                .iter()
                .find(|again| again.test == report.test && again.problems() > 0)
                .unwrap_or(report);
            line.clone()
        })
        .collect();
    let summary = Summary {
        files: vec!["the suite's reports".to_owned()],
        tests,
    };
    print!("\n{}", text(&summary));
}

/// Runs `work`, with a spinner saying `message` on a terminal and one line otherwise.
fn with_progress<T>(message: &str, work: impl FnOnce() -> T) -> T {
    if !std::io::stderr().is_terminal() {
        eprintln!("cargo leakcheck: {message}");
        return work();
    }
    let spinner = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        spinner.set_style(style);
    }
    spinner.set_message(message.to_owned());
    spinner.enable_steady_tick(Duration::from_millis(120));
    let result = work();
    spinner.finish_and_clear();
    result
}

/// The end of a command's output, for a failure message.
fn output_tail(output: &Output) -> Vec<u8> {
    let all = [output.stdout.as_slice(), output.stderr.as_slice()].concat();
    let start = all.len().saturating_sub(4000);
    all[start..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(line: &str) -> ReportLine {
        ReportLine::parse(line).expect("a report line")
    }

    #[test]
    fn a_test_that_does_not_leak_again_is_called_timing_dependent() {
        let first = [
            report(r#"{"test":"feed::a","outcome":"failed","leaked_tasks":1,"leaks":[]}"#),
            report(r#"{"test":"feed::b","outcome":"failed","leaked_tasks":2,"leaks":[]}"#),
        ];
        let rerun = [
            report(
                r#"{"test":"feed::a","outcome":"failed","leaked_tasks":1,"leaks":[{"site":"src/feed.rs:7:5","name":"pump","id":"3","awaiting":null}]}"#,
            ),
            report(r#"{"test":"feed::b","outcome":"passed","leaked_tasks":0,"leaks":[]}"#),
        ];
        let leaky: Vec<&ReportLine> = first.iter().collect();
        let text = spawn_lines(&leaky, &rerun);
        assert!(
            text.contains("feed::a:\n  task leaked, spawned at src/feed.rs:7:5, named \"pump\"\n"),
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
