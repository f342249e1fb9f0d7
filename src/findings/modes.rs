//! What a run does with what it finds: `LEAKCHECK` and `resources`.
//!
//! Both are spelled `fail`, `warn` or `off` wherever they are read or written (the
//! environment, the attribute, the JSON line), through [`FromStr`] and [`Display`].

use std::fmt::{self, Display, Formatter};
use std::str::FromStr;

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

/// What the resource check does with what a test leaves behind; attribute `resources`,
/// `LEAKCHECK_RESOURCES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResourceMode {
    /// Resources left behind fail the test.
    Fail,
    /// They are reported, and the test passes: the default, for adopting the check.
    #[default]
    Warn,
    /// The check does not run.
    Off,
}

/// A word that is not `fail`, `warn` or `off`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownMode;

impl Display for UnknownMode {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("not a mode: write fail, warn or off")
    }
}

impl std::error::Error for UnknownMode {}

/// The three words both modes are spelled with, in their order.
const WORDS: [&str; 3] = ["fail", "warn", "off"];

fn word_index(text: &str) -> Result<usize, UnknownMode> {
    WORDS
        .iter()
        .position(|word| *word == text.trim())
        .ok_or(UnknownMode)
}

impl FromStr for Mode {
    type Err = UnknownMode;

    fn from_str(text: &str) -> Result<Self, UnknownMode> {
        Ok([Mode::Fail, Mode::Warn, Mode::Off][word_index(text)?])
    }
}

impl Display for Mode {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(WORDS[*self as usize])
    }
}

impl FromStr for ResourceMode {
    type Err = UnknownMode;

    fn from_str(text: &str) -> Result<Self, UnknownMode> {
        Ok([ResourceMode::Fail, ResourceMode::Warn, ResourceMode::Off][word_index(text)?])
    }
}

impl Display for ResourceMode {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(WORDS[*self as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mode_reads_back_as_it_is_written() {
        for mode in [Mode::Fail, Mode::Warn, Mode::Off] {
            assert_eq!(mode.to_string().parse(), Ok(mode));
        }
        for mode in [ResourceMode::Fail, ResourceMode::Warn, ResourceMode::Off] {
            assert_eq!(mode.to_string().parse(), Ok(mode));
        }
        assert_eq!(" warn ".parse(), Ok(Mode::Warn));
        assert_eq!("loud".parse::<Mode>(), Err(UnknownMode));
    }
}
