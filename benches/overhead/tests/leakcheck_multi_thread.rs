//! The same suite under `#[leak_checked_test]` on a two-worker multi-thread runtime.
leakcheck_bench::two_hundred_tests!(leakcheck::leak_checked_test(
    flavor = "multi_thread",
    worker_threads = 2
));
