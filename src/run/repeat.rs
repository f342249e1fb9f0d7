//! A repeated test's counts: read before the first repetition and after each, then judged by
//! the growth rule of `findings/growth.rs`.

use tokio::runtime::Handle;

use crate::findings::{Counted, Growth, Series, warm_up};
use crate::observe::resources;
use crate::run::state::RunState;

/// Yields before each count, so that tasks a repetition ended have finished: churn must not
/// read as growth.
const YIELDS_BEFORE_A_COUNT: u32 = 8;

/// The counts of a repeated run so far.
pub(crate) struct Counts {
    series: Vec<Series>,
    /// Whether the process's descriptors and threads are the test's (the resource check runs).
    of_the_process: bool,
}

impl Counts {
    pub(crate) fn new(of_the_process: bool) -> Counts {
        Counts {
            series: Vec::new(),
            of_the_process,
        }
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
        if self.of_the_process
            && let Some((descriptors, threads)) = resources::process_counts()
        {
            self.add(Counted::Descriptors, descriptors);
            self.add(Counted::Threads, threads);
        }
        for (name, value) in run.gauges.read() {
            self.add(Counted::Gauge(name), value);
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
            .collect()
    }
}
