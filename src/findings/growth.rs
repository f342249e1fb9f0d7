//! Leaks that grow: what a repeated test counts after each repetition, and the rule that says
//! whether a count grew.
//!
//! The rule follows CPython's `-R warmup:repeat`: the first repetitions are warm-up (a pool
//! filling, a cache taking its first entries, a thread pool starting on first use) and are not
//! judged; a count grew only when every repetition after the warm-up added at least one. A pool
//! that fills and then reuses, churn that starts and ends work, a bounded cache: each has a
//! repetition that adds nothing, so none of them grew.

/// What a repeated test counts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Counted {
    /// Tasks of the test's runtime still alive.
    LiveTasks,
    /// Open sockets of the process (where the resource check runs).
    Sockets,
    /// Open files of the process (where the resource check runs).
    Files,
    /// Other open descriptors of the process: pipes, event and timer descriptors.
    OtherDescriptors,
    /// Threads of the process (where the resource check runs).
    Threads,
    /// A gauge the test registered with [`crate::gauge`], by its name.
    Gauge(String),
    /// Bytes live on the heap, where the test target counts them
    /// ([`count_allocations!`](crate::count_allocations)) and the test is alone in its process.
    Heap,
}

impl Counted {
    /// Whether the count is of what the process holds, judged by the `resources` mode as
    /// resources left behind are.
    pub(crate) fn is_resource(&self) -> bool {
        matches!(
            self,
            Counted::Sockets | Counted::Files | Counted::OtherDescriptors | Counted::Threads
        )
    }
}

/// A count that grew with every repetition after the warm-up.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Growth {
    /// What grew.
    pub counted: Counted,
    /// The least one judged repetition added.
    pub least: usize,
    /// The most one judged repetition added.
    pub most: usize,
    /// How many times the body ran.
    pub repetitions: usize,
    /// How many of the first repetitions were not judged.
    pub warm_up: usize,
    /// For live tasks in a `tokio_unstable` build: the spawn sites whose live tasks grew too.
    pub sites: Vec<String>,
}

/// The warm-up of `repetitions`: a quarter of them, rounded down, leaving at least two to
/// judge (so `repeat = 2` and `repeat = 3` have none).
pub(crate) fn warm_up(repetitions: usize) -> usize {
    (repetitions / 4).min(repetitions.saturating_sub(2))
}

/// Heap growth under this many bytes a repetition is noise: the runtime's own bookkeeping, a
/// buffer that doubles now and then.
pub(crate) const HEAP_NOISE_FLOOR: usize = 1024;

/// One count's values: before the first repetition it was seen in, then after each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Series {
    pub(crate) counted: Counted,
    pub(crate) values: Vec<usize>,
}

impl Series {
    /// The heap's growth: it grew when nearly every repetition after `warm_up` (all but one,
    /// of at least three) added more than [`HEAP_NOISE_FLOOR`]; churn frees what it takes, and
    /// a buffer that doubles grows in some repetitions only.
    pub(crate) fn heap_growth(&self, repetitions: usize, warm_up: usize) -> Option<Growth> {
        let deltas: Vec<i128> = self
            .values
            .windows(2)
            .map(|pair| pair[1] as i128 - pair[0] as i128)
            .collect();
        let judged = deltas.get(warm_up.min(deltas.len())..)?;
        if judged.len() < 3 {
            return None;
        }
        let grown: Vec<usize> = judged
            .iter()
            .filter(|delta| **delta > HEAP_NOISE_FLOOR as i128)
            .map(|delta| usize::try_from(*delta).unwrap_or(usize::MAX))
            .collect();
        if grown.len() + 1 < judged.len() {
            return None;
        }
        Some(Growth {
            counted: self.counted.clone(),
            least: *grown.iter().min()?,
            most: *grown.iter().max()?,
            repetitions,
            warm_up,
            sites: Vec::new(),
        })
    }

    /// Whether the count grew with every repetition after `warm_up`, and by how much.
    pub(crate) fn growth(&self, repetitions: usize, warm_up: usize) -> Option<Growth> {
        if self.counted == Counted::Heap {
            return self.heap_growth(repetitions, warm_up);
        }
        let deltas: Vec<usize> = self
            .values
            .windows(2)
            .map(|pair| pair[1].saturating_sub(pair[0]))
            .collect();
        // A count first seen late (a gauge registered in a later repetition) has fewer
        // deltas; the warm-up is the same repetitions, so fewer are skipped.
        let skipped = warm_up.saturating_sub(repetitions.saturating_sub(deltas.len()));
        let judged = deltas.get(skipped..)?;
        if judged.len() < 2 {
            return None;
        }
        let least = *judged.iter().min()?;
        (least >= 1).then(|| Growth {
            counted: self.counted.clone(),
            least,
            most: *judged.iter().max().unwrap_or(&least),
            repetitions,
            warm_up,
            sites: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: &[usize]) -> Series {
        Series {
            counted: Counted::LiveTasks,
            values: values.to_vec(),
        }
    }

    #[test]
    fn a_count_grows_when_every_judged_repetition_adds_one() {
        let growth = series(&[0, 1, 2, 3, 4, 5, 6, 7, 8]).growth(8, warm_up(8));
        assert_eq!(
            growth,
            Some(Growth {
                counted: Counted::LiveTasks,
                least: 1,
                most: 1,
                repetitions: 8,
                warm_up: 2,
                sites: Vec::new(),
            })
        );
    }

    #[test]
    fn warm_up_then_flat_churn_and_a_bounded_cache_do_not_grow() {
        for values in [
            // A pool that fills in its first rounds, then reuses.
            &[0, 3, 4, 4, 4, 4, 4, 4, 4][..],
            // Churn: work started and ended, seen now and then.
            &[0, 1, 0, 1, 1, 0, 1, 0, 1],
            // A cache of at most four entries.
            &[0, 1, 2, 3, 4, 4, 4, 4, 4],
            // Growth that stops once.
            &[0, 1, 2, 3, 4, 5, 5, 6, 7],
        ] {
            assert_eq!(series(values).growth(8, warm_up(8)), None, "{values:?}");
        }
    }

    #[test]
    fn a_count_seen_from_a_later_repetition_is_judged_on_what_was_seen() {
        // A gauge registered in the third of eight repetitions.
        let growth = series(&[1, 2, 3, 4, 5, 6]).growth(8, warm_up(8));
        assert_eq!(growth.map(|growth| growth.least), Some(1));
        assert_eq!(
            series(&[1, 2]).growth(8, warm_up(8)),
            None,
            "too few to judge"
        );
    }

    #[test]
    fn the_heap_grows_when_nearly_every_repetition_keeps_more_than_the_noise() {
        let heap = |values: &[usize]| Series {
            counted: Counted::Heap,
            values: values.to_vec(),
        };
        let kib = 1024;
        // A cache with no eviction: 16 KiB a repetition, one repetition freeing a little.
        let cache: Vec<usize> = [0, 16, 32, 48, 64, 80, 79, 95, 111]
            .iter()
            .map(|value| 100 * kib + value * kib)
            .collect();
        let growth = heap(&cache).growth(8, warm_up(8)).expect("it grew");
        assert_eq!((growth.least, growth.most), (16 * kib, 16 * kib));
        // Churn around a steady heap, and a buffer that doubled twice.
        for values in [
            &[
                100 * kib,
                100 * kib + 300,
                100 * kib - 200,
                100 * kib + 100,
                100 * kib,
                100 * kib,
                100 * kib + 50,
                100 * kib,
                100 * kib,
            ][..],
            &[
                64 * kib,
                64 * kib,
                128 * kib,
                128 * kib,
                128 * kib,
                256 * kib,
                256 * kib,
                256 * kib,
                256 * kib,
            ],
        ] {
            assert_eq!(heap(values).growth(8, warm_up(8)), None, "{values:?}");
        }
    }

    #[test]
    fn the_warm_up_leaves_at_least_two_repetitions() {
        assert_eq!([2, 3, 4, 8, 20].map(warm_up), [0, 0, 1, 2, 5]);
    }
}
