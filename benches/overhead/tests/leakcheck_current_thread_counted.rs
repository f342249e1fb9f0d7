//! The current-thread suite under `#[leak_checked_test]` with the heap counted
//! (`count_allocations!`), for what counting allocations costs a whole suite.
leakcheck::count_allocations!();
leakcheck_bench::two_hundred_tests!(leakcheck::leak_checked_test);
