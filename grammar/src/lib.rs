//! How leakcheck's options are spelled and which combinations make sense: one grammar for
//! the `#[leak_checked_test]` attribute (checked at compile time by `leakcheck-macros`) and
//! for the library (the environment's `LEAKCHECK_*` variables and the `Check` builder).
//!
//! A proc-macro crate cannot export functions, so the rules live here, below both. Each side
//! words its own errors (the attribute names the attribute's options, the library the
//! builder's methods and the variables); what is accepted is decided only here.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::time::Duration;

/// Reads a duration spelled as a whole number and a unit: `300ms`, `5s`, `2m`, `1h`.
///
/// Zero is a duration here; whether a zero limit can mean anything is the caller's to say.
pub fn duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let digits_end = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(digits_end);
    let number: u64 = number.parse().ok()?;
    match unit {
        "ms" => Some(Duration::from_millis(number)),
        "s" => Some(Duration::from_secs(number)),
        "m" => number.checked_mul(60).map(Duration::from_secs),
        "h" => number.checked_mul(3600).map(Duration::from_secs),
        _ => None,
    }
}

/// What a duration is, for an error message: `a whole number and a unit (ms, s, m or h)`.
pub const DURATION_SPELLING: &str = "a whole number and a unit (ms, s, m or h)";

/// The runtime options that constrain each other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Runtime {
    /// `flavor = "multi_thread"`.
    pub multi_thread: bool,
    /// `worker_threads = N`, if set.
    pub worker_threads: Option<usize>,
    /// `start_paused = true`.
    pub start_paused: bool,
}

/// A combination of runtime options that cannot work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// `worker_threads` on a runtime that has no workers.
    WorkerThreadsWithoutMultiThread,
    /// `worker_threads = 0`: a multi-thread runtime needs a worker.
    NoWorkerThreads,
    /// `start_paused` on a multi-thread runtime: tokio pauses only a single-threaded clock.
    StartPausedOnMultiThread,
}

impl Runtime {
    /// Every conflict among the options, in the order the options are listed above.
    pub fn conflicts(self) -> Vec<Conflict> {
        let mut conflicts = Vec::new();
        match self.worker_threads {
            Some(_) if !self.multi_thread => {
                conflicts.push(Conflict::WorkerThreadsWithoutMultiThread);
            }
            Some(0) => conflicts.push(Conflict::NoWorkerThreads),
            _ => {}
        }
        if self.start_paused && self.multi_thread {
            conflicts.push(Conflict::StartPausedOnMultiThread);
        }
        conflicts
    }
}

/// Durations as written, and what they read as (`None`: not a duration), for the tests of
/// every side that reads them: the same table runs through the attribute's parser and the
/// environment's.
#[doc(hidden)]
pub const DURATION_EXAMPLES: &[(&str, Option<Duration>)] = &[
    ("300ms", Some(Duration::from_millis(300))),
    ("5s", Some(Duration::from_secs(5))),
    ("2m", Some(Duration::from_secs(120))),
    ("1h", Some(Duration::from_secs(3600))),
    ("0s", Some(Duration::ZERO)),
    ("5", None),
    ("5 s", None),
    ("s", None),
    ("1.5s", None),
    ("-1s", None),
    ("5sec", None),
    ("18446744073709551615m", None),
];

/// Runtime options and their conflicts, for the tests of every side that checks them.
#[doc(hidden)]
pub const RUNTIME_EXAMPLES: &[(Runtime, &[Conflict])] = &[
    (
        Runtime {
            multi_thread: true,
            worker_threads: Some(2),
            start_paused: false,
        },
        &[],
    ),
    (
        Runtime {
            multi_thread: false,
            worker_threads: None,
            start_paused: true,
        },
        &[],
    ),
    (
        Runtime {
            multi_thread: false,
            worker_threads: Some(2),
            start_paused: false,
        },
        &[Conflict::WorkerThreadsWithoutMultiThread],
    ),
    (
        Runtime {
            multi_thread: true,
            worker_threads: Some(0),
            start_paused: false,
        },
        &[Conflict::NoWorkerThreads],
    ),
    (
        Runtime {
            multi_thread: true,
            worker_threads: None,
            start_paused: true,
        },
        &[Conflict::StartPausedOnMultiThread],
    ),
    (
        Runtime {
            multi_thread: false,
            worker_threads: Some(1),
            start_paused: true,
        },
        &[Conflict::WorkerThreadsWithoutMultiThread],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_reads_as_the_table_says() {
        for (text, expected) in DURATION_EXAMPLES {
            assert_eq!(duration(text), *expected, "{text}");
        }
        for (runtime, expected) in RUNTIME_EXAMPLES {
            assert_eq!(runtime.conflicts(), *expected, "{runtime:?}");
        }
    }
}
