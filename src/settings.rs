//! Settings from the environment, read once per process and parsed strictly: an empty
//! variable counts as unset, and a value that does not parse fails every leak-checked test
//! with a message naming the variable and what it accepts. A value a test sets itself (in the
//! attribute or on [`Check`](crate::Check)) wins over the environment.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use crate::allow::AllowRule;
use crate::resources::{RESOURCES_VARIABLE, ResourceMode};

/// What leakcheck does with what it finds; `LEAKCHECK=fail|warn|off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Leaks, detached panics and teardown problems fail the test. The default.
    #[default]
    Fail,
    /// They are reported, and the test passes: for adopting leakcheck in a suite that leaks.
    Warn,
    /// Leak detection is skipped; fixtures and teardown still run.
    Off,
}

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
/// `LEAKCHECK_MAX_POLL`: the default `max_poll`.
pub const MAX_POLL_VARIABLE: &str = "LEAKCHECK_MAX_POLL";
/// `LEAKCHECK_HANG=exit|wait`: what to do about a test stuck in synchronous code.
pub const HANG_VARIABLE: &str = "LEAKCHECK_HANG";

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
    pub(crate) on_hang: OnHang,
    pub(crate) resources: Option<ResourceMode>,
}

/// The settings of this process, or what is wrong with them.
pub(crate) fn environment() -> &'static Result<Environment, String> {
    static READ: OnceLock<Result<Environment, String>> = OnceLock::new();
    READ.get_or_init(|| Environment::read(|name| std::env::var(name).ok()))
}

impl Environment {
    /// Reads every variable through `lookup`, collecting all the mistakes at once.
    pub(crate) fn read(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let set = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let mut problems = Vec::new();
        let mut duration = |name: &str| {
            let value = set(name)?;
            parse_duration(&value)
                .map_err(|()| {
                    problems.push(format!(
                        "{name}={value:?} is not a duration: write a whole number and a unit (ms, s, m or h), like 300ms, 5s or 2m"
                    ))
                })
                .ok()
        };
        let settle = duration(SETTLE_VARIABLE);
        let timeout = duration(TIMEOUT_VARIABLE);
        let teardown_timeout = duration(TEARDOWN_TIMEOUT_VARIABLE);
        let max_poll = duration(MAX_POLL_VARIABLE);
        let mode = set(MODE_VARIABLE).and_then(|value| match value.trim() {
            "fail" => Some(Mode::Fail),
            "warn" => Some(Mode::Warn),
            "off" => Some(Mode::Off),
            _ => {
                problems.push(format!(
                    "{MODE_VARIABLE}={value:?} is not a mode: write fail, warn or off"
                ));
                None
            }
        });
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
        let resources = set(RESOURCES_VARIABLE).and_then(|value| match value.trim() {
            "fail" => Some(ResourceMode::Fail),
            "warn" => Some(ResourceMode::Warn),
            "off" => Some(ResourceMode::Off),
            _ => {
                problems.push(format!(
                    "{RESOURCES_VARIABLE}={value:?} is not a mode: write fail, warn or off"
                ));
                None
            }
        });
        let environment = Environment {
            mode,
            max_poll,
            on_hang,
            resources,
            settle,
            timeout,
            teardown_timeout,
            report: set(REPORT_VARIABLE).map(PathBuf::from),
            allow_leaks: set(ALLOW_LEAKS_VARIABLE).map(|rules| {
                rules
                    .split(',')
                    .filter(|rule| !rule.trim().is_empty())
                    .map(AllowRule::parse)
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

/// `300ms`, `5s`, `2m`, `1h`: the same spelling as the attribute's durations.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, ()> {
    let text = text.trim();
    let digits_end = text.find(|c: char| !c.is_ascii_digit()).ok_or(())?;
    let (number, unit) = text.split_at(digits_end);
    let number: u64 = number.parse().map_err(|_| ())?;
    match unit {
        "ms" => Ok(Duration::from_millis(number)),
        "s" => Ok(Duration::from_secs(number)),
        "m" => number.checked_mul(60).map(Duration::from_secs).ok_or(()),
        "h" => number.checked_mul(3600).map(Duration::from_secs).ok_or(()),
        _ => Err(()),
    }
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
        assert_eq!(parse_duration("300ms"), Ok(Duration::from_millis(300)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        for wrong in ["5", "5 s", "s", "1.5s", "-1s", "5sec"] {
            assert_eq!(parse_duration(wrong), Err(()), "{wrong}");
        }
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
