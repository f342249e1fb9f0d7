//! A repeated test's counts: read before the first repetition and after each, then judged by
//! the growth rule of `findings/growth.rs`.

use std::collections::BTreeMap;
use std::sync::Once;
use std::time::Duration;

use tokio::runtime::Handle;

use crate::findings::{Counted, Growth, Series, warm_up};
use crate::observe::{KNOWS_SPAWN_SITES, heap, resources, watchdog};
use crate::run::state::RunState;
use crate::tell::warnings;
use crate::util::sites;

/// Why the heap is not counted is said once per process: every repeated test would say it.
static SAID_HEAP_UNMEASURED: Once = Once::new();

/// How long a repeated test that counts the heap waits for the watchdog's thread to start:
/// far past what a start takes on a loaded machine.
const WATCHDOG_START_LIMIT: Duration = Duration::from_secs(1);

/// Yields before each count, so that tasks a repetition ended have finished: churn must not
/// read as growth.
const YIELDS_BEFORE_A_COUNT: u32 = 8;

/// What of the process a repeated run may count as its test's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Counting {
    /// Descriptors and threads: the resource check runs.
    pub(crate) process: bool,
    /// The heap: the test is alone in its process.
    pub(crate) heap: bool,
}

/// The counts of a repeated run so far.
pub(crate) struct Counts {
    series: Vec<Series>,
    /// Live tasks by spawn site, in a build that knows sites: which of them grew.
    by_site: Vec<(String, Vec<usize>)>,
    counting: Counting,
    /// The last descriptor count and its kinds: kinds are listed only when the count moved.
    descriptors: Option<(usize, (usize, usize, usize))>,
}

impl Counts {
    pub(crate) fn new(counting: Counting) -> Counts {
        if counting.heap {
            watchdog::wait_until_running(WATCHDOG_START_LIMIT);
        }
        Counts {
            series: Vec::new(),
            by_site: Vec::new(),
            counting,
            descriptors: None,
        }
    }

    /// The note, once per process, that the heap was not counted, and why.
    pub(crate) fn heap_unmeasured(&self) -> Option<String> {
        if self
            .series
            .iter()
            .any(|series| series.counted == Counted::Heap)
        {
            return None;
        }
        let mut note = None;
        SAID_HEAP_UNMEASURED.call_once(|| {
            note = Some(warnings::heap_not_counted(heap::live_bytes().is_some()));
        });
        note
    }

    /// Reads every count once the runtime has let finished work end.
    pub(crate) async fn take(&mut self, run: &RunState) {
        for _ in 0..YIELDS_BEFORE_A_COUNT {
            tokio::task::yield_now().await;
        }
        self.add(
            Counted::LiveTasks,
            Handle::current().metrics().num_alive_tasks(),
        );
        if self.counting.heap
            && let Some(bytes) = heap::live_bytes()
        {
            self.add(Counted::Heap, bytes);
        }
        if self.counting.process
            && let Some((descriptors, threads)) = resources::process_counts()
        {
            let kinds = match self.descriptors {
                Some((count, kinds)) if count == descriptors => Some(kinds),
                _ => resources::descriptors_by_kind(),
            };
            if let Some(kinds) = kinds {
                self.descriptors = Some((descriptors, kinds));
                self.add(Counted::Sockets, kinds.0);
                self.add(Counted::Files, kinds.1);
                self.add(Counted::OtherDescriptors, kinds.2);
            }
            self.add(Counted::Threads, threads);
        }
        for (name, value) in run.gauges.read() {
            self.add(Counted::Gauge(name), value);
        }
        if KNOWS_SPAWN_SITES {
            let mut alive: BTreeMap<String, usize> = BTreeMap::new();
            for task in run.spawns.alive() {
                *alive.entry(sites::location(task.spawned_at)).or_default() += 1;
            }
            for (site, values) in &mut self.by_site {
                values.push(alive.remove(site).unwrap_or(0));
            }
            self.by_site
                .extend(alive.into_iter().map(|(site, count)| (site, vec![count])));
        }
    }

    fn add(&mut self, counted: Counted, value: usize) {
        match self
            .series
            .iter_mut()
            .find(|series| series.counted == counted)
        {
            Some(series) => series.values.push(value),
            None => self.series.push(Series {
                counted,
                values: vec![value],
            }),
        }
    }

    /// What grew over `repetitions`.
    pub(crate) fn growth(&self, repetitions: usize) -> Vec<Growth> {
        let warm_up = warm_up(repetitions);
        self.series
            .iter()
            .filter_map(|series| series.growth(repetitions, warm_up))
            .map(|mut growth| {
                if growth.counted == Counted::LiveTasks {
                    growth.sites = self
                        .by_site
                        .iter()
                        .filter(|(_, values)| {
                            let series = Series {
                                counted: Counted::LiveTasks,
                                values: values.clone(),
                            };
                            series.growth(repetitions, warm_up).is_some()
                        })
                        .map(|(site, _)| site.clone())
                        .collect();
                }
                growth
            })
            .collect()
    }
}
