//! The baseline suite: `#[tokio::test]` on the current-thread runtime.
leakcheck_bench::two_hundred_tests!(tokio::test);
