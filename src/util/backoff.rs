//! The one backoff of every wait that polls: for leftover tasks, for resources to go.

use std::time::Duration;

/// The first pause: short, so that what needs a moment is seen soon.
const FIRST_PAUSE: Duration = Duration::from_micros(50);
/// The longest pause: so that a leak is reported soon after its window ends.
const MAX_PAUSE: Duration = Duration::from_millis(5);

/// Pauses that start at 50 us and double up to 5 ms.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Backoff {
    pub(crate) fn new() -> Self {
        Backoff { next: FIRST_PAUSE }
    }

    /// The pause to take now; the next one is twice as long, up to the cap.
    pub(crate) fn pause(&mut self) -> Duration {
        let pause = self.next;
        self.next = (self.next * 2).min(MAX_PAUSE);
        pause
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_the_cap() {
        let mut backoff = Backoff::new();
        let pauses: Vec<u128> = (0..9).map(|_| backoff.pause().as_micros()).collect();
        assert_eq!(pauses, [50, 100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    }
}
