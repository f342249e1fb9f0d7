#[leakcheck::leak_checked_test(repeat = 0)]
async fn never_runs() {}

#[leakcheck::leak_checked_test(repeat = "20")]
async fn quoted_count() {}

fn main() {}
