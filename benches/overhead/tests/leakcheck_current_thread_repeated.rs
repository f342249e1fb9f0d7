//! The current-thread suite under `#[leak_checked_test]` with every body run 5 times
//! (`repeat = 5`), for what a repetition costs.
leakcheck_bench::two_hundred_tests!(leakcheck::leak_checked_test(repeat = 5));
