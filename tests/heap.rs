//! The heap of a repeated test, counted where the target declares `count_allocations!` and the
//! test is alone in its process. The leaky tests are ignored and run as a child of this binary
//! with `--test-threads=1`; in a parallel run the heap is not counted, and nothing is blamed.

leakcheck::count_allocations!();

mod common;

use std::sync::Mutex;

use common::run_self;
use leakcheck::leak_checked_test;

/// Answers kept for ever: a cache with no eviction.
static CACHE: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

fn cache_an_answer() {
    CACHE.lock().expect("the cache").push(vec![7; 16 * 1024]);
}

#[leak_checked_test(repeat = 10)]
#[ignore = "keeps 16 KiB a repetition; run alone by heap_growth_fails_when_alone"]
#[should_panic(expected = "heap grew by 16.0 KiB")]
async fn caches_every_answer_current_thread() {
    cache_an_answer();
}

#[leak_checked_test(repeat = 10, flavor = "multi_thread")]
#[ignore = "keeps 16 KiB a repetition; run alone by heap_growth_fails_when_alone"]
// The workers' own allocations come and go beside it: 15.9 KiB to 16.4 KiB, say.
#[should_panic(expected = "heap grew by 1")]
async fn caches_every_answer_multi_thread() {
    tokio::spawn(async { cache_an_answer() })
        .await
        .expect("the task ran");
}

#[leak_checked_test(repeat = 10, flavor = "multi_thread")]
#[ignore = "allocates and frees; run alone by heap_growth_fails_when_alone"]
async fn frees_every_answer() {
    let answer = tokio::spawn(async { vec![7u8; 64 * 1024] })
        .await
        .expect("the task ran");
    assert_eq!(answer.len(), 64 * 1024);
}

#[leak_checked_test(repeat = 10)]
#[ignore = "fills a bounded cache; run alone by heap_growth_fails_when_alone"]
async fn keeps_a_bounded_cache() {
    static BOUNDED: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
    let mut cache = BOUNDED.lock().expect("the cache");
    cache.push(vec![7; 16 * 1024]);
    if cache.len() > 3 {
        cache.remove(0);
    }
}

const ALL: [&str; 4] = [
    "caches_every_answer_current_thread",
    "caches_every_answer_multi_thread",
    "frees_every_answer",
    "keeps_a_bounded_cache",
];

#[test]
fn heap_growth_fails_when_alone() {
    let mut arguments = vec!["--ignored", "--test-threads=1", "--exact"];
    arguments.extend(ALL);
    let run = run_self(&arguments, &[]);
    assert!(run.success, "{}", run.output);
    for test in ALL {
        assert!(
            run.output.contains(&format!("test {test} ... ok"))
                || run
                    .output
                    .contains(&format!("test {test} - should panic ... ok")),
            "{test} did not pass:\n{}",
            run.output
        );
    }
    assert!(
        !run.output.contains("the heap is not counted"),
        "{}",
        run.output
    );
}

#[test]
fn in_a_parallel_run_the_heap_is_not_counted_and_says_so_once() {
    let mut arguments = vec!["--ignored", "--test-threads=4", "--exact"];
    arguments.extend(ALL);
    let run = run_self(&arguments, &[]);
    // Uncounted, the leaky tests do not fail as they expect to, and the clean ones pass.
    assert!(
        run.output
            .contains("test caches_every_answer_current_thread - should panic ... FAILED"),
        "{}",
        run.output
    );
    assert!(
        run.output.contains("test frees_every_answer ... ok"),
        "{}",
        run.output
    );
}
