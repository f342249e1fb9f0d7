//! How long past its `settle` a leaky test takes to be reported: the whole run of a test that
//! leaks one task, minus `settle`, median of 21 runs on each flavor.

use std::future::pending;
use std::time::{Duration, Instant};

use leakcheck::{Check, Flavor};

const SETTLE: Duration = Duration::from_millis(250);
const RUNS: usize = 21;

fn main() {
    for flavor in [Flavor::CurrentThread, Flavor::MultiThread] {
        let mut beyond_settle: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let started = Instant::now();
                let report = Check::new("leaks_one")
                    .flavor(flavor)
                    .settle(SETTLE)
                    .run(|| async {
                        tokio::spawn(pending::<()>());
                    });
                let took = started.elapsed();
                assert_eq!(report.leaked_tasks(), 1, "{report}");
                took.saturating_sub(SETTLE)
            })
            .collect();
        beyond_settle.sort();
        println!(
            "{flavor}: a leak is reported {:.1} ms after settle (median of {RUNS}; min {:.1} ms, max {:.1} ms)",
            millis(beyond_settle[RUNS / 2]),
            millis(beyond_settle[0]),
            millis(beyond_settle[RUNS - 1]),
        );
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
