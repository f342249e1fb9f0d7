//! Words for counts and durations, the same everywhere a user reads them.

use std::fmt::{self, Display, Formatter};
use std::time::Duration;

/// `1 task leaked`, `3 tasks leaked`.
pub(crate) fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

/// Durations as the attribute spells them: `250ms`, `5s`, `2m`.
pub(crate) struct Spelled(pub(crate) Duration);

impl Display for Spelled {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let millis = self.0.as_millis();
        if millis == 0 && !self.0.is_zero() {
            write!(f, "{}us", self.0.as_micros())
        } else if millis != 0 && millis.is_multiple_of(60_000) {
            write!(f, "{}m", millis / 60_000)
        } else if millis != 0 && millis.is_multiple_of(1000) {
            write!(f, "{}s", millis / 1000)
        } else {
            write!(f, "{millis}ms")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_written_in_the_attribute() {
        let spelled = |millis| Spelled(Duration::from_millis(millis)).to_string();
        assert_eq!(spelled(250), "250ms");
        assert_eq!(spelled(5000), "5s");
        assert_eq!(spelled(120_000), "2m");
        assert_eq!(spelled(1500), "1500ms");
        assert_eq!(spelled(0), "0ms");
    }

    #[test]
    fn counts_agree_in_number() {
        assert_eq!(plural(1, "task leaked", "tasks leaked"), "1 task leaked");
        assert_eq!(plural(3, "task leaked", "tasks leaked"), "3 tasks leaked");
    }
}
