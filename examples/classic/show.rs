//! Runs one classic leak's two versions and prints their reports: shared by the tour and the
//! examples of each leak.

use std::time::Duration;

use leakcheck::{Check, Flavor, Report};

/// One classic leak: its leaky version, what its report must say, its fix.
pub struct Scenario {
    pub title: &'static str,
    /// The file it is written in, and its text, to show the leaky code beside its report.
    pub file: &'static str,
    pub source: &'static str,
    pub leaky: fn(Check) -> Report,
    pub expected_words: &'static str,
    pub fixed: fn(Check) -> Report,
    pub fix: &'static str,
}

/// Whether a report left out the hint for spawn sites, to be given once at the end.
static SPAWN_SITES_UNKNOWN: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Teardown steps get less than the default 5 s here, so the examples finish quickly.
const EXAMPLE_TEARDOWN_TIMEOUT: Duration = Duration::from_millis(500);

fn check(test: String) -> Check {
    Check::new(test)
        .flavor(Flavor::MultiThread)
        .teardown_timeout(EXAMPLE_TEARDOWN_TIMEOUT)
}

/// The hint every leaky report of a build without `tokio_unstable` ends with: the tour says
/// it once, at the end.
const SPAWN_SITES_HINT: &str = "hint: run `cargo leakcheck test`";

fn indent(report: &Report) -> String {
    report
        .to_string()
        .lines()
        .filter(|line| !line.trim_start().starts_with(SPAWN_SITES_HINT))
        .map(|line| format!("    {line}\n"))
        .collect()
}

/// The code that leaks: the `leaky_test` function, and what the file marks between
/// `// tour: shown` and `// tour: end` (a fixture's teardown, say).
pub fn leaky_code(source: &str) -> String {
    let mut shown = String::new();
    let mut marked = false;
    let mut in_test = false;
    for line in source.lines() {
        let trimmed = line.trim();
        if trimmed == "// tour: shown" {
            marked = true;
            continue;
        }
        if trimmed == "// tour: end" {
            marked = false;
            shown.push_str("      ...\n");
            continue;
        }
        if line.starts_with("pub async fn leaky_test") {
            in_test = true;
        }
        if marked || in_test {
            shown.push_str(&format!("      {line}\n"));
        }
        if in_test && (line == "}" || line.ends_with("{}")) {
            in_test = false;
        }
    }
    shown
}

/// Prints both versions' reports; gives what was not as expected.
pub fn show(name: &str, scenario: &Scenario) -> Vec<String> {
    let mut surprises = Vec::new();
    println!("{}\n", scenario.title);
    println!(
        "  the leak ({}):\n{}",
        scenario.file,
        leaky_code(scenario.source)
    );
    let leaky = (scenario.leaky)(check(format!("{name}::leaky")));
    println!("  its report:\n{}", indent(&leaky));
    if leaky.to_string().contains(SPAWN_SITES_HINT) {
        SPAWN_SITES_UNKNOWN.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    if leaky.passed() || !leaky.to_string().contains(scenario.expected_words) {
        surprises.push(format!(
            "{}: expected a report saying {:?}",
            leaky.test(),
            scenario.expected_words
        ));
    }
    let fixed = (scenario.fixed)(check(format!("{name}::fixed")));
    println!("  fixed ({}):\n{}", scenario.fix, indent(&fixed));
    if !fixed.passed() {
        surprises.push(format!("{}: expected a pass", fixed.test()));
    }
    surprises
}

/// The exit status of an example: success when every verdict was the expected one.
pub fn verdict(surprises: &[String]) -> std::process::ExitCode {
    if SPAWN_SITES_UNKNOWN.load(std::sync::atomic::Ordering::Relaxed) {
        println!(
            "In a test suite, `cargo leakcheck test` (or a build with RUSTFLAGS=\"--cfg tokio_unstable\") adds the line each leaked task was spawned at.\n"
        );
    }
    if surprises.is_empty() {
        println!("Every leak was caught and every fix passed.");
        std::process::ExitCode::SUCCESS
    } else {
        eprintln!("Unexpected verdicts:");
        for surprise in surprises {
            eprintln!("  {surprise}");
        }
        std::process::ExitCode::FAILURE
    }
}
