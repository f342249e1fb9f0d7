//! Runs one classic leak's two versions and prints their reports: shared by the tour and the
//! examples of each leak.

use std::time::Duration;

use leakcheck::{Check, Flavor, Report};

/// One classic leak: its leaky version, what its report must say, its fix.
pub struct Scenario {
    pub title: &'static str,
    pub leaky: fn(Check) -> Report,
    pub expected_words: &'static str,
    pub fixed: fn(Check) -> Report,
    pub fix: &'static str,
}

/// Teardown steps get less than the default 5 s here, so the examples finish quickly.
const EXAMPLE_TEARDOWN_TIMEOUT: Duration = Duration::from_millis(500);

fn check(test: String) -> Check {
    Check::new(test)
        .flavor(Flavor::MultiThread)
        .teardown_timeout(EXAMPLE_TEARDOWN_TIMEOUT)
}

fn indent(report: &Report) -> String {
    report
        .to_string()
        .lines()
        .map(|line| format!("    {line}\n"))
        .collect()
}

/// Prints both versions' reports; gives what was not as expected.
pub fn show(name: &str, scenario: &Scenario) -> Vec<String> {
    let mut surprises = Vec::new();
    println!("{}\n", scenario.title);
    let leaky = (scenario.leaky)(check(format!("{name}::leaky")));
    println!("  leaky version:\n{}", indent(&leaky));
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
