//! The same suite under `#[leak_checked_test]` on the current-thread runtime.
leakcheck_bench::two_hundred_tests!(leakcheck::leak_checked_test);
