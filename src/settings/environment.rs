//! The environment's `LEAKCHECK_*` variables, read once per process and parsed strictly: an empty
//! variable counts as unset, and a value that does not parse fails every leak-checked test
//! with a message naming the variable and what it accepts. A value a test sets itself (in the
//! attribute or on [`Check`](crate::Check)) wins over the environment.

use std::fmt::Display;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use crate::findings::{AllowRule, Mode, ResourceMode};

/// The environment as this process read it, once: tests of one process share their
/// environment, and reading it for every test would cost each of them the lookups.
static READ: OnceLock<Result<Environment, String>> = OnceLock::new();

/// `LEAKCHECK`: [`Mode`].
pub const MODE_VARIABLE: &str = "LEAKCHECK";
/// `LEAKCHECK_SETTLE`: the default `settle`.
pub const SETTLE_VARIABLE: &str = "LEAKCHECK_SETTLE";
/// `LEAKCHECK_TIMEOUT`: the default `timeout`.
pub const TIMEOUT_VARIABLE: &str = "LEAKCHECK_TIMEOUT";
/// `LEAKCHECK_TEARDOWN_TIMEOUT`: the default `teardown_timeout`.
pub const TEARDOWN_TIMEOUT_VARIABLE: &str = "LEAKCHECK_TEARDOWN_TIMEOUT";
/// `LEAKCHECK_REPORT`: a file to append one JSON line per test to.
pub const REPORT_VARIABLE: &str = "LEAKCHECK_REPORT";
/// `LEAKCHECK_ALLOW_LEAKS`: the default `allow_leaks`, entries separated by commas.
pub const ALLOW_LEAKS_VARIABLE: &str = "LEAKCHECK_ALLOW_LEAKS";
/// `LEAKCHECK_REPEAT`: the default `repeat`, how many times a test's body runs (a whole
/// number, at least 1; the test's own `repeat` wins).
pub const REPEAT_VARIABLE: &str = "LEAKCHECK_REPEAT";
/// `LEAKCHECK_MAX_POLL`: the default `max_poll`.
pub const MAX_POLL_VARIABLE: &str = "LEAKCHECK_MAX_POLL";
/// `LEAKCHECK_HANG=exit|wait`: what to do about a test stuck in synchronous code.
pub const HANG_VARIABLE: &str = "LEAKCHECK_HANG";
/// `LEAKCHECK_RESOURCES=fail|warn|off`: [`ResourceMode`].
pub const RESOURCES_VARIABLE: &str = "LEAKCHECK_RESOURCES";
/// `LEAKCHECK_CONSOLE=1`: serve tokio-console from the test process (feature `console`,
/// `--cfg tokio_unstable`).
pub const CONSOLE_VARIABLE: &str = "LEAKCHECK_CONSOLE";
/// The variable that turns task names off: `LEAKCHECK_TASK_NAMES=0`.
pub const TASK_NAMES_VARIABLE: &str = "LEAKCHECK_TASK_NAMES";

/// What leakcheck does when a test's thread is stuck past its limit and the grace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum OnHang {
    /// Print the report and end the test process, failing: CI must not hang.
    #[default]
    Exit,
    /// Print the report and keep waiting, for someone to attach a debugger or the console.
    Wait,
}

/// The environment's settings; `None` where a variable is unset or empty.
#[derive(Debug, Clone, Default)]
pub(crate) struct Environment {
    pub(crate) mode: Option<Mode>,
    pub(crate) settle: Option<Duration>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) teardown_timeout: Option<Duration>,
    pub(crate) report: Option<PathBuf>,
    pub(crate) allow_leaks: Option<Vec<AllowRule>>,
    pub(crate) max_poll: Option<Duration>,
    pub(crate) repeat: Option<usize>,
    pub(crate) on_hang: OnHang,
    pub(crate) resources: Option<ResourceMode>,
    /// Record task names and blocking work's spawn sites: read in `tokio_unstable` builds, and
    /// checked in every build, so a wrong value fails the same everywhere.
    #[cfg_attr(not(tokio_unstable), allow(dead_code))]
    pub(crate) task_names: bool,
    /// Serve tokio-console from the test process.
    pub(crate) console: bool,
}

/// The settings of this process, or what is wrong with them.
pub(crate) fn environment() -> &'static Result<Environment, String> {
    READ.get_or_init(|| Environment::read(|name| std::env::var(name).ok()))
}

impl Environment {
    /// Reads every variable through `lookup`, collecting all the mistakes at once.
    pub(crate) fn read(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let set = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let mut problems = Vec::new();
        let mut duration = |name: &str| {
            let value = set(name)?;
            leakcheck_grammar::duration(&value)
                .ok_or_else(|| {
                    problems.push(format!(
                        "{name}={value:?} is not a duration: write {}, like 300ms, 5s or 2m",
                        leakcheck_grammar::DURATION_SPELLING
                    ))
                })
                .ok()
        };
        let settle = duration(SETTLE_VARIABLE);
        let timeout = duration(TIMEOUT_VARIABLE);
        let teardown_timeout = duration(TEARDOWN_TIMEOUT_VARIABLE);
        let max_poll = duration(MAX_POLL_VARIABLE);
        // A limit of no time cannot mean anything: every test, teardown and poll takes some.
        for (name, limit, what) in [
            (TIMEOUT_VARIABLE, timeout, "no test ends in no time"),
            (
                TEARDOWN_TIMEOUT_VARIABLE,
                teardown_timeout,
                "no teardown ends in no time",
            ),
            (
                MAX_POLL_VARIABLE,
                max_poll,
                "every poll takes longer than no time (unset it for no limit)",
            ),
        ] {
            if limit == Some(Duration::ZERO) {
                problems.push(format!(
                    "{name}={:?} cannot mean anything: {what}; write a duration above zero, like 30s",
                    set(name).unwrap_or_default()
                ));
            }
        }
        let mode: Option<Mode> = parsed(set(MODE_VARIABLE), MODE_VARIABLE, &mut problems);
        let resources: Option<ResourceMode> =
            parsed(set(RESOURCES_VARIABLE), RESOURCES_VARIABLE, &mut problems);
        let on_hang = match set(HANG_VARIABLE).as_deref().map(str::trim) {
            None | Some("exit") => OnHang::Exit,
            Some("wait") => OnHang::Wait,
            Some(other) => {
                problems.push(format!(
                    "{HANG_VARIABLE}={other:?} is not a choice: write exit or wait"
                ));
                OnHang::Exit
            }
        };
        let mut switch = |name: &str, unset: bool| match set(name).as_deref().map(str::trim) {
            None => unset,
            Some("1" | "true") => true,
            Some("0" | "false") => false,
            Some(other) => {
                problems.push(format!("{name}={other:?} is not a switch: write 1 or 0"));
                unset
            }
        };
        let task_names = switch(TASK_NAMES_VARIABLE, true);
        let console = switch(CONSOLE_VARIABLE, false);
        let repeat = set(REPEAT_VARIABLE).and_then(|value| {
            match value.trim().parse::<usize>() {
                Ok(count) if count >= 1 => Some(count),
                _ => {
                    problems.push(format!(
                        "{REPEAT_VARIABLE}={value:?} is not a number of repetitions: write a whole number, at least 1, like 20"
                    ));
                    None
                }
            }
        });
        let environment = Environment {
            mode,
            max_poll,
            repeat,
            on_hang,
            resources,
            task_names,
            console,
            settle,
            timeout,
            teardown_timeout,
            report: set(REPORT_VARIABLE).map(PathBuf::from),
            allow_leaks: set(ALLOW_LEAKS_VARIABLE).map(|rules| {
                rules
                    .split(',')
                    .filter(|rule| !rule.trim().is_empty())
                    .filter_map(|rule| {
                        AllowRule::parse(rule)
                            .map_err(|why| problems.push(format!("{ALLOW_LEAKS_VARIABLE}: {why}")))
                            .ok()
                    })
                    .collect()
            }),
        };
        if problems.is_empty() {
            Ok(environment)
        } else {
            Err(problems.join("; "))
        }
    }
}

/// A variable's value read with its type's `FromStr`, whose error says what it accepts.
fn parsed<T: FromStr<Err: Display>>(
    value: Option<String>,
    name: &str,
    problems: &mut Vec<String>,
) -> Option<T> {
    let value = value?;
    value
        .parse()
        .map_err(|error| problems.push(format!("{name}={value:?} is {error}")))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<Environment, String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        Environment::read(|name| {
            pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        })
    }

    #[test]
    fn durations_are_spelled_as_in_the_attribute() {
        // The same table runs through the attribute's parser in leakcheck-macros.
        for (text, expected) in leakcheck_grammar::DURATION_EXAMPLES {
            let read = read(&[("LEAKCHECK_SETTLE", text)]);
            match expected {
                Some(duration) => assert_eq!(read.expect(text).settle, Some(*duration)),
                None => assert!(
                    read.expect_err(text).contains("LEAKCHECK_SETTLE="),
                    "{text}"
                ),
            }
        }
    }

    #[test]
    fn switches_are_strict_like_every_other_variable() {
        let environment = read(&[("LEAKCHECK_TASK_NAMES", "0")]).expect("valid");
        assert!(!environment.task_names);
        assert!(!environment.console);
        let environment = read(&[("LEAKCHECK_CONSOLE", "true")]).expect("valid");
        assert!(environment.task_names);
        assert!(environment.console);
        let problems = read(&[("LEAKCHECK_CONSOLE", "yes")]).expect_err("not a switch");
        assert!(
            problems.contains("LEAKCHECK_CONSOLE=\"yes\" is not a switch: write 1 or 0"),
            "{problems}"
        );
    }

    #[test]
    fn empty_means_unset() {
        let environment = read(&[("LEAKCHECK", ""), ("LEAKCHECK_SETTLE", " ")]).expect("valid");
        assert_eq!(environment.mode, None);
        assert_eq!(environment.settle, None);
    }

    #[test]
    fn every_bad_value_is_named_with_what_it_accepts() {
        let problems = read(&[
            ("LEAKCHECK", "loud"),
            ("LEAKCHECK_TIMEOUT", "ten"),
            ("LEAKCHECK_HANG", "later"),
        ])
        .expect_err("the values are wrong");
        assert!(
            problems.contains("LEAKCHECK_HANG=\"later\" is not a choice: write exit or wait"),
            "{problems}"
        );
        assert!(
            problems.contains("LEAKCHECK=\"loud\" is not a mode: write fail, warn or off"),
            "{problems}"
        );
        assert!(
            problems.contains("LEAKCHECK_TIMEOUT=\"ten\" is not a duration"),
            "{problems}"
        );
    }

    #[test]
    fn good_values_are_read() {
        let environment = read(&[
            ("LEAKCHECK", "warn"),
            ("LEAKCHECK_SETTLE", "50ms"),
            ("LEAKCHECK_TEARDOWN_TIMEOUT", "2s"),
            ("LEAKCHECK_REPORT", "target/leaks.jsonl"),
            ("LEAKCHECK_ALLOW_LEAKS", "bb8, src/metrics.rs"),
            ("LEAKCHECK_MAX_POLL", "900ms"),
            ("LEAKCHECK_HANG", "wait"),
            ("LEAKCHECK_RESOURCES", "fail"),
        ])
        .expect("valid");
        assert_eq!(environment.resources, Some(ResourceMode::Fail));
        assert_eq!(environment.max_poll, Some(Duration::from_millis(900)));
        assert_eq!(environment.on_hang, OnHang::Wait);
        assert_eq!(environment.mode, Some(Mode::Warn));
        assert_eq!(environment.settle, Some(Duration::from_millis(50)));
        assert_eq!(environment.teardown_timeout, Some(Duration::from_secs(2)));
        assert_eq!(
            environment.report,
            Some(PathBuf::from("target/leaks.jsonl"))
        );
        assert_eq!(
            environment.allow_leaks,
            Some(vec![
                AllowRule::Crate("bb8".into()),
                AllowRule::Path("src/metrics.rs".into())
            ])
        );
    }
}
