//! The baseline suite: `#[tokio::test]` on a two-worker multi-thread runtime.
leakcheck_bench::two_hundred_tests!(tokio::test(flavor = "multi_thread", worker_threads = 2));
