#[leakcheck::leak_checked_test(worker_threads = 4)]
async fn workers_on_one_thread() {}

#[leakcheck::leak_checked_test(flavor = "multi_thread", worker_threads = 0)]
async fn no_workers() {}

fn main() {}
