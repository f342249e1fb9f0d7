//! The cost of tracking spawn sites and task names: a test body spawning 100,000 short tasks
//! and awaiting them, on a bare runtime (no task hooks, as under `#[tokio::test]`) and through
//! `leakcheck::Check` (which installs tokio's spawn and terminate hooks and reads task names
//! from tokio's spawn spans in a `--cfg tokio_unstable` build), alternating, median of 7. Run
//! it with `RUSTFLAGS="--cfg tokio_unstable"`; without, neither side has hooks.
//!
//! `spawn_hooks_cost once bare|checked current_thread|multi_thread` runs one side once and
//! prints nothing, for counting its instructions under `valgrind --tool=callgrind`.

use std::time::{Duration, Instant};

use leakcheck::{Check, Flavor};

const TASKS: usize = 100_000;
const ROUNDS: usize = 7;

async fn spawn_many() {
    let tasks: Vec<_> = (0..TASKS)
        .map(|index| tokio::spawn(async move { index }))
        .collect();
    let mut sum = 0;
    for task in tasks {
        sum += task.await.expect("a short task completes");
    }
    assert_eq!(sum, TASKS * (TASKS - 1) / 2);
}

fn bare(multi_thread: bool) -> Duration {
    let mut builder = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = builder.enable_all().build().expect("a runtime builds");
    let started = Instant::now();
    runtime.block_on(spawn_many());
    started.elapsed()
}

fn checked(multi_thread: bool) -> Duration {
    let flavor = if multi_thread {
        Flavor::MultiThread
    } else {
        Flavor::CurrentThread
    };
    let started = Instant::now();
    Check::new("spawn_many")
        .flavor(flavor)
        .run(spawn_many)
        .assert_passed();
    started.elapsed()
}

fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    if let [once, side, flavor] = arguments.as_slice() {
        assert_eq!(
            once, "once",
            "usage: spawn_hooks_cost [once bare|checked FLAVOR]"
        );
        let multi_thread = flavor == "multi_thread";
        match side.as_str() {
            "bare" => bare(multi_thread),
            "checked" => checked(multi_thread),
            other => panic!("{other:?} is neither bare nor checked"),
        };
        return;
    }
    let tier = if cfg!(tokio_unstable) {
        "tokio_unstable: Check installs spawn hooks"
    } else {
        "stable: no hooks on either side"
    };
    println!("{TASKS} short tasks per run, median of {ROUNDS}; {tier}");
    for multi_thread in [false, true] {
        let (mut without, mut with) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            without.push(bare(multi_thread));
            with.push(checked(multi_thread));
        }
        without.sort();
        with.sort();
        let (without, with) = (without[ROUNDS / 2], with[ROUNDS / 2]);
        println!(
            "{}: {:.1} ms without hooks, {:.1} ms with, ratio {:.2}",
            if multi_thread {
                "multi_thread"
            } else {
                "current_thread"
            },
            without.as_secs_f64() * 1e3,
            with.as_secs_f64() * 1e3,
            with.as_secs_f64() / without.as_secs_f64()
        );
    }
}
