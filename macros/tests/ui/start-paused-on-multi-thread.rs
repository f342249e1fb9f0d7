#[leakcheck::leak_checked_test(flavor = "multi_thread", start_paused = true)]
async fn paused_pool() {}

fn main() {}
